"""The zh-Hans catalogue is complete and compiled, and pages really come out in Chinese or English.

Fixing a failure here: from yingdan/ run
    ../.venv/bin/yingdan makemessages -l zh_Hans -l en --ignore 'static/vendor/*'
translate the new (empty or `#, fuzzy`) entries of locale/zh_Hans/LC_MESSAGES/django.po, then
    ../.venv/bin/yingdan compilemessages
and commit the .po and .mo files.
"""

from __future__ import annotations

import ast
import gettext
import html
import re
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
from django.urls import reverse

LOCALE_DIR = Path(settings.LOCALE_PATHS[0])
ZH_PO = LOCALE_DIR / "zh_Hans" / "LC_MESSAGES" / "django.po"
ZH_MO = ZH_PO.with_suffix(".mo")
EN_PO = LOCALE_DIR / "en" / "LC_MESSAGES" / "django.po"
EN_MO = EN_PO.with_suffix(".mo")
HOW_TO_FIX = "run makemessages, translate, compilemessages (see the docstring of tests/i18n/test_translations.py)"


# -- a tiny .po parser ------------------------------------------------------------------------------
def parse_po(path: Path) -> list[dict]:
    """Entries as dicts: msgctxt, msgid, msgid_plural, msgstr ({index: text}), flags, obsolete, line."""
    entries: list[dict] = []
    entry: dict | None = None
    key = None

    def new_entry(lineno):
        return {"msgctxt": None, "msgid": None, "msgid_plural": None, "msgstr": {}, "flags": set(),
                "obsolete": False, "line": lineno}

    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        obsolete = line.startswith("#~")
        if obsolete:
            line = line[2:].strip()
        if not line:
            continue
        if line.startswith("#"):
            if entry is not None and entry["msgid"] is not None and key != "flags":
                entries.append(entry)
                entry = None
            if entry is None:
                entry = new_entry(lineno)
            if line.startswith("#,"):
                entry["flags"].update(f.strip() for f in line[2:].split(","))
            key = "comment"
            continue
        m = re.match(r'(msgctxt|msgid_plural|msgid|msgstr)(?:\[(\d+)\])?\s+(".*")$', line)
        if m:
            kw, index, text = m.groups()
            if kw in ("msgctxt", "msgid") and entry is not None and entry["msgid"] is not None:
                entries.append(entry)
                entry = None
            if entry is None:
                entry = new_entry(lineno)
            entry["obsolete"] = entry["obsolete"] or obsolete
            value = ast.literal_eval(text)
            if kw == "msgstr":
                key = ("msgstr", int(index or 0))
                entry["msgstr"][key[1]] = value
            else:
                key = kw
                entry[kw] = value
        elif line.startswith('"') and entry is not None:  # continuation line
            value = ast.literal_eval(line)
            if isinstance(key, tuple):
                entry["msgstr"][key[1]] += value
            else:
                entry[key] += value
        else:
            raise AssertionError(f"{path}:{lineno}: cannot parse {raw!r}")
    if entry is not None and entry["msgid"] is not None:
        entries.append(entry)
    return entries


def messages(path: Path) -> list[dict]:
    """Real (non-header, non-obsolete) entries."""
    return [e for e in parse_po(path) if e["msgid"] != "" and not e["obsolete"]]


def header(path: Path) -> dict:
    head = next(e for e in parse_po(path) if e["msgid"] == "" and not e["msgctxt"])
    fields = dict(line.split(": ", 1) for line in head["msgstr"][0].splitlines() if ": " in line)
    return {"fuzzy": "fuzzy" in head["flags"], **fields}


def label(e: dict) -> str:
    return f"line {e['line']}: {e['msgid']!r}"


# -- the catalogue ----------------------------------------------------------------------------------
def test_parser_reads_plural_context_and_continuation_lines(tmp_path):
    po = tmp_path / "x.po"
    po.write_text(
        'msgid ""\nmsgstr ""\n"Language: zh_Hans\\n"\n"Plural-Forms: nplurals=1; plural=0;\\n"\n\n'
        '#, fuzzy, python-format\nmsgctxt "menu"\nmsgid "a %(n)s"\nmsgid_plural ""\n"many %(n)s"\n'
        'msgstr[0] "一"\n"二"\n\n#~ msgid "old"\n#~ msgstr "旧"\n',
        encoding="utf-8",
    )
    header_entry, entry, old = parse_po(po)
    assert header(po) == {"fuzzy": False, "Language": "zh_Hans", "Plural-Forms": "nplurals=1; plural=0;"}
    assert entry["msgctxt"] == "menu" and entry["msgid_plural"] == "many %(n)s"
    assert entry["msgstr"] == {0: "一二"} and entry["flags"] == {"fuzzy", "python-format"}
    assert old["obsolete"] and old["msgstr"] == {0: "旧"}


def test_catalogue_files_exist():
    for path in (ZH_PO, ZH_MO, EN_PO, EN_MO):
        assert path.is_file(), f"{path} is missing"
    assert len(messages(ZH_PO)) > 400
    assert {e["msgid"] for e in messages(EN_PO)} == {e["msgid"] for e in messages(ZH_PO)}, (
        "the en and zh_Hans catalogues hold different messages: " + HOW_TO_FIX
    )


def test_zh_header():
    head = header(ZH_PO)
    assert not head["fuzzy"], "the header entry is fuzzy: msgfmt would drop it (and the plural rule)"
    assert head["Language"] == "zh_Hans"
    assert head["Plural-Forms"] == "nplurals=1; plural=0;"
    assert "charset=UTF-8" in head["Content-Type"]


def test_zh_has_no_untranslated_entry():
    untranslated = [label(e) for e in messages(ZH_PO) if not all(e["msgstr"].values()) or not e["msgstr"]]
    assert not untranslated, f"{len(untranslated)} untranslated: {untranslated[:20]} — {HOW_TO_FIX}"


def test_zh_has_no_fuzzy_entry():
    fuzzy = [label(e) for e in messages(ZH_PO) if "fuzzy" in e["flags"]]
    assert not fuzzy, f"{len(fuzzy)} fuzzy: {fuzzy[:20]} — check each translation and drop the flag"


def test_zh_plural_entries_have_exactly_one_form():
    wrong = [label(e) for e in messages(ZH_PO) if e["msgid_plural"] is not None and set(e["msgstr"]) != {0}]
    assert not wrong, wrong


PLACEHOLDER = re.compile(r"%\([a-z_]+\)[sdif]|%[sdif]|\{\{?\s*[a-z_]*\s*\}?\}")


def test_zh_translations_keep_every_placeholder():
    wrong = []
    for e in messages(ZH_PO):
        expected = sorted(PLACEHOLDER.findall(e["msgid_plural"] or e["msgid"]))
        for text in e["msgstr"].values():
            if sorted(PLACEHOLDER.findall(text)) != expected:
                wrong.append(f"{label(e)} -> {text!r}")
    assert not wrong, wrong


def test_zh_translations_are_chinese():
    """A msgstr copied from the msgid (a common slip) is not a translation; a few are legitimately equal."""
    same_allowed = {"API", "OK", "URL"}
    copied = [label(e) for e in messages(ZH_PO) if e["msgstr"].get(0) == e["msgid"] and e["msgid"] not in same_allowed]
    assert not copied, copied
    no_cjk = [label(e) for e in messages(ZH_PO)
              if e["msgid"] not in same_allowed and not re.search(r"[\u4e00-\u9fff\u3000-\u303f\uff00-\uffef]", e["msgstr"].get(0, ""))]
    assert not no_cjk, no_cjk


def _mo_catalog(path: Path) -> gettext.GNUTranslations:
    with path.open("rb") as fh:
        return gettext.GNUTranslations(fh)


def _mo_key(e: dict):
    msgid = e["msgid"] if e["msgctxt"] is None else f"{e['msgctxt']}\x04{e['msgid']}"
    return msgid


def test_zh_mo_matches_the_po():
    """The compiled catalogue holds exactly the .po's translations (no stale .mo)."""
    mo = _mo_catalog(ZH_MO)
    assert mo.info().get("plural-forms") == "nplurals=1; plural=0;"
    catalog = {k: v for k, v in mo._catalog.items() if k != ""}
    expected = {}
    for e in messages(ZH_PO):
        if e["msgid_plural"] is not None:
            expected[(_mo_key(e), 0)] = e["msgstr"][0]
        else:
            expected[_mo_key(e)] = e["msgstr"][0]
    stale = sorted(str(k) for k in expected.keys() ^ catalog.keys())
    differ = sorted(str(k) for k in expected.keys() & catalog.keys() if expected[k] != catalog[k])
    assert not stale and not differ, f"django.mo is out of date ({stale[:10]} {differ[:10]}) — {HOW_TO_FIX}"


def test_en_mo_compiles_with_english_plural_rule():
    mo = _mo_catalog(EN_MO)
    assert mo.info().get("plural-forms") == "nplurals=2; plural=(n != 1);"
    assert not header(EN_PO)["fuzzy"]


@pytest.mark.skipif(not shutil.which("xgettext") or not shutil.which("msgmerge"), reason="gettext tools missing")
def test_catalogue_covers_every_string_in_the_source(tmp_path, monkeypatch):
    """makemessages (run on a scratch copy of the package) finds no message the committed catalogue lacks."""
    package_dir = LOCALE_DIR.parent
    scratch = tmp_path / package_dir.name
    # makemessages writes into ./locale when it exists, so it runs on a copy: the real catalogue stays as it is
    shutil.copytree(package_dir, scratch, ignore=shutil.ignore_patterns("vendor", "__pycache__", "*.mo", "*.pyc"))
    monkeypatch.chdir(scratch)
    with override_settings(LOCALE_PATHS=[scratch / "locale"]):
        call_command("makemessages", locale=["zh_Hans"], ignore_patterns=["static/vendor/*"], verbosity=0)
    fresh = {(e["msgctxt"], e["msgid"]) for e in messages(scratch / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po")}
    committed = {(e["msgctxt"], e["msgid"]) for e in messages(ZH_PO)}
    new = sorted(m for _, m in fresh - committed)
    assert not new, f"{len(new)} source strings are not in the catalogue: {new[:20]} — {HOW_TO_FIX}"


# -- pages ------------------------------------------------------------------------------------------
EN = {"django_language": "en"}


def _visible_text(content: bytes) -> str:
    text = content.decode()
    text = re.sub(r"<(script|style|template)\b.*?</\1>", " ", text, flags=re.S | re.I)
    text = re.sub(r"<[^>]+>", " ", text)
    return re.sub(r"\s+", " ", html.unescape(text))


def test_login_page_in_chinese_for_a_chinese_browser(client):
    response = client.get("/login/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    assert response.status_code == 200
    page = response.content.decode()
    assert "登录" in page and "用户名或手机号" in page
    assert 'lang="zh-hans"' in page.lower()
    assert "Log in" not in _visible_text(response.content)


def test_login_page_in_english_with_the_language_cookie(client):
    client.cookies.load(EN)
    response = client.get("/login/", HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert response.status_code == 200
    assert "Log in" in response.content.decode()
    assert "登录" not in _visible_text(response.content)


def test_login_page_defaults_to_chinese_without_any_preference(client):
    response = client.get("/login/", HTTP_ACCEPT_LANGUAGE="")
    assert "登录" in response.content.decode()


def test_failed_login_message_is_translated(client, db):
    response = client.post("/login/", {"username": "nobody", "password": "wrong-password-1"}, HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert "用户名/手机号或密码错误。" in response.content.decode()
    client.cookies.load(EN)
    response = client.post("/login/", {"username": "nobody", "password": "wrong-password-1"})
    assert "Incorrect username/mobile or password." in response.content.decode()


@pytest.fixture
def admin_user(db):
    from yingdan.core.tests import factories

    dept = factories.make_department("Sales HQ")
    return factories.make_user("i18n_admin", ["admin"], dept, name="Amy Admin")


def _pages(admin_user):
    from yingdan.core.tests import factories
    from yingdan.org.models import Role

    customer = factories.make_customer(admin_user, name="Acme Trading Co")
    factories.make_contact(customer, name="Bob Buyer")
    role = Role.objects.filter(is_builtin=True, is_admin=False).order_by("pk").first()
    return [
        ("/", ["工作台"], ["Workbench"]),
        (reverse("customers:customer_list"), ["客户", "筛选", "列"], ["Customers", "Filters", "Columns"]),
        (reverse("customers:customer_add"), ["新建客户", "统一社会信用代码", "基本信息", "保存"], ["New customer", "Basic information", "Save"]),
        (customer.get_absolute_url(), ["概览", "变更记录", "联系人"], ["Overview", "Contacts"]),
        (reverse("org:user_list"), ["用户", "用户名"], ["Users", "Username"]),
        (reverse("org:user_detail", args=[admin_user.pk]), ["生效权限"], ["Effective permissions"]),
        (reverse("org:department_list"), ["全部展开"], ["Expand all"]),
        (reverse("org:department_table"), ["部门"], ["Departments"]),
        (reverse("org:role_list"), ["角色"], ["Roles"]),
        (reverse("org:role_edit", args=[role.pk]), ["数据权限", "字段权限", "本部门及下级", "全公司"],
         ["Data scope", "Field permissions", "Department and sub-departments"]),
        (reverse("org:role_add"), ["数据权限"], ["Data scope"]),
        (reverse("core:customfield_list"), ["自定义字段"], ["Custom fields"]),
        (reverse("core:customfield_add"), ["自定义字段"], ["Custom fields"]),
        (reverse("core:lookup_list"), ["选项列表"], ["Lists"]),
        (reverse("core:objectchange_list"), ["变更记录", "系统", "新建", "负责人"], ["Change log", "System", "Created", "owner"]),
        (reverse("search:global") + "?q=acme", ["搜索"], ["Search"]),
    ]


def _english_phrases() -> list[str]:
    """Catalogue msgids of two words or more, without placeholders: none may show on a Chinese page."""
    return [e["msgid"] for e in messages(ZH_PO)
            if " " in e["msgid"] and "%" not in e["msgid"] and "{" not in e["msgid"] and len(e["msgid"]) >= 8]


def _chinese_phrases() -> list[str]:
    """Translations of four characters or more: none may show on an English page."""
    return [e["msgstr"][0] for e in messages(ZH_PO) if len(e["msgstr"].get(0, "")) >= 4 and "%" not in e["msgstr"][0]]


def test_pages_in_chinese(client, admin_user):
    client.force_login(admin_user)
    english = _english_phrases()
    for url, expected, _ in _pages(admin_user):
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-CN")
        assert response.status_code == 200, url
        text = _visible_text(response.content)
        for word in expected:
            assert word in text, f"{url}: {word!r} missing"
        leftovers = [p for p in english if p in text]
        assert not leftovers, f"{url} shows English in the Chinese UI: {leftovers}"


def _without_data(text: str) -> str:
    """The page text less Chinese that is data, not UI: built-in roles, departments, list entries, and
    English source strings that quote the Chinese term, e.g. "Own (本人)"."""
    from yingdan.core.models import Lookup
    from yingdan.org.models import Department, Role

    data = [*Role.objects.values_list("name", flat=True), *Role.objects.values_list("description", flat=True),
            *Department.objects.values_list("name", flat=True), *Lookup.objects.values_list("name", flat=True),
            *(e["msgid"] for e in messages(ZH_PO))]
    for value in sorted(filter(None, data), key=len, reverse=True):
        text = text.replace(value, " ")
    return text


def test_pages_in_english(client, admin_user):
    client.force_login(admin_user)
    client.cookies.load(EN)
    chinese = _chinese_phrases()
    for url, _, expected in _pages(admin_user):
        response = client.get(url)
        assert response.status_code == 200, url
        text = _visible_text(response.content)
        for word in expected:
            assert word in text, f"{url}: {word!r} missing"
        text = _without_data(text)
        leftovers = [p for p in chinese if p in text]
        assert not leftovers, f"{url} shows Chinese in the English UI: {leftovers}"


@pytest.mark.parametrize(
    ("lang", "credit_msg", "phone_msg", "required_msg"),
    [
        ("zh-CN", "统一社会信用代码校验位不正确", "请输入有效的电话号码", "此字段为必填项。"),
        ("en", "check character is wrong", "Enter a valid phone number", "This field is required."),
    ],
)
def test_customer_form_field_errors_are_translated(client, admin_user, lang, credit_msg, phone_msg, required_msg):
    from yingdan.core.tests import factories

    client.force_login(admin_user)
    if lang == "en":
        client.cookies.load(EN)
    good = factories.valid_credit_code()
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")  # wrong check character
    response = client.post(reverse("customers:customer_add"), {"name": "", "credit_code": bad, "phone": "12345"},
                           HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert response.status_code == 400
    text = _visible_text(response.content)
    assert credit_msg in text
    assert phone_msg in text
    assert required_msg in text
