"""A local fake of the vendors' robot endpoints and of a webhook receiver (threaded http.server on 127.0.0.1).

- DingTalk  POST /robot/send?access_token=T[&timestamp&sign]: checks the signature exactly as DingTalk does
  (ms timestamp within 1 h, HMAC(secret, f"{ts}\\n{secret}") base64, URL-encoded in the query), the keyword,
  and 20 messages/minute → errcode 310000 (sign not match), 310000 keywords, 130101 (send too fast).
- Feishu    POST /open-apis/bot/v2/hook/<id>: body timestamp (s) + sign = base64(HMAC(key=f"{ts}\\n{secret}", b"")),
  → code 19021 (sign match fail or timestamp is not within one hour), 19024 (keyword), 11232 (5/s or 100/min).
- WeCom     POST /cgi-bin/webhook/send?key=K: unknown key → errcode 93000; 20/min → 45009.
- Webhooks  POST /hook/<name>: records headers and body; `fail` (status code) and `hang` (seconds) per name.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
import urllib.parse
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.dingtalk: dict[str, dict] = {}   # token -> {"secret":..., "keyword":...}
        self.feishu: dict[str, dict] = {}     # hook id -> {"secret":..., "keyword":...}
        self.wecom: set[str] = set()
        self.sent = defaultdict(list)          # robot key -> [timestamps of accepted messages]
        self.messages = defaultdict(list)      # robot key -> [bodies]
        self.hooks = defaultdict(list)         # webhook name -> [(headers, body bytes)]
        self.hook_fail: dict[str, int] = {}
        self.hook_hang: dict[str, float] = {}
        self.limited = 0


def _text(body: dict) -> str:
    return json.dumps(body, ensure_ascii=False)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body are separate writes: avoid the 40 ms delayed-ACK stall
    state: State = None

    def log_message(self, *args):
        pass

    def _reply(self, code: int, data: dict | str = ""):
        raw = (json.dumps(data) if isinstance(data, dict) else data).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _rate(self, key: str, limits) -> bool:
        now = time.time()
        with self.state.lock:
            times = self.state.sent[key]
            for window, limit in limits:
                if len([t for t in times if t > now - window]) >= limit:
                    self.state.limited += 1
                    return False
            times.append(now)
        return True

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        parsed = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(parsed.query)
        st = self.state
        if parsed.path == "/robot/send":
            return self._dingtalk(query, raw)
        if parsed.path.startswith("/open-apis/bot/v2/hook/"):
            return self._feishu(parsed.path.rsplit("/", 1)[-1], raw)
        if parsed.path == "/cgi-bin/webhook/send":
            key = (query.get("key") or [""])[0]
            if key not in st.wecom:
                return self._reply(200, {"errcode": 93000, "errmsg": "invalid webhook url"})
            if not self._rate(f"wecom:{key}", [(60, 20)]):
                return self._reply(200, {"errcode": 45009, "errmsg": "api freq out of limit"})
            st.messages[f"wecom:{key}"].append(json.loads(raw))
            return self._reply(200, {"errcode": 0, "errmsg": "ok"})
        if parsed.path.startswith("/hook/"):
            name = parsed.path.split("/")[2]
            hang = st.hook_hang.get(name)
            if hang:
                time.sleep(hang)
            with st.lock:
                st.hooks[name].append(({k.lower(): v for k, v in self.headers.items()}, raw))
            fail = st.hook_fail.get(name)
            if fail:
                return self._reply(fail, {"error": "receiver failed"})
            return self._reply(200, {"ok": True})
        return self._reply(404, {"error": "not found"})

    def _dingtalk(self, query, raw):
        token = (query.get("access_token") or [""])[0]
        conf = self.state.dingtalk.get(token)
        if conf is None:
            return self._reply(200, {"errcode": 300001, "errmsg": "token is not exist"})
        body = json.loads(raw)
        if conf.get("secret"):
            ts = (query.get("timestamp") or [""])[0]
            sign = (query.get("sign") or [""])[0]  # parse_qs has URL-decoded it once
            if not ts.isdigit() or abs(int(ts) - time.time() * 1000) > 3600 * 1000:
                return self._reply(200, {"errcode": 310000, "errmsg": "invalid timestamp"})
            secret = conf["secret"]
            expected = base64.b64encode(hmac.new(secret.encode(), f"{ts}\n{secret}".encode(), hashlib.sha256).digest()).decode()
            if not hmac.compare_digest(sign, expected):
                return self._reply(200, {"errcode": 310000, "errmsg": "sign not match"})
        if conf.get("keyword") and conf["keyword"] not in _text(body):
            return self._reply(200, {"errcode": 310000, "errmsg": "keywords not in content"})
        if not self._rate(f"dingtalk:{token}", [(60, 20)]):
            return self._reply(200, {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"})
        self.state.messages[f"dingtalk:{token}"].append(body)
        return self._reply(200, {"errcode": 0, "errmsg": "ok"})

    def _feishu(self, hook_id, raw):
        conf = self.state.feishu.get(hook_id)
        if conf is None:
            return self._reply(200, {"code": 19001, "msg": "param invalid: incoming webhook access token invalid"})
        body = json.loads(raw)
        if len(raw) > 20 * 1024:
            return self._reply(200, {"code": 9499, "msg": "request body too large"})
        if conf.get("secret"):
            ts = str(body.get("timestamp", ""))
            secret = conf["secret"]
            expected = base64.b64encode(hmac.new(f"{ts}\n{secret}".encode(), b"", hashlib.sha256).digest()).decode()
            if not ts.isdigit() or abs(int(ts) - time.time()) > 3600 or not hmac.compare_digest(str(body.get("sign", "")), expected):
                return self._reply(200, {"code": 19021, "msg": "sign match fail or timestamp is not within one hour from current time"})
        if conf.get("keyword") and conf["keyword"] not in _text(body):
            return self._reply(200, {"code": 19024, "msg": "Key Words Not Found"})
        if not self._rate(f"feishu:{hook_id}", [(1, 5), (60, 100)]):
            return self._reply(200, {"code": 11232, "msg": "frequency limited psm"})
        self.state.messages[f"feishu:{hook_id}"].append(body)
        return self._reply(200, {"code": 0, "msg": "success", "data": {}})


class FakeServer:
    def __init__(self):
        self.state = State()
        handler = type("BoundHandler", (Handler,), {"state": self.state})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

    # helpers for tests
    def dingtalk_url(self, token="tok", secret="", keyword=""):
        self.state.dingtalk[token] = {"secret": secret, "keyword": keyword}
        return f"{self.base}/robot/send?access_token={token}"

    def feishu_url(self, hook="hook1", secret="", keyword=""):
        self.state.feishu[hook] = {"secret": secret, "keyword": keyword}
        return f"{self.base}/open-apis/bot/v2/hook/{hook}"

    def wecom_url(self, key="k1"):
        self.state.wecom.add(key)
        return f"{self.base}/cgi-bin/webhook/send?key={key}"

    def hook_url(self, name="h1", fail: int | None = None, hang: float | None = None):
        if fail:
            self.state.hook_fail[name] = fail
        if hang:
            self.state.hook_hang[name] = hang
        return f"{self.base}/hook/{name}"


def _count_handler_get(self):
    """GET /count/<name>: how many webhook posts <name> received (for a receiver in another process)."""
    name = self.path.rstrip("/").rsplit("/", 1)[-1]
    self._reply(200, {"count": len(self.state.hooks[name])})


Handler.do_GET = _count_handler_get


if __name__ == "__main__":  # a receiver in its own process (benchmarks): prints its base URL, serves until killed
    import sys

    server = FakeServer()
    print(server.base, flush=True)
    sys.stdout.close()
    server.httpd.serve_forever()
