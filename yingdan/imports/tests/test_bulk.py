"""The bulk customer path gives the per-row path's outcomes: counts, row results and errors, duplicate
decisions (block, warn + skip/update/create), records, change log, search grams, events; undo works."""

from __future__ import annotations

import os

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from yingdan.core import changelog, registry
from yingdan.core.models import ObjectChange
from yingdan.core.tests.factories import (
    make_contact,
    make_customer,
    make_department,
    make_user,
    valid_credit_code,
)
from yingdan.core.text import normalize, pinyin_keys
from yingdan.customers.models import Contact, Customer
from yingdan.imports import bulk, importers, readers, services
from yingdan.imports.models import JobStatus
from yingdan.search.grams import name_grams
from yingdan.search.models import SearchGram

from .helpers import upload, xlsx_bytes

pytestmark = pytest.mark.django_db

HEAD = ["客户名称", "客户级别", "电话", "统一社会信用代码", "网址", "联系人", "手机", "职务", "邮箱"]


@pytest.fixture
def env():
    d = make_department("华南")
    admin = make_user("bulk_admin", ["admin"], department=d, name="管理员")
    rep = make_user("bulk_rep", ["rep"], department=d, name="小李")
    held = make_customer(rep, name="深圳星河数据科技有限公司", phone="0755-88886666", credit_code=valid_credit_code(7))
    make_contact(held, name="周九", mobile="13500135000", email="zhou@example.com")
    make_customer(rep, name="广州海蓝物流有限公司", phone="020-66668888")
    return type("E", (), {"d": d, "admin": admin, "rep": rep, "held": held})


POOL = "松柏梅兰竹菊鹤鹿龟鱼虎豹熊狮鹰雁燕莺桃李杏梨枣栗橙柚葵莲荷菱藕芦苇蒲艾茶桂枫杉柳槐榆桐椿楠檀樟柏岩峰岭泉溪"


def name(i: int, tail: str) -> str:
    n = len(POOL)
    return POOL[i % n] + POOL[(i // n * 11 + i * 7 + 3) % n] + POOL[(i * 13 + 5) % n] + POOL[(i * 29 + 11) % n] + tail


def rows():
    out = [HEAD]
    for i in range(60):  # clean new rows (spread over chunks), a third without contact
        contact = [f"员工{i}", f"1380013{i:04d}", "经理", f"e{i}@example.com"] if i % 3 else [None, None, None, None]
        out.append([name(i, "贸易有限公司"), "A", None, None, None, *contact])
    out += [
        ["深圳星河数据科技有限公司", "A", None, None, None, "新人", "13600136000", None, None],  # exact name: blocked
        ["深圳星河数据科技股份有限公司", "B", None, None, None, None, None, None, None],  # same key: blocked
        ["星河数据技术有限公司", "B", None, None, None, "近似", "13600136001", None, None],  # fuzzy name: blocked
        ["全新无关实业公司", "A", "0755-88886666", None, None, "某人", "13700137001", None, None],  # same phone: warn
        ["又一家新公司", "A", None, valid_credit_code(7), None, None, None, None, None],  # same credit code: block
        ["广州海蓝物流有限公司", "A", "020-12345678", None, None, None, None, None, None],  # exact name: blocked
        [name(1, "贸易有限公司"), "A", None, None, None, "补充联系人", "13900139009", None, None],  # repeats row 3
        [name(0, "贸易有限公司"), "A", None, None, None, None, None, None, None],  # repeat without contact
        [name(2, "贸易有限责任公司"), "A", None, None, None, None, None, None, None],  # near an earlier row: blocked
        ["坏电话公司", "A", "abc", None, None, None, None, None, None],  # bad cell
        ["坏级别公司", "不存在的级别", None, None, None, None, None, None, None],  # unknown lookup
        [None, "A", None, None, None, "无名", "13900139010", None, None],  # required name missing
        ["坏网址公司", "A", None, None, "not a url", None, None, None, None],  # model validation
        ["坏手机公司", "A", None, None, None, "某某", "12345", None, None],  # contact validation
        ["坏信用代码公司", "A", None, "91110000ABCDEFGH12", None, None, None, None, None],
        ["联系人手机重复公司", "A", None, None, None, "另一人", "13500135000", None, None],  # contact warn: confirmed
    ]
    for i in range(30):  # more clean rows after the special ones
        out.append([name(i + 100, "咨询有限公司"), "B", f"0755-2{i:07d}", None, None,
                    f"顾问{i}", f"1370013{i:04d}", None, None])
    return out


def snapshot(job):
    """Everything the import did, with ids replaced by names (ids differ between runs on PostgreSQL)."""
    job.refresh_from_db()
    names = dict(Customer.objects.values_list("pk", "name"))
    contact_names = dict(Contact.objects.values_list("pk", "name"))

    def ident(model, pk):
        return names.get(pk) if model == "customers.customer" else contact_names.get(pk)

    row_results = [(r.row_number, r.result, r.error, [(w["model"], w["action"], ident(w["model"], w["pk"]), w.get("before"))
                                                      for w in r.written]) for r in job.rows.order_by("row_number")]
    created = {w["pk"] for r in job.rows.all() for w in r.written if w["model"] == "customers.customer" and w["action"] == "created"}
    created_contacts = {w["pk"] for r in job.rows.all() for w in r.written if w["model"] == "customers.contact"}
    customers = sorted(Customer.objects.filter(pk__in=created).values_list(
        "name", "short_name", "credit_code", "phone", "website", "level__code", "owner_id", "department_id", "created_by_id",
        "search_name", "search_pinyin", "search_initials", "dedupe_name", "custom_fields", "pool_id"))
    contacts = sorted(Contact.objects.filter(pk__in=created_contacts).values_list(
        "customer__name", "name", "mobile", "email", "title", "search_name", "search_pinyin", "search_initials",
        "custom_fields", "created_by_id", "is_primary"))
    changes = []
    for ch in ObjectChange.objects.filter(request_id=f"import-{job.pk}").select_related("content_type"):
        label = f"{ch.content_type.app_label}.{ch.content_type.model}"
        data = dict(ch.changes)
        if "customer" in data:
            data["customer"] = [names.get(v) for v in data["customer"]]
        changes.append((label, ch.action, ch.object_repr, ch.user_id, ch.source, sorted(data.items())))
    grams = sorted(
        (g.kind, g.gram, names.get(g.object_id) if g.kind == 1 else contact_names.get(g.object_id))
        for g in SearchGram.objects.filter(kind=1, object_id__in=created)
    ) + sorted(
        (g.kind, g.gram, contact_names.get(g.object_id)) for g in SearchGram.objects.filter(kind=2, object_id__in=created_contacts)
    )
    counts = (job.status, job.created, job.updated, job.skipped, job.failed, job.duplicates, job.processed_rows)
    return {"counts": counts, "rows": row_results, "customers": customers, "contacts": contacts,
            "changes": sorted(changes, key=repr), "grams": grams}


def import_both(monkeypatch, env, data, actor=None, dry_run=False, **options):
    """Run the same file row by row and in bulk on the same starting data; returns both snapshots (and the
    events raised)."""
    actor = actor or env.admin
    monkeypatch.setattr(services, "CHUNK", 40)
    out = []
    for minimum in (10**9, 1):
        monkeypatch.setattr(bulk, "BULK_MIN_ROWS", minimum)
        events = []

        def handler(e, events=events):
            events.append((e.name, e.instance.name))

        monkeypatch.setattr(registry, "event_handlers", [registry.EventHandler(handler, on_commit=False)])
        with transaction.atomic():
            job = services.create_job(actor, "customers", upload(data), options=options, dry_run=dry_run)
            snap = snapshot(job)
            snap["events"] = sorted(events)
            transaction.set_rollback(True)
        out.append(snap)
    return out


def assert_same(per_row, in_bulk):
    for key in per_row:
        assert per_row[key] == in_bulk[key], key


@pytest.mark.parametrize("large", [False, True])
@pytest.mark.parametrize("mode", ["skip", "update", "create"])
def test_bulk_matches_per_row(monkeypatch, env, mode, large):
    unpacked = []
    if large:  # what a large import does: every customer's key read in one pass (not per gram row), and the
        # file read by a second process that builds the rows ahead
        monkeypatch.setattr(bulk, "NAMES_SCAN", 0)
        monkeypatch.setattr(readers, "AHEAD_MIN_ROWS", 0)
        unpack = bulk.Builder.unpack

        def counted(self, *args):
            unpacked.append(args[0])
            return unpack(self, *args)

        monkeypatch.setattr(bulk.Builder, "unpack", counted)
    per_row, in_bulk = import_both(monkeypatch, env, xlsx_bytes(rows()), mode=mode)
    assert per_row["counts"][0] == JobStatus.DONE
    assert per_row["counts"][1] > 80 and per_row["counts"][4] >= 6, per_row["counts"]
    assert_same(per_row, in_bulk)
    if large:  # the clean rows were built by the reading process (the bad ones were left to the job)
        assert len(unpacked) >= 90 and not {71, 72, 74, 75} & set(unpacked), unpacked


def test_rows_built_ahead_are_the_rows_built_here(env, tmp_path):
    """The reading process builds a row into what the job would build (same values, same related objects),
    and leaves out the rows it cannot build without the database (an owner named in a cell) or that fail."""
    from yingdan.imports.importers import RunContext

    data = [HEAD + ["负责人"]] + [r + [None] for r in rows()[1:]]
    data[5][-1] = "小李"  # (a user: read from the database)
    path = tmp_path / "a.xlsx"
    path.write_bytes(xlsx_bytes(data))
    importer = importers.importers["customers"]
    mapping = {0: "name", 1: "level", 2: "phone", 3: "credit_code", 4: "website", 5: "contact_name",
               6: "contact_mobile", 7: "contact_title", 8: "contact_email", 9: "owner"}
    ctx = RunContext(actor=env.admin, mode="skip")
    assert bulk.plan(importer, ctx) is not None
    builder = bulk.Builder(importer, ctx, mapping, importer.labels())
    assert builder(list(readers.iter_rows(str(path), "xlsx"))) is None  # (in the job's own process: nothing)
    built = {}
    for _num, _values, prepared in readers.iter_rows_ahead(str(path), "xlsx", prepare=builder, rows_hint=10**6):
        built.update(prepared or {})
    for num, values in readers.iter_rows(str(path), "xlsx"):
        row = bulk.Row(num, values)
        bulk._prepare_row(importer, ctx, ctx.cache["bulk_plan"], mapping, importer.labels(), row)
        if num == 1 or row.result is not None or row.slow or num == 6:
            assert num not in built, num
            continue
        ahead = builder.unpack(num, values, built[num])
        assert ahead.key == row.key and ahead.data.get("owner") is None
        assert ahead.dup == bulk._dup_values(ctx.cache["bulk_plan"], row.customer) and ahead.dup["customer"]
        assert ahead.grams[0] == name_grams(row.customer.search_name) and ahead.grams[0]
        assert ahead.snapshots[0] == changelog.snapshot(row.customer) and ahead.snapshots[0]["name"]
        if row.contact is not None:
            assert ahead.grams[1] == name_grams(row.contact.search_name)
            assert ahead.snapshots[1] == changelog.snapshot(row.contact)
        for mine, theirs in ((ahead.customer, row.customer), (ahead.contact, row.contact)):
            assert (mine is None) == (theirs is None)
            if mine is not None:
                assert {k: v for k, v in mine.__dict__.items() if k != "_state"} == \
                    {k: v for k, v in theirs.__dict__.items() if k != "_state"}
                assert mine._state.fields_cache == theirs._state.fields_cache
                assert mine._state.adding and mine._state.db == theirs._state.db
    assert len(built) >= 90


def prepare(batch):
    return {values[0]: (normalize(values[0]), pinyin_keys(values[0])) for _num, values in batch if values[0]}


def test_read_ahead_gives_the_rows_and_keys_of_reading_here(tmp_path):
    data = xlsx_bytes(rows())
    path = tmp_path / "a.xlsx"
    path.write_bytes(data)
    here = list(readers._iter_prepared(readers.iter_rows(str(path), "xlsx"), prepare))
    ahead = list(readers.iter_rows_ahead(str(path), "xlsx", prepare=prepare, rows_hint=10**6))
    assert ahead == here and len(ahead) == len(rows())
    keys = {k: v for _n, _v, p in ahead for k, v in p.items()}
    name = rows()[1][0]
    assert keys[name] == (normalize(name), pinyin_keys(name))
    for stop in (1, 600):  # the caller stops early: the reading process is stopped, nothing hangs
        it = readers.iter_rows_ahead(str(path), "xlsx", prepare=prepare, rows_hint=10**6)
        assert len([x for _i, x in zip(range(stop), it, strict=False)]) == min(stop, len(rows()))
        it.close()


@pytest.mark.parametrize("failure", ["dies", "stalls"])
def test_read_ahead_reads_the_rest_here_when_the_reading_process_fails(monkeypatch, tmp_path, failure):
    import os
    import time

    path = tmp_path / "a.xlsx"
    path.write_bytes(xlsx_bytes([HEAD] + [[name(i, "贸易有限公司"), "A"] for i in range(1200)]))
    monkeypatch.setattr(readers, "AHEAD_TIMEOUT", 1)

    def first_batch_only(sender, path, fmt, sheet, prepare):
        rows = []
        for item in readers.iter_rows(path, fmt, sheet):
            rows.append(item)
            if len(rows) == readers.AHEAD_BATCH:
                break
        sender.send(("rows", rows, None))
        if failure == "stalls":
            time.sleep(30)
        os._exit(1)

    monkeypatch.setattr(readers, "_read_ahead", first_batch_only)
    started = time.monotonic()
    got = [(num, values) for num, values, _p in readers.iter_rows_ahead(str(path), "xlsx", rows_hint=10**6)]
    assert got == list(readers.iter_rows(str(path), "xlsx")) and len(got) == 1201
    assert time.monotonic() - started < 20


def test_read_ahead_reports_a_bad_file_as_reading_here_does(tmp_path):
    path = tmp_path / "bad.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a zip" * 10)
    with pytest.raises(readers.ReadError) as here:
        list(readers.iter_rows(str(path), "xlsx"))
    with pytest.raises(readers.ReadError) as ahead:
        list(readers.iter_rows_ahead(str(path), "xlsx", rows_hint=10**6))
    assert str(ahead.value) == str(here.value)


def test_bulk_matches_per_row_for_a_scoped_rep_and_owner_column(monkeypatch, env):
    from yingdan.core.tests.factories import make_role

    role = make_role("批量导入代表", {"customers": {"actions": ["view", "create", "edit", "import"], "scope": "own"},
                                     "contacts": {"actions": ["view", "create", "edit", "import"], "scope": "own"}})
    rep = make_user("bulk_scoped", roles=[role], department=env.d, name="小赵")
    owners = {0: "小赵", 1: "管理员"}  # oneself, someone else (needs transfer: refused row by row)
    data = [HEAD + ["负责人"]] + [r + [owners.get(i % 8)] for i, r in enumerate(rows()[1:])]
    per_row, in_bulk = import_both(monkeypatch, env, xlsx_bytes(data), actor=rep, mode="update")
    assert per_row["counts"][1] > 50 and per_row["counts"][4] > 15, per_row["counts"]
    assert_same(per_row, in_bulk)


def test_bulk_rows_are_written_in_bulk_and_undone(monkeypatch, env):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    monkeypatch.setattr(bulk, "BULK_MIN_ROWS", 1)
    data = xlsx_bytes([HEAD] + [[name(i, "有限公司"), "A", None, None, None, f"人{i}", f"1390013{i:04d}", None, None]
                                for i in range(200)])
    with CaptureQueriesContext(connection) as queries:
        job = services.create_job(env.admin, "customers", upload(data), dry_run=False)
    assert job.created == 200 and job.failed == 0
    assert len(queries) < 200, len(queries)  # row by row it is ~13 statements a row
    assert Customer.objects.filter(name__endswith="有限公司", created_by=env.admin, phone="").count() == 200
    assert ObjectChange.objects.filter(request_id=f"import-{job.pk}", action="create").count() == 400
    result = services.undo_job(env.admin, job)
    assert result["removed"] == 400
    assert not Customer.objects.filter(name__endswith="有限公司", created_by=env.admin, phone="").exists()
    assert not Contact.objects.filter(name__startswith="人").exists()


def test_bulk_preview_matches_per_row_preview(monkeypatch, env):
    per_row, in_bulk = import_both(monkeypatch, env, xlsx_bytes(rows()), dry_run=True)
    assert per_row["counts"][0] == JobStatus.PREVIEWED and per_row["counts"][1] > 80
    assert_same(per_row, in_bulk)
    assert Customer.objects.count() == 2


def test_fast_xlsx_reader_reads_what_openpyxl_reads(tmp_path):
    import datetime as dt

    import openpyxl
    from openpyxl.cell.rich_text import CellRichText, TextBlock
    from openpyxl.cell.text import InlineFont

    from yingdan.imports import readers

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["客户名称", "数字", "小数", "日期", "时间", "布尔", "公式", None, "富文本"])
    ws.append(["甲公司", 13800138000, 1.5, dt.date(2024, 3, 5), dt.datetime(2024, 3, 5, 10, 30), True, "=1+1", None,
               CellRichText("红", TextBlock(InlineFont(b=True), "字"))])
    ws.append([])
    ws.append([None, None, 8.6138e12, "2024/3/5", None, False])
    ws["C4"].number_format = "0.00E+00"
    ws["D5"] = 45356
    ws["D5"].number_format = "yyyy-mm-dd"
    ws["K6"] = "远列"
    ws.merge_cells("A7:B7")
    ws["A7"] = "合并"
    s2 = wb.create_sheet("第二页")
    s2.append(["x", 1])
    for sheet in ("", "第二页"):
        path = tmp_path / "t.xlsx"
        wb.save(path)
        fast = list(readers._iter_xlsx(str(path), sheet))
        reference = list(readers._iter_xlsx_openpyxl(str(path), sheet))
        assert [v for _n, v in fast] == [v for _n, v in reference]
        # row numbers as the user sees them (openpyxl's reader numbered a row starting with an empty cell
        # by the count of non-empty rows before it)
        assert [n for n, _v in fast] == ([1, 2, 4, 5, 6, 7] if not sheet else [1])
    w = openpyxl.Workbook(write_only=True)  # no <dimension>, inline strings
    s = w.create_sheet("a")
    for i in range(50):
        s.append([f"名{i}", i, i / 3, None, "尾"])
    w.save(tmp_path / "w.xlsx")
    fast = list(readers._iter_xlsx(str(tmp_path / "w.xlsx"), ""))
    assert fast == list(readers._iter_xlsx_openpyxl(str(tmp_path / "w.xlsx"), "")) and len(fast) == 50
    assert readers.quick_count(str(tmp_path / "w.xlsx"), "xlsx") == 50


# -- fuzzy decisions taken in the batch (`bulk._fuzzy_verdict`) ------------------------------------------
TIE_TAILS = "子丑寅卯辰午未申酉亥"  # 10 x 10 distinct 2-character tails, none ending in 戊己


def tie_env(env, match_first: bool):
    """71 stored customers each sharing 3 of the 5 bigrams of 丁乙丙甲戊己 (so the check's SCORED cut falls
    inside a tie): 70 that score under 80 and one near match (丁乙庚甲戊己, 83), created first or last —
    which (a tie goes to the oldest: `top_shared`) decides whether the per-row check scores it."""
    near = lambda: make_customer(env.rep, name="丁乙庚甲戊己有限公司")  # noqa: E731
    if match_first:
        near()
    for i in range(70):
        make_customer(env.rep, name="丁乙丙甲" + TIE_TAILS[i % 10] + TIE_TAILS[i // 10] + "有限公司")
    if not match_first:
        near()


def tie_rows(pending_first: bool = False):
    out = [HEAD] + [[name(i, "贸易有限公司"), "A", None, None, None, None, None, None, None] for i in range(5)]
    if pending_first:  # an earlier row of the file, still waiting in the batch, is under the same bigrams
        out.append(["丁乙丙甲癸子有限公司", "A", None, None, None, None, None, None, None])
    out.append(["丁乙丙甲戊己有限公司", "A", None, None, None, "甲某", "13911112222", None, None])
    out += [[name(i + 200, "贸易有限公司"), "A", None, None, None, None, None, None, None] for i in range(5)]
    return out


@pytest.mark.parametrize("match_first", [True, False])
@pytest.mark.parametrize("mode", ["skip", "create"])
def test_bulk_fuzzy_tie_at_the_cut_matches_per_row(monkeypatch, env, match_first, mode):
    from yingdan.duplicates.services import SCORED

    assert SCORED < 71
    tie_env(env, match_first)
    calls = []
    real = bulk._fuzzy_verdict
    monkeypatch.setattr(bulk, "_fuzzy_verdict", lambda *a: calls.append(real(*a)) or calls[-1])
    slow = []
    real_slow = bulk._slow
    monkeypatch.setattr(bulk, "_slow", lambda ctx, known, row, *a: slow.append(row.num) or real_slow(ctx, known, row, *a))
    per_row, in_bulk = import_both(monkeypatch, env, xlsx_bytes(tie_rows()), mode=mode)
    assert_same(per_row, in_bulk)
    # the oldest near match is scored: a duplicate (skipped, or refused by the blocking rule); the newest is
    # left out by the cut: created — on both databases
    assert per_row["counts"][5] == (1 if match_first else 0), per_row["counts"]
    if mode == "skip":
        assert slow == [], slow  # decided in the batch, no per-row save
        assert calls.count(bulk.HIT if match_first else bulk.NONE) >= 1


@pytest.mark.parametrize("match_first", [True, False])
def test_bulk_fuzzy_tie_with_a_waiting_row_under_the_bigrams_matches_per_row(monkeypatch, env, match_first):
    """The waiting batch is written first, then the database is asked: still no per-row save."""
    tie_env(env, match_first)
    slow = []
    real_slow = bulk._slow
    monkeypatch.setattr(bulk, "_slow", lambda ctx, known, row, *a: slow.append(row.num) or real_slow(ctx, known, row, *a))
    per_row, in_bulk = import_both(monkeypatch, env, xlsx_bytes(tie_rows(pending_first=True)), mode="skip")
    assert_same(per_row, in_bulk)
    assert slow == [], slow


def test_bulk_fuzzy_duplicate_of_a_stored_customer_is_skipped_in_the_batch(monkeypatch, env):
    """A near match of a stored customer is skipped without a per-row save even though earlier rows of the
    batch share the key's common bigrams (公司/贸易 ...)."""
    slow = []
    real_slow = bulk._slow
    monkeypatch.setattr(bulk, "_slow", lambda ctx, known, row, *a: slow.append(row.num) or real_slow(ctx, known, row, *a))
    data = [HEAD] + [[name(i, "数据有限公司"), "A", None, None, None, None, None, None, None] for i in range(10)]
    data.append(["深圳星河数据技术有限公司", "A", None, None, None, None, None, None, None])  # 星河数据 ~ 星河数据科技
    per_row, in_bulk = import_both(monkeypatch, env, xlsx_bytes(data), mode="skip")
    assert_same(per_row, in_bulk)
    assert per_row["counts"][3] == 1 and per_row["counts"][1] == 10, per_row["counts"]
    assert slow == [], slow


def test_bulk_sees_customers_others_add_between_chunks(monkeypatch, env):
    """The bigram view is kept for the whole job: a near duplicate someone else saves while the import runs
    (between two chunks, under bigrams the job has already read) is found as row by row."""
    data = [HEAD] + [[name(i, "咨询有限公司"), "A", None, None, None, None, None, None, None] for i in range(60)]
    data[1] = ["青松翠柏实业有限公司", "A", None, None, None, None, None, None, None]  # chunk 1 reads 青松/松翠/翠柏
    data[2] = ["柏贸易通有限公司", "A", None, None, None, None, None, None, None]  # ... and 柏贸/贸易
    data[46] = ["青松翠柏贸易有限公司", "A", None, None, None, None, None, None, None]  # chunk 2: ~ 青松翠柏贸物 (83)
    calls = {}
    real = services._run_chunk

    def run_chunk(job, *args):  # one job object per run (ids are re-used after the rollback)
        calls[id(job)] = calls.get(id(job), 0) + 1
        if calls[id(job)] == 2:
            make_customer(env.rep, name="青松翠柏贸物有限公司")
        return real(job, *args)

    monkeypatch.setattr(services, "_run_chunk", run_chunk)
    per_row, in_bulk = import_both(monkeypatch, env, xlsx_bytes(data), mode="skip")
    created = {c[0] for c in per_row["customers"]}
    assert {"青松翠柏实业有限公司", "柏贸易通有限公司"} <= created and "青松翠柏贸易有限公司" not in created
    assert_same(per_row, in_bulk)


def test_insert_passes_plain_values_as_the_fields_prepare_them(env):
    """`bulk._insert` hands text/integer/boolean/foreign-key values to the database as they are: exactly what
    the fields' own pre_save + get_db_prep_save give for them."""
    from django.db import connection

    from yingdan.core.models import Lookup

    level = Lookup.objects.filter(kind="customer_level").first()
    customer = Customer(name="值检查有限公司", short_name="", phone="021-12345678", owner=env.admin, created_by=env.admin,
                        department=env.d, level=level, credit_code=None, custom_fields={"a": 1})
    customer.refresh_search_keys()
    contact = Contact(customer=env.held, name="值检查", mobile="13800138000", created_by=env.admin, is_primary=True)
    change = ObjectChange(user=env.admin, user_name="x", source="import", request_id="r", action="create",
                          content_type_id=1, object_id=5, object_repr="x", changes={"a": [None, 1]})
    checked = json_checked = 0
    for obj in (customer, contact, change):
        obj.pk = 123
        plain = {attname: kinds for _f, attname, kinds, _n, _a, _j in bulk._field_plan(type(obj)) if kinds}
        assert plain
        for f in type(obj)._meta.concrete_fields:
            if f.attname in plain:
                v = obj.__dict__[f.attname]
                if v is None or type(v) in plain[f.attname]:
                    assert f.get_db_prep_save(f.pre_save(obj, True), connection) == v, f.name
                    checked += 1
        for f, attname, _k, _n, _a, json in bulk._field_plan(type(obj)):
            if json and obj.__dict__[attname]:  # a JSONField's dict goes straight to the backend's adapter
                mine = connection.ops.adapt_json_value(obj.__dict__[attname], f.encoder)
                theirs = f.get_db_prep_save(f.pre_save(obj, True), connection)
                assert type(mine) is type(theirs) and getattr(mine, "obj", mine) == getattr(theirs, "obj", theirs)
                json_checked += 1
    assert checked > 20 and json_checked == 2


def test_insert_none_and_auto_timestamps_as_the_fields_prepare_them(env):
    """None passes straight through only where get_db_prep_save gives None for it; auto timestamps are set on
    the objects (one time for the batch)."""
    from django.db import connection

    for model in (Customer, Contact, ObjectChange):
        obj = model()
        for f, attname, _kinds, none_ok, auto, _json in bulk._field_plan(model):
            if none_ok and not auto:
                obj.__dict__[attname] = None
                assert f.get_db_prep_save(f.pre_save(obj, True), connection) is None, f.name
    customers = [Customer(name=f"时间检查{i}有限公司", owner=env.admin, created_by=env.admin, department=env.d) for i in range(3)]
    for c in customers:
        c.refresh_search_keys()
    bulk._insert(Customer, customers)
    stored = list(Customer.objects.filter(pk__in=[c.pk for c in customers]).values_list("created_at", "updated_at"))
    assert stored == [(c.created_at, c.updated_at) for c in customers] and customers[0].created_at is not None


def test_insert_rows_given_as_values_match_the_orm(env):
    """Bookkeeping rows given as {attname: value}: stored as the ORM stores the same values, defaults filled."""
    from django.contrib.contenttypes.models import ContentType

    ct = ContentType.objects.get_for_model(Customer).pk
    values = {"user_id": env.admin.pk, "user_name": "admin", "source": "import", "request_id": "r-1", "action": "create",
              "content_type_id": ct, "object_id": 7, "object_repr": "某公司", "changes": {"name": [None, "某公司"]}}
    via_orm = ObjectChange.objects.create(**values)
    bulk._insert(ObjectChange, [dict(values), {k: v for k, v in values.items() if k != "changes"}])
    fields = ["user_id", "user_name", "source", "request_id", "action", "content_type_id", "object_id", "object_repr", "changes"]
    rows = list(ObjectChange.objects.filter(pk__gt=via_orm.pk).order_by("pk").values_list(*fields))
    assert rows[0] == tuple(values[f] for f in fields)
    assert rows[1][-1] == {} and rows[1][:-1] == rows[0][:-1]
    assert ObjectChange.objects.filter(pk__gt=via_orm.pk, time__isnull=False).count() == 2


def db_setting(vendor: str, sql: str):
    """The value `sql` reads, on `vendor` only (the test is skipped on the other database)."""
    from django.db import connection

    if connection.vendor != vendor:
        pytest.skip(f"a {vendor} setting")
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


def test_sqlite_checkpoints_less_often_and_caches_less_while_a_job_runs(monkeypatch, env):
    def pace():
        return db_setting("sqlite", "PRAGMA wal_autocheckpoint"), db_setting("sqlite", "PRAGMA cache_size")

    before, seen = pace(), []
    real = services._run_chunk
    monkeypatch.setattr(services, "_run_chunk", lambda *a: seen.append(pace()) or real(*a))
    job = services.create_job(env.admin, "customers", upload(xlsx_bytes(rows())), dry_run=False)
    assert job.created > 0 and seen and set(seen) == {(25_600, -services.IMPORT_CACHE_KIB)}
    assert pace() == before and before[1] != -services.IMPORT_CACHE_KIB


def test_sqlite_maps_less_of_the_database_file_while_a_job_runs(monkeypatch, tmp_path):
    """(The test database lives in memory and maps nothing: a database file of its own, same settings.)"""
    from django.db import connection, connections

    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    db = connections.create_connection("default")
    db.settings_dict = {**db.settings_dict, "NAME": str(tmp_path / "mapped.sqlite3")}
    monkeypatch.setattr(services, "connection", db)

    def mapped():
        with db.cursor() as cursor:
            cursor.execute("PRAGMA mmap_size")
            return cursor.fetchone()[0]

    try:
        before = mapped()
        with services._checkpoint_pace(every=0):
            during = mapped()
        assert during == services.IMPORT_MMAP_BYTES < before == mapped(), (before, during)
    finally:
        db.close()


def test_a_job_runs_the_cyclic_collector_less_often_and_puts_its_pace_back(monkeypatch, env):
    import gc

    before, seen = gc.get_threshold(), []
    real = services._run_chunk
    monkeypatch.setattr(services, "_run_chunk", lambda *a: seen.append(gc.get_threshold()) or real(*a))
    job = services.create_job(env.admin, "customers", upload(xlsx_bytes(rows())), dry_run=False)
    assert job.created > 0 and seen
    assert set(seen) == {tuple(max(a, b) for a, b in zip(services.GC_THRESHOLDS, before, strict=True))} != {before}
    assert gc.get_threshold() == before


def test_a_thread_copies_the_write_ahead_log_back_while_the_job_writes(tmp_path):
    """The job's own connection checkpoints rarely; the helper thread copies what is committed back meanwhile
    (a database file of its own here: the test database lives in memory)."""
    import sqlite3
    import threading
    import time

    path = str(tmp_path / "wal.sqlite3")
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA wal_autocheckpoint=0")  # (the job's connection: no checkpoint of its own here)
    db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    start = os.path.getsize(path)
    stop = threading.Event()
    helper = threading.Thread(target=services._checkpoints, args=(path, 0.01, stop))
    helper.start()
    try:
        for _batch in range(20):
            db.execute("BEGIN IMMEDIATE")
            db.executemany("INSERT INTO t (v) VALUES (?)", [("x" * 200,)] * 500)
            db.execute("COMMIT")
        deadline = time.monotonic() + 10
        while os.path.getsize(path) < start + 1_000_000 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        stop.set()
        helper.join()
    assert os.path.getsize(path) > start + 1_000_000  # the rows' pages are in the database file, not only the log
    assert db.execute("SELECT COUNT(*) FROM t").fetchone()[0] == 10_000
    db.close()


@pytest.mark.django_db(transaction=True)
def test_postgresql_chunk_commits_do_not_wait_for_the_disk(monkeypatch, env):
    """Only the chunk's own transaction (progress saved with it) commits asynchronously."""

    def setting():
        return db_setting("postgresql", "SHOW synchronous_commit")

    setting()
    seen = []
    real = services._chunk_results
    monkeypatch.setattr(services, "_chunk_results", lambda *a: seen.append(setting()) or real(*a))
    job = services.create_job(env.admin, "customers", upload(xlsx_bytes(rows())), dry_run=False)
    assert job.created > 0 and seen and set(seen) == {"off"}
    assert setting() == "on"
    with transaction.atomic():  # inside someone else's transaction: left alone
        seen.clear()
        services.create_job(env.admin, "customers", upload(xlsx_bytes(rows())), dry_run=True)
        assert seen and set(seen) == {"on"}


def test_parse_remembers_repeated_cells_but_not_errors(env):
    importer = importers.importers["customers"]
    ctx = importers.RunContext(actor=env.admin)
    row = {"name": "记忆有限公司", "level": "A", "phone": "021-12345678"}
    first = importer.parse(ctx, dict(row))
    memo = ctx.cache["converted"]
    assert ("level", str, "A") in memo and ("name", str, "记忆有限公司") in memo
    assert not any(k[0] == "phone" for k in memo)  # phone numbers are unique: not kept
    assert importer.parse(ctx, dict(row)) == first
    bad = {"name": "坏级别有限公司", "level": "不存在的级别"}
    for _ in range(2):  # an error is raised again, not remembered
        with pytest.raises(ValidationError):
            importer.parse(ctx, dict(bad))
    assert ("level", str, "不存在的级别") not in memo


def test_related_objects_are_checked_as_bulk_create_checks_them(env):
    related = bulk._related_fields(Contact)
    for check in (bulk._prepare_related, lambda obj, _r: obj._prepare_related_fields_for_save("bulk_create")):
        unsaved = Customer(name="未保存的公司")
        contact = Contact(name="某人", customer=unsaved, created_by=env.rep)
        with pytest.raises(ValueError, match="unsaved related object 'customer'"):
            check(contact, related)
        unsaved.pk = env.held.pk  # saved since it was assigned: its id is taken
        check(contact, related)
        assert contact.customer_id == env.held.pk and contact.customer is unsaved
        contact.customer_id = env.held.pk + 1  # the id changed since: the held object is dropped
        check(contact, related)
        assert "customer" not in contact._state.fields_cache and contact.created_by == env.rep


@pytest.mark.parametrize("scan", [0, 10**9])
def test_the_bigram_view_holds_what_the_gram_table_holds(monkeypatch, env, scan):
    """Grams.load: each bigram's ids ascending and complete, each id's company key — None for a gram row whose
    customer is gone — whether every key is read in one pass (scan 0) or per gram row."""
    from yingdan.search.grams import query_grams
    from yingdan.search.models import SearchGram

    monkeypatch.setattr(bulk, "NAMES_SCAN", scan)
    made = [make_customer(env.rep, name=f"华信{tail}有限公司") for tail in ("达通科技", "远志贸易", "达通物流")]
    gone = made[-1].pk + 1000
    SearchGram.objects.create(kind=1, gram="华信", object_id=gone)
    grams = bulk.Grams()
    grams.load(["华信达通"])
    for g in query_grams("华信达通"):
        listed = sorted(SearchGram.objects.filter(kind=1, gram=g).values_list("object_id", flat=True))
        assert listed and list(grams.ids[g]) == listed and grams.counts[g] == len(listed), g
    assert gone in grams.ids["华信"] and grams.names[gone] is None
    assert [grams.names[c.pk] for c in made] == [c.dedupe_name for c in made] and made[0].dedupe_name


def test_present_values_are_what_the_orm_finds(env):
    made = [make_customer(env.rep, name=f"在库{i}有限公司", phone=f"021-6{i:07d}") for i in range(5)]
    for model, column, values in (
        (Customer, "dedupe_name", [c.dedupe_name for c in made[:3]] + ["不存在的公司", made[0].dedupe_name]),
        (Customer, "phone", [made[1].phone, made[4].phone, "021-00000000"]),
        (Contact, "mobile", ["13900000000"] + list(Contact.objects.values_list("mobile", flat=True)[:2])),
    ):
        orm = set(model._base_manager.filter(**{f"{column}__in": values}).values_list(column, flat=True))
        assert bulk._in_values(model, column, values) == orm, column
        assert orm or column == "mobile"
    assert bulk._in_values(Customer, "dedupe_name", []) == set()
