import datetime as dt
import hashlib

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from yingdan.core.models import Lookup, ObjectChange
from yingdan.core.tests.factories import make_customer, make_department, make_user
from yingdan.customers.models import Contact, Customer
from yingdan.imports import services
from yingdan.imports.models import ImportJob, JobStatus

from .helpers import csv_bytes, upload, xlsx_bytes

pytestmark = pytest.mark.django_db

HEAD = ["客户名称", "客户级别", "电话", "联系人", "手机", "职务", "成立日期"]


@pytest.fixture
def env():
    d = make_department("华东")
    admin = make_user("imp_admin", ["admin"], department=d, name="管理员")
    rep = make_user("imp_rep", ["rep"], department=d, name="小王")
    return type("E", (), {"d": d, "admin": admin, "rep": rep})


def run(env, data, name="客户.xlsx", dry_run=False, **options):
    return services.create_job(env.admin, "customers", upload(data, name), options=options, dry_run=dry_run)


def test_customers_with_contacts_from_xlsx(env):
    data = xlsx_bytes([HEAD, ["甲公司", "A类", "02112345678", "张三", 13800138000, "经理"],
                       ["甲公司", "A类", None, "李四", "13900139000", "采购"],
                       ["乙公司", "B", None, "王五", "１３７００１３７０００", None]])
    job = run(env, data)
    assert job.status == JobStatus.DONE, job.message
    assert (job.created, job.updated, job.failed) == (2, 1, 0), list(job.rows.values_list("error", flat=True))
    a = Customer.objects.get(name="甲公司")
    assert a.level.name.startswith("A") or a.level.code == "A"
    assert sorted(Contact.objects.filter(customer=a).values_list("name", flat=True)) == ["张三", "李四"]
    assert Contact.objects.get(name="王五").mobile == "13700137000"
    assert ObjectChange.objects.filter(source="import", request_id=f"import-{job.pk}").exists()


def test_preview_writes_nothing(env):
    data = xlsx_bytes([HEAD, ["甲公司", "", "", "张三", "13800138000"], ["", "", "", "", ""], ["乙", "", "", "x", "8.6138E+12"]])
    job = run(env, data, dry_run=True)
    assert job.status == JobStatus.PREVIEWED
    assert (job.created, job.failed) == (1, 1)
    assert not Customer.objects.exists()
    assert job.rows.get().row_number == 4
    job = services.start_job(job, dry_run=False)
    assert job.status == JobStatus.DONE and job.created == 1
    assert Customer.objects.count() == 1


def test_title_row_and_merged_header_and_trailing(env):
    rows = [["2024 客户清单"], ["客户名称", "联系人", None, "电话"], [None, "姓名", "手机", None],
            ["丙公司", "赵六", "13800138001", "010-88889999", None, None], [None, None], []]
    data = xlsx_bytes(rows, merge=["A1:D1", "B2:C2"])
    job = run(env, data)
    assert job.header_row == 3, job.headers
    assert job.created == 1 and job.failed == 0, list(job.rows.values("error"))
    c = Contact.objects.get(name="赵六")
    assert c.mobile == "13800138001" and c.customer.phone


def test_several_sheets_choose_one(env):
    data = xlsx_bytes([["说明"]], sheets={"数据": [HEAD, ["丁公司"]]})
    job = services.create_job(env.admin, "customers", upload(data), sheet="数据", dry_run=False)
    assert job.created == 1 and "数据" in job.options["sheets"]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_csv_encodings(env, encoding, delimiter):
    data = csv_bytes([["客户名称", "电话", "备注"], ["戊公司", "021-12345678", "中文备注"], ["己公司", "", "第二"]], encoding, delimiter)
    job = run(env, data, name="c.csv")
    assert job.created == 2, list(job.rows.values("error"))
    assert Customer.objects.get(name="戊公司").remarks == "中文备注"


def test_bad_values_reported_good_rows_kept(env):
    long = "长" * 201
    rows = [["客户名称", "联系人", "手机", "生日"]]
    data = csv_bytes([["客户名称", "联系人", "手机"],
                      ["好公司1", "甲", "13800138000"],
                      [long, "乙", ""],
                      ["好公司2", "丙", "8.6138E+12"],
                      ["好公司3", "丁", "13800138003"]])
    del rows
    job = run(env, data, name="x.csv")
    assert (job.created, job.failed) == (2, 2)
    errs = dict(job.rows.filter(result="failed").values_list("row_number", "error"))
    assert set(errs) == {3, 4}
    assert not Customer.objects.filter(name="好公司2").exists()


def test_dates_parsing():
    from yingdan.imports.values import parse_date, parse_phone

    for v in ("2024-03-05", "2024/3/5", "2024年3月5日", "20240305", "２０２４－０３－０５", 45356, dt.datetime(2024, 3, 5)):
        assert parse_date(v) == dt.date(2024, 3, 5), v
    with pytest.raises(ValidationError):
        parse_date("2023-02-30")
    with pytest.raises(ValidationError):
        parse_phone("8.6138E+12")
    assert parse_phone(13800138000.0) == "13800138000"


def test_modes_skip_update_create(env):
    existing = make_customer(env.admin, name="重复公司", address="旧地址")
    data = csv_bytes([["客户名称", "地址"], ["重复公司", "新地址"]])
    job = run(env, data, name="a.csv", mode="skip")
    assert (job.skipped, job.duplicates) == (1, 1)
    job = run(env, data, name="a.csv", mode="update")
    assert job.updated == 1
    existing.refresh_from_db()
    assert existing.address == "新地址"
    result = services.undo_job(env.admin, job)
    existing.refresh_from_db()
    assert existing.address == "旧地址" and result["restored"] == 1


def test_undo_created_and_changed_since(env):
    data = csv_bytes([["客户名称"], ["撤销1"], ["撤销2"]])
    job = run(env, data, name="u.csv")
    assert job.created == 2
    c = Customer.objects.get(name="撤销2")
    Customer.objects.filter(pk=c.pk).update(updated_at=c.updated_at + dt.timedelta(seconds=5))
    result = services.undo_job(env.admin, job)
    assert result["removed"] == 1 and result["kept_count"] == 1
    assert list(Customer.objects.values_list("name", flat=True)) == ["撤销2"]
    job.refresh_from_db()
    assert job.status == JobStatus.UNDONE


def test_owner_column_and_ambiguous_user(env):
    make_user("dup1", ["rep"], department=env.d, name="重名")
    make_user("dup2", ["rep"], department=env.d, name="重名")
    data = csv_bytes([["客户名称", "负责人"], ["归属1", "小王"], ["归属2", "重名"], ["归属3", "imp_rep"]])
    job = run(env, data, name="o.csv")
    assert (job.created, job.failed) == (2, 1)
    assert Customer.objects.get(name="归属1").owner == env.rep


def test_owner_spread_across_team(env):
    from yingdan.core.tests.factories import system_actor
    from yingdan.leads import services as lead_services
    from yingdan.leads.models import AssignmentRule

    reps = [make_user(f"team{i}", ["rep"], department=env.d) for i in range(2)]
    lead_services.save_assignment_rule(system_actor(), AssignmentRule(department=env.d, method="round_robin"))
    data = csv_bytes([["客户名称"]] + [[f"分配{i}"] for i in range(4)])
    job = run(env, data, name="t.csv", owner_mode="team", department=env.d.pk)
    assert job.created == 4, list(job.rows.values("error"))
    owners = list(Customer.objects.values_list("owner_id", flat=True))
    assert len(set(owners)) >= 2
    del reps


def test_refused_user_and_bad_files(env):
    finance = make_user("fin", ["finance"], department=env.d)
    with pytest.raises(PermissionDenied):
        services.create_job(finance, "customers", upload(csv_bytes([["客户名称"], ["x"]]), "a.csv"))
    for data, name in ((b"", "e.csv"), (b"\x00\x01\x02binary\x00", "x.xlsx"), (b"PK\x03\x04garbage", "z.xlsx"),
                       (csv_bytes([["foo", "bar"], ["1", "2"]]), "n.csv")):
        with pytest.raises(ValidationError):
            run(env, data, name=name)
    assert not ImportJob.objects.exists()


def test_zip_bomb_refused(env, tmp_path):
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/workbook.xml", "<workbook/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"0" * (50 * 1024 * 1024))
    with pytest.raises(ValidationError):
        run(env, buf.getvalue(), name="bomb.xlsx")


def test_size_limit(env, settings):
    settings.IMPORT_MAX_MB = 1
    with pytest.raises(ValidationError):
        run(env, b"a" * (2 * 1024 * 1024), name="big.csv")


def test_error_file_round_trip(env):
    data = xlsx_bytes([HEAD, ["好1"], ["坏", "不存在的级别"], ["好2"]])
    job = run(env, data)
    assert (job.created, job.failed) == (2, 1)
    content, ext = services.error_file(job)
    assert ext == "xlsx"
    job2 = run(env, content)
    assert job2.failed == 1 and job2.rows.get().row_number == 2
    Lookup.objects.create(kind="customer_level", name="不存在的级别")
    job3 = run(env, content)
    assert job3.created == 1


def test_ten_thousand_rows_three_broken(env):
    rows = [["客户名称", "电话"]]
    for i in range(10_000):
        rows.append([hashlib.md5(str(i).encode()).hexdigest()[:12] + "有限公司", "abc" if i in (10, 5000, 9999) else ""])
    job = run(env, csv_bytes(rows), name="big.csv")
    assert (job.created, job.failed) == (9997, 3), (job.skipped, job.message)
    assert sorted(job.rows.filter(result="failed").values_list("row_number", flat=True)) == [12, 5002, 10001]


def test_xls_fixture(env):
    from pathlib import Path

    data = (Path(__file__).parent / "fixtures" / "customers.xls").read_bytes()
    job = run(env, data, name="customers.xls")
    assert job.file_format == "xls" and job.options["sheets"] == ["客户", "其他"]
    assert job.created == 1, list(job.rows.values("error"))
    assert Contact.objects.get(name="孙八").mobile == "13800138000"


def test_hidden_rows_are_imported(env):
    # Decision: hidden rows are data (hidden by a filter or grouping), so they are imported like the others.
    data = xlsx_bytes([["客户名称"], ["可见公司"], ["隐藏公司"]], hidden_rows=[3])
    job = run(env, data)
    assert job.created == 2


def test_excel_serial_and_text_dates_in_leads_and_followups(env):
    make_customer(env.admin, name="跟进客户")
    data = csv_bytes([["客户名称", "跟进方式", "跟进时间", "跟进内容", "下次跟进日期"],
                      ["跟进客户", "电话", "2024/3/5 10:30", "聊了需求", "2024年3月9日"],
                      ["跟进客户", "电话", "2023-02-30", "不存在的日期", ""]])
    job = services.create_job(env.admin, "followups", upload(data, "f.csv"), dry_run=False)
    assert (job.created, job.failed) == (1, 1), list(job.rows.values("error"))
    from yingdan.followups.models import FollowUp

    f = FollowUp.objects.get()
    assert f.next_at == dt.date(2024, 3, 9)


def test_leads_and_contacts_importers(env):
    c = make_customer(env.admin, name="联系人客户")
    job = services.create_job(env.admin, "contacts", upload(csv_bytes([["姓名", "客户名称", "手机"], ["周九", "联系人客户", "13800138111"]]), "c.csv"), dry_run=False)
    assert job.created == 1 and Contact.objects.get(name="周九").customer == c
    job = services.create_job(env.admin, "leads", upload(csv_bytes([["姓名", "公司名称", "手机"], ["吴十", "线索公司", "13800138222"]]), "l.csv"), dry_run=False)
    assert job.created == 1, list(job.rows.values("error"))


def test_template_has_chinese_headers(env):
    import io

    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(services.template_file("customers")))
    headers = [c.value for c in next(wb.active.iter_rows())]
    assert any(h.startswith("客户名称") for h in headers) or any("name" in h.lower() for h in headers)


@pytest.mark.parametrize("tx_rows", [2, 4])
def test_resume_after_crash_continues_after_last_chunk(env, monkeypatch, tx_rows):
    from yingdan.imports import importers as imp_mod

    monkeypatch.setattr(services, "CHUNK", 2)
    monkeypatch.setattr(services, "TX_ROWS", tx_rows)  # 4: two chunks commit together, both lost to the crash
    data = csv_bytes([["客户名称"]] + [[hashlib.md5(c.encode()).hexdigest()[:10] + "有限公司"] for c in "ABCDEF"])
    calls = {"n": 0}
    original = imp_mod.CustomerImporter.process

    def crashing(self, ctx, row):
        calls["n"] += 1
        if calls["n"] == 3:
            raise SystemExit("worker killed")  # not an Exception: escapes the per-row guard like a real crash
        return original(self, ctx, row)

    monkeypatch.setattr(imp_mod.CustomerImporter, "process", crashing)
    with pytest.raises(SystemExit):
        run(env, data, name="r.csv")
    job = ImportJob.objects.get()
    kept = 2 if tx_rows == 2 else 0  # the rows of the transactions committed before the crash
    assert job.status == JobStatus.RUNNING and job.created == kept and job.next_row == (2 + kept if kept else 0), (job.created, job.next_row, job.processed_rows, job.failed, list(Customer.objects.values_list("name", flat=True)))
    assert Customer.objects.count() == kept and job.processed_rows == kept
    monkeypatch.setattr(imp_mod.CustomerImporter, "process", original)
    assert services.resume_stalled() == 1
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.created == 6 and Customer.objects.count() == 6


def test_update_outside_scope_is_reported(env):
    from yingdan.core.tests.factories import make_role

    role = make_role("导入代表", {"customers": {"actions": ["view", "create", "edit", "import"], "scope": "own"},
                                  "contacts": {"actions": ["view", "create", "edit", "import"], "scope": "own"}})
    importer = make_user("scoped_imp", roles=[role], department=env.d)
    other = make_customer(env.rep, name="别人的公司", address="原地址")
    data = csv_bytes([["客户名称", "地址"], ["别人的公司", "改掉"]])
    job = services.create_job(importer, "customers", upload(data, "s.csv"), options={"mode": "update"}, dry_run=False)
    assert job.failed == 1 and job.updated == 0, (job.skipped, list(job.rows.values("error")))
    other.refresh_from_db()
    assert other.address == "原地址"
