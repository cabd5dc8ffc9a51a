"""Every write to pipelines, stages, checklists, loss reasons, competitors and opportunities goes through
these functions (web pages, API, kanban, bulk actions, handover, commands).

The stage gate lives in `move_opportunity()` and nowhere else.
"""

from __future__ import annotations

import datetime
import os
import re
from decimal import Decimal

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from yingdan.core import changelog, registry
from yingdan.core.choices import Action, ChangeAction
from yingdan.core.models import Attachment, Lookup
from yingdan.core.permissions import get_permissions
from yingdan.core.services import (
    check_field_permissions,
    delete_visible,
    ensure_visible,
    lock_visible,
    require,
)
from yingdan.customers.models import Contact, Customer

try:  # upload validation shared by every app (size, type, sniffed content) when available
    from yingdan.core.files import validate_upload as core_validate_upload
except ImportError:  # pragma: no cover
    core_validate_upload = None

from . import rollup
from .models import (
    ChecklistCompletion,
    ChecklistItem,
    Competitor,
    LossReason,
    Opportunity,
    Pipeline,
    Stage,
    StageChange,
    StageKind,
)


def coded(key: str, message, code: str) -> ValidationError:
    """A field error that carries its code (API clients and the UI branch on it)."""
    return ValidationError({key: [ValidationError(message, code=code)]})


EARLIEST_CLOSE = datetime.date(2000, 1, 1)
MAX_YEARS_AHEAD = 10
# Fields a stage may require before a deal enters it (custom fields are added as cf_KEY).
REQUIRABLE_FIELDS = ("amount", "expected_close", "contacts", "source", "next_step", "description", "competitor")
# Fields the gate form may fill in place while moving (besides custom fields and the required ones).
GATE_FIELDS = REQUIRABLE_FIELDS + ("currency", "probability")


def requirable_fields() -> list[tuple[str, str]]:
    """(name, label) of the fields a stage may require: built-in ones and active custom fields (cf_KEY)."""
    out = [(name, str(Opportunity._meta.get_field(name).verbose_name)) for name in REQUIRABLE_FIELDS]
    out += [(d.form_name, str(d.display_label)) for d in Opportunity.custom_field_definitions()]
    return out


# -- pipelines and stages ----------------------------------------------------------------------------------
def _check_stage_order(pipeline: Pipeline) -> None:
    """Open stages come before won/lost ones."""
    seen_closed = False
    for stage in Stage.objects.filter(pipeline=pipeline, is_active=True).order_by("order", "id"):
        if stage.kind != StageKind.OPEN:
            seen_closed = True
        elif seen_closed:
            raise coded("order", _("Open stages must come before the won and lost stages (“%(stage)s”).") % {"stage": stage.name}, "stage_order")


@transaction.atomic
def save_pipeline(actor, pipeline: Pipeline, *, departments=None) -> Pipeline:
    require(actor, "pipelines", Action.CREATE if pipeline.pk is None else Action.EDIT)
    is_new = pipeline.pk is None
    if is_new:
        pipeline.created_by = actor
    pipeline.full_clean()
    pipeline.save()
    if departments is not None:
        pipeline.departments.set(departments)
    if pipeline.is_default:
        for other in Pipeline.objects.filter(is_default=True).exclude(pk=pipeline.pk):
            other.is_default = False
            other.save(update_fields=["is_default", "updated_at"])
    if is_new and not pipeline.stages.exists():
        # A new pipeline starts with one open stage and the two closing stages; admins rename/add from there.
        Stage.objects.create(pipeline=pipeline, name=_("New"), kind=StageKind.OPEN, probability=10, order=10)
        Stage.objects.create(pipeline=pipeline, name=_("Won"), kind=StageKind.WON, probability=100, forecast_category="closed", order=1000)
        Stage.objects.create(pipeline=pipeline, name=_("Lost"), kind=StageKind.LOST, probability=0, forecast_category="omitted", order=1010)
    return pipeline


@transaction.atomic
def delete_pipeline(actor, pipeline: Pipeline) -> None:
    require(actor, "pipelines", Action.DELETE)
    pipeline = Pipeline.objects.select_for_update().get(pk=pipeline.pk)
    if Opportunity.objects.filter(pipeline=pipeline).exists() or StageChange.objects.filter(pipeline=pipeline).exists():
        raise ValidationError(_("This pipeline holds opportunities; deactivate it instead."), code="pipeline_in_use")
    pipeline.delete()


@transaction.atomic
def save_stage(actor, stage: Stage) -> Stage:
    require(actor, "pipelines", Action.EDIT)
    valid = {name for name, _label in requirable_fields()}
    unknown = [f for f in stage.required_fields or [] if f not in valid]
    if unknown:
        raise ValidationError({"required_fields": [_("Unknown fields: %(f)s") % {"f": ", ".join(unknown)}]})
    if stage.color and not re.fullmatch(r"#[0-9a-fA-F]{6}", stage.color):
        raise ValidationError({"color": [_("Use a colour like #1a73e8.")]})
    if stage.pk is None and not stage.order:
        stage.order = (Stage.objects.filter(pipeline=stage.pipeline, kind=StageKind.OPEN).aggregate(m=Max("order"))["m"] or 0) + 10
    stage.full_clean()
    stored = Stage.objects.filter(pk=stage.pk).first() if stage.pk is not None else None
    if stored is not None and stage.kind != stored.kind and stage.opportunities.exists():
        raise ValidationError({"kind": [_("The kind of a stage holding opportunities cannot be changed.")]})
    stage.save()
    _check_stage_order(stage.pipeline)
    if stored is not None and (stored.order, stored.kind) != (stage.order, stage.kind):
        rollup.order_changed(stage.pipeline_id)
    return stage


@transaction.atomic
def reorder_stages(actor, pipeline: Pipeline, stage_ids) -> None:
    """Set the order of a pipeline's stages (drag and drop). History keeps stage ids, so it stays correct."""
    require(actor, "pipelines", Action.EDIT)
    stage_ids = [int(i) for i in stage_ids]
    stages = {s.pk: s for s in Stage.objects.select_for_update().filter(pipeline=pipeline, is_active=True)}
    if sorted(stage_ids) != sorted(stages):
        raise ValidationError(_("The list of stages is out of date; reload the page."), code="stale")
    before = sorted(stages, key=lambda pk: (stages[pk].order, pk))
    for position, pk in enumerate(stage_ids, start=1):
        stage = stages[pk]
        if stage.order != position * 10:
            stage.order = position * 10
            stage.save(update_fields=["order"])
    _check_stage_order(pipeline)
    if before != stage_ids:
        rollup.order_changed(pipeline.pk)


def _relocate(actor, opp: Opportunity, to_stage: Stage, now) -> None:
    """Administrative move (stage deleted): no gate, but history is written."""
    previous = opp.stage
    seconds = int((now - opp.stage_entered_at).total_seconds()) if opp.stage_entered_at else None
    opp.stage = to_stage
    opp.probability = to_stage.probability
    opp.stage_entered_at = now
    opp.version += 1
    opp.save()
    StageChange.objects.create(
        opportunity=opp, pipeline_id=opp.pipeline_id, from_stage=previous, to_stage=to_stage, changed_by=actor,
        owner_id=opp.owner_id, department_id=opp.department_id, changed_at=now, seconds_in_previous=seconds,
        checklist_complete=True, days_over_limit=_days_over(previous, seconds),
    )


@transaction.atomic
def delete_stage(actor, stage: Stage, *, move_to: Stage | None = None) -> int:
    """Delete a stage. One holding opportunities is refused unless `move_to` (another active stage of the same
    pipeline and kind) is given: its deals are moved there first. A stage with history is deactivated, not
    removed, so the history stays readable. Returns the number of deals moved."""
    require(actor, "pipelines", Action.DELETE)
    stage = Stage.objects.select_for_update().get(pk=stage.pk)
    held = Opportunity.objects.filter(stage=stage)
    moved = 0
    if held.exists():
        if move_to is None:
            raise coded("move_to", _("This stage holds %(n)d opportunities; choose a stage to move them to first.") % {"n": held.count()}, "stage_in_use")
        if move_to.pk == stage.pk or move_to.pipeline_id != stage.pipeline_id or not move_to.is_active:
            raise ValidationError({"move_to": [_("Choose another active stage of the same pipeline.")]})
        if move_to.kind != stage.kind:
            raise ValidationError({"move_to": [_("Deals can only be moved to a stage of the same kind.")]})
        now = timezone.now()
        for opp in held.select_for_update().select_related("stage"):
            _relocate(actor, opp, move_to, now)
            moved += 1
    remaining = Stage.objects.filter(pipeline=stage.pipeline, is_active=True).exclude(pk=stage.pk)
    if not remaining.filter(kind=StageKind.OPEN).exists():
        raise ValidationError(_("A pipeline needs at least one open stage."))
    has_history = StageChange.objects.filter(models.Q(from_stage=stage) | models.Q(to_stage=stage)).exists()
    if has_history:
        stage.is_active = False
        stage.save(update_fields=["is_active"])
    else:
        stage.delete()
    return moved


@transaction.atomic
def save_checklist_item(actor, item: ChecklistItem) -> ChecklistItem:
    require(actor, "pipelines", Action.EDIT)
    item.full_clean()
    item.save()
    return item


@transaction.atomic
def delete_checklist_item(actor, item: ChecklistItem) -> None:
    """Items someone already ticked are deactivated (their completions stay for the records)."""
    require(actor, "pipelines", Action.EDIT)
    if ChecklistCompletion.objects.filter(item=item).exists():
        item.is_active = False
        item.save(update_fields=["is_active"])
    else:
        item.delete()


# -- loss reasons and competitors (settings lists) -----------------------------------------------------
@transaction.atomic
def save_loss_reason(actor, reason: LossReason) -> LossReason:
    require(actor, "settings", Action.EDIT)
    if reason.parent_id:
        if reason.parent.parent_id:
            raise ValidationError({"parent": [_("Loss reasons have two levels: choose a top-level reason as parent.")]})
        if reason.pk and reason.parent_id == reason.pk:
            raise ValidationError({"parent": [_("A reason cannot be its own parent.")]})
        if reason.pk and reason.children.exists():
            raise ValidationError({"parent": [_("This reason has sub-reasons, so it must stay top-level.")]})
    reason.full_clean()
    reason.save()
    return reason


@transaction.atomic
def save_competitor(actor, competitor: Competitor) -> Competitor:
    require(actor, "settings", Action.EDIT)
    competitor.full_clean()
    competitor.save()
    return competitor


# -- opportunities ------------------------------------------------------------------------------------
def pipelines_for(user) -> list[Pipeline]:
    """Active pipelines the user's department uses (a pipeline without departments is everyone's), the
    department's own ones first, then the default."""
    pipelines = list(Pipeline.objects.filter(is_active=True).prefetch_related("departments").order_by("order", "id"))
    department = getattr(user, "department", None) if user is not None else None
    chain = set()
    if department is not None:
        chain = {int(p) for p in department.path.strip("/").split("/") if p.isdigit()} | {department.pk}

    def rank(p):
        ids = {d.pk for d in p.departments.all()}
        return (0 if ids & chain else 1 if not ids else 2, not p.is_default, p.order, p.pk)

    return sorted([p for p in pipelines if not p.departments.all() or {d.pk for d in p.departments.all()} & chain], key=rank)


def default_pipeline(user=None) -> Pipeline | None:
    if user is not None:
        mine = pipelines_for(user)
        if mine:
            return mine[0]
    return Pipeline.objects.filter(is_active=True).order_by("-is_default", "order", "id").first()


def first_open_stage(pipeline: Pipeline) -> Stage | None:
    return Stage.objects.filter(pipeline=pipeline, is_active=True, kind=StageKind.OPEN).order_by("order", "id").first()


def check_values(opp: Opportunity) -> dict:
    """Business rules on values beyond the model's validators: a sensible expected close date."""
    errors = {}
    close = opp.expected_close
    if close is not None:
        if isinstance(close, datetime.datetime):
            close = close.date()
        latest = datetime.date(timezone.localdate().year + MAX_YEARS_AHEAD, 12, 31)
        if close < EARLIEST_CLOSE:
            errors["expected_close"] = [_("The expected close date cannot be before 2000.")]
        elif close > latest:
            errors["expected_close"] = [_("The expected close date cannot be more than %(n)d years ahead.") % {"n": MAX_YEARS_AHEAD}]
    if opp.amount is not None and opp.amount < 0:
        errors["amount"] = [_("The amount cannot be negative.")]
    return errors


@transaction.atomic
def save_opportunity(actor, opp: Opportunity, *, contacts=None, collaborators=None, custom_fields=None, partial: bool = True,
                     entry_point: str | None = None, confirm_duplicates: bool = False) -> Opportunity:
    """Create or update an opportunity (its stage changes only through `move_opportunity`).

    New deals start in an open stage of their pipeline (the first one if none is given); the probability
    defaults from the stage. Setting another owner needs 'transfer'. The department follows the owner.
    """
    is_new = opp.pk is None
    now = timezone.now()
    if is_new:
        require(actor, "opportunities", Action.CREATE)
        if opp.owner_id is None:
            opp.owner = actor
        owner_changed = opp.owner_id != actor.pk
        opp.created_by = actor
        if opp.pipeline_id is None:
            opp.pipeline = opp.stage.pipeline if opp.stage_id else default_pipeline(opp.owner if opp.owner_id else actor)
            if opp.pipeline is None:
                raise ValidationError({"pipeline": [_("Create a pipeline first.")]})
        if opp.stage_id is None:
            opp.stage = first_open_stage(opp.pipeline)
            if opp.stage is None:
                raise ValidationError({"pipeline": [_("This pipeline has no open stage.")]})
        if opp.stage.pipeline_id != opp.pipeline_id:
            raise coded("stage", _("This stage belongs to another pipeline."), "wrong_pipeline")
        if opp.stage.kind != StageKind.OPEN or not opp.stage.is_active:
            raise ValidationError({"stage": [_("A new opportunity starts in an open stage.")]})
        if not opp.pipeline.is_active:
            raise ValidationError({"pipeline": [_("This pipeline is no longer in use.")]})
        opp.state = StageKind.OPEN
        opp.stage_entered_at = now
        if opp.probability is None:
            opp.probability = opp.stage.probability
    else:
        require(actor, "opportunities", Action.EDIT)
        current = lock_visible(actor, Opportunity, opp.pk, Action.EDIT)
        owner_changed = current.owner_id != opp.owner_id
        if current.pipeline_id != opp.pipeline_id or current.stage_id != opp.stage_id:
            raise coded("stage", _("Move the opportunity to change its stage."), "use_move")
        if not hasattr(opp, "_changelog_snapshot"):
            opp._changelog_snapshot = current._changelog_snapshot
        if opp.probability is None:
            opp.probability = current.probability
    if owner_changed and not get_permissions(actor).has("opportunities", Action.TRANSFER):
        raise ValidationError({"owner": [_("You may not assign opportunities to someone else.")]})
    if opp.customer_id and not Customer.objects.visible_to(actor, Action.VIEW).filter(pk=opp.customer_id).exists():
        raise ValidationError({"customer": [_("Choose a customer you have access to.")]})
    opp.sync_department()
    if custom_fields is not None or is_new:
        opp.custom_fields = opp.validate_custom_fields(custom_fields or {}, partial=partial and not is_new)
    errors = check_values(opp)
    try:
        opp.full_clean()
    except ValidationError as exc:
        for key, messages in exc.message_dict.items():
            errors.setdefault(key, []).extend(m for m in messages if m not in errors.get(key, []))
    if contacts is not None:
        foreign = [c for c in contacts if getattr(c, "customer_id", None) != opp.customer_id]
        if foreign:
            errors["contacts"] = [_("Contacts must belong to the opportunity's customer.")]
    if errors:
        raise ValidationError(errors)
    check_field_permissions(actor, opp, allowed={"owner", "department", "stage", "pipeline", "state", "probability"} if is_new else {"department"})
    registry.run_save_checks(actor, opp, entry_point=entry_point, confirmed=confirm_duplicates)
    opp.save()
    if contacts is not None:
        opp.contacts.set(contacts)
    if collaborators is not None:
        opp.collaborators.set(collaborators)
    if is_new:
        StageChange.objects.create(
            opportunity=opp, pipeline_id=opp.pipeline_id, from_stage=None, to_stage=opp.stage, changed_by=actor,
            owner_id=opp.owner_id, department_id=opp.department_id, changed_at=now,
        )
    if not owner_changed:
        ensure_visible(actor, opp, Action.VIEW)
    return opp


def duplicate_check(actor, opp, *, entry_point="form", confirmed=False) -> None:
    """Save check: an open opportunity with the same customer and name in the same pipeline → warning."""
    if confirmed or not opp.customer_id or not opp.name:
        return
    same = Opportunity.objects.filter(customer_id=opp.customer_id, pipeline_id=opp.pipeline_id, name=opp.name.strip(),
                                      state=StageKind.OPEN)
    if opp.pk:
        same = same.exclude(pk=opp.pk)
    if same.exists():
        error = ValidationError(
            _("This customer already has an open opportunity named “%(name)s” in this pipeline. Save anyway?") % {"name": opp.name},
            code="duplicate_warning",
        )
        error.duplicate_warning = True  # the edit view offers "save anyway"
        raise error


def _is_filled(opp: Opportunity, name: str, values: dict) -> bool:
    if name.startswith("cf_"):
        value = (opp.custom_fields or {}).get(name[3:])
        return value not in (None, "", [], False)
    if name == "contacts":
        if "contacts" in values:
            return bool(values["contacts"])
        return opp.pk is not None and opp.contacts.exists()
    value = getattr(opp, name if not Opportunity._meta.get_field(name).is_relation else f"{name}_id")
    if name == "amount":
        return value is not None and Decimal(value) > 0
    return value not in (None, "")


def _apply_values(opp: Opportunity, values: dict) -> dict:
    """Put the gate form's values on the in-memory opportunity; returns field errors. Contacts are returned
    (as objects) in values['contacts'] for saving after the gate passes."""
    errors: dict = {}
    custom = {}
    for name, value in list(values.items()):
        if name.startswith("cf_"):
            custom[name[3:]] = value
            continue
        if name not in GATE_FIELDS:
            errors[name] = [_("This field cannot be set while moving.")]
            continue
        field = Opportunity._meta.get_field(name)
        try:
            if name == "contacts":
                ids = [getattr(v, "pk", v) for v in (value or [])]
                found = list(Contact.objects.filter(pk__in=ids, customer_id=opp.customer_id))
                if len(found) != len(set(ids)):
                    raise ValidationError(_("Contacts must belong to the opportunity's customer."))
                values["contacts"] = found
            elif field.is_relation:
                if value in (None, ""):
                    setattr(opp, name, None)
                else:
                    model = field.related_model
                    qs = model.objects.filter(kind="opportunity_source") if model is Lookup else model.objects.all()
                    obj = value if isinstance(value, model) else qs.filter(pk=value).first()
                    if obj is None:
                        raise ValidationError(_("Choose a valid option."))
                    setattr(opp, name, obj)
            else:
                setattr(opp, name, field.to_python(value) if value not in ("",) else (None if field.null else field.get_default()))
        except ValidationError as exc:
            errors[name] = exc.messages
    if custom:
        try:
            opp.custom_fields = opp.validate_custom_fields(custom, partial=True)
        except ValidationError as exc:
            errors.update(exc.message_dict)
    return errors


def checklist_status(opp: Opportunity, stage: Stage | None = None, provided: dict | None = None) -> list[dict]:
    """Each active item of the (current) stage with whether it is done and what it still lacks."""
    stage = stage or opp.stage
    provided = provided or {}
    done = {c.item_id: c for c in ChecklistCompletion.objects.filter(opportunity=opp, item__stage=stage).select_related("attachment")} if opp.pk else {}
    out = []
    for item in ChecklistItem.objects.filter(stage=stage, is_active=True).order_by("order", "id"):
        completion = done.get(item.pk)
        given = provided.get(item.pk) or provided.get(str(item.pk))
        note = (given or {}).get("note") if given else (completion.note if completion else "")
        attachment = (given or {}).get("attachment") if given else (completion.attachment if completion else None)
        if given and not note and completion:
            note = completion.note
        if given and not attachment and completion:
            attachment = completion.attachment
        is_done = bool(completion or (given and given.get("done", True)))
        lacks = []
        if not is_done:
            lacks.append("done")
        if item.needs_note and not (note or "").strip():
            lacks.append("note")
        if item.needs_attachment and not attachment:
            lacks.append("attachment")
        out.append({"item": item, "done": is_done, "note": note or "", "attachment": attachment, "completion": completion,
                    "lacks": lacks, "complete": not lacks})
    return out


def _days_over(stage: Stage | None, seconds: int | None) -> float:
    if stage is None or seconds is None or not stage.time_limit_days:
        return 0.0
    return round(max(0.0, seconds / 86400 - stage.time_limit_days), 2)


@transaction.atomic
def move_opportunity(actor, opp: Opportunity, to_stage: Stage, *, expected_version: int | None = None, values: dict | None = None,
                     checklist: dict | None = None, loss_reason: LossReason | None = None, competitor: Competitor | None = None,
                     loss_note: str = "") -> Opportunity:
    """Move a deal to another stage of its pipeline — THE stage gate.

    Refused (ValidationError, nothing saved) when: the stage belongs to another pipeline or is inactive; the
    deal was moved meanwhile (`expected_version` stale → key "version", code "stale"); a field the target
    stage requires is empty (key = field name, custom fields as cf_KEY); a required checklist item of the
    current stage is not done or lacks its note/attachment (key "checklist_<item id>") — checked when moving
    forward or winning, not when losing or stepping back; losing without a loss reason ("loss_reason").

    `values` fills fields in place ({name: value}); `checklist` ticks items in place
    ({item_id: {"note": str, "attachment": Attachment}}). Every move bumps `version` and writes a StageChange.
    """
    require(actor, "opportunities", Action.EDIT)
    opp = lock_visible(actor, Opportunity, opp.pk, Action.EDIT)
    values = dict(values or {})
    checklist = {int(k): v for k, v in (checklist or {}).items()}
    if not isinstance(to_stage, Stage):
        to_stage = Stage.objects.filter(pk=to_stage).first()
        if to_stage is None:
            raise coded("stage", _("Unknown stage."), "unknown_stage")
    if to_stage.pipeline_id != opp.pipeline_id:
        raise coded("stage", _("This stage belongs to another pipeline."), "wrong_pipeline")
    if not to_stage.is_active:
        raise coded("stage", _("This stage is no longer in use."), "inactive_stage")
    if expected_version is not None and int(expected_version) != opp.version:
        raise coded("version", _("Someone else changed this opportunity meanwhile (it is now in “%(stage)s”). Reload and try again.")
                    % {"stage": opp.stage.name}, "stale")
    if to_stage.pk == opp.stage_id:
        raise coded("stage", _("The opportunity is already in this stage."), "same_stage")
    previous = opp.stage
    errors = _apply_values(opp, values)
    for name in to_stage.required_fields or []:
        if name not in errors and not _is_filled(opp, name, values):
            errors[name] = [ValidationError(_("Required to enter “%(stage)s”.") % {"stage": to_stage.name}, code="required")]
    status = checklist_status(opp, previous, checklist)
    forward = to_stage.kind == StageKind.WON or (to_stage.kind == StageKind.OPEN and (to_stage.order, to_stage.pk) > (previous.order, previous.pk))
    if forward and previous.kind == StageKind.OPEN:
        for row in status:
            if row["item"].required and not row["complete"]:
                item = row["item"]
                if "done" in row["lacks"]:
                    message = _("Step not done: %(item)s") % {"item": item.text}
                elif "note" in row["lacks"]:
                    message = _("Step needs a note: %(item)s") % {"item": item.text}
                else:
                    message = _("Step needs an attachment: %(item)s") % {"item": item.text}
                errors[f"checklist_{item.pk}"] = [ValidationError(message, code="checklist")]
    if to_stage.kind == StageKind.LOST:
        if loss_reason is None:
            errors["loss_reason"] = [ValidationError(_("Choose why the deal was lost."), code="required")]
        elif not isinstance(loss_reason, LossReason) or not loss_reason.is_active:
            errors["loss_reason"] = [_("Choose a valid loss reason.")]
        if competitor is not None and not competitor.is_active:
            errors["competitor"] = [_("Choose a valid competitor.")]
        if len(loss_note or "") > 500:
            errors["loss_note"] = [_("At most 500 characters.")]
    errors.update({k: v for k, v in check_values(opp).items() if k not in errors})
    if errors:
        raise ValidationError(errors)

    now = timezone.now()
    # Checklist items ticked in place are saved only now that the gate has passed.
    for item_id, given in checklist.items():
        if not given.get("done", True):
            continue
        row = next((r for r in status if r["item"].pk == item_id), None)
        if row is None:
            continue
        _save_completion(actor, opp, row["item"], note=given.get("note") or "", attachment=given.get("attachment"))
    complete = all(r["complete"] for r in checklist_status(opp, previous) if r["item"].required)
    seconds = int((now - opp.stage_entered_at).total_seconds()) if opp.stage_entered_at else None
    opp.stage = to_stage
    opp.state = to_stage.kind
    if "probability" not in values:
        opp.probability = to_stage.probability
    opp.stage_entered_at = now
    opp.version += 1
    if to_stage.kind == StageKind.OPEN:
        opp.closed_at = None
        opp.loss_reason = opp.competitor = None
        opp.loss_note = ""
    else:
        opp.closed_at = now
        if to_stage.kind == StageKind.LOST:
            opp.loss_reason, opp.competitor, opp.loss_note = loss_reason, competitor, (loss_note or "").strip()
        else:
            opp.loss_reason = None
            opp.loss_note = ""
    opp.full_clean()
    check_field_permissions(actor, opp, allowed={"stage", "state", "probability", "stage_entered_at", "closed_at", "loss_reason",
                                                 "competitor", "loss_note"})
    opp.save()
    if "contacts" in values:
        opp.contacts.set(values["contacts"])
    StageChange.objects.create(
        opportunity=opp, pipeline_id=opp.pipeline_id, from_stage=previous, to_stage=to_stage, changed_by=actor,
        owner_id=opp.owner_id, department_id=opp.department_id, changed_at=now, seconds_in_previous=seconds,
        checklist_complete=complete, days_over_limit=_days_over(previous, seconds),
    )
    if to_stage.kind == StageKind.WON:
        _mark_customer_won(opp.customer_id, now)
    if to_stage.kind != StageKind.OPEN and previous.kind == StageKind.OPEN:
        _notify_manager_of_close(actor, opp, to_stage)
    return opp


NOTIFY_CLOSED = "opportunity_closed"


def owner_manager(opp: Opportunity):
    """The manager of the deal's owner: the manager of the owner's department, or of the nearest department above
    it with a manager other than the owner (a department head's deals go to their own manager). None if nobody."""
    from yingdan.org.models import Department

    owner = opp.owner
    if owner is None or owner.department_id is None:
        return None
    dept = owner.department
    ids = [int(p) for p in dept.path.strip("/").split("/") if p] or [dept.pk]
    managers = dict(Department.objects.filter(pk__in=ids, manager__isnull=False).values_list("pk", "manager_id"))
    for pk in reversed(ids):  # the owner's own department first, then up the tree
        manager_id = managers.get(pk)
        if manager_id and manager_id != owner.pk:
            return type(owner).objects.filter(pk=manager_id, is_active=True).first()
    return None


def _notify_manager_of_close(actor, opp: Opportunity, to_stage: Stage) -> None:
    """A won or lost deal is announced to the owner's manager (in the move's transaction: a rolled-back move
    notifies nobody; not the manager who closed it themselves — notify() skips the actor)."""
    from yingdan.notifications.services import notify

    manager = owner_manager(opp)
    if manager is None:
        return
    params = {"name": opp.name, "owner": str(opp.owner), "amount": f"{opp.amount:,.2f}", "currency": opp.currency}
    if to_stage.kind == StageKind.WON:
        title = _("Deal won: %(name)s") % params
        body = _("%(owner)s won %(name)s (%(currency)s %(amount)s).") % params
    else:
        params["reason"] = str(opp.loss_reason) if opp.loss_reason_id else ""
        title = _("Deal lost: %(name)s") % params
        body = _("%(owner)s lost %(name)s (%(currency)s %(amount)s). Reason: %(reason)s") % params
    notify([manager], NOTIFY_CLOSED, title, body=body, url=opp.get_absolute_url(), actor=actor, target=opp,
           dedupe_key=f"opportunity_closed:{opp.pk}:{opp.version}")


def _mark_customer_won(customer_id: int, now) -> None:
    """The customer becomes 'won' (成交) and remembers when: written through the model, so the change log
    records it."""
    customer = Customer.objects.select_for_update().filter(pk=customer_id).first()
    if customer is None:
        return
    won = Lookup.objects.filter(kind="customer_status", code="won").first()
    fields = ["last_won_at", "updated_at"]
    customer.last_won_at = now
    if won is not None and customer.status_id != won.pk:
        customer.status = won
        fields.append("status")
    customer.save(update_fields=fields)


def _save_completion(actor, opp, item, *, note="", attachment=None) -> ChecklistCompletion:
    completion, created = ChecklistCompletion.objects.get_or_create(
        opportunity=opp, item=item, defaults={"note": note[:500], "attachment": attachment, "done_by": actor}
    )
    if not created:
        changed = False
        if note and note != completion.note:
            completion.note, changed = note[:500], True
        if attachment is not None and completion.attachment_id != attachment.pk:
            completion.attachment, changed = attachment, True
        if changed:
            completion.done_by = actor
            completion.save(update_fields=["note", "attachment", "done_by"])
    changelog.record(opp, ChangeAction.UPDATE, {"checklist": [None, f"{item.text}: {note}".strip(": ")]})
    return completion


@transaction.atomic
def complete_checklist_item(actor, opp: Opportunity, item: ChecklistItem, *, note: str = "", attachment=None, done: bool = True):
    """Tick (or untick) an SOP step of the deal's current stage, with the note/attachment it needs."""
    require(actor, "opportunities", Action.EDIT)
    opp = lock_visible(actor, Opportunity, opp.pk, Action.EDIT)
    if item.stage_id != opp.stage_id or not item.is_active:
        raise ValidationError({"item": [_("This step does not belong to the opportunity's current stage.")]})
    note = (note or "").strip()
    if len(note) > 500:
        raise ValidationError({"note": [_("At most 500 characters.")]})
    if not done:
        deleted, _count = ChecklistCompletion.objects.filter(opportunity=opp, item=item).delete()
        if deleted:
            changelog.record(opp, ChangeAction.UPDATE, {"checklist": [item.text, None]})
        return None
    existing = ChecklistCompletion.objects.filter(opportunity=opp, item=item).first()
    errors = {}
    if item.needs_note and not note and not (existing and existing.note):
        errors["note"] = [_("This step needs a note.")]
    if item.needs_attachment and attachment is None and not (existing and existing.attachment_id):
        errors["attachment"] = [_("This step needs an attachment.")]
    if errors:
        raise ValidationError(errors)
    return _save_completion(actor, opp, item, note=note, attachment=attachment)


MAX_UPLOAD_BYTES = 20 * 1024 * 1024
ALLOWED_SUFFIXES = {".pdf", ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx", ".png", ".jpg", ".jpeg", ".gif", ".txt", ".csv", ".zip"}


def _validate_upload(uploaded) -> None:
    if core_validate_upload is not None:
        core_validate_upload(uploaded)
        return
    suffix = os.path.splitext(uploaded.name or "")[1].lower()
    if suffix not in ALLOWED_SUFFIXES:
        raise ValidationError({"attachment": [_("This file type is not allowed.")]})
    if uploaded.size > MAX_UPLOAD_BYTES:
        raise ValidationError({"attachment": [_("The file is too large (at most 20 MB).")]})


@transaction.atomic
def attach_file(actor, opp: Opportunity, uploaded):
    """Store an uploaded file on the opportunity (for a checklist step)."""
    require(actor, "opportunities", Action.EDIT)
    lock_visible(actor, Opportunity, opp.pk, Action.EDIT)
    try:
        _validate_upload(uploaded)
    except ValidationError as exc:
        if not hasattr(exc, "error_dict"):
            raise ValidationError({"attachment": exc.messages}) from exc
        raise
    return Attachment.objects.create(
        target_type=ContentType.objects.get_for_model(Opportunity), target_id=opp.pk, file=uploaded,
        name=(uploaded.name or "file")[:255], size=uploaded.size or 0,
        mime_type=(getattr(uploaded, "content_type", "") or "")[:100], uploaded_by=actor,
    )


@transaction.atomic
def transfer_opportunities(actor, ids, new_owner) -> int:
    """Change the owner of several opportunities (bulk, handover). Needs 'transfer'; each change audited."""
    require(actor, "opportunities", Action.TRANSFER)
    if new_owner is None or not new_owner.is_active:
        raise ValidationError({"owner": [_("Choose an active user.")]})
    count = 0
    for opp in Opportunity.objects.visible_to(actor, Action.TRANSFER).select_for_update().filter(pk__in=list(ids)):
        if opp.owner_id == new_owner.pk:
            continue
        opp.owner = new_owner
        opp.sync_department()
        opp.save(update_fields=["owner", "department", "updated_at"])
        count += 1
    return count


def bulk_move(actor, ids, to_stage: Stage) -> list[dict]:
    """Move several deals; each goes through the gate on its own (one refusal does not undo the others).
    Returns per row {"opportunity", "ok", "errors"}."""
    require(actor, "opportunities", Action.EDIT)
    results = []
    for opp in Opportunity.objects.visible_to(actor, Action.EDIT).filter(pk__in=list(ids)).select_related("stage").order_by("pk"):
        try:
            with transaction.atomic():
                move_opportunity(actor, opp, to_stage)
        except ValidationError as exc:
            results.append({"opportunity": opp, "ok": False, "errors": exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}})
        else:
            results.append({"opportunity": opp, "ok": True, "errors": {}})
    return results


@transaction.atomic
def delete_opportunity(actor, opp: Opportunity) -> None:
    require(actor, "opportunities", Action.DELETE)
    lock_visible(actor, Opportunity, opp.pk, Action.DELETE).delete()


def delete_opportunities(actor, ids) -> int:
    return delete_visible(actor, Opportunity, ids)


# -- handover ------------------------------------------------------------------------------------------
def handover_count(user) -> int:
    return Opportunity.objects.filter(owner=user, state=StageKind.OPEN).count()


def handover_ids(user) -> list[int]:
    return list(Opportunity.objects.filter(owner=user, state=StageKind.OPEN).order_by("pk").values_list("pk", flat=True))


def handover_transfer(actor, ids, new_owner) -> int:
    return transfer_opportunities(actor, ids, new_owner)
