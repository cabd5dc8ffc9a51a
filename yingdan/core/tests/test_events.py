"""Domain events: raised by every change-log record, delivered after commit, nothing on rollback."""

import pytest
from django.db import transaction

from yingdan.core import events, registry
from yingdan.core.tests.factories import ensure_defaults, make_customer, make_user


@pytest.fixture
def captured():
    seen = {"sync": [], "commit": []}

    def on_sync(event):
        seen["sync"].append(event)

    def on_commit(event):
        seen["commit"].append(event)

    registry.register_event_handler(on_sync, on_commit=False)
    registry.register_event_handler(on_commit, on_commit=True)
    yield seen
    registry.event_handlers[:] = [h for h in registry.event_handlers if h.func not in (on_sync, on_commit)]


@pytest.mark.django_db(transaction=True)
def test_change_raises_event_after_commit(captured):
    ensure_defaults()
    owner = make_user("evt_owner")
    with transaction.atomic():
        customer = make_customer(owner=owner, name="事件测试有限公司")
        names = [e.name for e in captured["sync"]]
        assert "customers.customer.create" in names
        assert not any(e.name == "customers.customer.create" for e in captured["commit"])
    created = [e for e in captured["commit"] if e.name == "customers.customer.create"]
    assert created and created[0].object_id == customer.pk
    assert created[0].payload()["changes"]["name"][1] == "事件测试有限公司"


@pytest.mark.django_db(transaction=True)
def test_rolled_back_change_raises_nothing_after_commit(captured):
    ensure_defaults()
    owner = make_user("evt_owner")
    captured["commit"].clear()
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            make_customer(owner=owner, name="回滚测试有限公司")
            raise RuntimeError("boom")
    assert not [e for e in captured["commit"] if e.model_label == "customers.customer"]


def test_emit_is_a_no_op_without_handlers(monkeypatch):
    monkeypatch.setattr(registry, "event_handlers", [])
    assert events.emit("update", object()) is None
