"""Yingdan (赢单) — self-hosted sales-management CRM."""

__version__ = "0.1.0"
