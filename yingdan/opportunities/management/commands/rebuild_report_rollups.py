"""Recompute what the reports read besides the stage history itself: each deal's furthest stage and the monthly
sums of stage moves (see `yingdan.opportunities.rollup`). Needed after bulk loads that bypass the ORM's signals,
or after TIME_ZONE changes (month boundaries move). Safe to run at any time: one transaction per part."""

from django.core.management.base import BaseCommand

from yingdan.opportunities import rollup


class Command(BaseCommand):
    help = "Recompute the deals' furthest stages and the monthly stage-move sums the reports read."

    def handle(self, *args, **options):
        rollup.rebuild_furthest()
        rows = rollup.rebuild_months(log=lambda msg: self.stdout.write(msg) if options["verbosity"] > 1 else None)
        self.stdout.write(f"furthest stages recomputed; {rows} monthly rows written")
