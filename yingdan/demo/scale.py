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
import random
import time
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
from yingdan.core.validators import CREDIT_CODE_CHARS, CREDIT_CODE_WEIGHTS
from yingdan.customers.models import Contact, Customer
from yingdan.org.models import Department, Role, User
from yingdan.search.grams import name_grams
from yingdan.search.models import SearchGram
from yingdan.search.providers import ContactSearchProvider, CustomerSearchProvider

from .company import CITIES, CONTACT_TITLES, GIVEN, INDUSTRY_TERMS, MOBILE_PREFIXES, ROADS, SURNAMES

BATCH = 50_000  # customers per transaction
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
        self.titles = [t for t, _w in CONTACT_TITLES]
        self.title_cw = list(accumulate(w for _t, w in CONTACT_TITLES))

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
        teams = []
        for region_name in REGION_NAMES:
            region = Department.objects.filter(name=region_name, parent=root).first() or self._dept(region_name, root)
            for t in range(1, TEAMS_PER_REGION + 1):
                team_name = f"{region_name[2:4]}{t}组"
                teams.append(Department.objects.filter(name=team_name, parent=region).first() or self._dept(team_name, region))
        password = make_password(None)
        start = User.objects.filter(username__startswith="scale").count()
        users = []
        for i in range(missing):
            n = start + i + 1
            name = self._person_name()[0]
            users.append(User(username=f"scale{n:04d}", name=name, password=password, department=teams[i % len(teams)],
                              title="销售代表", language="zh-hans"))
        User.objects.bulk_create(users)
        created = list(User.objects.filter(username__in=[u.username for u in users]).order_by("id"))
        through = User.roles.through
        links = []
        managed = set()
        for user in created:
            is_manager = user.department_id not in managed
            managed.add(user.department_id)
            role = roles.get("manager" if is_manager else "rep")
            if role:
                links.append(through(user_id=user.pk, role_id=role.pk))
            if is_manager:
                Department.objects.filter(pk=user.department_id, manager__isnull=True).update(manager=user)
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
            return s.text + g1.text + g2.text, s.full + g1.full + g2.full, s.initials + g1.initials + g2.initials
        return s.text + g1.text, s.full + g1.full, s.initials + g1.initials

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
        customer_kind, contact_kind = CustomerSearchProvider.kind, ContactSearchProvider.kind
        done = contacts_done = grams_done = 0
        sqlite = connection.vendor == "sqlite"
        if sqlite:
            with connection.cursor() as cursor:  # a big page cache; the data is regenerable
                cursor.execute("PRAGMA cache_size=-1048576")
                cursor.execute("PRAGMA synchronous=OFF")
        base_time = timezone.now() - datetime.timedelta(days=3 * 365)
        span = 3 * 365 * 86400
        while done < n:
            size = min(BATCH, n - done)
            ts = base_time + datetime.timedelta(seconds=span * (done + size) / n)
            customer_rows, customer_grams, contact_rows, contact_grams, next_contact = self._batch(
                size, next_customer, next_contact, owners, lookups, industry_ids
            )
            customer_table = BulkTable(Customer, CUSTOMER_COLUMNS, {"created_at": ts, "updated_at": ts})
            contact_table = BulkTable(Contact, CONTACT_COLUMNS, {"created_at": ts, "updated_at": ts})
            # Sorted by gram (a stable sort keeps the ids ascending): the inserts walk the B-tree in order.
            by_gram = itemgetter(1)
            gram_rows = sorted([(customer_kind, g, i) for i, name in customer_grams for g in name_grams(name)], key=by_gram)
            gram_rows += sorted([(contact_kind, g, i) for i, name in contact_grams for g in name_grams(name)], key=by_gram)
            with transaction.atomic():
                customer_table.write(customer_rows)
                contact_table.write(contact_rows)
                _write_grams(gram_rows)
            next_customer += size
            done += size
            contacts_done += len(contact_rows)
            grams_done += len(gram_rows)
            self.log(f"  {done:,} customers, {contacts_done:,} contacts, {grams_done:,} search grams "
                     f"({time.monotonic() - started:.0f} s)")
        self._finish(next_customer - 1, next_contact - 1)
        return {"customers": done, "contacts": contacts_done, "grams": grams_done, "seconds": time.monotonic() - started}

    def _batch(self, size, first_id, next_contact, owners, lookups, industry_ids):
        rng = self.rng
        rand, choice, randrange = rng.random, rng.choice, rng.randrange
        brands, cities, terms, suffixes = self.brands, self.cities, self.terms, self.suffixes
        levels, statuses, sources = lookups["customer_level"] or [None], lookups["customer_status"] or [None], lookups["customer_source"] or [None]
        suffix_pick = rng.choices(suffixes, cum_weights=self.suffix_cw, k=size)
        owner_pick = rng.choices(owners, k=size)
        n_contacts = rng.choices((1, 2, 3, 4, 5), weights=(10, 20, 40, 20, 10), k=size)
        customers, customer_grams, contacts, contact_grams = [], [], [], []
        for k in range(size):
            cid = first_id + k
            brand = choice(brands)
            ti = randrange(len(terms))
            term = terms[ti]
            suffix = suffix_pick[k]
            city, city_parts = choice(cities)
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
            district = choice(city.districts)
            customers.append((
                cid, name, brand.text + term.text[:2], first17 + _check_char(first17),
                industry_ids.get(self.term_industry[ti]), choice(sources), choice(levels), choice(statuses),
                city.province, city.city, district, f"{district}{choice(ROADS)}{randrange(1, 999)}号",
                f"https://www.{brand.full}.com.cn" if rand() < 0.5 else "",
                f"{city.area_code}-{choice('568')}{randrange(10**7):07d}",
                owner_id, dept_id, owner_id, name, full[:255], initials[:100],
            ))
            customer_grams.append((cid, name))
            domain = brand.full
            for j in range(n_contacts[k]):
                pname, pfull, pinit = self._person_name()
                contacts.append((
                    next_contact, pname, cid, self.titles[0] if j == 0 else rng.choices(self.titles, cum_weights=self.title_cw)[0],
                    choice(MOBILE_PREFIXES) + f"{randrange(10**8):08d}",
                    f"{pfull}{randrange(100)}@{domain}.com.cn" if rand() < 0.6 else "",
                    j == 0, owner_id, pname, pfull, pinit,
                ))
                contact_grams.append((next_contact, pname))
                next_contact += 1
        return customers, customer_grams, contacts, contact_grams, next_contact

    def _finish(self, last_customer: int, last_contact: int) -> None:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                for model, last in ((Customer, last_customer), (Contact, last_contact)):
                    cursor.execute("SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", [model._meta.db_table, max(last, 1)])
                for model in (Customer, Contact, SearchGram):
                    cursor.execute(f'ANALYZE "{model._meta.db_table}"')
            else:
                # Planner statistics (sampled, so seconds not minutes), then the normal durability again.
                cursor.execute("PRAGMA analysis_limit=1000")
                cursor.execute("ANALYZE")
                cursor.execute("PRAGMA synchronous=NORMAL")


CUSTOMER_COLUMNS = [
    "id", "name", "short_name", "credit_code", "industry_id", "source_id", "level_id", "status_id", "province", "city",
    "district", "address", "website", "phone", "owner_id", "department_id", "created_by_id", "search_name",
    "search_pinyin", "search_initials",
]
CONTACT_COLUMNS = [
    "id", "name", "customer_id", "title", "mobile", "email", "is_primary", "created_by_id", "search_name",
    "search_pinyin", "search_initials",
]


def _write_grams(rows: list[tuple[int, str, int]]) -> None:
    table = SearchGram._meta.db_table
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            with cursor.cursor.copy(f'COPY "{table}" ("kind", "gram", "object_id") FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
    else:
        connection.connection.executemany(f'INSERT INTO "{table}" ("kind", "gram", "object_id") VALUES (?, ?, ?)', rows)


def generate(n: int, *, stdout=None, seed: int | None = None) -> dict:
    """Append n customers (~3 contacts each) with their search keys and grams; returns counts and seconds."""
    with change_context(source=ChangeSource.SYSTEM):
        return ScaleGenerator(seed=seed, stdout=stdout).generate(n)
