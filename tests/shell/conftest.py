import pytest
from django.core.cache import cache

PASSWORD = "Yd-secret-2024!"


@pytest.fixture(autouse=True)
def _clear_cache():
    """The throttle lives in the cache (locmem in tests): every test starts with no counters or locks."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def password():
    return PASSWORD


@pytest.fixture
def user(django_user_model):
    return django_user_model.objects.create_user(
        "zhangwei", password=PASSWORD, name="张伟", mobile="13800138000", email="zw@example.com"
    )
