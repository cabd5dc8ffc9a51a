"""Signatures exactly as the vendors specify (see shared reference im-robots.md) and our own webhook header."""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.parse


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk: HMAC-SHA256(key=secret, msg=f"{ts}\\n{secret}"), base64, then URL-encoded (for the query)."""
    string_to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), string_to_sign, hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest).decode())


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu: HMAC-SHA256(key=f"{ts}\\n{secret}", msg=b""), base64 (in the body) — key and message reversed."""
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


def webhook_signature(secret: str, body: bytes) -> str:
    """X-Yingdan-Signature: "sha256=" + hex HMAC-SHA256(secret, raw body)."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_webhook_signature(secret: str, body: bytes, header: str) -> bool:
    """What a receiver does (documented for integrators, used by the tests)."""
    return hmac.compare_digest(webhook_signature(secret, body), header or "")
