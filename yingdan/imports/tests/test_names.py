"""The compact id -> company key store of the bulk import's bigram view behaves like the dict it replaced."""

import pytest

from yingdan.imports.bulk import Names


def test_names_behave_like_a_dict():
    names, ref = Names(), {}
    items = [(1, "华信科技有限公司"), (5, None), (3, "abc"), (-1, "待写入"), (-7, None), (10**9, "很大的编号"),
             (2_000, "x" * 600), (7, ""), (8, "\ud800孤"), (1, "改名")]
    for pk, name in items:
        names[pk] = name
        ref[pk] = name
    for pk in [*ref, 0, 2, 4, 6, 9, 11, 5000, -2, 10**9 + 1]:
        assert (pk in names) == (pk in ref)
        assert names.get(pk, False) == ref.get(pk, False)
        if pk in ref:
            assert names[pk] == ref[pk]
        else:
            with pytest.raises(KeyError):
                names[pk]
    assert names.pop(-1, None) == "待写入" and -1 not in names
    assert names.pop(3) == "abc" and 3 not in names
    assert names.pop(4, "gone") == "gone"
    assert names.setdefault(4) is None and 4 in names and names[4] is None
    assert names.setdefault(1, "other") == "改名"


def test_many_decodes_a_candidate_list_at_once():
    names = Names()
    for pk, name in [(1, "甲乙"), (2, None), (3, ""), (4, "nul\0inside"), (-3, "waiting"), (9, "😀表情")]:
        names[pk] = name
    assert names.many([1, 2, 3, 9]) == ["甲乙", None, None, "😀表情"]
    assert names.many([9, 4, 1]) == ["😀表情", "nul\0inside", "甲乙"]  # one kept aside: item by item
    assert names.many([-3, 1]) == ["waiting", "甲乙"]
    assert names.many([]) == []
    assert names.missing([1, 2, 9]) == [] and names.missing([]) == []
    assert names.missing([1, 5, -3, -8, 10**7, 4]) == [5, -8, 10**7]  # (-3 waits in `extra`; 4 holds NUL: there too)


def test_keep_sets_only_what_is_missing():
    names = Names()
    names.keep(4, "first")
    names.keep(4, "second")
    names.keep(-1, None)
    names.keep(-1, "later")
    assert names[4] == "first" and names[-1] is None
    names.keep_all([(4, "third"), (5, "fifth"), (5, "again"), (-2, "w")])
    assert names.many([4, 5, -2]) == ["first", "fifth", "w"]


@pytest.mark.parametrize("model", ["customer", "contact"])
def test_clean_fields_fast_path_rejects_what_django_rejects(model):
    """bulk._clean_fields raises exactly when Model.clean_fields does (the row then goes row by row) and
    leaves the same values."""
    from django.core.exceptions import ValidationError

    from yingdan.customers.models import Contact, Customer
    from yingdan.imports.bulk import CONTACT_FK, CUSTOMER_FK, _clean_fields

    cls, exclude = (Customer, CUSTOMER_FK) if model == "customer" else (Contact, CONTACT_FK)
    base = {"name": "华信科技有限公司", "search_name": "华信科技有限公司", "search_pinyin": "hx", "search_initials": "h",
            "custom_fields": {}}
    if model == "customer":
        base["dedupe_name"] = "华信科技"
    texts = ["", " ", "x" * 300, "x" * 2000, "abc", "13900000000", "021-6000000", "not a phone!", "a@b.cn", "bad@",
             "http://x.cn", "ht tp://bad", None, 12, "91310000MA1K4XXXXX"]
    cases = []
    for f in cls._meta.fields:
        if f.name in exclude or f.attname in ("id", "created_at", "updated_at") or type(f).__name__ not in (
                "CharField", "TextField", "EmailField", "URLField"):
            continue
        cases += [{f.attname: t} for t in texts]
    assert cases
    rejected = 0
    for change in cases:
        a, b = cls(**{**base, **change}), cls(**{**base, **change})
        try:
            a.clean_fields(exclude=exclude)
            django_ok = True
        except ValidationError:
            django_ok = False
        try:
            _clean_fields(b, exclude)
            fast_ok = True
        except ValidationError:
            fast_ok = False
        assert fast_ok == django_ok, change
        rejected += not django_ok
        if django_ok:
            assert {f.attname: getattr(a, f.attname) for f in cls._meta.fields} == {
                f.attname: getattr(b, f.attname) for f in cls._meta.fields}, change
    assert 10 < rejected < len(cases) - 10  # both outcomes are exercised


def test_many_takes_an_id_array_and_tells_none_from_absent():
    from array import array

    names = Names()
    names[3], names[5], names[6] = "", None, "乙"
    assert 4 not in names and 5 in names and 3 in names
    assert names.get(3) == "" and names.get(5) is None and names.get(4, "x") == "x"
    assert names.many(array("q", [6, 3, 5])) == ["乙", None, None]
    with pytest.raises(KeyError):
        names.many([6, 4])


def test_many_gives_what_a_dict_gives():
    """What many() gives stays what a dict gives through renames and pops."""
    import random

    rng = random.Random(11)
    names, ref = Names(), {}
    for step in range(3000):
        pk = rng.choice([rng.randrange(1, 40), (1 << 62) + rng.randrange(5)])
        op = rng.random()
        if op < 0.3:
            name = rng.choice([None, "", f"名{step}", "同名"])
            names[pk] = ref[pk] = name
        elif op < 0.4 and pk in ref:
            assert names.pop(pk) == ref.pop(pk)
        elif ref:
            pks = rng.sample(sorted(ref), min(len(ref), rng.randint(1, 12)))
            assert names.many(pks) == [ref[p] or None for p in pks], step


@pytest.mark.django_db
def test_new_builds_what_the_model_constructor_builds():
    from yingdan.core.models import Lookup
    from yingdan.core.tests.factories import make_user
    from yingdan.customers.models import Contact, Customer
    from yingdan.imports.bulk import _new

    user = make_user("proto_owner")
    level = Lookup.objects.filter(kind="customer_level").first()
    for model, values in ((Customer, {"name": "原型有限公司", "phone": "021-12345678", "level": level, "owner": user}),
                          (Contact, {"name": "原型", "mobile": "13800138000", "email": ""})):
        a, b = model(**values), _new(model, values)
        da, db = dict(a.__dict__), dict(b.__dict__)
        sa, sb = da.pop("_state"), db.pop("_state")
        assert da == db and sa.fields_cache == sb.fields_cache and sa.adding and sb.adding
        assert a.custom_fields is not b.custom_fields  # a computed default is not shared
        assert _new(model, values).custom_fields is not b.custom_fields


@pytest.mark.django_db
def test_read_all_reads_what_reading_row_by_row_reads():
    """Names.read_all (three strings a part, laid out by running sums) holds what keep_all of the rows holds —
    ids with and without gaps, parts of any size, empty and long keys — and declines keys it cannot lay out."""
    from django.db import connection

    from yingdan.core.tests.factories import make_customer, make_user
    from yingdan.customers.models import Customer

    user = make_user("names_reader")
    made = [make_customer(user, name=f"读取测试{i}有限公司").pk for i in range(12)]
    Customer._base_manager.filter(pk=made[1]).update(dedupe_name="先改的")
    Customer._base_manager.filter(pk=made[3]).update(dedupe_name="")
    Customer._base_manager.filter(pk=made[4]).update(dedupe_name="长" * 255)
    Customer._base_manager.filter(pk__in=[made[5], made[9]]).delete()  # gaps
    table = connection.ops.quote_name(Customer._meta.db_table)
    high = made[10]

    def read(step=50_000, upto=high):
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":  # the heap's order, not the index's (the updated rows moved)
                cursor.execute("SET LOCAL enable_indexscan = off")
                cursor.execute("SET LOCAL enable_bitmapscan = off")
                cursor.execute("SET LOCAL enable_indexonlyscan = off")
            return Names.read_all(cursor, table, upto, step=step)

    ref = Names()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, dedupe_name FROM {table} WHERE id <= %s", [high])
        ref.keep_all(cursor.fetchall())
    present = [pk for pk in made if pk <= high and pk not in (made[5], made[9])]
    for step in (1, 3, 4, 50_000):
        names = read(step)
        for pk in range(made[-1] + 3):
            assert names.get(pk, "absent") == ref.get(pk, "absent"), (step, pk)
        assert names.many(present) == ref.many(present) and names.get(made[3]) == "" and names[made[4]] == "长" * 255
        names[made[11]] = "后加的"  # it goes on like any other: added to, renamed
        names[made[0]] = "改名"
        assert names.many([made[0], made[11], made[1]]) == ["改名", "后加的", ref[made[1]]]
    assert len(read(upto=0).starts) == 0
    Customer._base_manager.filter(pk=made[6]).update(dedupe_name="𠀀字")  # beyond the BMP: row by row
    assert read() is None and read(step=3) is None
    if connection.vendor == "sqlite":  # (PostgreSQL holds no NUL in text)
        Customer._base_manager.filter(pk=made[6]).update(dedupe_name="有\0零")
        assert read() is None
