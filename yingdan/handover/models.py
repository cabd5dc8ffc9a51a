"""Handover (离职交接) records."""

from __future__ import annotations

from django.db import models  # noqa: F401
