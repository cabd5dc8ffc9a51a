"""`yingdan seed --scale N`: N generated customers with ~3 contacts each, for benchmarks.

Speed is the point (1,000,000 customers in minutes on a 2-core machine), so this bypasses the ORM:
- names are built from parts whose pinyin is computed once per part, so the search keys (normalised name,
  full pinyin, initials) of a million names are string concatenations, not a million pypinyin calls;
- ids are allocated up front (max(id) + 1 ...), so contacts and search grams need no read-back;
- rows go in with executemany inside one transaction per batch on SQLite, and with COPY on PostgreSQL;
- the change log is skipped (generated data is not user activity), the search grams are written in the same
  transaction as their objects (yingdan.search.indexing).
Re-running appends N more customers. Columns this module does not generate get their field defaults, so
fields added to Customer/Contact later keep working as long as they have a default.
"""

from __future__ import annotations

import datetime
import functools
import gc
import random
import time
from array import array
from collections import defaultdict
from contextlib import contextmanager
from itertools import accumulate
from operator import itemgetter

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from pypinyin import Style, lazy_pinyin

from yingdan.core.choices import ChangeSource
from yingdan.core.context import change_context
from yingdan.core.models import Lookup
from yingdan.core.text import company_key
from yingdan.core.validators import CREDIT_CODE_CHARS, CREDIT_CODE_WEIGHTS
from yingdan.customers.models import Contact, Customer
from yingdan.org.models import Department, Role, User
from yingdan.search.grams import name_grams
from yingdan.search.models import SearchGram
from yingdan.search.providers import ContactSearchProvider, CustomerSearchProvider

from .company import CITIES, CONTACT_TITLES, GIVEN, INDUSTRY_TERMS, MOBILE_PREFIXES, ROADS, SURNAMES

BATCH = 50_000  # customers per transaction
REBUILD_MIN = 50_000  # loads of at least this many customers (and the current count) rebuild indexes
TARGET_OWNERS = 200
TEAMS_PER_REGION = 5
REGION_NAMES = ["规模华东区", "规模华南区", "规模华北区", "规模西部区"]
BRAND_CHARS = (
    "恒远华鑫瑞博通达宏图中天正源海信德盛泰安新辉晨星明嘉联创卓越宇航金诚协和东方汇智润峰锐启凯腾飞佳美力荣兴隆昌永丰"
    "讯阿里百度京威尔斯诺格林森川江湖洋峻旭阳曦铭途元宝玉银铜铁钢石青蓝紫红万千友邦家乐欣悦雅菲特普奥克贝迪亿众合"
    "广顺利康健绿光云数易优尚品鼎晟昊睿思维捷迅骏驰岭山水"
)
SUFFIXES = [("有限公司", 70), ("股份有限公司", 12), ("集团有限公司", 6), ("有限责任公司", 12)]
SURNAME_WEIGHTS = [max(1, 60 - i) for i in range(len(SURNAMES))]  # 王李张... are the most common
CHECK_INDEX = {c: i for i, c in enumerate(CREDIT_CODE_CHARS)}


def _py(text: str) -> tuple[str, str]:
    syllables = lazy_pinyin(text, style=Style.NORMAL, errors=lambda chars: list(chars))
    return "".join(syllables).lower(), "".join(s[0] for s in syllables if s).lower()


@functools.cache
def _odd_name_pairs() -> frozenset[tuple[str, str]]:
    """(surname, first given character) pairs whose pinyin as a phrase differs from the characters' own (于思 is
    read yú sāi): names starting with them get their keys from the whole name."""
    return frozenset(
        (s, g) for s in SURNAMES for g in GIVEN if _py(s + g)[0] != _py(s)[0] + _py(g)[0]
    )


class _Parts:
    """A text part with its pinyin, precomputed once."""

    __slots__ = ("text", "full", "initials")

    def __init__(self, text: str):
        self.text = text
        self.full, self.initials = _py(text)


def _check_char(first17: str) -> str:
    total = sum(CHECK_INDEX[c] * w for c, w in zip(first17, CREDIT_CODE_WEIGHTS))  # noqa: B905 - 17 chars
    index = 31 - total % 31
    return CREDIT_CODE_CHARS[0 if index == 31 else index]


def _org_code(customer_id: int) -> str:
    """9 credit-code characters, a bijection of the id (unique across runs, random-looking)."""
    x = (customer_id * 48_271 + 12_345) % (31**9)
    chars = []
    for _ in range(9):
        x, r = divmod(x, 31)
        chars.append(CREDIT_CODE_CHARS[r])
    return "".join(chars)


_UTC = datetime.UTC


def db_datetime(epoch: float | None):
    """A datetime column value for the raw bulk writers: aware for COPY, Django's UTC text on SQLite."""
    if epoch is None:
        return None
    value = datetime.datetime.fromtimestamp(epoch, _UTC)
    if connection.vendor == "postgresql":
        return value
    return value.strftime("%Y-%m-%d %H:%M:%S.%f")


def db_date(ordinal: int | None):
    if ordinal is None:
        return None
    value = datetime.date.fromordinal(ordinal)
    return value if connection.vendor == "postgresql" else value.isoformat()


class BulkTable:
    """Rows of one model: the generated columns in order, every other concrete column a constant default."""

    def __init__(self, model, columns: list[str], constants: dict | None = None):
        self.model = model
        self.table = model._meta.db_table
        by_attname = {f.attname: f for f in model._meta.concrete_fields}
        unknown = [c for c in columns if c not in by_attname]
        if unknown:
            raise ValueError(f"{model.__name__} has no columns {unknown}")
        constants = constants or {}
        rest = [f for f in model._meta.concrete_fields if f.attname not in columns]
        self.const = []
        for f in rest:
            value = constants[f.attname] if f.attname in constants else f.get_default()
            if value is None and not f.null:
                raise ValueError(f"{model.__name__}.{f.name} needs a value in the scale generator (no default)")
            self.const.append(f.get_db_prep_save(value, connection))
        self.const = tuple(self.const)
        self.columns = list(columns) + [f.column for f in rest]
        self.column_sql = ", ".join(f'"{by_attname[c].column if c in by_attname else c}"' for c in self.columns)

    def write(self, rows: list[tuple]) -> None:
        const = self.const
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                with cursor.cursor.copy(f'COPY "{self.table}" ({self.column_sql}) FROM STDIN') as copy:
                    for row in rows:
                        copy.write_row(row + const)
        else:
            marks = ", ".join("?" * len(self.columns))
            connection.connection.executemany(
                f'INSERT INTO "{self.table}" ({self.column_sql}) VALUES ({marks})', [row + const for row in rows]
            )


class ScaleGenerator:
    def __init__(self, seed: int | None = None, stdout=None):
        self.rng = random.Random(seed)
        self.stdout = stdout
        self.brands = [_Parts(a + b) for a in BRAND_CHARS for b in BRAND_CHARS if a != b]
        self.cities = [(c, _Parts(c.short)) for c in CITIES.values()]
        self.terms = [_Parts(t) for terms in INDUSTRY_TERMS.values() for t in terms]
        self.term_industry = [name for name, terms in INDUSTRY_TERMS.items() for _t in terms]
        self.suffixes = [_Parts(s) for s, _w in SUFFIXES]
        self.suffix_cw = list(accumulate(w for _s, w in SUFFIXES))
        self.surnames = [_Parts(s) for s in SURNAMES]
        self.surname_cw = list(accumulate(SURNAME_WEIGHTS))
        self.given = [_Parts(g) for g in GIVEN]
        self.odd_pairs = _odd_name_pairs()
        self.titles = [t for t, _w in CONTACT_TITLES]
        self.title_cw = list(accumulate(w for _t, w in CONTACT_TITLES))

    now_epoch = time.time()
    today_ordinal = timezone.localdate().toordinal()

    def log(self, message: str) -> None:
        if self.stdout is not None:
            self.stdout.write(message)

    # -- organisation ------------------------------------------------------------------------------
    def owners(self) -> list[tuple[int, int]]:
        """(user id, department id) of the owners to spread customers over; creates a sales organisation of
        ~TARGET_OWNERS users in ~20 teams when fewer active users with a department exist."""
        existing = list(
            User.objects.filter(is_active=True, department__isnull=False, is_superuser=False)
            .order_by("id").values_list("id", "department_id")
        )
        if len(existing) >= TARGET_OWNERS:
            return existing
        missing = TARGET_OWNERS - len(existing)
        roles = {r.code: r for r in Role.objects.filter(is_builtin=True)}
        rng = self.rng
        root = Department.objects.filter(name="规模测试销售中心", parent__isnull=True).first() or self._dept("规模测试销售中心", None)
        regions, teams = [], []
        for region_name in REGION_NAMES:
            region = Department.objects.filter(name=region_name, parent=root).first() or self._dept(region_name, root)
            regions.append(region)
            for t in range(1, TEAMS_PER_REGION + 1):
                team_name = f"{region_name[2:4]}{t}组"
                teams.append(Department.objects.filter(name=team_name, parent=region).first() or self._dept(team_name, region))
        # The first users are the regional managers, then one manager per team, then reps across the teams.
        places = [(d, "manager", "大区经理") for d in regions] + [(d, "manager", "销售主管") for d in teams]
        places = places[:missing]
        places += [(teams[i % len(teams)], "rep", "销售代表") for i in range(missing - len(places))]
        password = make_password(None)
        start = User.objects.filter(username__startswith="scale").count()
        users = [
            User(username=f"scale{start + i + 1:04d}", name=self._person_name()[0], password=password, department=dept,
                 title=title, language="zh-hans")
            for i, (dept, _role, title) in enumerate(places)
        ]
        User.objects.bulk_create(users)
        created = list(User.objects.filter(username__in=[u.username for u in users]).order_by("id"))
        through = User.roles.through
        links = []
        for user, (dept, role_code, _title) in zip(created, places, strict=True):
            if role_code in roles:
                links.append(through(user_id=user.pk, role_id=roles[role_code].pk))
            if role_code == "manager":
                Department.objects.filter(pk=dept.pk, manager__isnull=True).update(manager=user)
        through.objects.bulk_create(links)
        rng.shuffle(created)
        self.log(f"  created {len(created)} users in {len(teams)} teams")
        return existing + [(u.pk, u.department_id) for u in created]

    def _dept(self, name, parent):
        dept = Department.objects.create(name=name, parent=parent)
        dept.path = f"{parent.path if parent else '/'}{dept.pk}/"
        dept.depth = parent.depth + 1 if parent else 0
        Department.objects.filter(pk=dept.pk).update(path=dept.path, depth=dept.depth)
        return dept

    # -- names ---------------------------------------------------------------------------------------
    def _person_name(self) -> tuple[str, str, str]:
        rng = self.rng
        s = rng.choices(self.surnames, cum_weights=self.surname_cw)[0]
        g1 = rng.choice(self.given)
        if rng.random() < 0.65:
            g2 = rng.choice(self.given)
            name, full, initials = s.text + g1.text + g2.text, s.full + g1.full + g2.full, s.initials + g1.initials + g2.initials
        else:
            name, full, initials = s.text + g1.text, s.full + g1.full, s.initials + g1.initials
        if (s.text, g1.text) in self.odd_pairs:
            full, initials = _py(name)
        return name, full, initials

    # -- the bulk insert -----------------------------------------------------------------------------
    def generate(self, n: int) -> dict:
        started = time.monotonic()
        lookups = {
            kind: list(Lookup.objects.filter(kind=kind, is_active=True).values_list("id", flat=True))
            for kind in ("customer_level", "customer_status", "industry", "customer_source")
        }
        industry_ids = dict(Lookup.objects.filter(kind="industry", is_active=True).values_list("name", "id"))
        owners = self.owners()
        next_customer = (Customer.objects.aggregate(m=Max("id"))["m"] or 0) + 1
        next_contact = (Contact.objects.aggregate(m=Max("id"))["m"] or 0) + 1
        # A load that at least doubles the tables is faster without their secondary indexes: they are
        # dropped and rebuilt (sorted, in one pass) afterwards, exactly as they were.
        rebuild = n >= max(Customer.objects.count(), REBUILD_MIN)
        gc.disable()  # millions of short-lived tuples: the cyclic collector would only rescan them
        with _load_mode(rebuild, [Customer, Contact], self.log):
            grams = GramSink(staged=rebuild, log=self.log)
            done, contacts_done, grams_done, next_customer, next_contact = self._load(
                n, next_customer, next_contact, owners, lookups, industry_ids, started, grams
            )
            grams.finish()
        gc.enable()
        self._finish(next_customer - 1, next_contact - 1)
        return {"customers": done, "contacts": contacts_done, "grams": grams_done, "seconds": time.monotonic() - started}

    def _load(self, n, next_customer, next_contact, owners, lookups, industry_ids, started, grams):
        customer_kind, contact_kind = CustomerSearchProvider.kind, ContactSearchProvider.kind
        done = contacts_done = grams_done = 0
        base_time = timezone.now() - datetime.timedelta(days=3 * 365)
        span = 3 * 365 * 86400
        while done < n:
            size = min(BATCH, n - done)
            ts = base_time + datetime.timedelta(seconds=span * done / n)  # the batch's creation time
            customer_rows, customer_grams, contact_rows, contact_grams, next_contact = self._batch(
                size, next_customer, next_contact, owners, lookups, industry_ids, ts.timestamp()
            )
            customer_table = BulkTable(Customer, CUSTOMER_COLUMNS, {"created_at": ts, "updated_at": ts})
            contact_table = BulkTable(Contact, CONTACT_COLUMNS, {"created_at": ts, "updated_at": ts})
            t0 = time.monotonic()
            with transaction.atomic():
                customer_table.write(customer_rows)
                t1 = time.monotonic()
                contact_table.write(contact_rows)
                t2 = time.monotonic()
                gram_count = grams.add(customer_kind, customer_grams) + grams.add(contact_kind, contact_grams)
            t3 = time.monotonic()
            next_customer += size
            done += size
            contacts_done += len(contact_rows)
            grams_done += gram_count
            self.log(f"  {done:,} customers, {contacts_done:,} contacts, {grams_done:,} search grams "
                     f"({time.monotonic() - started:.0f} s; insert {t1 - t0:.1f} + {t2 - t1:.1f} + {t3 - t2:.1f} s)")
        return done, contacts_done, grams_done, next_customer, next_contact

    def _contact_times(self, created: float) -> tuple:
        """(owner_since, last_contact_at, next_followup_at) of a customer created at epoch `created`: most
        were contacted (recently more often than long ago; the follow-up volume later ends exactly at
        last_contact_at), about half have a next follow-up date, a few due today and some overdue."""
        rand = self.rng.random
        now = self.now_epoch
        age = max(now - created, 0.0)
        owner_since = created if rand() < 0.8 else created + rand() * age * 0.8
        last = None
        if rand() < 0.9:
            last = now - min(self.rng.expovariate(1 / (25 * 86400)), (now - owner_since) * rand())
        nxt = None
        if last is not None and rand() < 0.55:
            nxt = self.today_ordinal + int(rand() * 40) - 10  # a quarter overdue, a few today, most ahead
        return db_datetime(owner_since), db_datetime(last), db_date(nxt)

    def _batch(self, size, first_id, next_contact, owners, lookups, industry_ids, created_epoch=None):
        rng = self.rng
        dedupe = company_key
        rand = rng.random  # seq[int(rand() * len)] is several times faster than rng.choice
        brands, cities, terms, suffixes = self.brands, self.cities, self.terms, self.suffixes
        surnames, given, titles, roads = self.surnames, self.given, self.titles, ROADS
        odd_pairs = self.odd_pairs
        nb, nc, nt, ng, nr, nm = len(brands), len(cities), len(terms), len(given), len(roads), len(MOBILE_PREFIXES)
        levels = lookups["customer_level"] or [None]
        statuses = lookups["customer_status"] or [None]
        sources = lookups["customer_source"] or [None]
        nl, ns, nso = len(levels), len(statuses), len(sources)
        suffix_pick = rng.choices(suffixes, cum_weights=self.suffix_cw, k=size)
        owner_pick = rng.choices(owners, k=size)
        n_contacts = rng.choices((1, 2, 3, 4, 5), weights=(10, 20, 40, 20, 10), k=size)
        total_contacts = sum(n_contacts)
        surname_pick = rng.choices(surnames, cum_weights=self.surname_cw, k=total_contacts)
        title_pick = rng.choices(titles, cum_weights=self.title_cw, k=total_contacts)
        customers, customer_grams, contacts, contact_grams = [], [], [], []
        p = 0
        for k in range(size):
            cid = first_id + k
            brand = brands[int(rand() * nb)]
            ti = int(rand() * nt)
            term = terms[ti]
            suffix = suffix_pick[k]
            city, city_parts = cities[int(rand() * nc)]
            if rand() < 0.3:
                name = city_parts.text + brand.text + term.text + suffix.text
                full = city_parts.full + brand.full + term.full + suffix.full
                initials = city_parts.initials + brand.initials + term.initials + suffix.initials
            else:
                name = brand.text + term.text + suffix.text
                full = brand.full + term.full + suffix.full
                initials = brand.initials + term.initials + suffix.initials
            owner_id, dept_id = owner_pick[k]
            first17 = "91" + city.division + _org_code(cid)
            district = city.districts[int(rand() * len(city.districts))]
            customers.append((
                cid, name, brand.text + term.text[:2], first17 + _check_char(first17),
                industry_ids.get(self.term_industry[ti]), sources[int(rand() * nso)], levels[int(rand() * nl)],
                statuses[int(rand() * ns)], city.province, city.city, district,
                f"{district}{roads[int(rand() * nr)]}{int(rand() * 998) + 1}号",
                f"https://www.{brand.full}.com.cn" if rand() < 0.5 else "",
                f"{city.area_code}-{'568'[int(rand() * 3)]}{int(rand() * 10**7):07d}",
                owner_id, dept_id, owner_id, name, full[:255], initials[:100], dedupe(name)[:255],
                *self._contact_times(created_epoch),
            ))
            customer_grams.append((cid, name))
            domain = brand.full
            for j in range(n_contacts[k]):
                s = surname_pick[p]
                g1 = given[int(rand() * ng)]
                if rand() < 0.65:
                    g2 = given[int(rand() * ng)]
                    pname, pfull, pinit = s.text + g1.text + g2.text, s.full + g1.full + g2.full, s.initials + g1.initials + g2.initials
                else:
                    pname, pfull, pinit = s.text + g1.text, s.full + g1.full, s.initials + g1.initials
                if (s.text, g1.text) in odd_pairs:  # e.g. 于思: pypinyin reads the pair as a phrase (yú sāi)
                    pfull, pinit = _py(pname)
                contacts.append((
                    next_contact, pname, cid, title_pick[p],
                    MOBILE_PREFIXES[int(rand() * nm)] + f"{int(rand() * 10**8):08d}",
                    f"{pfull}{int(rand() * 100)}@{domain}.com.cn" if rand() < 0.6 else "",
                    j == 0, owner_id, pname, pfull, pinit,
                ))
                contact_grams.append((next_contact, pname))
                next_contact += 1
                p += 1
        return customers, customer_grams, contacts, contact_grams, next_contact

    def _finish(self, last_customer: int, last_contact: int) -> None:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                for model, last in ((Customer, last_customer), (Contact, last_contact)):
                    cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", [model._meta.db_table, max(last, 1)])
                # VACUUM sets the visibility map, without which no index-only scan is possible (every index
                # entry would cost a heap visit); it cannot run inside a transaction (tests), ANALYZE can.
                command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
                for model in (Customer, Contact, SearchGram):
                    cursor.execute(f'{command} "{model._meta.db_table}"')
            else:
                # Planner statistics (sampled, so seconds not minutes), then the normal durability again.
                cursor.execute("PRAGMA analysis_limit=1000")
                cursor.execute("ANALYZE")
                if not connection.in_atomic_block:
                    cursor.execute("PRAGMA synchronous=NORMAL")


CUSTOMER_COLUMNS = [
    "id", "name", "short_name", "credit_code", "industry_id", "source_id", "level_id", "status_id", "province", "city",
    "district", "address", "website", "phone", "owner_id", "department_id", "created_by_id", "search_name",
    "search_pinyin", "search_initials", "dedupe_name", "owner_since", "last_contact_at", "next_followup_at",
]
CONTACT_COLUMNS = [
    "id", "name", "customer_id", "title", "mobile", "email", "is_primary", "created_by_id", "search_name",
    "search_pinyin", "search_initials",
]


@contextmanager
def _load_mode(rebuild_indexes: bool, models, log):
    """Bulk-load settings for the duration of the load; optionally without secondary indexes."""
    tables = [m._meta.db_table for m in models]
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            # A big page cache, no fsync, no per-row foreign-key lookups: the data is generated consistent
            # and can be generated again. All restored afterwards.
            cursor.execute("PRAGMA cache_size=-1048576")
            cursor.execute("PRAGMA threads=2")  # the sorter (ordered gram insert, CREATE INDEX) may use both cores
            if not connection.in_atomic_block:  # (inside a transaction, e.g. in tests, these cannot change)
                cursor.execute("PRAGMA synchronous=OFF")
                cursor.execute("PRAGMA foreign_keys=OFF")
            marks = ", ".join(["%s"] * len(tables))
            cursor.execute(
                f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({marks})",
                tables,
            )
        else:
            marks = ", ".join(["%s"] * len(tables))
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                f"AND tablename IN ({marks}) AND indexname NOT IN (SELECT conname FROM pg_constraint)",
                tables,
            )
        indexes = cursor.fetchall() if rebuild_indexes else []
        for name, _sql in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
    try:
        yield
    finally:
        started = time.monotonic()
        with connection.cursor() as cursor:
            if indexes and connection.vendor == "postgresql":
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # run the deferred FK checks before DDL
            for _name, sql in indexes:
                cursor.execute(sql)
            if connection.vendor == "sqlite":
                if not connection.in_atomic_block:
                    cursor.execute("PRAGMA foreign_keys=ON")
                cursor.execute("PRAGMA cache_size=-65536")
        if indexes:
            log(f"  rebuilt {len(indexes)} indexes in {time.monotonic() - started:.0f} s")


class GramSink:
    """Where the search grams of the load go.

    Small loads: straight into search_searchgram, sorted per batch. Big loads: collected in memory as one
    array of ids per (kind, gram) — ids arrive ascending — and written once at the end in key order, so the
    table is filled by appends (full B-tree pages, no sort in the database). PostgreSQL gets them by COPY
    with the primary key dropped and rebuilt after.
    """

    def __init__(self, staged: bool, log):
        self.staged = staged
        self.log = log
        self.table = SearchGram._meta.db_table
        self.postings: dict[tuple[int, str], array] = defaultdict(lambda: array("q"))
        self.count = 0
        if staged and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f'ALTER TABLE "{self.table}" DROP CONSTRAINT IF EXISTS "{self.table}_pkey"')

    def add(self, kind: int, items: list[tuple[int, str]]) -> int:
        """Grams of (object_id, search_name) pairs; returns how many."""
        if self.staged:
            postings = self.postings
            n = 0
            for object_id, name in items:
                for g in name_grams(name):
                    postings[kind, g].append(object_id)
                    n += 1
            self.count += n
            return n
        rows = [(kind, g, object_id) for object_id, name in items for g in name_grams(name)]
        rows.sort(key=itemgetter(1))  # stable: ids stay ascending within a gram
        self._write(rows)
        return len(rows)

    def _write(self, rows) -> None:
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                with cursor.cursor.copy(f'COPY "{self.table}" ("kind", "gram", "object_id") FROM STDIN') as copy:
                    for row in rows:
                        copy.write_row(row)
        else:
            connection.connection.executemany(f'INSERT INTO "{self.table}" (kind, gram, object_id) VALUES (?, ?, ?)', rows)

    def _ordered_rows(self):
        postings = self.postings
        for key in sorted(postings):
            kind, gram = key
            for object_id in postings.pop(key):
                yield kind, gram, object_id

    def finish(self) -> None:
        if not self.staged:
            return
        started = time.monotonic()
        with transaction.atomic():
            self._write(self._ordered_rows())
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute(f'ALTER TABLE "{self.table}" ADD CONSTRAINT "{self.table}_pkey" PRIMARY KEY (kind, gram, object_id)')
        self.log(f"  {self.count:,} search grams written in key order in {time.monotonic() - started:.0f} s")


def generate(n: int, *, stdout=None, seed: int | None = None) -> dict:
    """Append n customers (~3 contacts each) with their search keys and grams; returns counts and seconds."""
    with change_context(source=ChangeSource.SYSTEM):
        return ScaleGenerator(seed=seed, stdout=stdout).generate(n)


# -- the benchmark volumes --------------------------------------------------------------------------------
def bench_volumes() -> dict:
    """Row counts of the seeded volumes (cheap estimates are not needed: the bench runs these once)."""
    from django.apps import apps

    counts = {}
    for label in ("customers.Customer", "customers.Contact", "followups.FollowUp", "leads.Lead",
                  "opportunities.Opportunity", "opportunities.StageChange", "pools.Pool"):
        try:
            model = apps.get_model(label)
        except LookupError:
            continue
        counts[model._meta.model_name] = model.objects.count()
    return counts


def ensure_bench_data(customers: int = 1_000_000, log=print, seed: int = 20240601) -> dict:
    """Seed every benchmark volume that is missing (each once: later runs detect and re-use it).
    Returns {volume: seconds} of what this call seeded."""

    class _Out:
        def write(self, msg):
            log(msg.rstrip())

    seeded = {}
    have = Customer.objects.count()
    if have < customers:
        log(f"seeding {customers - have:,} customers (once; re-used by later runs)…")
        result = generate(customers - have, stdout=_Out(), seed=seed)
        seeded["customers"] = round(result["seconds"], 1)
    from .volumes import volumes

    for name, present, fill in volumes(max(customers, have)):
        if present():
            continue
        log(f"seeding {name} (once; re-used by later runs)…")
        started = time.monotonic()
        with change_context(source=ChangeSource.SYSTEM):
            fill(log, seed)
        seeded[name] = round(time.monotonic() - started, 1)
        log(f"{name} seeded in {seeded[name]:.0f} s")
    return seeded
