"""A local fake of Tencent's APIs for tests: WeCom's `gettoken`, `kf/sync_msg` and
`media/get`, and a WeChat official account's `stable_token` (corp_id is then the AppID).

    with FakeWeCom(corp_id="ww1", secret="kf-secret") as wecom:
        wecom.pages[""] = {"next_cursor": "c1", "has_more": 1, "msg_list": [...]}
        source.api_base = wecom.url
        ...
        assert wecom.token_requests == 1

gettoken issues token-1, token-2 … ; sync_msg answers the page stored under the request's cursor
(an empty, final page for a cursor it does not know), after checking the access token as WeCom
does. `media` maps a media_id to (content, content type, file name or ""); media/get answers
errcode 40007 for an id it does not hold, as WeCom does for an expired one, HTTP 502 for one
in `media_down`, errcode -1 (system busy) for one in `media_busy`, half the promised bytes for
one in `media_cut`, and for one in `video_urls` the JSON address of the file, as WeChat answers
for a video. `revoke()` invalidates the tokens issued so far; setting `errcode` makes every
sync_msg answer that error. It listens on 127.0.0.1 only, on a free port, in a daemon thread.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from tests.serving import Serving

HOST = "127.0.0.1"  # never anything wider: a test must not open a port to the network


class FakeWeCom:
    def __init__(self, *, corp_id: str, secret: str) -> None:
        self.corp_id, self.secret = corp_id, secret
        self.pages: dict[str, dict[str, Any]] = {}
        self.errcode = 0
        self.token_requests = 0
        self._valid: set[str] = set()
        self.sync_bodies: list[dict[str, Any]] = []  # every sync_msg body, in arrival order
        self.media: dict[str, tuple[bytes, str, str]] = {}
        self.media_down: set[str] = set()  # media ids answered with HTTP 502
        self.media_cut: set[str] = set()  # media ids whose answer stops halfway
        self.media_busy: set[str] = set()  # media ids answered "system busy"
        self.video_urls: dict[str, str] = {}  # media id → the path its video_url answer names
        self.media_requests: list[str] = []
        self._lock = threading.Lock()
        self._serving: Serving | None = None
        self.url = ""

    def revoke(self) -> None:
        with self._lock:
            self._valid.clear()

    def answer(
        self, method: str, path: str, query: dict[str, str], body: bytes
    ) -> dict[str, Any] | tuple[Any, ...] | int:
        with self._lock:
            if method == "GET" and path == "/cgi-bin/media/get":
                self.media_requests.append(query.get("media_id", ""))
                if query.get("media_id") in self.media_down:
                    return 502
                if query.get("access_token") not in self._valid:
                    return {"errcode": 40014, "errmsg": "invalid access_token"}
                if query.get("media_id") in self.media_busy:
                    return {"errcode": -1, "errmsg": "system error"}
                if query.get("media_id") in self.video_urls:  # a WeChat account's video
                    return {"video_url": f"{self.url}{self.video_urls[query['media_id']]}"}
                if query.get("media_id") not in self.media:
                    return {"errcode": 40007, "errmsg": "invalid media_id"}
                content, kind, name = self.media[query["media_id"]]
                if query["media_id"] in self.media_cut:
                    return (content, kind, name, len(content) // 2)
                return content, kind, name
            if method == "GET" and path.startswith("/video/"):
                return self.media[path.removeprefix("/video/")]
            if method == "GET" and path == "/cgi-bin/gettoken":
                self.token_requests += 1
                if (query.get("corpid"), query.get("corpsecret")) != (self.corp_id, self.secret):
                    return {"errcode": 40001, "errmsg": "invalid credential"}
                token = f"token-{self.token_requests}"
                self._valid.add(token)
                return {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200}
            if method == "POST" and path == "/cgi-bin/stable_token":  # a WeChat account's
                request = json.loads(body.decode("utf-8"))
                self.token_requests += 1
                if (request.get("appid"), request.get("secret")) != (self.corp_id, self.secret):
                    return {"errcode": 40001, "errmsg": "invalid credential"}
                token = f"token-{self.token_requests}"
                self._valid.add(token)
                return {"access_token": token, "expires_in": 7200}
            if method == "POST" and path == "/cgi-bin/kf/sync_msg":
                request = json.loads(body.decode("utf-8"))
                self.sync_bodies.append(request)
                if query.get("access_token") not in self._valid:
                    return {"errcode": 40014, "errmsg": "invalid access_token"}
                if self.errcode:
                    return {"errcode": self.errcode, "errmsg": "fake failure"}
                page = self.pages.get(request.get("cursor", ""), {})
                return {"errcode": 0, "errmsg": "ok", "next_cursor": request.get("cursor", ""),
                        "has_more": 0, "msg_list": [], **page}  # fmt: skip
            return {"errcode": 404, "errmsg": f"no fake for {method} {path}"}

    def __enter__(self) -> FakeWeCom:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            timeout = 5  # a client that connects and never sends must not hold a thread forever

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urllib.parse.urlsplit(self.path)
                query = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
                answer = fake.answer(self.command, parts.path, query, body)
                if isinstance(answer, int):
                    self.send_error(answer)
                    return
                self.send_response(200)  # WeCom reports errors in errcode, with HTTP 200
                if isinstance(answer, tuple):  # a media file, perhaps cut short
                    raw, content_type, name, *cut = answer
                    self.send_header("Content-Type", content_type)
                    if name:  # raw UTF-8 on the wire, as WeCom sends a Chinese name
                        quoted = f'attachment; filename="{name}"'.encode().decode("latin-1")
                        self.send_header("Content-Disposition", quoted)
                else:
                    raw = json.dumps(answer).encode()
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(raw)))
                if isinstance(answer, tuple) and cut:
                    raw = raw[: cut[0]]  # the promised length, then the connection drops
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(raw)

            do_GET = do_POST = _handle  # noqa: N815 (http.server dispatches on these names)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output clean

        server = ThreadingHTTPServer((HOST, 0), Handler)
        server.daemon_threads = True
        self.url = f"http://{HOST}:{server.server_address[1]}"
        self._serving = Serving(server)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._serving is not None:
            self._serving.stop()
