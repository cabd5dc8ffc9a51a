"""Test-only helpers wired in by yingdan/settings/test.py."""

import threading

_lock = threading.Lock()


class SerialRequestsMiddleware:
    """Handle one request at a time. Browser tests on SQLite run the live server against an in-memory database
    whose single connection Django shares between the server's request threads; two overlapping requests (the
    page and the notification bell's poll, say) would then interleave transactions on that one connection
    ("cannot start a transaction within a transaction"). PostgreSQL test runs don't need this."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with _lock:
            return self.get_response(request)
