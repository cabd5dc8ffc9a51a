"""Handover (离职交接): a leaving user's records go to one successor, are split evenly among several, or
return to the public pool — previewed first, then done in one transaction, summarised, audited, and the user
deactivated. The kinds of records come from `core.registry.handover_providers`; each provider moves its
records through its own domain service (which checks the actor's permission and data scope)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from yingdan.core import registry
from yingdan.core.choices import Action
from yingdan.core.exceptions import ObjectNotVisible
from yingdan.core.services import lock_visible, require
from yingdan.notifications.services import notify
from yingdan.org.models import User
from yingdan.org.services import deactivate_user

from .choices import HandoverMode
from .models import HandoverRecord

audit = logging.getLogger("yingdan.audit")


@dataclass
class KindPlan:
    key: str
    label: str
    total: int
    ids: list[int] = field(default_factory=list, repr=False)
    # user id -> ids of the records that go to that successor (one/split); empty in pool mode
    assignments: dict[int, list[int]] = field(default_factory=dict, repr=False)
    pool: int = 0  # records returned to the pool
    details: list[tuple[str, int]] = field(default_factory=list)

    def per_successor(self) -> dict[int, int]:
        return {uid: len(ids) for uid, ids in self.assignments.items()}


@dataclass
class HandoverPlan:
    """The preview: what would move where. `as_dict()` is the API's dry-run answer."""

    user: User
    mode: str
    successors: list[User]
    kinds: list[KindPlan]

    @property
    def total(self) -> int:
        return sum(k.total for k in self.kinds)

    def successor_totals(self) -> list[tuple[User, int]]:
        return [(s, sum(len(k.assignments.get(s.pk, [])) for k in self.kinds)) for s in self.successors]

    def rows(self) -> list[dict]:
        """One row per kind with the count per successor in successor order (for the preview table)."""
        return [
            {"kind": k, "cells": [len(k.assignments.get(s.pk, [])) for s in self.successors]}
            for k in self.kinds
        ]

    def summary(self) -> dict:
        return {
            k.key: {
                "label": str(k.label),
                "total": k.total,
                "pool": k.pool,
                "successors": {str(uid): n for uid, n in k.per_successor().items()},
                **({"details": {str(label): n for label, n in k.details}} if k.details else {}),
            }
            for k in self.kinds
        }

    def as_dict(self) -> dict:
        return {
            "user": self.user.pk,
            "mode": self.mode,
            "successors": [s.pk for s in self.successors],
            "total": self.total,
            "kinds": self.summary(),
        }


def providers() -> list:
    return sorted(registry.handover_providers.values(), key=lambda p: (p.order, p.key))


def holdings(actor, user) -> list[dict]:
    """What `user` holds, per kind (step 2 of the wizard): [{"key", "label", "count", "details"}]."""
    _check_actor(actor, user)
    out = []
    for provider in providers():
        count = provider.count(user)
        details = getattr(provider, "details", None)
        out.append({"key": provider.key, "label": provider.label, "count": count,
                    "details": list(details(user)) if details is not None and count else []})
    return out


def _check_actor(actor, user, *, lock: bool = False) -> User:
    """The actor may edit the leaving user (administrators and users-edit); returns the user re-read within
    the actor's scope (locked inside execute's transaction; previews lock nothing)."""
    require(actor, "users", Action.EDIT)
    if lock:
        user = lock_visible(actor, User, user.pk, Action.EDIT)
    else:
        user = User.objects.visible_to(actor, Action.EDIT).filter(pk=user.pk).first()
        if user is None:
            raise ObjectNotVisible()
    if user.pk == actor.pk:
        raise ValidationError(_("You cannot hand over your own records and deactivate yourself."))
    return user


def _resolve_successors(actor, user, mode: str, successors) -> list[User]:
    if mode not in HandoverMode.values:
        raise ValidationError({"mode": [_("Choose how to hand over: one successor, split, or the pool.")]})
    ids: list[int] = []
    for s in successors or []:
        pk = s.pk if isinstance(s, User) else s
        try:
            pk = int(pk)
        except (TypeError, ValueError):
            raise ValidationError({"successors": [_("Unknown user.")]}) from None
        if pk not in ids:
            ids.append(pk)
    if mode == HandoverMode.POOL:
        if not ids:
            return []  # _build_plan asks for one if a kind cannot return to a pool
    elif not ids:
        raise ValidationError({"successors": [_("Choose at least one successor.")]})
    if mode == HandoverMode.ONE and len(ids) != 1:
        raise ValidationError({"successors": [_("Choose exactly one successor.")]})
    if mode == HandoverMode.SPLIT and len(ids) < 2:
        raise ValidationError({"successors": [_("Choose at least two successors to split among.")]})
    if user.pk in ids:
        raise ValidationError({"successors": [_("The leaving user cannot be their own successor.")]})
    found = {u.pk: u for u in User.objects.visible_to(actor, Action.VIEW).filter(pk__in=ids)}
    missing = [pk for pk in ids if pk not in found]
    if missing:
        raise ValidationError({"successors": [_("Unknown user.")]})
    inactive = [str(found[pk]) for pk in ids if not found[pk].is_active]
    if inactive:
        raise ValidationError({"successors": [
            _("These users are deactivated and cannot take over records: %(names)s") % {"names": "、".join(inactive)}
        ]})
    return [found[pk] for pk in ids]


def _build_plan(user, mode: str, successors: list[User]) -> HandoverPlan:
    kinds = []
    offset = 0  # the round-robin carries on across kinds, so the totals stay even too
    for provider in providers():
        ids = list(provider.ids(user))
        plan = KindPlan(key=provider.key, label=provider.label, total=len(ids), ids=ids)
        details = getattr(provider, "details", None)
        if details is not None and ids:
            plan.details = list(details(user))
        if mode == HandoverMode.POOL and provider.release is not None:
            plan.pool = len(ids)
        elif successors:
            # round robin over the ids in stable order (one successor: all of them)
            n = len(successors)
            plan.assignments = {s.pk: [] for s in successors}
            for i, pk in enumerate(ids):
                plan.assignments[successors[(offset + i) % n].pk].append(pk)
            offset = (offset + len(ids)) % n
        elif ids:
            raise ValidationError({"successors": [
                _("%(kind)s cannot return to a pool: choose a successor for them.") % {"kind": provider.label}
            ]})
        kinds.append(plan)
    return HandoverPlan(user=user, mode=mode, successors=successors, kinds=kinds)


def plan_handover(actor, user, mode: str, successors=None, pool: bool = False) -> HandoverPlan:
    """Preview: counts per kind and per successor. Checks the same rules as `execute_handover`; writes nothing.
    `pool=True` is the same as mode "pool"."""
    if pool:
        mode = HandoverMode.POOL
    user = _check_actor(actor, user)
    successors = _resolve_successors(actor, user, mode, successors)
    return _build_plan(user, mode, successors)


@transaction.atomic
def execute_handover(actor, user, mode: str, successors=None, reason: str = "") -> HandoverRecord:
    """Hand over everything `user` holds and deactivate them, in one transaction: if any kind cannot be
    moved completely (a permission, a data scope, a pool rule), nothing changes. In pool mode, kinds without a
    pool (e.g. opportunities) go to the successors given (round robin), and one is required if there are any."""
    user = _check_actor(actor, user, lock=True)
    reason = (reason or "").strip()
    if len(reason) > 1000:
        raise ValidationError({"reason": [_("Keep the reason under 1,000 characters.")]})
    successors = _resolve_successors(actor, user, mode, successors)
    plan = _build_plan(user, mode, successors)
    by_key = registry.handover_providers
    for kind in plan.kinds:
        if not kind.total:
            continue
        provider = by_key[kind.key]
        if kind.pool:
            moved = provider.release(actor, kind.ids, reason or _("Handover"))
            _check_moved(kind, moved, kind.pool)
            continue
        for successor in successors:
            ids = kind.assignments.get(successor.pk) or []
            if ids:
                moved = provider.transfer(actor, ids, successor)
                _check_moved(kind, moved, len(ids))
    record = HandoverRecord(
        from_user=user, mode=mode, counts=plan.summary(), total=plan.total, reason=reason, created_by=actor,
    )
    record.full_clean()
    record.save()
    if successors:
        record.successors.set(successors)
    deactivate_user(actor, user)
    for successor, n in plan.successor_totals():
        if n:
            notify(
                [successor], "handover",
                _("%(n)d records of %(user)s were handed over to you") % {"n": n, "user": user.display_name},
                body=_handover_body(plan, successor), url=_successor_url(plan, successor, record), actor=actor,
                target=record,
                dedupe_key=f"handover:{record.pk}",
            )
    audit.info("handover", extra={"actor": actor.pk, "user": user.pk, "mode": mode, "total": plan.total, "record": record.pk})
    return record


def _check_moved(kind: KindPlan, moved, expected: int) -> None:
    if moved is not None and moved != expected:
        raise ValidationError(
            _("Only %(moved)d of %(expected)d %(kind)s could be handed over (the rest are outside your data "
              "scope or locked by a rule); nothing was changed.")
            % {"moved": moved, "expected": expected, "kind": kind.label}
        )


# Where a successor finds what they received: the list of the first kind they got, filtered to them.
KIND_LISTS = {"customers": "customers:customer_list", "leads": "leads:lead_list",
              "opportunities": "opportunities:opportunity_list"}


def _successor_url(plan: HandoverPlan, successor, record) -> str:
    for kind in plan.kinds:
        if kind.assignments.get(successor.pk) and kind.key in KIND_LISTS:
            try:
                return f"{reverse(KIND_LISTS[kind.key])}?owner={successor.pk}"
            except NoReverseMatch:
                continue
    return record.get_absolute_url()


def _handover_body(plan: HandoverPlan, successor) -> str:
    parts = []
    for kind in plan.kinds:
        n = len(kind.assignments.get(successor.pk, []))
        if n:
            parts.append(f"{kind.label} {n}")
    return "，".join(parts)
