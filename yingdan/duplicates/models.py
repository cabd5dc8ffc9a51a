"""Duplicate-check rules (查重规则), ownership-transfer requests raised from a hit, and merge redirects."""

from __future__ import annotations

from django.db import models  # noqa: F401
