"""The base layout, the workbench, the account pages and the error pages."""

import re
from pathlib import Path

import pytest
from django.contrib.messages import constants, get_messages
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation

from yingdan.customers.models import Contact, Customer
from yingdan.org.models import Department, Role

pytestmark = pytest.mark.django_db

YINGDAN = Path(__file__).resolve().parents[2] / "yingdan"


def test_home_renders_for_a_user_with_no_roles(client, user):
    client.force_login(user)
    response = client.get(reverse("home"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="home-no-roles"' in html
    assert "张伟" in html
    # only the workbench is in the navigation; no counts are shown without permissions
    assert [s["items"][0]["url"] for s in response.context["nav_sections"]] == ["/"]
    assert response.context["cards"] == []


def test_base_layout_contract(client, user):
    client.force_login(user)
    html = client.get(reverse("home")).content.decode()
    csrf = re.search(r"""<body[^>]*hx-headers='\{"X-CSRFToken": "([^"]+)"\}'""", html)
    assert csrf and len(csrf.group(1)) >= 32
    assert 'id="global-search-results"' in html
    assert f'hx-get="{reverse("search:global")}"' in html
    assert 'hx-trigger="input changed delay:200ms, search"' in html
    assert 'id="notification-bell"' in html
    assert f'action="{reverse("set_language")}"' in html
    assert 'value="zh-hans"' in html and 'value="en"' in html
    assert re.search(rf'<form action="{reverse("logout")}" method="post"', html)
    assert f'href="{reverse("account")}"' in html and f'href="{reverse("password_change")}"' in html
    assert 'data-bs-target="#yd-sidebar"' in html  # the hamburger for phones
    assert "offcanvas-lg" in html
    assert '<i class="bi bi-house"></i>' in html  # nav icon mapping


def test_home_counts_and_role_names(client, django_user_model):
    dept = Department.objects.create(name="华东大区")
    rep_role = Role.objects.get(code="rep")
    rep = django_user_model.objects.create_user("rep1", password="x", name="李娜", department=dept)
    rep.roles.add(rep_role)
    other = django_user_model.objects.create_user("rep2", password="x", name="王强", department=dept)
    mine = Customer.objects.create(name="腾讯科技", owner=rep, department=dept)
    Customer.objects.create(name="阿里巴巴", owner=rep, department=dept)
    Customer.objects.create(name="百度在线", owner=other, department=dept)
    Contact.objects.create(name="马化腾", customer=mine)
    client.force_login(rep)
    response = client.get(reverse("home"))
    with translation.override("en"):
        cards = {str(c["label"]): c["value"] for c in response.context["cards"]}
    assert cards["My customers"] == 2
    assert cards["My contacts"] == 1
    html = response.content.decode()
    assert "销售代表" in html and "华东大区" in html


def test_messages_are_dismissable_alerts(user):
    request = RequestFactory().get("/")
    request.user = user
    request.session = {}
    from django.contrib.messages.storage.fallback import FallbackStorage

    request._messages = FallbackStorage(request)
    from django.contrib import messages

    messages.add_message(request, constants.ERROR, "<b>Boom</b>")
    html = render_to_string("base.html", {"messages": get_messages(request)}, request=request)
    assert 'class="alert alert-danger alert-dismissible fade show"' in html
    assert "&lt;b&gt;Boom&lt;/b&gt;" in html


def test_account_page_updates_only_the_own_profile(client, user, django_user_model):
    other = django_user_model.objects.create_user("lisi", password="x", name="李四")
    client.force_login(user)
    response = client.get(reverse("account"))
    assert response.status_code == 200
    assert "李四" not in response.content.decode()
    response = client.post(
        reverse("account"), {"name": "张伟伟", "mobile": "139 1234 5678", "language": "en", "pk": other.pk}
    )
    assert response.status_code == 302
    user.refresh_from_db()
    other.refresh_from_db()
    assert (user.name, user.mobile, user.language) == ("张伟伟", "13912345678", "en")
    assert other.name == "李四"
    assert response.cookies["django_language"].value == "en"


def test_account_page_rejects_a_bad_or_taken_mobile(client, user, django_user_model):
    django_user_model.objects.create_user("lisi", password="x", mobile="13700000000")
    client.force_login(user)
    response = client.post(reverse("account"), {"name": "张伟", "mobile": "12345", "language": ""})
    assert response.status_code == 200 and "mobile" in response.context["form"].errors
    response = client.post(reverse("account"), {"name": "张伟", "mobile": "13700000000", "language": ""})
    assert response.status_code == 200 and "mobile" in response.context["form"].errors
    response = client.post(
        reverse("account"), {"name": "<script>alert(1)</script>", "mobile": "", "language": ""}
    )
    user.refresh_from_db()
    assert user.mobile is None
    html = client.get(reverse("home")).content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_password_change(client, user, password):
    client.force_login(user)
    response = client.post(
        reverse("password_change"),
        {"old_password": password, "new_password1": "An0ther-Secret!", "new_password2": "An0ther-Secret!"},
    )
    assert response.status_code == 302 and response.url == reverse("account")
    user.refresh_from_db()
    assert user.check_password("An0ther-Secret!")
    assert client.get(reverse("home")).status_code == 200  # still logged in
    response = client.post(
        reverse("password_change"), {"old_password": "wrong", "new_password1": "x", "new_password2": "y"}
    )
    assert response.status_code == 200 and response.context["form"].errors


def test_account_pages_need_login(client):
    for name in ("account", "password_change"):
        response = client.get(reverse(name))
        assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_404_page_is_branded_and_leaks_nothing(client, user):
    client.force_login(user)
    response = client.get("/no-such-page-腾讯科技/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "赢单" in html and "404" in html
    assert "no-such-page" not in html and "腾讯科技" not in html and "Resolver404" not in html


@pytest.mark.parametrize("name", ["403.html", "404.html", "500.html"])
def test_error_templates_render_without_context(name):
    html = render_to_string(name)  # Django's server_error renders 500.html with no context at all
    assert "赢单" in html and name[:3] in html


def _own_text_files():
    for base in (YINGDAN / "templates", YINGDAN / "static"):
        for path in base.rglob("*"):
            if (
                path.is_file()
                and "vendor" not in path.relative_to(base).parts
                and path.suffix in {".html", ".js", ".css", ".svg", ".txt"}
            ):
                yield path
    for path in YINGDAN.glob("*/templates/**/*.html"):
        yield path


EXTERNAL = re.compile(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", re.I)
ALLOWED = ("//www.w3.org/",)  # XML namespaces in inline SVG are identifiers, not downloads


def test_nothing_is_loaded_from_a_cdn():
    offenders = []
    for path in _own_text_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        for match in EXTERNAL.finditer(text):
            if not any(a in text[match.start() : match.end() + 20] for a in ALLOWED):
                offenders.append(f"{path.relative_to(YINGDAN)}: {match.group(0)}")
    assert not offenders, offenders


def test_vendor_css_loads_nothing_external():
    vendor = YINGDAN / "static" / "vendor"
    if not vendor.exists():
        pytest.skip("static/vendor is generated by `make` (npm ci + scripts/copy_vendor.py)")
    for css in vendor.rglob("*.css"):
        text = css.read_text(encoding="utf-8")
        assert not re.search(r"url\(\s*['\"]?(?:https?:)?//", text), css
        assert "@import" not in text, css


def test_home_query_budget(client, django_user_model, django_assert_max_num_queries):
    dept = Department.objects.create(name="华南大区")
    rep = django_user_model.objects.create_user("rep9", password="x", name="陈静", department=dept)
    rep.roles.add(Role.objects.get(code="rep"))
    for i in range(20):
        Contact.objects.create(
            name=f"联系人{i}", customer=Customer.objects.create(name=f"客户{i}", owner=rep)
        )
    client.force_login(rep)
    with django_assert_max_num_queries(12):
        assert client.get(reverse("home")).status_code == 200
