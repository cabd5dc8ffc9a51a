"""The fast export path (values_list rows, the own .xlsx writer, chunked csv) gives the output of the instance
path and of openpyxl, cell for cell, on every exportable list with every column — and in bounded queries."""

import csv
import datetime
import decimal
import io

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import Workbook, load_workbook

from yingdan.core.models import Lookup, Tag
from yingdan.core.tests.factories import (
    make_contact,
    make_custom_field,
    make_customer,
    make_department,
    make_role,
    make_user,
)
from yingdan.customers.models import Customer
from yingdan.exports import services, xlsx
from yingdan.exports.rows import FastRows
from yingdan.followups.tests.helpers import make_followup
from yingdan.handover.tests.helpers import make_lead
from yingdan.opportunities.tests.helpers import make_opportunity

pytestmark = pytest.mark.django_db

LISTS = ["customers", "contacts", "leads", "followups", "opportunities", "users"]


@pytest.fixture
def data():
    d1 = make_department("一部")
    d2 = make_department("二部")
    boss = make_user("boss", ["admin"], d1, name="老板")
    rep = make_user("rep1", ["rep"], d1, name="=张三")
    rep2 = make_user("rep2", ["rep"], d2, name="")  # shows the username
    make_custom_field(Customer, "grade", "select", choices=[{"value": "a", "label": "甲"}, {"value": "b", "label": "@乙"}], show_in_list=True)
    make_custom_field(Customer, "areas", "multiselect", choices=[{"value": "n", "label": "北"}, {"value": "s", "label": "南"}])
    make_custom_field(Customer, "budget", "integer", show_in_list=True)
    make_custom_field(Customer, "rate", "decimal")
    make_custom_field(Customer, "vip", "boolean")
    make_custom_field(Customer, "since", "date")
    make_custom_field(Customer, "manager", "user")
    make_custom_field(Customer, "note", "text")
    levels = list(Lookup.objects.filter(kind="customer_level"))
    tags = [Tag.objects.create(name=n) for n in ("重点", "-负数", "老客户")]
    customers = []
    samples = [
        {"name": "=HYPERLINK(\"http://x\")", "short_name": "-123", "city": "+杭州"},
        {"name": "普通 客户 ", "short_name": "  前后空格  ", "city": "上海"},
        {"name": "A&B <公司>", "short_name": "@at", "city": "\t制表"},
        {"name": "控制字符", "short_name": "", "city": ""},
    ]
    for i in range(12):
        kw = dict(samples[i % len(samples)])
        kw["name"] = f"{kw['name']}{i}"
        kw["level"] = levels[i % len(levels)] if levels and i % 3 else None
        kw["custom_fields"] = [
            {"grade": "a", "areas": ["n", "s"], "budget": -5, "rate": "1.50", "vip": True, "since": "2024-02-29",
             "manager": rep.pk, "note": "=1+1"},
            {"grade": "b", "budget": 120000, "vip": False, "manager": 999999},
            {},
        ][i % 3]
        c = make_customer(rep if i % 2 else rep2, **kw)
        c.tags.set(tags[: i % 4])
        customers.append(c)
        make_contact(c, title="=cmd" if i % 2 else "经理", is_primary=bool(i % 2),
                     birthday=datetime.date(1990, 1, 1 + i) if i % 3 else None)
        make_followup(rep if i % 2 else rep2, customer=c, content=f"=SUM(A1) 跟进内容很长{'。' * 70}" if i % 2 else "电话沟通")
        make_opportunity(rep if i % 2 else rep2, customer=c, amount=decimal.Decimal("12345.67") * i,
                         expected_close=datetime.date(2027, 1, 1 + i))
    Customer.objects.filter(pk=customers[3].pk).update(short_name="控制\x07字符")  # older data may hold one
    for i in range(5):
        make_lead(rep, company=f"-线索公司{i}", mobile=f"1380000000{i}")
    return type("Data", (), {"boss": boss, "rep": rep, "rep2": rep2, "customers": customers})


def make_export(user, name, **params):
    query = QueryDict(mutable=True)
    for key, value in params.items():
        query[key] = value
    return services.Export(user, services.object_path(name), query)


def all_columns(user, name):
    return ",".join(make_export(user, name).table.columns)


def old_xlsx(export) -> bytes:
    """The previous writer (openpyxl write-only over the instance rows): the reference for the new one."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=str(export.model._meta.verbose_name_plural)[:31])
    ws.append(export.header())
    for row in export.instance_rows():
        ws.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in row])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def sheet_values(content: bytes):
    wb = load_workbook(io.BytesIO(content), read_only=True)
    ws = wb.active
    return ws.title, [list(r) for r in ws.iter_rows(values_only=True)]


@pytest.mark.parametrize("name", LISTS)
def test_fast_rows_equal_instance_rows_every_list_every_column(data, name):
    for user in (data.boss, data.rep) if name != "users" else (data.boss,):
        export = make_export(user, name, columns=all_columns(user, name))
        fast = list(export.rows())
        slow = list(export.instance_rows())
        assert fast == slow
        assert [type(v) for r in fast for v in r] == [type(v) for r in slow for v in r]
        if name != "users":
            assert len(fast) > 0


def test_fast_rows_with_filters_and_sorting(data):
    columns = all_columns(data.boss, "customers")
    for params in ({"sort": "-cf_budget"}, {"sort": "owner"}, {"sort": "name", "city": "上海"}, {"tags": str(Tag.objects.get(name="重点").pk)},
                   {"q": "客户"}):
        export = make_export(data.boss, "customers", columns=columns, **params)
        assert list(export.rows()) == list(export.instance_rows()), params


def test_fast_rows_small_chunks_and_sliced_queryset(data):
    export = make_export(data.boss, "customers", columns=all_columns(data.boss, "customers"))
    export.queryset = export.queryset[:7]
    expected = list(export.instance_rows())
    rows = FastRows(export, chunk=3)
    assert len(expected) == 7
    assert [r for batch in rows.batches() for r in batch] == expected


def test_fast_rows_bounded_queries(data):
    """Related rows (lookups, users, departments, tags) come once per chunk, not once per row."""
    export = make_export(data.boss, "customers", columns=all_columns(data.boss, "customers"))
    with CaptureQueriesContext(connection) as few:
        list(export.rows())
    for i in range(24):
        make_customer(data.rep, name=f"更多客户{i}").tags.set(Tag.objects.all())
    export = make_export(data.boss, "customers", columns=all_columns(data.boss, "customers"))
    with CaptureQueriesContext(connection) as more:
        rows = list(export.rows())
    assert len(rows) == 36
    assert len(more) == len(few) <= 12


def test_fast_rows_respect_scope_and_hidden_fields(data):
    role = make_role("仅看名称", {"customers": {"actions": ["view", "export"], "scope": "own"}}, {"customers": {"short_name": "hidden", "cf_grade": "hidden"}})
    user = make_user("limited", roles=[role], department=data.customers[0].department)
    for c in data.customers[:3]:
        c.collaborators.add(user)
    export = make_export(user, "customers", columns="name,short_name,cf_grade,owner,cf_budget")
    assert [c.name for c in export.columns] == ["name", "owner", "cf_budget"]
    rows = list(export.rows())
    assert rows == list(export.instance_rows())
    visible = set(Customer.objects.visible_to(user, "view").values_list("pk", flat=True))
    assert len(rows) == len(visible) == 3


def test_xlsx_reads_back_like_openpyxl(data):
    for name in LISTS:
        export = make_export(data.boss, name, columns=all_columns(data.boss, name))
        out = io.BytesIO()
        rows = services.write_xlsx(export, out)
        new_title, new = sheet_values(out.getvalue())
        old_title, old = sheet_values(old_xlsx(export))
        assert rows == len(new) - 1
        assert new_title == old_title
        assert new == old, name


def test_xlsx_cell_types():
    when = datetime.datetime(2026, 3, 4, 5, 6, 7)
    values = ["文本 & <b>", " 前空格", "=not a formula", 42, -1.5, decimal.Decimal("12.30"), when, datetime.date(2026, 1, 2),
              True, None, "", "a\x01b", "x" * 40000, 12345678901234567890]
    out = io.BytesIO()
    assert xlsx.write(out, "表[1]:?", ["h"] * len(values), [[values]]) == 1
    title, rows = sheet_values(out.getvalue())
    assert title == "表 1"
    got = rows[1]
    assert got[:8] == ["文本 & <b>", " 前空格", "=not a formula", 42, -1.5, 12.3, when, datetime.datetime(2026, 1, 2)]
    assert got[8] is True and got[9] is None and got[10] is None and got[11] == "ab"
    assert got[12] == "x" * 32767 and got[13] == 12345678901234567890 or got[13] == pytest.approx(1.2345678901234567e19)
    wb = load_workbook(io.BytesIO(out.getvalue()))
    ws = wb.active
    assert ws["G2"].number_format == "yyyy-mm-dd h:mm:ss" and ws["H2"].number_format == "yyyy-mm-dd"
    assert ws["C2"].data_type == "s"  # neutralised upstream; the writer never makes formulas


def test_csv_equal_to_row_by_row_csv(data):
    export = make_export(data.boss, "customers", columns=all_columns(data.boss, "customers"))
    out = io.BytesIO()
    rows = services.write_csv(export, out)
    reference = io.StringIO()
    writer = csv.writer(reference)
    writer.writerow(export.header())
    for row in export.instance_rows():
        writer.writerow([services._csv_text(v) for v in row])
    assert out.getvalue() == ("\ufeff" + reference.getvalue()).encode()
    assert rows == len(data.customers)


def test_datetimes_are_local_and_naive(data):
    export = make_export(data.boss, "customers", columns="name,updated_at")
    row = next(export.rows())
    assert row[1].tzinfo is None
    customer = Customer.objects.get(name=row[0])
    assert row[1] == timezone.localtime(customer.updated_at).replace(tzinfo=None)


def test_xlsx_serial_and_spaces_match_openpyxl_and_python():
    from openpyxl.utils.datetime import to_excel

    for value in (datetime.datetime(2026, 11, 27, 23, 59, 59, 999999), datetime.datetime(1900, 2, 1, 12), datetime.date(1900, 3, 1),
                  datetime.date(1970, 1, 1), datetime.datetime(2000, 1, 1, 0, 0, 0, 1)):
        assert xlsx.serial(value) == format(float(to_excel(value)), ".16g")
    assert xlsx.SPACES == frozenset(c for c in map(chr, range(0x3001)) if c.isspace())
    out = io.BytesIO()
    xlsx.write(out, "s", ["a"], [[["\x01\x02"], ["\u3000全角空格"]]])
    assert sheet_values(out.getvalue())[1][1:] == [[None], ["\u3000全角空格"]]
