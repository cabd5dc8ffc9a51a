import pytest
from django.urls import reverse

from yingdan.core.tests.factories import make_customer

pytestmark = pytest.mark.django_db
URL = "/search/"
HTMX = {"HTTP_HX_REQUEST": "true"}


def test_url_name():
    assert reverse("search:global") == URL


def test_anonymous_is_sent_to_login(client):
    response = client.get(URL, {"q": "腾讯"})
    assert response.status_code == 302 and "login" in response["Location"]


def test_dropdown_lists_hits_with_type_owner_and_masked_phone(client, org, data):
    client.force_login(org["rep_east"])
    response = client.get(URL, {"q": "1380013"}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "王伟" in html and "138****8000" in html and "13800138000" not in html
    assert "林晓峰" in html  # the owner
    response = client.get(URL, {"q": "txkj"}, **HTMX)
    html = response.content.decode()
    assert "腾讯科技" in html and 'data-type="customers"' in html
    assert "<html" not in html  # a fragment, not a page


def test_dropdown_never_shows_out_of_scope_names(client, org, data):
    client.force_login(org["rep_east"])
    html = client.get(URL, {"q": "腾讯"}, **HTMX).content.decode()
    assert "腾讯科技" in html
    assert "秘密" not in html
    html = client.get(URL, {"q": "秘密"}, **HTMX).content.decode()
    assert "秘密" in html  # only echoed as the query …
    assert 'data-type="customers"' not in html  # … with no result group
    assert 'id="search-no-results"' in html


def test_results_page_extends_the_layout_and_lists_groups(client, org, data):
    client.force_login(org["rep_east"])
    response = client.get(URL, {"q": "王伟"})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="search-group-contacts"' in html and "王伟明" in html
    assert "王小伟" not in html and "王伟杰" not in html
    assert 'class="yd-topbar"' in html


def test_script_in_a_name_is_escaped(client, org):
    make_customer(org["rep_east"], name="<script>alert(1)</script>星辰科技")
    client.force_login(org["rep_east"])
    for kwargs in (HTMX, {}):
        html = client.get(URL, {"q": "星辰"}, **kwargs).content.decode()
        assert "&lt;script&gt;alert(1)&lt;/script&gt;星辰科技" in html
        assert "<script>alert(1)" not in html
    html = client.get(URL, {"q": "<script>"}, **HTMX).content.decode()
    assert "<script>" not in html


def test_query_count_is_bounded(client, org, data, django_assert_max_num_queries):
    for i in range(10):
        make_customer(org["rep_east"], name=f"腾讯分公司{i}")
    client.force_login(org["rep_east"])
    client.get(URL, {"q": "x"}, **HTMX)  # warm the session
    # session + user + roles, then per type at most: 3 gram counts + 1 fetch, 2 x (count + fetch) for pinyin,
    # 1 phone/e-mail count + fetch; owners come with select_related (no query per hit).
    with django_assert_max_num_queries(30):
        response = client.get(URL, {"q": "tengxun"}, **HTMX)
    assert response.content.decode().count("yd-search-hit ") == 5
    with django_assert_max_num_queries(30):
        client.get(URL, {"q": "腾讯分公司"})


def test_api_search_is_scoped(client, org, data):
    client.force_login(org["rep_east"])
    response = client.get("/api/v1/search/", {"q": "腾讯"})
    assert response.status_code == 200
    groups = {g["type"]: g for g in response.json()}
    assert [r["name"] for r in groups["customers"]["results"]] == ["腾讯科技"]
    assert groups["customers"]["results"][0]["owner"] == "林晓峰"


def test_api_requires_authentication(client, data):
    assert client.get("/api/v1/search/", {"q": "腾讯"}).status_code in (401, 403)
