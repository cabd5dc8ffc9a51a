import pytest

from yingdan.core.tests.factories import make_customer, make_user
from yingdan.search import services
from yingdan.search.services import search

pytestmark = pytest.mark.django_db


def found(user, q, key):
    groups = {g.key: g for g in search(user, q)}
    return {hit.obj.pk for hit in groups[key].hits} if key in groups else set()


def names(user, q, key):
    groups = {g.key: g for g in search(user, q)}
    return sorted(hit.title for hit in groups[key].hits) if key in groups else []


def test_pinyin_initials_prefix(org, data):
    rep = org["rep_east"]
    assert names(rep, "txkj", "customers") == ["腾讯科技"]
    assert names(rep, "TX", "customers") == ["腾讯科技"]
    assert names(rep, "kj", "customers") == []  # a prefix, not a substring of the initials


def test_full_pinyin_prefix(org, data):
    rep = org["rep_east"]
    assert names(rep, "tengxun", "customers") == ["腾讯科技"]
    assert names(rep, "TengXunKeJi", "customers") == ["腾讯科技"]
    assert names(rep, "huawei", "customers") == ["华为科技有限公司"]
    assert names(rep, "wangwei", "contacts") == ["王伟", "王伟明"]


def test_one_character_fragment_anywhere_in_the_name(org, data):
    rep = org["rep_east"]
    assert names(rep, "讯", "customers") == ["腾讯科技"]  # middle character
    assert names(rep, "络", "customers") == ["阿里巴巴网络"]  # last character
    assert names(rep, "伟", "contacts") == ["王伟", "王伟明", "王小伟"]


def test_two_character_fragment(org, data):
    rep = org["rep_east"]
    assert names(rep, "科技", "customers") == ["华为科技有限公司", "腾讯科技"]
    assert names(rep, "王伟", "contacts") == ["王伟", "王伟明"]  # not 王小伟


def test_four_character_fragment_is_verified_as_a_substring(org, data):
    rep = org["rep_east"]
    assert names(rep, "科技有限", "customers") == ["华为科技有限公司"]
    assert names(rep, "讯科技", "customers") == ["腾讯科技"]
    # Every bigram of 为科有限 occurs in 华为科技有限公司 except 科有; the verify step refuses it.
    assert names(rep, "技有限公", "customers") == ["华为科技有限公司"]
    assert names(rep, "为科有限", "customers") == []


def test_exact_name_ranks_first(org, data):
    rep = org["rep_east"]
    hits = {g.key: g for g in search(rep, "王伟")}["contacts"].hits
    assert hits[0].title == "王伟"


def test_phone_in_any_common_format(org, data):
    rep = org["rep_east"]
    assert found(rep, "021 1234 5678", "customers") == {data["tencent"].pk}
    assert found(rep, "02112345678", "customers") == {data["tencent"].pk}
    assert found(rep, "021-1234", "customers") == {data["tencent"].pk}  # prefix
    assert found(rep, "+86 138 0013 8000", "contacts") == {data["wang"].pk}
    assert found(rep, "138-0013-8000", "contacts") == {data["wang"].pk}
    assert found(rep, "1380013", "contacts") == {data["wang"].pk}
    hit = {g.key: g for g in search(rep, "13800138000")}["contacts"].hits[0]
    assert hit.matched == "phone" and hit.phone == "138****8000"


def test_email(org, data):
    rep = org["rep_east"]
    assert found(rep, "Wang.Wei@Tencent.example.com", "contacts") == {data["wang"].pk}
    assert found(rep, "wang.wei@", "contacts") == {data["wang"].pk}  # the other one is out of scope


def test_out_of_scope_objects_never_appear(org, data):
    rep = org["rep_east"]
    for q in ["秘密", "深圳腾讯", "szt", "shenzhen", "0755-88886666", "13900139000", "王伟杰", "wang.wei@secret"]:
        for group in search(rep, q):
            assert all(hit.obj.pk not in (data["secret"].pk, data["secret_contact"].pk) for hit in group.hits), q
    assert found(org["rep_south"], "秘密", "customers") == {data["secret"].pk}
    assert found(org["director"], "腾讯", "customers") == {data["tencent"].pk, data["secret"].pk}


def test_user_without_the_module_gets_no_group(org, data):
    nobody = make_user("nobody", [], org["east"])
    assert search(nobody, "腾讯") == []


def test_empty_and_punctuation_only_queries(org, data):
    assert search(org["director"], "") == []
    assert search(org["director"], " ,。!") == []


@pytest.mark.parametrize("windows", [(1,), (2, 16000), ()], ids=["window-too-small", "windows", "scan"])
def test_dense_matches_take_the_window_or_scan_path(org, data, monkeypatch, windows):
    """With a tiny candidate bound every gram counts as common: results must be the same."""
    rep = org["rep_east"]
    monkeypatch.setattr(services, "CANDIDATE_LIMIT", 0)
    monkeypatch.setattr(services, "WINDOWS", windows)
    assert names(rep, "科技", "customers") == ["华为科技有限公司", "腾讯科技"]
    assert names(rep, "为科有限", "customers") == []
    assert names(rep, "txkj", "customers") == ["腾讯科技"]
    assert "深圳腾讯秘密科技" not in names(rep, "科技", "customers")
    assert names(rep, "伟", "contacts") == ["王伟", "王伟明", "王小伟"]
    assert names(org["director"], "腾讯", "customers") == ["深圳腾讯秘密科技", "腾讯科技"]


def test_limit_and_more_flag(org):
    rep = org["rep_east"]
    for i in range(7):
        make_customer(rep, name=f"星河科技{i}号")
    group = {g.key: g for g in search(rep, "星河", limit=5)}["customers"]
    assert len(group.hits) == 5 and group.more
    assert [h.title for h in group.hits] == [f"星河科技{i}号" for i in (6, 5, 4, 3, 2)]  # newest first


def test_window_results_are_the_newest_visible_matches(org, data, monkeypatch):
    monkeypatch.setattr(services, "CANDIDATE_LIMIT", 0)
    monkeypatch.setattr(services, "WINDOWS", (2,))
    director_hits = {g.key: g for g in search(org["director"], "科技", limit=1)}["customers"]
    assert [h.title for h in director_hits.hits] == ["深圳腾讯秘密科技"] and director_hits.more
    # The rep cannot see the newest candidate: the window holds one visible match, so the scan decides.
    rep_hits = {g.key: g for g in search(org["rep_east"], "科技", limit=1)}["customers"]
    assert [h.title for h in rep_hits.hits] == ["华为科技有限公司"] and rep_hits.more


def test_a_window_holding_every_candidate_is_the_answer(org, data, monkeypatch):
    """Many candidates (over the bound) but fewer than a window: the window's matches are final, no scan of
    the visible objects follows; the results equal the scan's."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    rep = org["rep_east"]
    monkeypatch.setattr(services, "CANDIDATE_LIMIT", 0)
    monkeypatch.setattr(services, "WINDOWS", ())
    scanned = names(rep, "科技", "customers")
    monkeypatch.setattr(services, "WINDOWS", (16000,))
    with CaptureQueriesContext(connection) as queries:
        assert names(rep, "科技", "customers") == scanned == ["华为科技有限公司", "腾讯科技"]
    reads = [q["sql"] for q in queries.captured_queries if 'FROM "customers_customer"' in q["sql"]]
    # an exact criterion (a 2-character fragment): the scope check of the window's ids, then the found rows
    assert len(reads) == 2 and all('"customers_customer"."id" IN (' in sql for sql in reads), reads
    assert reads[0].startswith('SELECT "customers_customer"."id" AS "pk" FROM'), reads


@pytest.mark.parametrize("bound", [None, (0, (2, 16000)), (0, (1,))], ids=["few-candidates", "windows", "window-too-small"])
def test_exact_candidates_skip_the_verify_and_give_the_same_results(org, data, monkeypatch, bound):
    """1–2 character fragments and prefix criteria are exact: their candidates are scope-checked by id alone and
    only the found rows are fetched. Forcing the verify path gives the same results for every user."""
    from yingdan.search import providers

    if bound is not None:
        monkeypatch.setattr(services, "CANDIDATE_LIMIT", bound[0])
        monkeypatch.setattr(services, "WINDOWS", bound[1])

    for i in range(6):
        make_customer(org["rep_east" if i % 2 else "rep_south"], name=f"伟业科技{i}号", phone=f"021-5555000{i}")
    queries = ["伟", "科技", "腾讯", "王伟", "txkj", "weiye", "021-5555", "13800", "秘", "wang.wei@", "伟业科技"]
    users = [org["director"], org["rep_east"], org["rep_south"]]
    fast = {(u.pk, q): [(g.key, [(h.obj.pk, h.rank) for h in g.hits], g.more) for g in search(u, q, limit=3)]
            for u in users for q in queries}
    original = providers.Criterion.__init__

    def never_exact(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self.exact = False

    monkeypatch.setattr(providers.Criterion, "__init__", never_exact)
    slow = {(u.pk, q): [(g.key, [(h.obj.pk, h.rank) for h in g.hits], g.more) for g in search(u, q, limit=3)]
            for u in users for q in queries}
    assert fast == slow
    assert any(hits for groups in fast.values() for _key, hits, _more in groups)
    assert fast[(org["rep_east"].pk, "伟业科技")] != fast[(org["director"].pk, "伟业科技")]  # the scope applies


def test_exactness_of_criteria():
    from yingdan.core.text import normalize
    from yingdan.search.providers import CustomerSearchProvider, Query

    def exact(q):
        return {c.field: c.exact for c in CustomerSearchProvider().criteria(Query.parse(q, normalize(q)))}

    assert exact("伟")["name"] and exact("王伟")["name"]
    assert not exact("王伟杰")["name"]  # a 3+ character fragment is a gram range verified by substring
    assert exact("txkj") == {"name": False, "initials": True, "pinyin": True}
