"""The kanban in real Chromium: a card dragged to the next stage moves; a card whose gate is not met snaps back
and the form for what is missing opens; filling it moves the card."""

from decimal import Decimal

import pytest

from yingdan.core.tests import factories

from ..models import Opportunity
from .helpers import complete_stage, make_opportunity, stage

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def drag(page, source, target):
    box = source.bounding_box()
    dest = target.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] / 2 + 10, box["y"] + box["height"] / 2 + 10, steps=5)
    page.mouse.move(dest["x"] + dest["width"] / 2, dest["y"] + 40, steps=15)
    page.mouse.up()


def test_kanban_drag_and_refused_drop(page, live_server, login):
    team = factories.make_department("看板一组")
    rep = factories.make_user("kanban_rep", ["rep"], team, name="看板销售")
    ready = make_opportunity(rep, name="可推进商机", amount=Decimal("50000"))
    complete_stage(rep, ready)
    blocked = make_opportunity(rep, name="缺步骤商机", amount=Decimal("20000"))
    first, second = stage("初步接触"), stage("需求确认")

    login(page, live_server, "kanban_rep", factories.PASSWORD)
    page.goto(f"{live_server.url}/opportunities/kanban/")
    page.wait_for_selector(f"#kanban-card-{ready.pk}")
    target = page.locator(f'.kanban-cards[data-stage="{second.pk}"]')

    drag(page, page.locator(f"#kanban-card-{ready.pk}"), target)
    page.wait_for_selector(f'.kanban-cards[data-stage="{second.pk}"] #kanban-card-{ready.pk}[data-version="1"]')
    page.wait_for_function(f"() => document.querySelector('[data-col-count=\"{second.pk}\"]').textContent.trim() === '1'")
    assert Opportunity.objects.get(pk=ready.pk).stage_id == second.pk

    drag(page, page.locator(f"#kanban-card-{blocked.pk}"), target)
    page.wait_for_selector("#gate-modal [data-testid=gate-form]", state="visible")
    # The refused card is back in its column.
    page.wait_for_selector(f'.kanban-cards[data-stage="{first.pk}"] #kanban-card-{blocked.pk}')
    assert Opportunity.objects.get(pk=blocked.pk).stage_id == first.pk

    # Fill the missing steps in place and retry.
    for box in page.locator("#gate-modal input[type=checkbox]").all():
        box.check()
    for note in page.locator("#gate-modal input[name$=_note]").all():
        note.fill("已与客户确认")
    page.click("[data-testid=gate-submit]")
    page.wait_for_selector(f'.kanban-cards[data-stage="{second.pk}"] #kanban-card-{blocked.pk}')
    page.wait_for_selector("#gate-modal", state="hidden")
    assert Opportunity.objects.get(pk=blocked.pk).stage_id == second.pk
