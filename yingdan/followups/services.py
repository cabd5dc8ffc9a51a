"""Every write to follow-ups and their comments goes through these functions (web, API, import, automation).

Saving or deleting a follow-up refreshes its customer's (or lead's) `last_contact_at` and `next_followup_at`
from the latest follow-up: the next date is that follow-up's `next_at` if given, else its date plus the
customer level's follow-up cycle (`Lookup.extra["followup_cycle_days"]`).
"""

from __future__ import annotations

import datetime
import re

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from yingdan.core import changelog, files
from yingdan.core.choices import Action, ChangeAction, DataScope
from yingdan.core.exceptions import ObjectNotVisible
from yingdan.core.models import Attachment, Lookup
from yingdan.core.permissions import get_permissions
from yingdan.core.services import ensure_visible, lock_visible, require
from yingdan.customers.models import Contact, Customer
from yingdan.leads.models import Lead
from yingdan.notifications.services import notify

from .defaults import CYCLE_KEY
from .models import FollowUp, FollowUpComment

FUTURE_TOLERANCE = datetime.timedelta(days=1)
MAX_MENTIONS = 10


# -- next follow-up date ---------------------------------------------------------------------------------
def cycle_days(level_id) -> int | None:
    """Days between follow-ups for a customer level (None: no cycle configured)."""
    if not level_id:
        return None
    extra = Lookup.objects.filter(pk=level_id).values_list("extra", flat=True).first() or {}
    try:
        days = int(extra.get(CYCLE_KEY) or 0)
    except (TypeError, ValueError):
        return None
    return days if days > 0 else None


def next_date_for(parent, followup: FollowUp | None) -> datetime.date | None:
    if followup is None:
        return None
    if followup.next_at:
        return followup.next_at
    days = cycle_days(getattr(parent, "level_id", None))
    if days is None:
        return None
    return timezone.localdate(followup.occurred_at) + datetime.timedelta(days=days)


def refresh_contact_dates(model, pk) -> None:
    """Recompute the last-contact time and next follow-up date of one customer or lead from its latest
    follow-up (audited as a change of those two fields)."""
    if not pk:
        return
    parent = model.objects.select_for_update().filter(pk=pk).first()
    if parent is None:
        return
    field = "customer_id" if model is Customer else "lead_id"
    latest = FollowUp.objects.filter(**{field: pk}).order_by("-occurred_at", "-id").first()
    values = {
        "last_contact_at": latest.occurred_at if latest else None,
        "next_followup_at": next_date_for(parent, latest),
    }
    changes = {}
    for name, value in values.items():
        old = getattr(parent, name)
        if old != value:
            changes[name] = [changelog._plain(old), changelog._plain(value)]
            setattr(parent, name, value)
    if changes:
        model.objects.filter(pk=pk).update(**values)
        changelog.record(parent, ChangeAction.UPDATE, changes)


# -- follow-ups ----------------------------------------------------------------------------------------
def _check_dates(followup: FollowUp) -> None:
    errors = {}
    if followup.occurred_at and followup.occurred_at > timezone.now() + FUTURE_TOLERANCE:
        errors["occurred_at"] = [_("A follow-up cannot be dated more than one day in the future.")]
    if followup.next_at and followup.occurred_at and followup.next_at < timezone.localdate(followup.occurred_at):
        errors["next_at"] = [_("The next follow-up date cannot be before the follow-up itself.")]
    if errors:
        raise ValidationError(errors)


def _check_checkin(followup: FollowUp) -> None:
    errors = {}
    if followup.type_id and followup.type.code == "visit" and not (followup.checkin_address or "").strip():
        errors["checkin_address"] = [_("A visit needs the check-in address.")]
    if (followup.checkin_lat is None) != (followup.checkin_lng is None):
        errors["checkin_lat"] = [_("Give both latitude and longitude, or neither.")]
    if followup.checkin_lat is not None and not -90 <= followup.checkin_lat <= 90:
        errors["checkin_lat"] = [_("Latitude must be between -90 and 90.")]
    if followup.checkin_lng is not None and not -180 <= followup.checkin_lng <= 180:
        errors["checkin_lng"] = [_("Longitude must be between -180 and 180.")]
    if errors:
        raise ValidationError(errors)


def _check_parent(actor, followup: FollowUp, contacts) -> None:
    if not followup.customer_id and not followup.lead_id:
        raise ValidationError({"customer": [_("Choose the customer or lead this follow-up is about.")]})
    if followup.customer_id and not Customer.objects.visible_to(actor).filter(pk=followup.customer_id).exists():
        raise ValidationError({"customer": [_("Choose a customer you have access to.")]})
    if followup.lead_id and not Lead.objects.visible_to(actor).filter(pk=followup.lead_id).exists():
        raise ValidationError({"lead": [_("Choose a lead you have access to.")]})
    if contacts:
        ids = {c.pk if isinstance(c, Contact) else int(c) for c in contacts}
        ok = set(Contact.objects.filter(pk__in=ids, customer_id=followup.customer_id).values_list("pk", flat=True)) if followup.customer_id else set()
        if ok != ids:
            raise ValidationError({"contacts": [_("Contacts must belong to the follow-up's customer.")]})


def _check_author(actor, followup: FollowUp, action: str) -> None:
    """With the 'own' scope a user changes only the follow-ups they wrote (they see others' on their customers)."""
    if get_permissions(actor).scope("followups") == DataScope.OWN and followup.owner_id != actor.pk:
        raise PermissionDenied(_("You can only change follow-ups you wrote."))


@transaction.atomic
def save_followup(actor, followup: FollowUp, *, contacts=None, files_to_attach=None) -> FollowUp:
    """Create or update a follow-up (the author is the actor on create), attach the uploaded files (all are
    validated first: one bad file saves nothing) and refresh the customer's/lead's follow-up dates."""
    is_new = followup.pk is None
    previous_parents = set()
    if is_new:
        require(actor, "followups", Action.CREATE)
        followup.owner = actor
        followup.created_by = actor
    else:
        require(actor, "followups", Action.EDIT)
        current = lock_visible(actor, FollowUp, followup.pk, Action.EDIT)
        _check_author(actor, current, Action.EDIT)
        followup.owner_id = current.owner_id
        previous_parents = {(Customer, current.customer_id), (Lead, current.lead_id)}
        if not hasattr(followup, "_changelog_snapshot"):
            followup._changelog_snapshot = current._changelog_snapshot
    followup.sync_department()
    followup.content = (followup.content or "").strip()
    followup.full_clean()
    _check_dates(followup)
    _check_checkin(followup)
    _check_parent(actor, followup, contacts)
    if files_to_attach:
        try:
            files.validate_uploads(files_to_attach)
        except ValidationError as exc:
            raise ValidationError({"files": exc.messages}) from None
    followup.save()
    if contacts is not None:
        followup.contacts.set(contacts)
    if files_to_attach:
        files.attach(actor, followup, files_to_attach)
    for model, pk in previous_parents | {(Customer, followup.customer_id), (Lead, followup.lead_id)}:
        refresh_contact_dates(model, pk)
    ensure_visible(actor, followup, Action.VIEW)
    return followup


@transaction.atomic
def delete_followup(actor, followup: FollowUp) -> None:
    require(actor, "followups", Action.DELETE)
    current = lock_visible(actor, FollowUp, followup.pk, Action.DELETE)
    _check_author(actor, current, Action.DELETE)
    customer_id, lead_id = current.customer_id, current.lead_id
    current.delete()  # its attachments go with it (followup_deleted)
    refresh_contact_dates(Customer, customer_id)
    refresh_contact_dates(Lead, lead_id)


def followup_deleted(sender, instance, using=None, **kwargs):
    """post_delete of a follow-up, however it goes (delete_followup, or the cascade of deleting its customer or
    lead): its attachment rows are deleted in the same transaction and the stored files once it commits (a
    rollback keeps both)."""
    target_type = ContentType.objects.db_manager(using).get_for_model(FollowUp)
    attachments = list(Attachment.objects.using(using).filter(target_type=target_type, target_id=instance.pk))
    if not attachments:
        return
    Attachment.objects.using(using).filter(pk__in=[a.pk for a in attachments]).delete()
    transaction.on_commit(lambda: files.delete_files(attachments), using=using)


@transaction.atomic
def add_attachments(actor, followup: FollowUp, uploads) -> list[Attachment]:
    require(actor, "followups", Action.EDIT)
    current = lock_visible(actor, FollowUp, followup.pk, Action.EDIT)
    _check_author(actor, current, Action.EDIT)
    try:
        return files.attach(actor, current, uploads)
    except ValidationError as exc:
        raise ValidationError({"files": exc.messages}) from None


# -- comments and mentions ------------------------------------------------------------------------------
MENTION_RE = re.compile(r"@([^\s@,，。;；:：!！?？、()（）]{1,30})")


def resolve_mentions(text: str):
    """Active users named in `text` as @username or @姓名. A name may run into the following text
    (“@张伟请跟进”): the longest username/name that prefixes the mention wins."""
    tokens = MENTION_RE.findall(text or "")[:MAX_MENTIONS]
    if not tokens:
        return []
    prefixes = {t[:n] for t in tokens for n in range(1, len(t) + 1)}
    User = get_user_model()
    candidates = list(User.objects.filter(is_active=True).filter(Q(username__in=prefixes) | Q(name__in=prefixes)))
    found = {}
    for token in tokens:
        best, best_len = None, 0
        for user in candidates:
            for key in (user.username, user.name):
                if key and token.startswith(key) and len(key) > best_len:
                    best, best_len = user, len(key)
        if best is not None:
            found[best.pk] = best
    return list(found.values())


@transaction.atomic
def add_comment(actor, followup: FollowUp, body: str) -> FollowUpComment:
    """A comment (点评) by anyone who can see the follow-up; @mentioned users and the author are notified."""
    require(actor, "followups", Action.VIEW)
    target = FollowUp.objects.visible_to(actor).select_related("customer", "lead").filter(pk=followup.pk).first()
    if target is None:
        raise ObjectNotVisible()
    comment = FollowUpComment(followup=target, author=actor, body=(body or "").strip())
    comment.full_clean()
    comment.save()
    mentioned = resolve_mentions(comment.body)
    if mentioned:
        comment.mentions.set(mentioned)
    changelog.record(comment, ChangeAction.CREATE, {"body": [None, comment.body], "followup": [None, target.pk]})
    url = target.get_absolute_url()
    about = str(target.parent or target)
    excerpt = comment.body[:200]
    notify(
        mentioned, "mention",
        _("%(actor)s mentioned you in a comment on %(about)s") % {"actor": str(actor), "about": about},
        body=excerpt, url=url, actor=actor, target=target,
    )
    if target.owner_id and target.owner_id not in {u.pk for u in mentioned}:
        notify(
            [target.owner], "followup_comment",
            _("%(actor)s commented on your follow-up on %(about)s") % {"actor": str(actor), "about": about},
            body=excerpt, url=url, actor=actor, target=target,
        )
    return comment


@transaction.atomic
def delete_comment(actor, comment: FollowUpComment) -> None:
    """A comment is withdrawn by its author (or an administrator)."""
    if comment.author_id != actor.pk and not get_permissions(actor).is_admin:
        raise PermissionDenied(_("You can only delete your own comments."))
    changelog.record(comment, ChangeAction.DELETE, {"body": [comment.body, None]})
    comment.delete()
