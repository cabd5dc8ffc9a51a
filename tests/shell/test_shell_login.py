"""Login with username or mobile, wrong-password message, throttling per account and per IP, logout."""

import logging
import re

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import reverse

from yingdan.org import throttle

pytestmark = pytest.mark.django_db


def post_login(client, username, password, ip="10.0.0.1", **extra):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip, **extra
    )


def is_logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_login_page_renders_branded_in_chinese_by_default(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "赢单" in html
    assert 'lang="zh-CN"' in html
    assert 'name="username"' in html and 'name="password"' in html
    assert "csrfmiddlewaretoken" in html


def test_login_with_username(client, user, password):
    response = post_login(client, "zhangwei", password)
    assert response.status_code == 302
    assert response.url == reverse("home")
    assert client.session["_auth_user_id"] == str(user.pk)


def test_login_with_mobile_in_any_common_format(client, user, password):
    response = post_login(client, "+86 138-0013-8000", password)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_login_rotates_the_session_key(client, user, password):
    client.get(reverse("login"))
    client.session.save()
    before = client.session.session_key
    post_login(client, "zhangwei", password)
    assert client.session.session_key != before


def test_wrong_password_is_refused_with_a_message(client, user):
    response = post_login(client, "zhangwei", "wrong-password", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert not is_logged_in(client)
    assert "Incorrect username/mobile or password." in response.content.decode()
    assert response.context["form"].errors["__all__"]


def test_unknown_user_gets_the_same_message(client, user):
    response = post_login(client, "nobody", "whatever", HTTP_ACCEPT_LANGUAGE="en")
    assert "Incorrect username/mobile or password." in response.content.decode()


def test_inactive_user_cannot_log_in(client, user, password):
    user.is_active = False
    user.save()
    post_login(client, "zhangwei", password)
    assert not is_logged_in(client)


@override_settings(LOGIN_MAX_FAILURES=3, LOGIN_IP_MAX_FAILURES=100)
def test_account_locked_after_n_failures_even_with_the_right_password(client, user, password):
    for _ in range(2):
        response = post_login(client, "zhangwei", "bad", HTTP_ACCEPT_LANGUAGE="en")
        assert "locked" not in response.content.decode()
    response = post_login(client, "zhangwei", "bad", HTTP_ACCEPT_LANGUAGE="en")  # the 3rd failure locks
    assert "this account is locked" in response.content.decode()
    # the right password, from another IP and by mobile: still refused, with the minutes left
    response = post_login(client, "13800138000", password, ip="10.9.9.9", HTTP_ACCEPT_LANGUAGE="en")
    assert not is_logged_in(client)
    minutes = settings.LOGIN_LOCK_SECONDS // 60
    assert f"Try again in {minutes} minutes." in response.content.decode()
    assert response.context["form"].errors.as_data()["__all__"][0].code == "locked"


@override_settings(LOGIN_MAX_FAILURES=3, LOGIN_IP_MAX_FAILURES=100)
def test_successful_login_clears_the_account_counter(client, user, password):
    post_login(client, "zhangwei", "bad")
    post_login(client, "zhangwei", "bad")
    post_login(client, "zhangwei", password)
    assert is_logged_in(client)
    client.logout()
    post_login(client, "zhangwei", "bad")
    post_login(client, "zhangwei", "bad")  # 2 failures after the reset: not locked yet
    post_login(client, "zhangwei", password)
    assert is_logged_in(client)


@override_settings(LOGIN_MAX_FAILURES=2, LOGIN_IP_MAX_FAILURES=100)
def test_unknown_accounts_are_throttled_like_real_ones(client):
    post_login(client, "ghost", "bad")
    response = post_login(client, "ghost", "bad", HTTP_ACCEPT_LANGUAGE="en")
    assert "this account is locked" in response.content.decode()


@override_settings(LOGIN_MAX_FAILURES=100, LOGIN_IP_MAX_FAILURES=4)
def test_ip_locked_after_n_failures_from_it(client, django_user_model, user, password):
    for i in range(4):
        post_login(client, f"someone{i}", "bad", ip="192.0.2.7")
    response = post_login(client, "zhangwei", password, ip="192.0.2.7", HTTP_ACCEPT_LANGUAGE="en")
    assert not is_logged_in(client)
    assert "from your network address" in response.content.decode()
    # another IP is not affected
    post_login(client, "zhangwei", password, ip="192.0.2.8")
    assert is_logged_in(client)


@override_settings(LOGIN_MAX_FAILURES=2, LOGIN_IP_MAX_FAILURES=100, LOGIN_LOCK_SECONDS=600)
def test_lock_ends_when_the_lock_time_has_passed(client, user, password, monkeypatch):
    clock = {"now": 1_700_000_000.0}
    monkeypatch.setattr(throttle, "now", lambda: clock["now"])
    post_login(client, "zhangwei", "bad")
    post_login(client, "zhangwei", "bad")
    clock["now"] += 60
    response = post_login(client, "zhangwei", password, HTTP_ACCEPT_LANGUAGE="en")
    assert not is_logged_in(client)
    assert "Try again in 9 minutes." in response.content.decode()
    clock["now"] += 541  # 601 s after the lock began
    post_login(client, "zhangwei", password)
    assert is_logged_in(client)


@override_settings(LOGIN_MAX_FAILURES=3, LOGIN_IP_MAX_FAILURES=100, LOGIN_FAILURE_WINDOW=300)
def test_failures_older_than_the_window_do_not_count(client, user, password, monkeypatch):
    clock = {"now": 1_700_000_000.0}
    monkeypatch.setattr(throttle, "now", lambda: clock["now"])
    post_login(client, "zhangwei", "bad")
    post_login(client, "zhangwei", "bad")
    clock["now"] += 301
    post_login(client, "zhangwei", "bad")  # a new window: 1 failure
    post_login(client, "zhangwei", password)
    assert is_logged_in(client)


@override_settings(LOGIN_MAX_FAILURES=1, LOGIN_IP_MAX_FAILURES=100, LOGIN_LOCK_SECONDS=120)
def test_lock_message_in_chinese(client, user, password):
    post_login(client, "zhangwei", "bad")
    response = post_login(client, "zhangwei", password, HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    html = response.content.decode()
    assert not is_logged_in(client)
    # The minutes are in the message whatever the language; the zh-Hans wording comes from the catalog.
    assert re.search(r"(?<!\d)2(?!\d)", response.context["form"].non_field_errors()[0])
    assert 'lang="zh-CN"' in html


def test_auth_decisions_are_logged(client, user, password, caplog):
    with caplog.at_level(logging.INFO, logger="yingdan.auth"):
        post_login(client, "zhangwei", "bad", ip="198.51.100.1")
        post_login(client, "zhangwei", password, ip="198.51.100.1")
    records = [r for r in caplog.records if r.name == "yingdan.auth"]
    results = [r.auth_result for r in records if hasattr(r, "auth_result")]
    assert results == ["failed", "success"]
    assert records[-1].auth_user == user.pk and records[-1].auth_ip == "198.51.100.1"
    assert password not in caplog.text


def test_logout_requires_post(client, user):
    client.force_login(user)
    response = client.get(reverse("logout"))
    assert response.status_code == 405
    assert is_logged_in(client)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert not is_logged_in(client)


def test_user_language_is_applied_at_login(client, user, password):
    user.language = "en"
    user.save()
    response = post_login(client, "zhangwei", password)
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    home = client.get(reverse("home"))
    assert '<html lang="en">' in home.content.decode()


def test_next_parameter_is_followed_but_only_on_this_site(client, user, password):
    response = client.post(
        reverse("login") + "?next=/account/",
        {"username": "zhangwei", "password": password, "next": "/account/"},
    )
    assert response.url == "/account/"
    client.logout()
    response = client.post(
        reverse("login"), {"username": "zhangwei", "password": password, "next": "https://evil.example/"}
    )
    assert response.url == reverse("home")


def test_anonymous_home_redirects_to_login(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
