"""The bulk path of the customer import (customers + their one contact per row), chunk by chunk.

Same outcomes as the per-row path (`services._process_row`: `save_customer` + `save_contact` per row), with a
few statements per chunk instead of ~13 per row:

- every row is parsed and validated in memory (the importer's `parse`, then the model's own field validation
  and `clean()`, custom fields against definitions read once; lookups/owners are guaranteed by the importer);
- the duplicate rules are answered for the whole chunk at once: one `IN (...)` per exact key, and for the fuzzy
  company rule the very candidate search of `duplicates.services._fuzzy_candidates` (rarest bigrams under the
  same bounds, from gram counts kept exact as rows are added) over the stored customers plus the rows this
  job already wrote (held in memory);
- each one-condition rule is replayed on that view (`_customer_verdict`): a row the check certainly finds
  nothing for is written in bulk; one it certainly finds a stored customer for is skipped in skip mode (the
  fuzzy replay ranks the candidates as the check does, `duplicates.services.top_shared`, and scores the same
  SCORED best-sharing ones);
- when the answer depends on a row still waiting in the batch, the batch is written first and the row looked
  at again (as row by row, it then sees every earlier row stored);
- a row that *might* be a duplicate (a rule of several conditions, a record the view does not hold), that is
  a duplicate outside skip mode, that repeats an earlier row's company, or that anything else makes special
  is handed to the per-row path, after the rows before it have been written — so it sees exactly what it
  would have seen one row at a time;
- the clean rows are written with bulk INSERTs (customers, contacts, their search grams, their change-log rows
  with the same field diffs), one event per record, and the rules that are checked after a save (the record
  must be inside the importer's scope) are checked per batch; a batch that fails one is rolled back and redone
  row by row.

The bigram table is read once per job (`Grams`: each bigram when a row first asks about it; customers others
add meanwhile are caught up at each chunk's start). Assumption: while an import runs, customers already stored
are not renamed or deleted by others (their bigrams are seen as of when the job read them), and nobody brings
a bigram that had more than GRAM_BOUND rows back under the bound.
"""

from __future__ import annotations

import bisect
import datetime as dt
import logging
import operator
import os
from array import array
from collections import defaultdict
from decimal import Decimal
from itertools import accumulate

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.db.models import signals
from django.db.models.base import ModelState
from django.db.models.expressions import DatabaseDefault
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query_utils import DeferredAttribute
from rapidfuzz import fuzz, process

from yingdan.core import changelog, events, registry
from yingdan.core.choices import Action, ChangeAction
from yingdan.core.context import current as current_context
from yingdan.core.models import ObjectChange
from yingdan.core.permissions import get_permissions
from yingdan.core.text import company_key, normalize, pinyin_keys
from yingdan.search.grams import name_grams

from .models import RowResult

log = logging.getLogger(__name__)

BULK_MIN_ROWS = 50  # smaller chunks go row by row (a bulk chunk has a fixed cost of a few statements)
IN_BATCH = 900
GRAM_READ = 2_000  # bigrams whose rows are read per statement on PostgreSQL (each at most GRAM_BOUND rows)
FETCH = 20_000  # gram rows fetched at a time
NAMES_SCAN = 100_000  # gram rows held by the job above which every customer's key is read in one pass
COUNT_BATCH = 400  # capped gram counts per statement (SQLite allows 500 terms in a compound SELECT)

_MISSING = object()
TOKEN_BASE = 1 << 62  # waiting rows' made-up ids count up from here: above every real id, in row order
CUSTOMER_FK = ["industry", "source", "level", "status", "owner", "department", "created_by", "pool", "previous_owner"]
CONTACT_FK = ["customer", "created_by"]


class _Redo(Exception):
    """A written batch broke a rule checked after saving: roll it back and redo its rows one by one."""


def _chunks(seq, n=IN_BATCH):
    seq = list(seq)
    for i in range(0, len(seq), n):
        yield seq[i : i + n]


def _in_values(model, column: str, values) -> set:
    """The values of `column` (a field's name) present in the table — what
    `model._base_manager.filter(column__in=values).values_list(column, flat=True)` gives, without building and
    compiling an ORM query per part (~2 µs a value: 1.3 s of a 100k-row import's three look-ups a chunk)."""
    field = model._meta.get_field(column)
    q = connection.ops.quote_name
    prepared = {field.get_db_prep_value(v, connection, prepared=False) for v in values}
    prepared.discard(None)
    found = set()
    with connection.cursor() as cursor:
        for part in _chunks(sorted(prepared)):
            marks = ", ".join(["%s"] * len(part))
            cursor.execute(f"SELECT {q(field.column)} FROM {q(model._meta.db_table)} WHERE {q(field.column)} IN ({marks})", part)
            found.update(v for (v,) in cursor.fetchall())
    return found


# -- eligibility (once per job) ------------------------------------------------------------------------
def plan(importer, ctx):
    """The job-wide facts the bulk path needs, or None when this job must go row by row."""
    cached = ctx.cache.get("bulk_plan", False)
    if cached is not False:
        return cached
    ctx.cache["bulk_plan"] = result = _plan(importer, ctx)
    return result


def _plan(importer, ctx):
    from yingdan.customers.models import Contact, Customer
    from yingdan.duplicates import services as dup
    from yingdan.duplicates.fields import FIELD_MAP
    from yingdan.duplicates.models import RuleAction

    if importer.key != "customers":
        return None
    actor = ctx.actor
    perms = get_permissions(actor)
    if not (perms.has("customers", Action.CREATE) and perms.has("contacts", Action.CREATE)):
        return None
    if perms.field_map("customers") or perms.field_map("contacts"):
        return None  # field permissions: the services' per-field checks decide
    expected = {"customers.customer": "duplicate_check_customer", "contacts.contact": "duplicate_check_contact"}
    for label, name in (("customers.customer", expected["customers.customer"]), ("customers.contact", expected["contacts.contact"])):
        if [f.__name__ for f in registry.save_checks.get(label, ())] not in ([name], []):
            return None  # another app checks these saves: the services run it
    customer_defs = Customer.custom_field_definitions()
    if any(d.unique for d in customer_defs):
        return None
    contact_defs = Contact.custom_field_definitions()
    try:
        contact_custom = Contact().validate_custom_fields({}, contact_defs, partial=False)
    except ValidationError:
        return None
    customer_rules = dup.active_rules("customer")
    contact_block = [r for r in dup.active_rules("contact") if r.action_for("import") == RuleAction.BLOCK]
    return {
        "can_transfer": perms.has("customers", Action.TRANSFER),
        "customer_defs": customer_defs,
        "contact_custom": contact_custom,
        "customer_rules": customer_rules,
        "customers_only": all(r.target_type == "customer" for r in customer_rules),
        "customer_sources": {src for (obj, _t), fields in FIELD_MAP.items() if obj == "customer"
                             for src, _c in fields.values() if hasattr(Customer, src)},
        "contact_block_rules": contact_block,
        "grams": Grams(),
        "next_token": TOKEN_BASE,  # made-up ids of waiting rows: above every real id, ascending in row order
    }


# -- the job's view of the bigram table (the fuzzy company rule) --------------------------------------
class Names:
    """id -> company key (None: a gram row whose customer is gone), held compactly for ~1M ids: one UTF-16
    blob of the keys and, indexed by id, two int32 arrays of where each key starts and ends in it — ~20 bytes
    an id instead of ~170 for a dict of ints to str (the view of 1,000,000 customers pushed a 100k-row import
    over its memory budget). Keys are decoded when candidates are scored, a list at a time (C-level maps: a
    candidate list costs about what the dict lookups did). Ids outside the arrays' range (the batch's made-up
    negative ids, very large ids) and keys holding NUL are kept in a plain dict."""

    __slots__ = ("starts", "ends", "blob", "extra")
    MAX_INDEX = 1 << 26  # ids up to this go in the arrays (8 bytes an id up to the highest one)
    # starts/ends: -1 absent (or in `extra`); 0, 0 None; else blob[start:end] (the blob begins with a pad,
    # so a key, even "", never starts at 0)

    def __init__(self):
        self.starts = array("i")
        self.ends = array("i")
        self.blob = bytearray(b"\0\0")
        self.extra: dict = {}

    @classmethod
    def read_all(cls, cursor, table: str, high: int, step: int = 50_000) -> Names | None:
        """The company key of every customer with an id up to `high`, read `step` ids at a time, each part one
        statement answering with three strings (ids, lengths, keys) laid out with C-level loops only — a row at
        a time cost ~1.2 s per 1M customers (fetching the tuples, then an entry each), this ~0.6 s. None when
        the keys do not fit this layout (an id past MAX_INDEX, a key with NUL or beyond the Basic Multilingual
        Plane): the caller reads row by row then.

        Each key goes in the blob after a separator; its length travels as one character of code point
        2 * length + 2 (the bytes it takes with its separator), so the offsets are running sums of them. (Parts
        of 50,000 keys: one string of all of them, freed again, left glibc serving later allocations from a
        heap that did not shrink — ~20 MB more at the import's peak.)"""
        sqlite = connection.vendor == "sqlite"
        # (PostgreSQL aggregates in the order asked for; SQLite 3.40 cannot be asked and goes by its rowid range,
        # which the ids confirm: the layout never relies on an order that was not checked)
        agg = "group_concat({}, '')" if sqlite else "string_agg({}, '' ORDER BY id)"
        chr_ = "char" if sqlite else "chr"
        cursor.execute(f"SELECT MIN(id), MAX(id) FROM {table} WHERE id <= %s", [high])
        low, top = cursor.fetchone()
        names = cls()
        if low is None:
            return names
        if top >= cls.MAX_INDEX or low < 0:
            return None
        sql = (f"SELECT COUNT(*), MIN(id), MAX(id), {'group_concat(id)' if sqlite else 'string_agg(id::text, %s ORDER BY id)'}, "
               f"{agg.format(f'{chr_}(2 * length(dedupe_name) + 2)')}, {agg.format(f'{chr_}(1) || dedupe_name')} "
               f"FROM {table} WHERE id >= %s AND id <= %s")
        starts, ends, blob = names.starts, names.ends, names.blob
        missing = b"\xff\xff\xff\xff"
        for first in range(low, top + 1, step):
            cursor.execute(sql, ([] if sqlite else [","]) + [first, min(first + step - 1, top)])
            n, lo, hi, ids, sizes, text = cursor.fetchone()
            if not n:
                continue
            data = text.encode("utf-16-le", "surrogatepass")
            if len(data) != 2 * len(text) or len(sizes) != n or len(blob) + len(data) >= 2**31:
                return None  # (a key beyond the BMP)
            lengths = array("I")
            lengths.frombytes(sizes.encode("utf-32-le"))
            base = len(blob)
            at_end = array("i", accumulate(lengths, initial=base))
            if at_end[-1] != base + len(data):  # (a key with NUL: SQLite's length() stops there)
                return None
            at_start = array("i", accumulate(lengths, initial=base + 2))
            at_start.pop()
            del at_end[0]
            blob += data
            if hi - lo + 1 == n and ids == ",".join(map(str, range(lo, hi + 1))):  # the arrays are the sums themselves
                starts.frombytes(missing * (lo - len(starts)))
                ends.frombytes(missing * (lo - len(ends)))
                starts += at_start
                ends += at_end
            else:
                starts.frombytes(missing * (hi + 1 - len(starts)))
                ends.frombytes(missing * (hi + 1 - len(ends)))
                for pk, start, end in zip(map(int, ids.split(",")), at_start, at_end, strict=True):
                    starts[pk] = start
                    ends[pk] = end
        return names

    def missing(self, pks) -> list:
        """The ids among `pks` not held (`pk not in self`) — looked at one by one only when some is."""
        starts = self.starts
        if not len(pks) or (0 <= min(pks) and max(pks) < len(starts) and min(map(starts.__getitem__, pks)) >= 0):
            return []
        return [pk for pk in pks if pk not in self]

    def items(self):
        """(id, key) of every entry."""
        starts = self.starts
        for pk in range(len(starts)):
            if starts[pk] >= 0:
                yield pk, self.get(pk)
        yield from self.extra.items()

    def __contains__(self, pk) -> bool:
        if 0 <= pk < len(self.starts) and self.starts[pk] >= 0:
            return True
        return pk in self.extra

    def get(self, pk, default=None):
        starts = self.starts
        if 0 <= pk < len(starts):
            start = starts[pk]
            if start > 0:
                return self.blob[start : self.ends[pk]].decode("utf-16-le", "surrogatepass")
            if start == 0:
                return None
        return self.extra.get(pk, default)

    def many(self, pks) -> list:
        """[self[pk] or None for pk in pks] (every pk present), decoded in one go. (Decoded keys are not kept:
        a row's candidates, the oldest ids under its rarest bigrams, are seldom another recent row's — a cache
        of the last 30,000 answered 12% of the 4.8M asked for in a 100k-row import, and cost more than that.)"""
        if not len(pks):
            return []
        return [x or None for x in self._decode(pks)]

    def _decode(self, pks) -> list:
        """[self[pk] or "" for pk in pks], decoded in one go."""
        starts = self.starts
        if min(pks) >= 0 and max(pks) < len(starts):
            begin = list(map(starts.__getitem__, pks))
            if min(begin) >= 0:
                with memoryview(self.blob) as view:  # (slices of a view copy nothing; released before the blob grows)
                    # keys in the blob never hold NUL (those go to `extra`), so it separates them; "" is None
                    text = b"\0\0".join(map(view.__getitem__, map(slice, begin, map(self.ends.__getitem__, pks))))
                return text.decode("utf-16-le", "surrogatepass").split("\0")
        return [self[pk] or "" for pk in pks]  # a made-up id among them: one by one

    def __getitem__(self, pk):
        v = self.get(pk, _MISSING)
        if v is _MISSING:
            raise KeyError(pk)
        return v

    def __setitem__(self, pk, name) -> None:
        starts = self.starts
        if 0 <= pk < self.MAX_INDEX and (name is None or "\0" not in name):
            data = b"" if name is None else name.encode("utf-16-le", "surrogatepass")
            blob = self.blob
            if len(blob) + len(data) < 2**31:
                if pk >= len(starts):
                    grow = max(pk + 1 - len(starts), len(starts) // 4, 1024)
                    starts.frombytes(b"\xff" * (4 * grow))  # -1
                    self.ends.frombytes(bytes(4 * grow))
                if name is None:
                    starts[pk] = self.ends[pk] = 0
                else:
                    starts[pk] = len(blob)
                    blob += data
                    self.ends[pk] = len(blob)
                self.extra.pop(pk, None)
                return
        if 0 <= pk < len(starts):
            starts[pk] = -1
        self.extra[pk] = name

    def pop(self, pk, default=None):
        v = self.get(pk, _MISSING)
        if v is _MISSING:
            return default
        if 0 <= pk < len(self.starts):
            self.starts[pk] = -1
        self.extra.pop(pk, None)
        return v

    def keep(self, pk, name) -> None:
        """self[pk] = name unless pk is there already (a customer is listed under each of its bigrams)."""
        if pk not in self:
            self[pk] = name

    def keep_all(self, pairs) -> None:
        """keep(pk, name) for each pair (most are there already: a customer is under each of its bigrams)."""
        starts, extra = self.starts, self.extra
        for pk, name in pairs:
            if (0 <= pk < len(starts) and starts[pk] >= 0) or pk in extra:
                continue
            self[pk] = name

    def setdefault(self, pk, name=None):
        v = self.get(pk, _MISSING)
        if v is _MISSING:
            self[pk] = v = name
        return v


class Grams:
    """What the fuzzy company rule reads of the bigram table (kind 1), kept for the whole job: the capped
    count of every bigram a row asked about, and for those under GRAM_BOUND the ids under them and their
    company keys. A bigram is read once per job (when a chunk first asks about it) and kept exact by what the
    job writes; customers that others add meanwhile are read at each chunk's start (ids above the highest one
    seen). Anything that could leave it stale (an update of a stored customer by this job, a batch redone row
    by row, a rolled-back preview chunk) drops it: the next chunk reads again.

    Assumption: while an import runs, customers already stored are not renamed or deleted by others (their
    bigrams are seen as of when the job first read them), and nobody brings a bigram that had more than
    GRAM_BOUND rows back under the bound."""

    MAX_IDS = 3_000_000  # gram rows held at most (memory); past this the view is read again

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        self.counts: dict[str, int] = {}  # bigram -> rows, for bigrams read (> GRAM_BOUND: in `big`)
        self.big: set = set()
        self.ids: dict[str, array] = {}  # bigram under the bound -> ids under it, ascending (waiting rows: tokens)
        self.names = Names()  # id -> company key (None: a gram row without its customer)
        self.own: set = set()  # customers this job wrote
        self.high = None  # highest customer id read
        self.size = 0
        self.all_names = False  # every customer up to `high` is in `names` (one pass over the table)

    def sizes(self, key: str) -> list[tuple[int, str]]:
        """(rows, bigram) for each bigram of a company key — rows counted up to GRAM_BOUND + 1, as the check's
        `_gram_sizes` counts them — which `chosen_grams` picks from."""
        from yingdan.duplicates.services import GRAM_BOUND
        from yingdan.search.grams import query_grams

        big, counts, over = self.big, self.counts, GRAM_BOUND + 1
        return [(over if g in big else min(counts.get(g, 0), over), g) for g in query_grams(key)]

    def add(self, pk: int, dedupe_name: str, search_name: str, slots=None, grams=None) -> None:
        """A customer that is (or, with a made-up id, will be) in the table (`grams`: name_grams(search_name),
        when known). `slots` collects (bigram, position) of the id in each list, to
        put the real id there once written."""
        from yingdan.duplicates.services import GRAM_BOUND

        if grams is None:
            grams = name_grams(search_name)
        self.names[pk] = dedupe_name
        for g in grams:
            if g in self.big or g not in self.counts:
                continue  # over the bound, or a bigram no row has asked about
            n = self.counts[g] + 1
            self.counts[g] = n
            if n > GRAM_BOUND:
                self.big.add(g)
                self.size -= len(self.ids.pop(g, ()))
            else:
                ids = self.ids.get(g)
                if ids is None:
                    ids = self.ids[g] = array("q")
                if slots is not None:
                    slots.append((g, len(ids)))
                if ids and pk < ids[-1]:  # (someone else's customer caught up after this job's newer ones)
                    bisect.insort(ids, pk)
                else:
                    ids.append(pk)
                self.size += 1

    def written(self, token: int, pk: int, slots) -> None:
        """A waiting row was written with id `pk`."""
        for g, i in slots:
            ids = self.ids.get(g)
            if ids is not None and i < len(ids) and ids[i] == token:
                ids[i] = pk
        self.names[pk] = self.names.pop(token, None)
        self.own.add(pk)

    def load(self, keys) -> None:
        """Read the bigrams of these company keys that were not read yet (after catching up with customers
        added by others since the last chunk)."""
        from yingdan.customers.models import Customer
        from yingdan.duplicates.services import GRAM_BOUND
        from yingdan.search.grams import query_grams
        from yingdan.search.models import SearchGram

        if self.size > self.MAX_IDS:
            self.reset()
        q = connection.ops.quote_name
        customers = q(Customer._meta.db_table)
        table = q(SearchGram._meta.db_table)
        with connection.cursor() as cursor:
            if self.high is None:
                cursor.execute(f"SELECT MAX(id) FROM {customers}")
                self.high = cursor.fetchone()[0] or 0
            else:
                cursor.execute(f"SELECT id, dedupe_name, search_name FROM {customers} WHERE id > %s ORDER BY id", [self.high])
                for pk, dedupe_name, search_name in cursor.fetchall():
                    self.high = pk
                    if pk not in self.own and pk not in self.names:  # added by someone else meanwhile
                        self.add(pk, dedupe_name, search_name)
            wanted = set()
            for k in keys:
                if len(k) >= 2:
                    wanted.update(g for g in query_grams(k) if g not in self.counts and g not in self.big)
            # capped counts, each an index range (PostgreSQL plans one array in no time; 400 UNION ALL
            # branches took 0.5 ms a bigram to plan)
            capped = f"SELECT COUNT(*) FROM (SELECT 1 FROM {table} WHERE kind = 1 AND gram = %s LIMIT {GRAM_BOUND + 1}) t"
            counted = []
            if connection.vendor == "postgresql":
                for grams in _chunks(sorted(wanted), 10_000):
                    cursor.execute(f"SELECT v.g, ({capped.replace('%s', 'v.g')}) FROM unnest(%s::text[]) AS v(g)", [grams])
                    counted += cursor.fetchall()
            else:
                part = f"SELECT %s, ({capped})"
                for grams in _chunks(sorted(wanted), COUNT_BATCH):
                    cursor.execute(" UNION ALL ".join([part] * len(grams)), [x for g in grams for x in (g, g)])
                    counted += cursor.fetchall()
            small = []
            for g, n in counted:
                if n > GRAM_BOUND:
                    self.big.add(g)
                else:
                    self.counts[g] = n
                    self.ids[g] = array("q")  # 8 bytes an id (a list of ints: 36)
                    if n:
                        small.append(g)
            # the ids under them, and their company keys (None: a gram row whose customer is gone — the
            # check counts it too, it just never scores)
            ids, names = self.ids, self.names
            if not self.all_names and self.size + sum(self.counts[g] for g in small) > NAMES_SCAN:
                # Many customers to name: one pass over the table (1M names: ~0.7 s) instead of looking each up
                # by id (PostgreSQL: ~8 µs an id) or joining each gram row to its customer (SQLite: ~5 µs a row).
                every = Names.read_all(cursor, customers, self.high)
                if every is None:
                    cursor.execute(f"SELECT id, dedupe_name FROM {customers} WHERE id <= %s", [self.high])
                    while rows := cursor.fetchmany(FETCH):
                        names.keep_all(rows)
                else:  # (what was read before stays as read: keep_all keeps an entry there already)
                    for pk, name in names.items():
                        every[pk] = name
                    names = self.names = every
                self.all_names = True
            postgresql = connection.vendor == "postgresql"
            if self.all_names or postgresql:  # (PostgreSQL: two arrays, a join here hashes the whole customer table)
                for grams in _chunks(sorted(small), GRAM_READ if postgresql else IN_BATCH):
                    # each bigram's ids as one string, parsed by C-level loops (~3M gram rows a job were a tuple,
                    # an append and a look-up each)
                    if postgresql:
                        cursor.execute(f"SELECT gram, string_agg(object_id::text, ',') FROM {table} "
                                       "WHERE kind = 1 AND gram = ANY(%s::text[]) GROUP BY gram", [grams])
                    else:
                        cursor.execute(f"SELECT gram, group_concat(object_id) FROM {table} "
                                       f"WHERE kind = 1 AND gram IN ({', '.join(['%s'] * len(grams))}) GROUP BY gram", grams)
                    new = set()
                    for g, listed in cursor.fetchall():
                        under = ids[g] = array("q", map(int, listed.split(",")))
                        self.size += len(under)
                        new.update(names.missing(under))
                    if self.all_names:  # (ids above `high` were added as they were caught up or written)
                        for pk in new:
                            names[pk] = None
                    else:
                        for part in _chunks(sorted(new), 50_000):
                            cursor.execute(f"SELECT id, dedupe_name FROM {customers} WHERE id = ANY(%s::bigint[])", [part])
                            for pk, name in cursor.fetchall():
                                names[pk] = name
                            for pk in part:
                                names.setdefault(pk, None)
                    _sort_lists(ids, grams)
            else:
                for grams in _chunks(sorted(small)):
                    marks = ", ".join(["%s"] * len(grams))
                    cursor.execute(
                        f"SELECT g.gram, g.object_id, c.dedupe_name FROM {table} g LEFT JOIN {customers} c ON c.id = g.object_id "
                        f"WHERE g.kind = 1 AND g.gram IN ({marks})", grams)
                    while rows := cursor.fetchmany(FETCH):  # (a whole batch at once: ~100 MB of tuples)
                        self.size += len(rows)
                        for g, pk, _name in rows:
                            ids[g].append(pk)
                        names.keep_all([(pk, name) for _g, pk, name in rows])
                    _sort_lists(ids, grams)


def _sort_lists(ids: dict, grams) -> None:
    """Each bigram's ids ascending (`top_shared` ranks from the lists' heads); a database lists them in index
    order, which is no promise."""
    for g in grams:
        a = ids.get(g)
        if a is not None and len(a) > 1:
            ids[g] = array("q", sorted(a))


# -- the chunk's view of existing records -----------------------------------------------------------
class Known:
    """What the duplicate rules can match: the database as of the chunk's start (read in bulk) plus every
    customer/contact written since by this chunk (kept in memory); the bigrams through the job's `Grams`."""

    def __init__(self, plan):
        self.plan = plan
        self.grams: Grams = plan["grams"]
        self.db = defaultdict(set)  # (model, column) -> values present
        self.mem = defaultdict(set)
        self.pending: set = set()  # made-up ids (from TOKEN_BASE up) of the rows waiting in the batch

    # exact keys
    def has(self, model: str, column: str, value) -> bool:
        return value in self.db[(model, column)] or value in self.mem[(model, column)]

    def load_exact(self, model_cls, model: str, column: str, values) -> None:
        values = {v for v in values if v not in (None, "")}
        if values:
            self.db[(model, column)] |= _in_values(model_cls, column, values)

    def add_customer(self, pk, dedupe_name: str, search_name: str, phone: str, credit_code, row=None) -> None:
        """A customer written by this chunk (pk None while it waits in the batch as `row`)."""
        sets = self.db if pk is not None else self.mem  # pk: written row by row, so it is in the database
        sets[("customer", "dedupe_name")].add(dedupe_name)
        if phone:
            sets[("customer", "phone")].add(phone)
        if credit_code:
            sets[("customer", "credit_code")].add(credit_code)
        if pk is None:  # waiting in the batch: a made-up id until it is written
            self.plan["next_token"] += 1
            row.token, row.slots = self.plan["next_token"], []
            self.pending.add(row.token)
            self.grams.add(row.token, dedupe_name, search_name, row.slots, None if row.grams is None else row.grams[0])
        else:
            self.grams.add(pk, dedupe_name, search_name)
            self.grams.own.add(pk)

    def add_contact(self, mobile: str, email: str, search_name: str) -> None:
        for column, v in (("mobile", mobile), ("email", email), ("search_name", search_name)):
            if v:
                self.mem[("contact", column)].add(v)

    def flushed(self, batch) -> None:
        """The waiting batch is written: its rows are stored records now."""
        for key, values in self.mem.items():
            self.db[key] |= values
        self.mem.clear()
        self.pending.clear()
        for row in batch:
            self.grams.written(row.token, row.customer.pk, row.slots)


def _fuzzy_maybe(known: Known, key: str, threshold: int) -> bool:
    """Whether `_fuzzy_candidates(customer, key, threshold)` could find anything (never False when it would)."""
    from yingdan.duplicates.services import chosen_grams

    if known.has("customer", "dedupe_name", key):
        return True
    if threshold >= 100 or len(key) < 2:
        return False
    names = known.grams.names
    for g in chosen_grams(known.grams.sizes(key), len(key), threshold):
        for other in names.many(known.grams.ids.get(g, ())):
            if other and fuzz.ratio(key, other, score_cutoff=threshold):
                return True
    return False


HIT, NONE, MAYBE, FLUSH = "hit", "none", "maybe", "flush"  # FLUSH: known once the waiting batch is written


def _fuzzy_verdict(known: Known, key: str, threshold: int) -> str:
    """What `_fuzzy_candidates(customer, key, threshold, enough=1)` (a one-condition fuzzy rule) returns for
    this row, replayed on the chunk's view: HIT when it certainly returns a stored customer, NONE when it
    certainly returns nothing, FLUSH when that depends on a row still waiting in the batch.

    The replay: the exact key first; then the bigrams `chosen_grams` picks from the same (exact, capped)
    counts, and the candidates `top_shared` ranks from the ids under them (waiting rows rank as the newest ids,
    as they will be once written), scored with the same rapidfuzz ratio and cutoff."""
    from yingdan.duplicates.services import chosen_grams, top_shared

    if key in known.db[("customer", "dedupe_name")]:
        return HIT
    if key in known.mem[("customer", "dedupe_name")]:
        return FLUSH
    if threshold >= 100 or len(key) < 2:
        return NONE
    ids = known.grams.ids
    chosen = chosen_grams(known.grams.sizes(key), len(key), threshold)
    top = top_shared([ids[g] for g in chosen if ids.get(g)])
    if not top:
        return NONE
    # one C loop over the candidates (None keys, gram rows whose customer is gone, are left out as the check
    # leaves them out)
    matched = process.extract(key, known.grams.names.many(top), scorer=fuzz.ratio, score_cutoff=threshold, limit=None)
    verdict = NONE
    for _other, _score, i in matched:
        if top[i] not in known.pending:
            return HIT
        verdict = FLUSH
    return verdict


def _dup_values(plan, customer) -> dict:
    """{target type: the customer's normalised duplicate keys} for the targets of the job's rules — what
    `find_matches` compares (`record_data` copies every field twice; the rules read these attributes)."""
    from yingdan.duplicates import services as dup

    data = {src: getattr(customer, src) for src in plan["customer_sources"]}
    return {t: dup.normalized_values("customer", data, t) for t in {r.target_type for r in plan["customer_rules"]}}


def _customer_verdict(plan, known: Known, customer, values_by_target: dict | None = None) -> str:
    """HIT when `find_matches` certainly returns a stored customer for this row (only meaningful when every
    rule compares with customers), NONE when it certainly returns nothing, FLUSH when the waiting batch must be
    written to know, else MAYBE. `values_by_target`: `_dup_values(plan, customer)`, when known."""
    from yingdan.duplicates import services as dup
    from yingdan.duplicates.fields import DEFAULT_THRESHOLD, FIELD_MAP, FUZZY_KEYS

    if values_by_target is None:
        values_by_target = _dup_values(plan, customer)
    verdict = NONE
    for rule in plan["customer_rules"]:
        values = values_by_target[rule.target_type]
        conditions = rule.conditions or []
        mapping = FIELD_MAP.get(("customer", rule.target_type))
        if not mapping or not conditions or any(c.get("field") not in values for c in conditions):
            continue
        if rule.target_type != "customer":
            if dup._rule_hits(rule, "customer", values, None):  # no record of that kind is written here
                verdict = MAYBE
            continue
        if len(conditions) == 1:
            c = conditions[0]
            field = c["field"]
            if c.get("match") == "fuzzy" and field in FUZZY_KEYS:
                v = _fuzzy_verdict(known, values[field], int(c.get("threshold", DEFAULT_THRESHOLD)))
            elif values[field] in known.db[("customer", mapping[field][1])]:
                v = HIT
            elif values[field] in known.mem[("customer", mapping[field][1])]:
                v = FLUSH
            else:
                v = NONE
        else:
            v = MAYBE
            for c in conditions:
                field = c["field"]
                if c.get("match") == "fuzzy" and field in FUZZY_KEYS:
                    ok = _fuzzy_maybe(known, values[field], int(c.get("threshold", DEFAULT_THRESHOLD)))
                else:
                    ok = known.has("customer", mapping[field][1], values[field])
                if not ok:
                    v = NONE
                    break
        if v == HIT:
            return HIT
        if v == MAYBE or (v == FLUSH and verdict == NONE):
            verdict = v
    return verdict


def _contact_maybe_blocked(plan, known: Known, contact) -> bool:
    from yingdan.duplicates import services as dup
    from yingdan.duplicates.fields import FIELD_MAP

    rules = plan["contact_block_rules"]
    if not rules:
        return False
    values = dup.normalized_values("contact", dup.record_data(contact), "contact")
    mapping = FIELD_MAP[("contact", "contact")]
    for rule in rules:
        conditions = rule.conditions or []
        if not conditions or any(c.get("field") not in values for c in conditions):
            continue
        # a new customer has no contacts yet (a repeated company goes row by row): "same customer" never holds
        if all(c["field"] != "customer" and known.has("contact", mapping[c["field"]][1], values[c["field"]]) for c in conditions):
            return True
    return False


_CLEAN_PLANS: dict = {}


def _clean_plan(model, exclude):
    from django.core.validators import MaxLengthValidator
    from django.db import models

    key = (model, tuple(exclude))
    plan = _CLEAN_PLANS.get(key)
    if plan is None:
        plan = []
        for f in model._meta.fields:
            if f.name in exclude or f.generated:
                continue
            limit, others = None, []
            # "text": to_python gives a str back, validate checks blank; "fixed" (not editable): validate is
            # skipped altogether (Field.validate), so "" passes
            plain = type(f) in (models.CharField, models.TextField) and f.choices is None and ("text" if f.editable else "fixed")
            if plain:
                for v in f.validators:
                    if type(v) is MaxLengthValidator and type(v.limit_value) is int and limit is None:
                        limit = v.limit_value
                    else:
                        others.append(v)
            plan.append((f, f.attname, f.blank, plain, limit, tuple(others)))
        _CLEAN_PLANS[key] = plan
    return plan


_SCALARS = frozenset({bool, int, Decimal, dt.date, dt.datetime})
_CLEAN_SCALARS: set = set()  # (field, type, value) that field.clean gave back unchanged


def _clean_fields(obj, exclude) -> None:
    """`obj.clean_fields(exclude=exclude)` (raising on the first bad field: the row then goes the per-row way,
    which reports every error): a text value of a plain CharField/TextField (no choices) is what to_python
    gives back, so only its blank check and validators run (max_length as a length test); any other field or
    value takes `field.clean` as Django does."""
    for f, attname, blank, plain, limit, others in _clean_plan(type(obj), exclude):
        raw = getattr(obj, attname)
        if blank and raw in f.empty_values:
            continue
        if plain and type(raw) is str:
            if raw == "":  # (not blank)
                if plain == "fixed":
                    continue
                raise ValidationError({f.name: [f.error_messages["blank"]]})
            if limit is not None and len(raw) > limit:
                raise ValidationError({f.name: ["too long"]})
            for v in others:
                v(raw)
        elif type(raw) in _SCALARS and not f.is_relation:  # booleans, numbers, dates: the same values recur
            key = (f, type(raw), raw)
            if key not in _CLEAN_SCALARS:
                cleaned = f.clean(raw, obj)
                if type(cleaned) is type(raw) and cleaned == raw and len(_CLEAN_SCALARS) < 10_000:
                    _CLEAN_SCALARS.add(key)  # (a non-relation Field.clean depends on the value alone)
                setattr(obj, attname, cleaned)
        elif not isinstance(raw, DatabaseDefault):
            setattr(obj, attname, f.clean(raw, obj))


def _search_keys(obj) -> None:
    """`obj.refresh_search_keys()` (the parity tests compare the columns with the services' ones)."""
    obj.search_name = normalize(obj.name)[:255]
    obj.search_pinyin, obj.search_initials = pinyin_keys(obj.name)


class _OffLimits(Exception):
    """The reading process asked for the database."""


class _NoDatabase:
    """Every database connection of the reading process: any use raises and is counted, so a row that needs
    the database is left to the job's process."""

    def __init__(self):
        self.trips = 0

    def __getattr__(self, name):
        self.trips += 1
        raise _OffLimits(name)


class Builder:
    """For `readers.iter_rows_ahead`: the rows of a batch parsed and built (`_prepare_row`) in the reading
    process, so the job's process only decides and writes them (a large import is bound by its CPU; this is
    about a fifth of a row's work, on the second core).

    The reading process cannot reach the database (`_NoDatabase`): a row is built there only from its cells and
    the reference data the job reads before the process starts (`Importer.warm`: lists, custom fields) — as
    the job's process would build it. A row that would read anything else (a user named in a cell, say), that
    fails, or that holds a related object the job's process does not hold as well is left out and prepared
    there, as before. A built row travels as plain values (`_pack`): unpickling model instances cost about as
    much as building them."""

    def __init__(self, importer, ctx, mapping: dict, labels: dict):
        from yingdan.customers.models import Contact, Customer

        importer.warm(ctx)
        for model in (Customer, Contact):  # (a field's first default asks the database's features)
            _new(model, {})
        self.importer, self.ctx, self.mapping, self.labels = importer, ctx, mapping, labels
        self.pid = os.getpid()
        self.alias = connection.alias
        self.blocked = None
        # the related objects a built row may hold, by (model, pk): the job's process swaps in its own
        related = {(type(ctx.actor), ctx.actor.pk): ctx.actor}
        for key, table in ctx.cache.items():
            if type(key) is tuple and key[0] == "lookup":
                related.update(((type(obj), obj.pk), obj) for obj in table.values())
        self.related = related
        self.customer_attrs = _attnames(Customer)
        self.contact_attrs = _attnames(Contact)

    def __call__(self, rows) -> dict | None:
        """{row number: packed row} for the rows built (called in the reading process); None elsewhere (the
        rows are then built by the job as they come)."""
        if os.getpid() == self.pid or self.ctx.cache.get("bulk_plan") is None:
            return None
        if self.blocked is None:
            from django.db import connections

            self.blocked = _NoDatabase()
            for alias in connections:
                connections[alias] = self.blocked  # (the inherited connections are left alone: never closed)
        p = self.ctx.cache["bulk_plan"]
        out = {}
        for num, values in rows:
            row = Row(num, values)
            trips = self.blocked.trips
            try:
                _prepare_row(self.importer, self.ctx, p, self.mapping, self.labels, row)
                packed = self._pack(row) if row.result is None and not row.slow else None
            except Exception:  # (the job's process meets it again and handles it as it always did)
                continue
            if self.blocked.trips == trips and packed is not None:
                out[num] = packed
        return out

    def _pack(self, row: Row):
        if row.data.get("owner") is not None:
            return None  # (a user read from the database: not built here anyway)
        contact = row.contact
        parts = [row.key[1], _dup_values(self.ctx.cache["bulk_plan"], row.customer),
                 (name_grams(row.customer.search_name), None if contact is None else name_grams(contact.search_name)),
                 (changelog.snapshot(row.customer), None if contact is None else changelog.snapshot(contact))]
        for obj, attrs in ((row.customer, self.customer_attrs), (row.contact, self.contact_attrs)):
            if obj is None:
                parts += [None, None]
                continue
            d = obj.__dict__
            state = obj._state
            if len(d) != len(attrs) + 1 or state.db not in (None, self.alias) or not state.adding:
                return None
            cached = []
            for name, other in state.fields_cache.items():
                key = None if other is None else (type(other), other.pk)
                if key is not None and self.related.get(key) is not other:
                    return None
                cached.append((name, key))
            parts += [tuple(map(d.__getitem__, attrs)), (state.db, *cached)]
        return tuple(parts)

    def unpack(self, num, values, packed) -> Row:
        """The row as `_prepare_row` leaves it (in the job's process)."""
        from yingdan.customers.models import Contact, Customer

        key, dup, grams, snapshots, customer, customer_cached, contact, contact_cached = packed
        row = Row(num, values)
        row.key = ("customer", key)
        row.dup, row.grams, row.snapshots = dup, grams, snapshots
        row.data = {}  # (what the job's process reads of it: the owner the row names — none)
        row.customer = self._object(Customer, self.customer_attrs, customer, customer_cached)
        if contact is not None:
            row.contact = self._object(Contact, self.contact_attrs, contact, contact_cached)
        return row

    def _object(self, model, attrs, values, cached):
        obj = model.__new__(model)
        obj.__dict__.update(zip(attrs, values, strict=True))
        obj._state = state = ModelState()
        state.db = cached[0]
        related = self.related
        for name, key in cached[1:]:
            state.fields_cache[name] = None if key is None else related[key]
        return obj


def _attnames(model) -> tuple:
    """The attributes a built object of this model holds besides `_state` (one per concrete field)."""
    return tuple(f.attname for f in model._meta.concrete_fields)


_PROTOS: dict = {}


def _new(model, values: dict):
    """`model(**values)` for a model whose fields have no descriptors of their own (else it is exactly that):
    the defaults that are not computed (Model.__init__ asks each field for its default, for every object)
    copied from the model's first object, the computed ones (callable defaults) asked for, the given values
    set as Model.__init__ sets them (a related object through its descriptor). The parity tests compare the
    bulk path's records with the services' ones."""
    proto = _PROTOS.get(model)
    if proto is None:
        fields = [f for f in model._meta.fields if f.column is not None and not f.generated]
        if any(f.descriptor_class not in (DeferredAttribute, ForeignKeyDeferredAttribute) for f in fields):
            proto = False
        else:
            computed = [(f.attname, f) for f in fields if f.has_default() and callable(f.default)]
            names = {a for a, _f in computed}
            proto = ({f.attname: f.get_default() for f in fields if f.attname not in names}, computed)
        _PROTOS[model] = proto
    if proto is False or signals.pre_init.has_listeners(model) or signals.post_init.has_listeners(model):
        return model(**values)
    obj = model.__new__(model)
    obj._state = ModelState()
    d = obj.__dict__
    d.update(proto[0])
    for attname, f in proto[1]:
        d[attname] = f.get_default()
    for name, value in values.items():
        setattr(obj, name, value)
    return obj


# -- one chunk ----------------------------------------------------------------------------------------
class Row:
    __slots__ = ("num", "values", "data", "result", "written", "error", "slow", "customer", "contact", "key", "token",
                 "slots", "dup", "grams", "snapshots")

    def __init__(self, num, values):
        self.num, self.values = num, values
        self.data = None
        self.result = self.error = None
        self.written = []
        self.slow = False
        self.customer = self.contact = None
        self.key = ""
        self.token = None
        self.slots = None
        self.dup = None  # {target type: the duplicate keys of the customer} (`_dup_values`), when computed ahead
        self.grams = None  # (the customer's name grams, the contact's), when computed ahead
        self.snapshots = None  # (the customer's change-log snapshot, the contact's), when computed ahead


def _build(importer, ctx, plan, row: Row) -> None:
    """The customer and contact of a parsed row as the services would save them; any doubt → per row."""
    from yingdan.customers.models import Contact, Customer

    values = row.data
    fields = importer.model_values(values)
    custom = importer.custom_values(values)
    customer = _new(Customer, {k: v for k, v in fields.items() if k != "owner"})
    if values.get("owner") is not None:
        customer.owner = values["owner"]
    elif ctx.owner_mode == "team" and ctx.department is not None:
        customer.owner = None  # picked when the row is written (fair assignment keeps state)
    else:
        customer.owner = ctx.actor
    customer.created_by = ctx.actor
    customer.custom_fields = customer.validate_custom_fields(custom or {}, plan["customer_defs"], partial=False)
    _clean_fields(customer, CUSTOMER_FK)
    customer.clean()
    _search_keys(customer)
    customer.dedupe_name = company_key(customer.name)[:255]
    if not customer.credit_code:
        customer.credit_code = None
    row.customer = customer
    row.key = ("customer", company_key(values.get("name") or ""))  # as CustomerImporter.write keys ctx.seen
    if values.get("contact_name"):
        contact = _new(Contact, {"name": values["contact_name"], "mobile": values.get("contact_mobile") or "",
                                 "title": values.get("contact_title") or "", "email": values.get("contact_email") or ""})
        contact.created_by = ctx.actor
        contact.custom_fields = dict(plan["contact_custom"])
        _clean_fields(contact, CONTACT_FK)
        contact.clean()
        _search_keys(contact)
        row.contact = contact


def _prepare_row(importer, ctx, p, mapping, labels, row: Row) -> None:
    """Parse and build one row (no database state but reference data: lists, users, custom fields)."""
    from yingdan.imports.importers import error_text

    values = row.values
    raw = {key: (values[i] if i < len(values) else None) for i, key in mapping.items()}
    try:
        row.data = importer.parse(ctx, raw)
    except ValidationError as exc:
        row.result, row.error = RowResult.FAILED, error_text(exc, labels)
        return
    except Exception:
        row.slow = True
        return
    try:
        _build(importer, ctx, p, row)
    except Exception:
        row.slow = True  # the services report it exactly


def run_chunk(importer, ctx, mapping, chunk, process_row, labels) -> list[Row]:
    """Import one chunk (inside the caller's transaction); returns its rows with result/written/error."""
    from yingdan.customers.models import Contact, Customer

    p = plan(importer, ctx)
    built = ctx.cache.get("built") or {}  # row number -> the row built by the reading process (`Builder`)
    builder = ctx.cache.get("builder")
    rows = []
    for num, values in chunk:
        packed = built.pop(num, None)
        if packed is not None:
            rows.append(builder.unpack(num, values, packed))
        else:
            row = Row(num, values)
            rows.append(row)
            _prepare_row(importer, ctx, p, mapping, labels, row)
    fast = [r for r in rows if r.result is None and not r.slow]

    known = Known(p)
    known.load_exact(Customer, "customer", "dedupe_name", (r.customer.dedupe_name for r in fast))
    known.load_exact(Customer, "customer", "phone", (r.customer.phone for r in fast))
    known.load_exact(Customer, "customer", "credit_code", (r.customer.credit_code for r in fast))
    if p["contact_block_rules"]:
        contacts = [r.contact for r in fast if r.contact is not None]
        known.load_exact(Contact, "contact", "mobile", (c.mobile for c in contacts))
        known.load_exact(Contact, "contact", "email", (c.email for c in contacts))
        known.load_exact(Contact, "contact", "search_name", (c.search_name for c in contacts))
    if any(c.get("match") == "fuzzy" for rule in p["customer_rules"] if rule.target_type == "customer" for c in rule.conditions or []):
        known.grams.load(r.customer.dedupe_name for r in fast)

    batch: list[Row] = []
    pending_keys: set = set()
    dirty = False
    for row in rows:
        if row.result is not None:
            continue
        go_slow = (row.slow or dirty or row.key in ctx.seen or row.key in pending_keys
                   or bool(row.customer.credit_code and known.has("customer", "credit_code", row.customer.credit_code)))
        verdict = MAYBE if go_slow else _customer_verdict(p, known, row.customer, row.dup)
        if verdict == FLUSH:  # write the rows before it, as row by row, and look again
            dirty = _flush(ctx, p, known, batch, process_row, importer, mapping) or dirty
            batch, pending_keys = [], set()
            verdict = MAYBE if dirty else _customer_verdict(p, known, row.customer, row.dup)
        if verdict == HIT and ctx.mode == "skip" and p["customers_only"]:
            # Row by row: the owner is set, the service validates, the duplicate check finds the stored customer
            # and the row is skipped. Nothing is written, so the rows around it need not be flushed first.
            if row.customer.owner_id is None:
                importer.apply_owner(ctx, row.customer, row.data)
            if row.customer.owner_id == ctx.actor.pk or p["can_transfer"]:
                row.result = RowResult.SKIPPED
                ctx.duplicates += 1
                continue
        go_slow = go_slow or verdict != NONE or (row.contact is not None and _contact_maybe_blocked(p, known, row.contact))
        if not go_slow and row.customer.owner_id is None:
            importer.apply_owner(ctx, row.customer, row.data)  # team: fair assignment, in row order
        if not go_slow and row.customer.owner_id != ctx.actor.pk and not p["can_transfer"]:
            go_slow = True
        if go_slow:
            dirty = _flush(ctx, p, known, batch, process_row, importer, mapping) or dirty
            batch, pending_keys = [], set()
            dirty = _slow(ctx, known, row, process_row, importer, mapping) or dirty
            continue
        row.customer.sync_department()
        batch.append(row)
        pending_keys.add(row.key)
        c = row.customer
        known.add_customer(None, c.dedupe_name, c.search_name, c.phone, c.credit_code, row)
        if row.contact is not None:
            known.add_contact(row.contact.mobile, row.contact.email, row.contact.search_name)
    _flush(ctx, p, known, batch, process_row, importer, mapping)
    return rows


def _slow(ctx, known, row, process_row, importer, mapping) -> bool:
    """The per-row path for one row; what it wrote joins `known`. True when it changed an existing record
    (the chunk's bulk view is then stale: its other rows go row by row too)."""
    from yingdan.customers.models import Contact, Customer

    row.result, row.written, row.error = process_row(importer, ctx, mapping, row.values)
    changed = False
    for w in row.written:
        if w["action"] != "created":
            changed = True
            known.grams.reset()  # a stored customer changed (perhaps its name): read the bigrams again
        elif w["model"] == "customers.customer":
            for dn, sn, phone, code in Customer._base_manager.filter(pk=w["pk"]).values_list("dedupe_name", "search_name", "phone", "credit_code"):
                known.add_customer(w["pk"], dn, sn, phone, code)
        elif w["model"] == "customers.contact":
            for mobile, email, sn in Contact._base_manager.filter(pk=w["pk"]).values_list("mobile", "email", "search_name"):
                known.add_contact(mobile, email, sn)
    return changed


def _flush(ctx, p, known, batch, process_row, importer, mapping) -> bool:
    """Write the batch; True when it had to be redone row by row (the chunk's bulk view is then stale)."""
    if not batch:
        return False
    try:
        with transaction.atomic():
            _write(ctx, batch)
        known.flushed(batch)
        return False
    except (_Redo, DatabaseError, ValidationError) as exc:
        log.info("bulk import batch redone row by row: %r", exc)
        for row in batch:
            row.customer.pk = None
            if row.contact is not None:
                row.contact.pk = None
            ctx.seen.pop(row.key, None)
        # `known` counted the batch as written: it is stale now. The rest of the chunk goes row by row and
        # the bigrams are read again from the database in the next chunk.
        p["grams"].reset()
        for row in batch:
            _slow(ctx, known, row, process_row, importer, mapping)
        return True


def forget(ctx) -> None:
    """After a rolled-back chunk (preview): what it counted as written does not exist."""
    p = ctx.cache.get("bulk_plan")
    if p:
        p["grams"].reset()


_NONE_PASSES = ("DateTimeField", "DateField", "TimeField", "DecimalField", "DurationField", "FloatField", "UUIDField")


def _field_plan(model) -> list:
    """Per concrete field: (field, attname, value types passed as they are, None passed as it is, auto
    timestamp, a JSONField: a dict or list value goes straight to the backend's adapt_json_value). Passed as
    they are: values whose pre_save and get_db_prep_save give them back unchanged (exact field classes: text,
    integers, booleans, foreign keys to integer ids). None is what get_db_prep_save gives for None on those and
    on these exact classes (dates, times, numbers, UUIDs); an auto_now/auto_now_add field's pre_save sets the
    time. Any other field, or value, takes the field's own methods."""
    plan = _FIELD_PLANS.get(model)
    if plan is None:
        from django.db import models

        text = {models.CharField, models.TextField, models.EmailField, models.URLField, models.SlugField}
        ints = {models.IntegerField, models.BigIntegerField, models.SmallIntegerField, models.PositiveIntegerField,
                models.PositiveSmallIntegerField, models.PositiveBigIntegerField, models.AutoField, models.BigAutoField}
        plan = []
        for f in model._meta.concrete_fields:
            kind = type(f)
            if kind in text:
                kinds = (str,)
            elif kind in ints or (kind is models.ForeignKey and type(f.target_field) in ints):
                kinds = (int,)
            elif kind is models.BooleanField:
                kinds = (bool,)
            else:
                kinds = ()
            none_ok = bool(kinds) or (kind.__module__ == models.DateField.__module__ and kind.__name__ in _NONE_PASSES)
            auto = isinstance(f, models.DateField) and bool(f.auto_now or f.auto_now_add)
            plan.append((f, f.attname, kinds, none_ok, auto, kind is models.JSONField))
        _FIELD_PLANS[model] = plan
    return plan


_FIELD_PLANS: dict = {}
_ROW_PLANS: dict = {}


def _row_plan(model, plan):
    """(a getter of all the plan's attnames from an object's __dict__ — a tuple, the indexes of the fields
    whose values of the right types pass as they are, the indexes of the others, per index the types that
    pass) for `_insert`."""
    row_plan = _ROW_PLANS.get(model)
    if row_plan is None:
        attnames = [entry[1] for entry in plan]
        getter = operator.itemgetter(*attnames) if len(attnames) > 1 else (lambda d: (d[attnames[0]],))
        plain, special, allowed = [], [], []
        for i, (_f, _attname, kinds, none_ok, auto, json) in enumerate(plan):
            ok = set(kinds) | ({type(None)} if none_ok else set())
            allowed.append(frozenset(ok))
            (plain if ok and not auto and not json else special).append(i)
        row_plan = _ROW_PLANS[model] = (getter, tuple(plain), tuple(special), tuple(allowed))
    return row_plan


class _Values:
    """A row given as {attname: value} (bookkeeping rows: no model instance is built for them)."""

    def __init__(self, values: dict):
        self.__dict__ = values


def _take_ids(cursor, model, n: int) -> list[int] | None:
    q = connection.ops.quote_name
    table, pk_column = model._meta.db_table, model._meta.pk.column
    if connection.vendor == "postgresql":
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)", [table, pk_column, n])
        return [r[0] for r in cursor.fetchall()]
    if connection.vendor == "sqlite":
        cursor.execute(f"SELECT MAX({q(pk_column)}) FROM {q(table)}")
        top = cursor.fetchone()[0] or 0
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        row = cursor.fetchone()
        top = max(top, row[0] if row else 0)
        return list(range(top + 1, top + 1 + n))
    return None


def _insert(model, objs: list) -> None:
    """`model.objects.bulk_create(objs)` without its per-value SQL compilation (most of a batch's time): the
    ids are taken first — PostgreSQL: from the table's sequence; SQLite: above the AUTOINCREMENT mark, under
    the write lock this transaction holds — and the rows go in with one COPY (PostgreSQL) or executemany.
    Values are prepared as bulk_create prepares them (pre_save with add=True, get_db_prep_save), except that
    the batch shares one time for its auto timestamps and values whose preparation is known to be the value
    itself pass straight through (`_field_plan`); the objects end up as it leaves them (pk set, saved state).
    `objs` may also be {attname: value} dicts (bookkeeping rows): missing fields take their defaults."""
    if not objs:
        return
    opts = model._meta
    fields = opts.concrete_fields
    dicts = isinstance(objs[0], dict)
    if dicts:
        defaults = [(f.attname, f) for f in fields if not f.primary_key]
        objs = [_Values(d) for d in objs]
        for obj in objs:
            values = obj.__dict__
            for attname, f in defaults:
                if attname not in values:
                    values[attname] = f.get_default()
            values[opts.pk.attname] = None
    if any(getattr(f, "db_default", None) is not None and f.has_db_default() for f in fields) or (
            not dicts and any(o.pk is not None for o in objs)):
        if dicts:
            raise ValueError("rows given as values need a table without database defaults")
        model.objects.bulk_create(objs)
        return
    q = connection.ops.quote_name
    pk_attname = opts.pk.attname
    with connection.cursor() as cursor:
        ids = _take_ids(cursor, model, len(objs))
        if ids is None:
            model.objects.bulk_create(objs)
            return
        related = None if dicts else _related_fields(model)
        for obj, pk in zip(objs, ids, strict=True):
            if related is not None:
                _prepare_related(obj, related)
            elif not dicts:
                obj._prepare_related_fields_for_save(operation_name="bulk_create")
            obj.__dict__[pk_attname] = pk
        plan = _field_plan(model)
        adapt_json = connection.ops.adapt_json_value
        autos: dict = {}  # field -> (value, prepared value), taken from the batch's first object
        empty_json: dict = {}

        def prepare(entry, obj, values):
            f, attname, kinds, none_ok, auto, json = entry
            if auto:
                a = autos.get(f)
                if a is None:
                    v = f.pre_save(obj, True)
                    a = autos[f] = (v, f.get_db_prep_save(v, connection))
                else:
                    values[attname] = a[0]
                return a[1]
            v = values.get(attname, _MISSING)
            if (v is None and none_ok) or (kinds and type(v) in kinds):
                return v  # what get_db_prep_save returns for it
            if type(v) is dict and not v:  # {} (custom fields of most rows): prepared once
                prepared = empty_json.get(f, _MISSING)
                if prepared is _MISSING:
                    prepared = empty_json[f] = f.get_db_prep_save(f.pre_save(obj, True), connection)
                return prepared
            if json and type(v) in (dict, list):  # what JSONField.get_db_prep_save comes down to for these
                return adapt_json(v, f.encoder)
            return f.get_db_prep_save(f.pre_save(obj, True), connection)

        # Most values pass as they are: a row's values are taken in one go, and when their types are a
        # combination known to pass (each checked once per combination), only the other fields are prepared.
        getter, plain, special, allowed = _row_plan(model, plan)
        passing: dict = {}  # the types of a row's values -> whether every plain field passes as it is
        rows = []
        for obj in objs:
            values = obj.__dict__
            try:
                raw = getter(values)
            except KeyError:  # (a field left out: prepared one by one)
                raw = None
            if raw is not None:
                types = tuple(map(type, raw))
                ok = passing.get(types)
                if ok is None:
                    ok = all(types[i] in allowed[i] for i in plain)
                    if len(passing) < 1000:
                        passing[types] = ok
                if ok:
                    row = list(raw)
                    for i in special:
                        row[i] = prepare(plan[i], obj, values)
                    rows.append(row)
                    continue
            rows.append([prepare(entry, obj, values) for entry in plan])
        columns = ", ".join(q(f.column) for f in fields)
        if connection.vendor == "postgresql":  # COPY: one statement (an INSERT a row is planned row by row)
            with cursor.cursor.copy(f"COPY {q(opts.db_table)} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(fields))
            cursor.executemany(f"INSERT INTO {q(opts.db_table)} ({columns}) VALUES ({marks})", rows)
    if not dicts:
        for obj in objs:
            obj._state.adding = False
            obj._state.db = connection.alias


insert_rows = _insert  # for the pipeline's bookkeeping rows (services._save_progress)

_RELATED: dict = {}


def _related_fields(model):
    """{name: field} of the model's concrete relations, or None when `_prepare_related` does not apply (a
    generic relation: Model._prepare_related_fields_for_save checks it too)."""
    if model not in _RELATED:
        opts = model._meta
        _RELATED[model] = None if opts.private_fields else {f.name: f for f in opts.concrete_fields if f.is_relation}
    return _RELATED[model]


def _prepare_related(obj, related: dict) -> None:
    """`obj._prepare_related_fields_for_save("bulk_create")`, looking only at the related objects the instance
    holds (the fields it was given) instead of at every field: the same checks, in the same way."""
    for name, other in list(obj._state.fields_cache.items()):
        field = related.get(name)
        if field is None or not other:
            continue
        if other.pk is None:
            obj._prepare_related_fields_for_save(operation_name="bulk_create")  # (raises as Django does)
            raise ValueError(f"save() prohibited to prevent data loss due to unsaved related object '{name}'.")
        if getattr(obj, field.attname) in field.empty_values:
            setattr(obj, name, other)
        if getattr(other, field.target_field.attname) != getattr(obj, field.attname):
            field.delete_cached_value(obj)


# The tracked fields of a built object that the job's process may set after the build (`apply_owner`,
# `sync_department`, a contact's customer at writing): a snapshot taken ahead has them refreshed.
_SET_SINCE = {"customers.customer": (("owner", "owner_id"), ("department", "department_id")),
              "customers.contact": (("customer", "customer_id"),)}


def _write(ctx, batch: list[Row]) -> None:
    from yingdan.customers.models import Contact, Customer
    from yingdan.imports.importers import Importer
    from yingdan.search.indexing import index_instances

    actor = ctx.actor
    customers = [r.customer for r in batch]
    _insert(Customer, customers)
    contacts = []
    for r in batch:
        if r.contact is not None:
            r.contact.customer = r.customer
            contacts.append(r.contact)
    if contacts:
        _insert(Contact, contacts)
    # (a row built by the reading process brings its grams)
    index_instances(customers, grams=[r.grams and r.grams[0] for r in batch])
    index_instances(contacts, grams=[r.grams and r.grams[1] for r in batch if r.contact is not None])
    # what the services check after saving: the record is inside the actor's scope
    need = [c.pk for c in customers if c.owner_id == actor.pk] + [c.customer_id for c in contacts]
    if need:
        need = set(need)
        seen = set()
        for part in _chunks(sorted(need)):
            seen.update(Customer.objects.visible_to(actor, Action.VIEW).filter(pk__in=part).values_list("pk", flat=True))
        if seen != need:
            raise _Redo("a customer would be outside the importer's scope")
    if contacts:
        n = 0
        for part in _chunks([c.pk for c in contacts]):
            n += Contact.objects.visible_to(actor, Action.VIEW).filter(pk__in=part).count()
        if n != len(contacts):
            raise _Redo("a contact would be outside the importer's scope")
    # the change log: the same rows `changelog.on_saved` writes for each save
    cctx = current_context()
    user = cctx.user if getattr(cctx.user, "is_authenticated", False) else None
    user_name = (user.get_username() if user else "")[:150]
    ct = {m: ContentType.objects.get_for_model(m).pk for m in (Customer, Contact)}
    user_id = user.pk if user else None
    source, request_id, create = str(cctx.source), str(cctx.request_id or ""), str(ChangeAction.CREATE)
    changes_rows, logged = [], []
    for r in batch:
        for i, obj in enumerate((r.customer, r.contact)):
            if obj is None:
                continue
            if r.snapshots is None:
                after = changelog.snapshot(obj)
            else:  # as built; the fields set since (owner, department; a contact's customer) taken now
                after = r.snapshots[i]
                for name, attname in _SET_SINCE[type(obj)._meta.label_lower]:
                    after[name] = changelog._plain(obj.__dict__[attname])
            changes = changelog.created_changes(after)
            obj._changelog_snapshot = after
            changes_rows.append({
                "user_id": user_id, "user_name": user_name, "source": source, "request_id": request_id,
                "action": create, "content_type_id": ct[type(obj)], "object_id": obj.pk,
                "object_repr": str(obj)[:200], "changes": changes})
            logged.append((obj, changes))
    _insert(ObjectChange, changes_rows)
    events.emit_many(ChangeAction.CREATE, logged)
    for r in batch:
        r.result = RowResult.CREATED
        r.written = [Importer.written(r.customer, "created")]
        if r.contact is not None:
            r.written.append(Importer.written(r.contact, "created"))
        ctx.seen[r.key] = r.customer.pk
