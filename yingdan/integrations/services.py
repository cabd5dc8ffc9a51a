"""Robots and webhooks: configuration services, event subscription, signed delivery with retries, pacing.

Delivery rows (WebhookDelivery / RobotMessage) are written before anything is sent; the worker sends each
row and records the outcome, so a worker killed mid-batch and restarted skips what was already delivered.
Retries are not sleeping jobs: a per-minute periodic job picks up rows whose next attempt is due."""

from __future__ import annotations

import fnmatch
import json
import logging
import threading
import time
import uuid
from datetime import timedelta

import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from yingdan.core.choices import Action
from yingdan.core.services import require

from . import signing
from .crypto import UnreadableSecret
from .models import Robot, RobotMessage, Vendor, Webhook, WebhookDelivery

log = logging.getLogger(__name__)

NOTIFY_WEBHOOK_DISABLED = "webhook_disabled"
TIMEOUT = getattr(settings, "WEBHOOK_TIMEOUT", 5.0)  # seconds: a hanging endpoint never holds a worker longer
RETRY_SCHEDULE = [60, 5 * 60, 30 * 60, 2 * 3600, 12 * 3600]  # after attempt 1, 2, ... (seconds)
AUTO_DISABLE_AFTER = 10  # consecutive failed attempts
EXCERPT = 500


# -- HTTP client ------------------------------------------------------------------------------------
_client_lock = threading.Lock()
_client: httpx.Client | None = None


def client() -> httpx.Client:
    """One keep-alive client per process (thread-safe); no redirects, short timeouts."""
    global _client
    if _client is None:
        with _client_lock:
            if _client is None:
                _client = httpx.Client(timeout=httpx.Timeout(TIMEOUT, connect=min(TIMEOUT, 3.0)), follow_redirects=False,
                                       limits=httpx.Limits(max_connections=64, max_keepalive_connections=32),
                                       headers={"User-Agent": "Yingdan-Webhook/1"})
    return _client


# -- configuration ----------------------------------------------------------------------------------
def _keep_secret(obj, model) -> None:
    """An empty secret on edit keeps the stored one (forms and API never show it back)."""
    if obj.pk and not obj.secret:
        obj.secret = model.objects.filter(pk=obj.pk).values_list("secret", flat=True).first() or ""


def validate_patterns(events) -> list[str]:
    if not isinstance(events, list) or not events or not all(isinstance(e, str) and e.strip() for e in events):
        raise ValidationError({"events": _("List at least one event name or pattern.")}, code="invalid")
    out = []
    for e in events:
        e = e.strip()
        if len(e) > 100 or not all(c.isalnum() or c in "._*-" for c in e):
            raise ValidationError({"events": _("Invalid event pattern: %(p)s") % {"p": e}}, code="invalid")
        out.append(e)
    return out


@transaction.atomic
def save_webhook(actor, webhook: Webhook) -> Webhook:
    require(actor, "settings", Action.EDIT)
    _keep_secret(webhook, Webhook)
    webhook.events = validate_patterns(webhook.events)
    if not webhook.secret:
        webhook.secret = "whsec_" + uuid.uuid4().hex
    if webhook.is_active:
        webhook.disabled_reason = ""
        if webhook.pk and Webhook.objects.filter(pk=webhook.pk, is_active=False).exists():
            webhook.consecutive_failures = 0
    webhook.full_clean()
    webhook.save()
    return webhook


@transaction.atomic
def delete_webhook(actor, webhook: Webhook) -> None:
    require(actor, "settings", Action.EDIT)
    webhook.delete()


@transaction.atomic
def save_robot(actor, robot: Robot) -> Robot:
    require(actor, "settings", Action.EDIT)
    _keep_secret(robot, Robot)
    from yingdan.core import registry

    unknown = [k for k in robot.kinds or [] if k not in registry.notification_kinds]
    if unknown:
        raise ValidationError({"kinds": _("Unknown notification kinds: %(k)s") % {"k": ", ".join(unknown)}})
    robot.full_clean()
    robot.save()
    return robot


@transaction.atomic
def delete_robot(actor, robot: Robot) -> None:
    require(actor, "settings", Action.EDIT)
    robot.delete()


# -- event subscription -----------------------------------------------------------------------------
_subs: dict = {"at": 0.0, "items": None}
SUBS_TTL = 10.0  # seconds; saves in this process invalidate at once


def invalidate_subscriptions(**kwargs) -> None:
    _subs["items"] = None


def active_subscriptions() -> list[tuple[int, list[str]]]:
    now = time.monotonic()
    if _subs["items"] is None or now - _subs["at"] > SUBS_TTL:
        _subs["items"] = list(Webhook.objects.filter(is_active=True).values_list("id", "events"))
        _subs["at"] = now
    return _subs["items"]


def matches(patterns, event_name: str) -> bool:
    return any(p == event_name or fnmatch.fnmatchcase(event_name, p) for p in patterns)


def on_event(event) -> None:
    """After commit: one delivery row per matching active webhook, then a job sends them."""
    if event.name.startswith("integrations."):
        return  # our own configuration changes are not business events (and must not loop)
    subs = active_subscriptions()
    if not subs:
        return
    hooks = [wid for wid, patterns in subs if matches(patterns, event.name)]
    if not hooks:
        return
    event_id = uuid.uuid4().hex
    payload = event.payload()
    payload["event_id"] = event_id
    ids = create_deliveries(hooks, event.name, event_id, payload)
    if ids:
        from .tasks import deliver_webhooks

        deliver_webhooks(ids)


def create_deliveries(webhook_ids, event_name: str, event_id: str, payload: dict) -> list[int]:
    ids = []
    for wid in webhook_ids:
        try:
            with transaction.atomic():
                d = WebhookDelivery.objects.create(webhook_id=wid, event=event_name, event_id=event_id, payload=payload)
            ids.append(d.pk)
        except IntegrityError:
            continue  # already queued for this event (a re-run)
    return ids


# -- webhook delivery -------------------------------------------------------------------------------
def delivery_body(delivery: WebhookDelivery) -> bytes:
    return json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":"), default=str).encode()


UNREADABLE_ERROR = "secret unreadable (SECRET_KEY changed?)"
DELIVERY_LEASE = timedelta(minutes=2)  # longer than the request timeout


def send_delivery(delivery_id, *, now=None) -> WebhookDelivery | None:
    """Send one delivery (an id, or a row just read by the caller) unless it is already delivered/finally
    failed or not due. Records the outcome."""
    if isinstance(delivery_id, WebhookDelivery):
        delivery = delivery_id
    else:
        delivery = WebhookDelivery.objects.select_related("webhook").filter(pk=delivery_id).first()
    if delivery is None or delivery.status in (WebhookDelivery.Status.SUCCESS, WebhookDelivery.Status.FAILED):
        return delivery
    now = now or timezone.now()
    if delivery.status == WebhookDelivery.Status.RETRYING and delivery.next_retry_at and delivery.next_retry_at > now:
        return delivery
    hook = delivery.webhook
    if not hook.is_active and delivery.redelivery_of_id is None and delivery.requested_by_id is None:
        delivery.status = WebhookDelivery.Status.FAILED
        delivery.error = _("Webhook disabled")[:300]
        delivery.next_retry_at = None
        delivery.save(update_fields=["status", "error", "next_retry_at"])
        return delivery
    # Lease the row before sending: the conditional UPDATE succeeds for one sender only, so the minute sweep and
    # a still-running job never both send it; a sender that dies leaves a lease that expires and the sweep retries.
    claimed = WebhookDelivery.objects.filter(
        pk=delivery.pk, status=delivery.status, next_retry_at=delivery.next_retry_at
    ).update(next_retry_at=now + DELIVERY_LEASE)
    if not claimed:
        return delivery
    if isinstance(hook.secret, UnreadableSecret):
        # never send unsigned or wrongly signed: fail (and retry) until the key is restored or the secret re-entered
        record_attempt(delivery, ok=False, code=None, elapsed_ms=0, excerpt="", error=UNREADABLE_ERROR, now=now)
        return delivery
    body = delivery_body(delivery)
    headers = {
        "Content-Type": "application/json",
        "X-Yingdan-Event": delivery.event,
        "X-Yingdan-Delivery": str(delivery.uuid),
        "X-Yingdan-Signature": signing.webhook_signature(hook.secret, body),
    }
    started = time.perf_counter()
    ok = False
    code = None
    excerpt = ""
    error = ""
    try:
        resp = client().post(hook.url, content=body, headers=headers)
        code = resp.status_code
        excerpt = resp.text[:EXCERPT]
        ok = 200 <= code < 300
        if not ok:
            error = f"HTTP {code}"
    except httpx.TimeoutException:
        error = "timeout"
    except httpx.HTTPError as exc:
        error = f"{type(exc).__name__}: {exc}"[:300]
    elapsed = int((time.perf_counter() - started) * 1000)
    record_attempt(delivery, ok=ok, code=code, elapsed_ms=elapsed, excerpt=excerpt, error=error, now=now)
    return delivery


def record_attempt(delivery: WebhookDelivery, *, ok, code, elapsed_ms, excerpt, error, now) -> None:
    delivery.attempt += 1
    delivery.http_status = code
    delivery.response_ms = elapsed_ms
    delivery.response_excerpt = excerpt
    delivery.error = error[:300]
    if ok:
        delivery.status = WebhookDelivery.Status.SUCCESS
        delivery.delivered_at = now
        delivery.next_retry_at = None
    elif delivery.attempt <= len(RETRY_SCHEDULE) and delivery.redelivery_of_id is None and delivery.requested_by_id is None:
        delivery.status = WebhookDelivery.Status.RETRYING
        delivery.next_retry_at = now + timedelta(seconds=RETRY_SCHEDULE[delivery.attempt - 1])
    else:
        delivery.status = WebhookDelivery.Status.FAILED
        delivery.next_retry_at = None
    delivery.save(update_fields=["attempt", "http_status", "response_ms", "response_excerpt", "error", "status",
                                 "delivered_at", "next_retry_at"])
    if ok:
        # a hot row under load: written only when there is something to reset or the stamp is a second old
        Webhook.objects.filter(pk=delivery.webhook_id).filter(
            Q(consecutive_failures__gt=0) | Q(last_delivery_at__isnull=True) | Q(last_delivery_at__lt=now - timedelta(seconds=1))
        ).update(consecutive_failures=0, last_delivery_at=now)
        return
    with transaction.atomic():
        hook = Webhook.objects.select_for_update().get(pk=delivery.webhook_id)
        hook.consecutive_failures += 1
        hook.last_delivery_at = now
        fields = ["consecutive_failures", "last_delivery_at"]
        limit = getattr(settings, "WEBHOOK_AUTO_DISABLE_AFTER", AUTO_DISABLE_AFTER)
        disable = hook.is_active and hook.consecutive_failures >= limit
        if disable:
            hook.is_active = False
            hook.disabled_reason = (_("Disabled after %(n)d consecutive failed deliveries (last: %(err)s).")
                                    % {"n": hook.consecutive_failures, "err": error or code})[:300]
            fields += ["is_active", "disabled_reason"]
        Webhook.objects.filter(pk=hook.pk).update(**{f: getattr(hook, f) for f in fields})
    if disable:
        invalidate_subscriptions()
        _notify_admins_disabled(hook)


def _notify_admins_disabled(hook: Webhook) -> None:
    from yingdan.core.permissions import get_permissions
    from yingdan.notifications.services import notify
    from yingdan.org.models import User

    admins = [u for u in User.objects.filter(is_active=True) if get_permissions(u).has("settings", Action.EDIT)]
    notify(admins, NOTIFY_WEBHOOK_DISABLED, _("Webhook %(name)s was disabled") % {"name": hook.name},
           body=hook.disabled_reason, url=hook.get_absolute_url(), dedupe_key=f"webhook-disabled:{hook.pk}:{hook.consecutive_failures}")


def deliver_batch(ids) -> int:
    """The job: send each row in order; rows already delivered are skipped (a restarted job is harmless)."""
    sent = 0
    ids = list(ids)
    for start in range(0, len(ids), 200):  # read the rows a chunk at a time (one query, not one per row)
        chunk = ids[start:start + 200]
        rows = {d.pk: d for d in WebhookDelivery.objects.select_related("webhook").filter(pk__in=chunk)}
        sent += _send_rows([rows[pk] for pk in chunk if pk in rows])
    return sent


def _send_rows(rows) -> int:
    sent = 0
    for row in rows:
        d = send_delivery(row)
        if d is not None and d.status == WebhookDelivery.Status.SUCCESS:
            sent += 1
    return sent


def due_retries(now=None) -> list[int]:
    now = now or timezone.now()
    return list(WebhookDelivery.objects.filter(
        status__in=[WebhookDelivery.Status.RETRYING, WebhookDelivery.Status.PENDING],
        next_retry_at__lte=now).order_by("id").values_list("id", flat=True)[:1000]) + list(
        WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING, next_retry_at__isnull=True,
                                       created_at__lte=now - timedelta(minutes=2)).order_by("id").values_list("id", flat=True)[:1000])


def process_due_webhooks(now=None) -> int:
    """Periodic: retries that are due, and pending rows whose job was lost (worker died before sending)."""
    n = 0
    for pk in due_retries(now):
        send_delivery(pk, now=now)
        n += 1
    return n


@transaction.atomic
def redeliver(actor, delivery: WebhookDelivery) -> WebhookDelivery:
    """Manual redelivery: a new row (same event id and payload, a new delivery id), sent by the worker."""
    require(actor, "settings", Action.EDIT)
    new = WebhookDelivery.objects.create(
        webhook=delivery.webhook, event=delivery.event, event_id=delivery.event_id, payload=delivery.payload,
        redelivery_of=delivery, requested_by=actor,
    )
    from .tasks import deliver_webhooks

    transaction.on_commit(lambda: deliver_webhooks([new.pk]))
    return new


def send_test_event(actor, webhook: Webhook) -> WebhookDelivery:
    """A `ping` delivery sent now (the UI shows the result)."""
    require(actor, "settings", Action.EDIT)
    event_id = uuid.uuid4().hex
    d = WebhookDelivery.objects.create(
        webhook=webhook, event="ping", event_id=event_id, requested_by=actor,
        payload={"event": "ping", "event_id": event_id, "webhook": webhook.pk, "at": timezone.now().isoformat()},
    )
    return send_delivery(d.pk)


# -- robots -----------------------------------------------------------------------------------------
RATE_LIMITS = {  # (window seconds, max messages) per robot
    Vendor.DINGTALK: [(60, 20)],
    Vendor.WECOM: [(60, 20)],
    Vendor.FEISHU: [(1, 5), (60, 100)],
}
RATE_LIMIT_CODES = {"130101", "11232", "45009"}
RATE_LIMIT_WAIT = {Vendor.DINGTALK: 600, Vendor.FEISHU: 60, Vendor.WECOM: 60}
TEXT_LIMIT = {Vendor.WECOM: 4096, Vendor.FEISHU: 20000, Vendor.DINGTALK: 20000}
ROBOT_RETRIES = [60, 300, 1800]


class RobotResult:
    def __init__(self, ok: bool, code: str = "", message: str = "", retry: bool = False, config: bool = False):
        self.ok, self.code, self.message, self.retry, self.config = ok, code, message, retry, config

    def as_dict(self) -> dict:
        return {"ok": self.ok, "code": self.code, "message": self.message, "retry": self.retry, "config_error": self.config}


def _clip(text: str, limit: int) -> str:
    raw = text.encode()
    if len(raw) <= limit:
        return text
    return raw[: limit - 3].decode(errors="ignore") + "…"


def build_request(robot: Robot, title: str, text: str, mentions=(), *, now: float | None = None) -> tuple[str, dict]:
    """(url, json body) for one message, signed as the vendor requires."""
    now = time.time() if now is None else now
    content = f"{robot.keyword} {title}" if robot.keyword and robot.keyword not in f"{title}\n{text}" else title
    mentions = [str(m) for m in mentions or [] if m]
    url = robot.webhook_url
    if robot.vendor == Vendor.DINGTALK:
        md = f"### {content}\n\n{text}" + ("\n\n" + " ".join(f"@{m}" for m in mentions) if mentions else "")
        body = {"msgtype": "markdown", "markdown": {"title": content[:100], "text": _clip(md, TEXT_LIMIT[robot.vendor])},
                "at": {"atMobiles": mentions, "isAtAll": False}}
        if robot.secret:
            ts = int(now * 1000)
            url += ("&" if "?" in url else "?") + f"timestamp={ts}&sign={signing.dingtalk_sign(robot.secret, ts)}"
        return url, body
    if robot.vendor == Vendor.FEISHU:
        msg = f"{content}\n{text}".strip() + ("".join(f' <at user_id="{m}"></at>' for m in mentions) if mentions else "")
        body = {"msg_type": "text", "content": {"text": _clip(msg, TEXT_LIMIT[robot.vendor])}}
        if robot.secret:
            ts = int(now)
            body = {"timestamp": str(ts), "sign": signing.feishu_sign(robot.secret, ts), **body}
        return url, body
    # WeCom: markdown cannot mention; with mentions send text
    if mentions:
        body = {"msgtype": "text", "text": {"content": _clip(f"{content}\n{text}", 2048), "mentioned_mobile_list": mentions}}
    else:
        body = {"msgtype": "markdown", "markdown": {"content": _clip(f"**{content}**\n{text}", 4096)}}
    return url, body


def post_robot(robot: Robot, title: str, text: str, mentions=()) -> RobotResult:
    if isinstance(robot.webhook_url, UnreadableSecret) or isinstance(robot.secret, UnreadableSecret):
        return RobotResult(False, "unreadable", _("The stored URL or secret cannot be decrypted (SECRET_KEY changed?): "
                                                  "restore the old key or enter them again."), config=True)
    url, body = build_request(robot, title, text, mentions)
    try:
        resp = client().post(url, json=body)
    except httpx.TimeoutException:
        return RobotResult(False, "timeout", _("The robot did not answer in time."), retry=True)
    except httpx.HTTPError as exc:
        return RobotResult(False, "network", str(exc)[:300], retry=True)
    if resp.status_code >= 500 or resp.status_code == 429:
        return RobotResult(False, f"http{resp.status_code}", resp.text[:300], retry=True)
    try:
        data = resp.json()
    except ValueError:
        return RobotResult(False, f"http{resp.status_code}", resp.text[:300], config=True)
    code = data.get("errcode", data.get("code", data.get("StatusCode", 0 if resp.status_code == 200 else resp.status_code)))
    message = str(data.get("errmsg") or data.get("msg") or data.get("StatusMessage") or "")
    if str(code) == "0" and resp.status_code == 200:
        return RobotResult(True, "0", message)
    code = str(code)
    if code in RATE_LIMIT_CODES:
        return RobotResult(False, code, message, retry=True)
    # signature, keyword, IP, bad token...: a configuration error — never retried blindly
    return RobotResult(False, code, message[:300], config=True)


def pace_delay(robot: Robot, now=None) -> float:
    """Seconds to wait before this robot may send again within its vendor limits (0 = now)."""
    now = now or timezone.now()
    wait = 0.0
    for window, limit in RATE_LIMITS[robot.vendor]:
        since = now - timedelta(seconds=window)
        recent = list(RobotMessage.objects.filter(robot=robot, sent_at__gt=since).order_by("-sent_at")
                      .values_list("sent_at", flat=True)[:limit])
        if len(recent) >= limit:
            oldest = recent[-1]
            wait = max(wait, (oldest + timedelta(seconds=window) - now).total_seconds() + 0.05)
    return wait


def _mark_robot(robot: Robot, result: RobotResult, now) -> None:
    if result.ok:
        Robot.objects.filter(pk=robot.pk).update(last_sent_at=now, last_error="", last_error_code="")
    else:
        Robot.objects.filter(pk=robot.pk).update(last_error=result.message[:500] or result.code, last_error_code=result.code[:20])


def send_robot_queue(robot_id: int, *, now=None, sleep=time.sleep, max_wait: float = 2.0) -> float:
    """Send the robot's due messages in order, paced. Waits in-process only for short gaps (Feishu's 5/s);
    returns the seconds until the next message may go (0 when the queue is empty) — the caller reschedules."""
    robot = Robot.objects.filter(pk=robot_id).first()
    if robot is None or not robot.is_active:
        return 0
    while True:
        current = now or timezone.now()
        msg = (RobotMessage.objects.filter(robot=robot, status__in=[RobotMessage.Status.PENDING, RobotMessage.Status.RETRYING])
               .filter(models_q_due(current)).order_by("id").first())
        if msg is None:
            return 0
        wait = pace_delay(robot, current)
        if wait > 0:
            if wait > max_wait or now is not None:
                return wait
            sleep(wait)
            continue
        result = post_robot(robot, msg.title, msg.text, msg.mentions)
        msg.attempts += 1
        msg.error_code, msg.error = ("" if result.ok else result.code[:20]), ("" if result.ok else result.message[:500])
        if result.ok:
            # stamped after the answer (not before the request): the vendor counted it no earlier than this
            msg.status, msg.sent_at, msg.next_attempt_at = RobotMessage.Status.SENT, now or timezone.now(), None
        elif result.config:
            msg.status, msg.next_attempt_at = RobotMessage.Status.CONFIG_ERROR, None
        elif result.code in RATE_LIMIT_CODES:
            msg.status = RobotMessage.Status.RETRYING
            msg.next_attempt_at = current + timedelta(seconds=RATE_LIMIT_WAIT[robot.vendor])
        elif msg.attempts <= len(ROBOT_RETRIES):
            msg.status = RobotMessage.Status.RETRYING
            msg.next_attempt_at = current + timedelta(seconds=ROBOT_RETRIES[msg.attempts - 1])
        else:
            msg.status, msg.next_attempt_at = RobotMessage.Status.FAILED, None
        msg.save()
        _mark_robot(robot, result, current)
        if not result.ok:
            return 0 if msg.status in (RobotMessage.Status.CONFIG_ERROR, RobotMessage.Status.FAILED) else (
                (msg.next_attempt_at - current).total_seconds())


def models_q_due(now):
    from django.db.models import Q

    return Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)


def enqueue_robot_message(robot: Robot, title: str, text: str = "", mentions=(), dedupe_key: str | None = None) -> RobotMessage | None:
    try:
        with transaction.atomic():
            msg = RobotMessage.objects.create(robot=robot, title=str(title)[:200], text=str(text), mentions=list(mentions),
                                              dedupe_key=dedupe_key)
    except IntegrityError:
        return None
    from .tasks import send_robot

    transaction.on_commit(lambda: send_robot(robot.pk))
    return msg


def test_send(actor, robot: Robot) -> RobotResult:
    """Send a test message now and show the vendor's answer; records the robot's last error."""
    require(actor, "settings", Action.EDIT)
    result = post_robot(robot, _("Yingdan test message"), _("If you can read this, the robot is configured correctly."))
    now = timezone.now()
    _mark_robot(robot, result, now)
    robot.refresh_from_db()
    return result


def robots_for_kind(kind: str):
    return [r for r in Robot.objects.filter(is_active=True) if kind in (r.kinds or [])]


def robot_channel(*, kind: str, title: str, body: str, url: str, dedupe_key: str | None) -> None:
    """notify() hook: post the notification to every active robot subscribed to its kind (once per notify
    call, not per recipient; a re-run with the same dedupe key posts nothing twice)."""
    for robot in robots_for_kind(kind):
        base = getattr(settings, "SITE_URL", "").rstrip("/")
        text = body + (f"\n\n{base}{url}" if url and base else "")
        enqueue_robot_message(robot, title, text, dedupe_key=f"{dedupe_key}:robot{robot.pk}" if dedupe_key else None)


def process_due_robots(now=None) -> None:
    now = now or timezone.now()
    ids = (RobotMessage.objects.filter(status__in=[RobotMessage.Status.PENDING, RobotMessage.Status.RETRYING])
           .filter(models_q_due(now)).values_list("robot_id", flat=True).distinct())
    for rid in set(ids):
        send_robot_queue(rid)
