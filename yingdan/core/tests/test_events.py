"""Domain events: raised by every change-log record, delivered after commit, nothing on rollback."""

import pytest
from django.db import transaction

from yingdan.core import events, registry
from yingdan.core.context import change_context
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


def test_emit_many_is_emit_for_each_in_order(monkeypatch):
    monkeypatch.setattr(registry, "event_handlers", [])
    assert events.emit_many("create", [(object(), {})]) == []


@pytest.mark.django_db(transaction=True)
def test_emit_many_raises_what_emit_raises_for_each(captured):
    """A bulk write's events: the same events as one emit each (handlers called inside, then after commit, in
    order); nothing after commit when the transaction rolls back."""
    ensure_defaults()
    owner = make_user("evt_owner")
    a, b = make_customer(owner=owner, name="批量甲有限公司"), make_customer(owner=owner, name="批量乙有限公司")
    for key in captured:
        captured[key].clear()
    with change_context(owner, source="import", request_id="import-1"):
        with transaction.atomic():
            one = [events.emit("create", c, changes={"name": [None, c.name]}) for c in (a, b)]
            assert not captured["commit"]
        with transaction.atomic():
            many = events.emit_many("create", [(c, {"name": [None, c.name]}) for c in (a, b)])
            assert len(captured["sync"]) == 4 and len(captured["commit"]) == 2
    assert many[0].actor_id == owner.pk and many[0].request_id == "import-1"

    def shape(e):
        return (e.name, e.model_label, e.object_id, e.action, e.changes, e.data, e.actor_id, e.source, e.request_id,
                e.depth, e.instance)

    assert [shape(e) for e in many] == [shape(e) for e in one]
    assert [shape(e) for e in captured["sync"]] == [shape(e) for e in one + many]
    assert [shape(e) for e in captured["commit"]] == [shape(e) for e in one + many]
    assert many[0].at == many[1].at  # (one time for the batch)
    captured["commit"].clear()
    with pytest.raises(RuntimeError), transaction.atomic():
        events.emit_many("create", [(a, {})])
        raise RuntimeError("boom")
    assert not captured["commit"]
