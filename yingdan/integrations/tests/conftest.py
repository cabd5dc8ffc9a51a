import pytest

from yingdan.core.tests.factories import make_department, make_user

from .. import services
from .fakeserver import FakeServer


@pytest.fixture
def fake():
    with FakeServer() as server:
        yield server


@pytest.fixture
def admin(db):
    return make_user("ops_admin", ["admin"], make_department("HQ"))


@pytest.fixture
def rep(db):
    return make_user("plain_rep", ["rep"], make_department("Sales"))


@pytest.fixture(autouse=True)
def _fresh_subscriptions():
    services.invalidate_subscriptions()
    yield
    services.invalidate_subscriptions()
