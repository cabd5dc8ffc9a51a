"""The stage gate and the other business rules of opportunities, through the real services."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from yingdan.core import registry
from yingdan.core.exceptions import ObjectNotVisible
from yingdan.core.models import Lookup, ObjectChange
from yingdan.core.tests.factories import (
    make_contact,
    make_custom_field,
    make_customer,
    make_department,
    make_user,
)
from yingdan.customers.models import Customer

from .. import hooks, services
from ..models import (
    ChecklistItem,
    Competitor,
    LossReason,
    Opportunity,
    Pipeline,
    Stage,
    StageChange,
    StageKind,
)
from .helpers import complete_stage, make_opportunity, stage, stages

pytestmark = pytest.mark.django_db


@pytest.fixture
def env():
    class Env:
        pass

    e = Env()
    e.team = make_department("销售一组")
    e.other_team = make_department("销售二组")
    e.rep = make_user("rep1", ["rep"], e.team, name="张伟")
    e.rep2 = make_user("rep2", ["rep"], e.other_team, name="李娜")
    e.director = make_user("dir1", ["director"], e.team, name="总监")
    e.admin = make_user("adm1", ["admin"], e.team, name="管理员")
    e.opp = make_opportunity(e.rep, amount=Decimal("100000"), expected_close=timezone.localdate() + datetime.timedelta(days=30))
    return e


def codes(exc) -> dict:
    return {k: [e.code for e in v] for k, v in exc.value.error_dict.items()}


def test_default_data():
    pipeline = Pipeline.objects.get(is_default=True)
    names = [(s.name, s.kind, s.probability) for s in stages(pipeline)]
    assert names == [("初步接触", "open", 10), ("需求确认", "open", 30), ("方案报价", "open", 50), ("商务谈判", "open", 70),
                     ("赢单", "won", 100), ("输单", "lost", 0)]
    assert ChecklistItem.objects.filter(stage__pipeline=pipeline).exists()
    price = LossReason.objects.get(name="价格", parent=None)
    assert set(price.children.values_list("name", flat=True)) == {"预算不足", "竞品更便宜"}
    assert LossReason.objects.filter(name="其他", parent=None).exists()
    assert Lookup.objects.filter(kind="opportunity_source").exists()


def test_create_starts_in_first_stage_with_its_probability_and_history(env):
    opp = env.opp
    assert opp.stage == stage("初步接触") and opp.probability == 10 and opp.state == StageKind.OPEN
    assert opp.department == env.team
    first = StageChange.objects.get(opportunity=opp)
    assert first.from_stage is None and first.to_stage == opp.stage and first.owner == env.rep


def test_gate_refuses_missing_checklist_and_saves_nothing(env):
    opp = env.opp
    with pytest.raises(ValidationError) as exc:
        services.move_opportunity(env.rep, opp, stage("需求确认"))
    items = ChecklistItem.objects.filter(stage=stage("初步接触"), required=True)
    assert {f"checklist_{i.pk}" for i in items} <= set(exc.value.message_dict)
    opp.refresh_from_db()
    assert opp.stage == stage("初步接触") and opp.version == 0
    assert StageChange.objects.filter(opportunity=opp).count() == 1


def test_gate_needs_note_where_required(env):
    opp = env.opp
    noted = ChecklistItem.objects.get(stage=stage("初步接触"), needs_note=True)
    plain = ChecklistItem.objects.get(stage=stage("初步接触"), needs_note=False)
    services.complete_checklist_item(env.rep, opp, plain)
    with pytest.raises(ValidationError):
        services.complete_checklist_item(env.rep, opp, noted)  # needs a note
    with pytest.raises(ValidationError) as exc:
        services.move_opportunity(env.rep, opp, stage("需求确认"), checklist={noted.pk: {"note": ""}})
    assert list(exc.value.message_dict) == [f"checklist_{noted.pk}"]
    # Filled in place: the move passes and the note is stored.
    services.move_opportunity(env.rep, opp, stage("需求确认"), checklist={noted.pk: {"note": "预算 20 万"}})
    opp.refresh_from_db()
    assert opp.stage == stage("需求确认")
    assert opp.checklist_done.get(item=noted).note == "预算 20 万"


def test_gate_refuses_missing_required_fields_and_accepts_them_in_place(env):
    cf = make_custom_field(Opportunity, "budget", "integer", label="预算")
    target = stage("需求确认")
    target.required_fields = ["amount", "contacts", "cf_budget"]
    target.save()
    opp = make_opportunity(env.rep)  # amount 0
    complete_stage(env.rep, opp)
    with pytest.raises(ValidationError) as exc:
        services.move_opportunity(env.rep, opp, target)
    assert set(exc.value.message_dict) == {"amount", "contacts", "cf_budget"}
    assert codes(exc)["amount"] == ["required"]
    contact = make_contact(opp.customer)
    services.move_opportunity(env.rep, opp, target, values={"amount": "5000", "contacts": [contact.pk], "cf_budget": 8})
    opp.refresh_from_db()
    assert opp.amount == Decimal("5000") and list(opp.contacts.all()) == [contact] and opp.custom_fields[cf.name] == 8
    assert opp.probability == 30 and opp.version == 1


def test_move_to_another_pipelines_stage_is_refused(env):
    other = services.save_pipeline(env.admin, Pipeline(name="大客户流程"))
    foreign = Stage.objects.filter(pipeline=other, kind=StageKind.OPEN).first()
    with pytest.raises(ValidationError) as exc:
        services.move_opportunity(env.rep, env.opp, foreign)
    assert codes(exc) == {"stage": ["wrong_pipeline"]}


def test_stale_version_is_refused(env):
    opp = env.opp
    complete_stage(env.rep, opp)
    services.move_opportunity(env.rep, opp, stage("需求确认"), expected_version=0)
    with pytest.raises(ValidationError) as exc:
        services.move_opportunity(env.rep, opp, stage("方案报价"), expected_version=0)
    assert codes(exc) == {"version": ["stale"]}
    opp.refresh_from_db()
    assert opp.stage == stage("需求确认") and opp.version == 1


def test_losing_needs_a_reason_and_records_it(env):
    opp = env.opp
    with pytest.raises(ValidationError) as exc:
        services.move_opportunity(env.rep, opp, stage("输单"))
    assert set(exc.value.message_dict) == {"loss_reason"}  # the checklist is not required to lose
    reason = LossReason.objects.get(name="预算不足")
    competitor = Competitor.objects.create(name="竞品甲")
    services.move_opportunity(env.rep, opp, stage("输单"), loss_reason=reason, competitor=competitor, loss_note="价格差 20%")
    opp.refresh_from_db()
    assert opp.state == StageKind.LOST and opp.closed_at and opp.loss_reason == reason and opp.competitor == competitor
    assert opp.probability == 0


def test_winning_sets_customer_status_and_history(env):
    opp = env.opp
    for name in ("需求确认", "方案报价", "商务谈判", "赢单"):
        opp.refresh_from_db()
        complete_stage(env.rep, opp)
        services.move_opportunity(env.rep, opp, stage(name), expected_version=opp.version)
    opp.refresh_from_db()
    assert opp.state == StageKind.WON and opp.closed_at is not None and opp.probability == 100 and opp.version == 4
    customer = Customer.objects.get(pk=opp.customer_id)
    assert customer.status.code == "won" and customer.last_won_at is not None
    assert ObjectChange.objects.filter(object_id=customer.pk, content_type__model="customer", changes__has_key="status").exists()
    changes = list(StageChange.objects.filter(opportunity=opp).order_by("changed_at", "id"))
    assert len(changes) == 5 and all(c.checklist_complete for c in changes[1:])
    assert changes[-1].seconds_in_previous is not None and changes[-1].owner == env.rep and changes[-1].department == env.team
    assert hooks.customer_timeline in registry.timeline_providers["customers.customer"]
    timeline = hooks.customer_timeline(customer, env.rep)
    assert timeline[0].data["state"] == "won"


def test_days_over_limit_and_incomplete_checklist_recorded_when_moving_back(env):
    opp = env.opp
    Opportunity.objects.filter(pk=opp.pk).update(stage_entered_at=timezone.now() - datetime.timedelta(days=20))
    opp.refresh_from_db()
    complete_stage(env.rep, opp)
    services.move_opportunity(env.rep, opp, stage("需求确认"))
    change = StageChange.objects.filter(opportunity=opp).order_by("-id").first()
    assert change.days_over_limit == pytest.approx(6, abs=0.1)  # limit 14 days
    services.move_opportunity(env.rep, opp, stage("初步接触"))  # stepping back: no checklist needed
    change = StageChange.objects.filter(opportunity=opp).order_by("-id").first()
    assert change.checklist_complete is False


def test_bad_values_refused(env):
    for kwargs, field in (
        ({"amount": Decimal("-1")}, "amount"),
        ({"amount": Decimal("99999999999999")}, "amount"),
        ({"expected_close": datetime.date(1900, 1, 1)}, "expected_close"),
        ({"expected_close": datetime.date(timezone.localdate().year + 11, 6, 1)}, "expected_close"),
    ):
        before = Opportunity.objects.count()
        with pytest.raises(ValidationError) as exc:
            make_opportunity(env.rep, **kwargs)
        assert field in exc.value.message_dict
        assert Opportunity.objects.count() == before


def test_rep_cannot_move_someone_elses_deal(env):
    with pytest.raises(ObjectNotVisible):
        services.move_opportunity(env.rep2, env.opp, stage("需求确认"))
    noperm = make_user("noperm", [], env.team)
    with pytest.raises(PermissionDenied):
        services.move_opportunity(noperm, env.opp, stage("需求确认"))


def test_stage_cannot_change_through_save(env):
    opp = env.opp
    opp.stage = stage("商务谈判")
    with pytest.raises(ValidationError) as exc:
        services.save_opportunity(env.rep, opp)
    assert "stage" in exc.value.message_dict


def test_duplicate_warning_unless_confirmed(env):
    dup = Opportunity(customer=env.opp.customer, name=env.opp.name, owner=env.rep, probability=None)
    with pytest.raises(ValidationError) as exc:
        services.save_opportunity(env.rep, dup)
    assert exc.value.code == "duplicate_warning"
    services.save_opportunity(env.rep, dup, confirm_duplicates=True)
    assert Opportunity.objects.filter(name=env.opp.name).count() == 2


def test_stage_delete_refused_while_holding_deals_then_moves_them(env):
    target = stage("初步接触")
    with pytest.raises(ValidationError) as exc:
        services.delete_stage(env.admin, target)
    assert codes(exc) == {"move_to": ["stage_in_use"]}
    with pytest.raises(ValidationError):
        services.delete_stage(env.admin, target, move_to=stage("赢单"))  # other kind
    services.delete_stage(env.admin, target, move_to=stage("需求确认"))
    env.opp.refresh_from_db()
    assert env.opp.stage == stage("需求确认")
    target.refresh_from_db()
    assert target.is_active is False  # it has history: kept, hidden
    fresh = services.save_stage(env.admin, Stage(pipeline=target.pipeline, name="临时", order=45))
    services.delete_stage(env.admin, fresh)
    assert not Stage.objects.filter(pk=fresh.pk).exists()


def test_stage_ordering_rules(env):
    pipeline = stage("初步接触").pipeline
    ids = [s.pk for s in stages(pipeline)]
    won = stage("赢单")
    bad = [won.pk] + [i for i in ids if i != won.pk]
    with pytest.raises(ValidationError):
        services.reorder_stages(env.admin, pipeline, bad)
    assert [s.pk for s in stages(pipeline)] == ids
    good = [ids[1], ids[0]] + ids[2:]
    services.reorder_stages(env.admin, pipeline, good)
    assert [s.pk for s in stages(pipeline)] == good
    with pytest.raises(ValidationError):
        services.save_stage(env.admin, Stage(pipeline=pipeline, name="末尾开放", order=5000))
    with pytest.raises(PermissionDenied):
        services.reorder_stages(env.rep, pipeline, ids)


def test_bulk_move_reports_per_row(env):
    ready = make_opportunity(env.rep, amount=Decimal("10"))
    complete_stage(env.rep, ready)
    results = services.bulk_move(env.director, [env.opp.pk, ready.pk], stage("需求确认"))
    by_id = {r["opportunity"].pk: r for r in results}
    assert by_id[ready.pk]["ok"] and not by_id[env.opp.pk]["ok"]
    assert any(k.startswith("checklist_") for k in by_id[env.opp.pk]["errors"])


def test_transfer_and_handover_provider(env):
    provider = registry.handover_providers["opportunities"]
    assert provider.count(env.rep) == 1
    assert provider.transfer(env.director, provider.ids(env.rep), env.rep2) == 1
    env.opp.refresh_from_db()
    assert env.opp.owner == env.rep2 and env.opp.department == env.other_team
    with pytest.raises(PermissionDenied):
        services.transfer_opportunities(env.rep, [env.opp.pk], env.rep)


def test_loss_reasons_have_two_levels(env):
    child = LossReason.objects.get(name="预算不足")
    with pytest.raises(ValidationError):
        services.save_loss_reason(env.admin, LossReason(name="更深", parent=child))


def test_new_customer_contact_must_belong(env):
    other_customer = make_customer(env.rep)
    contact = make_contact(other_customer)
    opp = Opportunity(customer=env.opp.customer, name="联系人测试", owner=env.rep, probability=None)
    with pytest.raises(ValidationError) as exc:
        services.save_opportunity(env.rep, opp, contacts=[contact])
    assert "contacts" in exc.value.message_dict


def test_department_pipelines_come_first(env):
    special = services.save_pipeline(env.admin, Pipeline(name="二组专用流程", order=50), departments=[env.other_team])
    assert services.pipelines_for(env.rep2)[0] == special
    assert special not in services.pipelines_for(env.rep)
    opp = make_opportunity(env.rep2)
    assert opp.pipeline == special
