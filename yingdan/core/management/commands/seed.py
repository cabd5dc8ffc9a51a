"""`yingdan seed --demo` (the demo company, idempotent) and `yingdan seed --scale N` (benchmark volume)."""

import time

from django.core.management.base import BaseCommand, CommandError

from yingdan.demo import company


class Command(BaseCommand):
    help = "Create demo data (--demo) or N generated customers for benchmarks (--scale N)."

    def add_arguments(self, parser):
        parser.add_argument("--demo", action="store_true", help="Create the demo company 华信智能科技有限公司 unless it exists.")
        parser.add_argument("--scale", type=int, metavar="N", help="Generate N customers with ~3 contacts each (bulk inserts).")
        parser.add_argument(
            "--volumes", action="store_true",
            help="With --scale N: seed the benchmark volumes for N customers in all (follow-ups, pools, leads, "
                 "opportunities and stage changes; each once), adding only the customers that are missing.",
        )
        parser.add_argument("--customers", type=int, default=company.DEFAULT_CUSTOMERS, help="Customers in the demo company.")

    def handle(self, *args, demo=False, scale=None, customers=company.DEFAULT_CUSTOMERS, volumes=False, **options):
        if not demo and scale is None:
            raise CommandError("Choose --demo or --scale N.")
        if scale is not None and scale < 1:
            raise CommandError("--scale needs a positive number.")
        if demo:
            self.seed_demo(customers)
        if scale is not None and volumes:
            from yingdan.demo.scale import bench_volumes, ensure_bench_data

            seconds = ensure_bench_data(customers=scale, log=self.stdout.write)
            self.stdout.write(f"Seeded {', '.join(f'{k} in {v:.0f} s' for k, v in seconds.items()) or 'nothing (all present)'}.")
            self.stdout.write(", ".join(f"{k}: {v:,}" for k, v in bench_volumes().items()))
        elif scale is not None:
            from yingdan.demo.scale import generate

            started = time.monotonic()
            generate(scale, stdout=self.stdout)
            self.stdout.write(f"Generated {scale} customers in {time.monotonic() - started:.1f} s.")

    def seed_demo(self, customers: int) -> None:
        started = time.monotonic()
        self.stdout.write(f"Seeding the demo company {company.COMPANY_NAME}…")
        try:
            counts = company.seed_demo(customers=customers, stdout=self.stdout)
        except ValueError as exc:
            raise CommandError(str(exc))
        if counts is None:
            self.stdout.write(self.style.SUCCESS(f"The demo company {company.COMPANY_NAME} already exists; nothing to do."))
            return
        self.stdout.write(self.style.SUCCESS(f"Demo data created in {time.monotonic() - started:.1f} s."))
