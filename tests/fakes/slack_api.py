"""A fake Slack on 127.0.0.1: the Web API methods recbot calls, file downloads, response_url and Socket Mode.

It records every call so tests can assert what a Slack user would see, can answer the next call to a
method with an error (e.g. 429 with Retry-After), and speaks the Socket Mode websocket protocol
(hello, envelopes, acknowledgements) like slack-bolt's own mock socket-mode server.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

BOT_TOKEN = "xoxb-1-recbot-test"
APP_TOKEN = "xapp-1-A111-recbot-test"
BOT_USER_ID = "UBOT"
TEAM_ID = "T111"


@dataclass
class Call:
    """One request the fake received: the method (or route), its parameters and the token it carried."""

    method: str
    params: dict[str, Any]
    token: str | None
    status: int = 200
    result: dict[str, Any] = field(default_factory=dict)  # what the fake answered
    at: float = field(default_factory=time.monotonic)  # when it arrived


@dataclass
class _Failure:
    status: int
    error: str
    retry_after: int | None


@dataclass
class FakeSlack:
    """Start with `await fake.start()`; `base_url` is what the bot's AsyncWebClient should use."""

    bot_tokens: set[str] = field(default_factory=lambda: {BOT_TOKEN})
    app_tokens: set[str] = field(default_factory=lambda: {APP_TOKEN})
    calls: list[Call] = field(default_factory=list)
    acks: list[dict[str, Any]] = field(default_factory=list)  # Socket Mode envelope acknowledgements
    files: dict[str, dict[str, Any]] = field(default_factory=dict)
    port: int = 0

    def __post_init__(self) -> None:
        self._contents: dict[str, bytes] = {}
        self._failures: defaultdict[str, list[_Failure]] = defaultdict(list)
        self._sockets: list[web.WebSocketResponse] = []
        self._ts = itertools.count(1)
        self.locales: dict[str, str] = {}  # user id → the locale users.info reports
        self.messages: dict[tuple[str, str], dict[str, Any]] = {}  # (channel, ts) → a message posted, for conversations.replies
        self._runner: web.AppRunner | None = None

    # -- life cycle -------------------------------------------------------------------------------
    async def start(self) -> FakeSlack:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.add_routes(
            [
                web.get("/link", self._socket),
                web.get("/files/{file_id}/{name}", self._download),
                web.post("/upload/{file_id}", self._upload),
                web.post("/respond/{hook}", self._respond),
                web.route("*", "/api/{method}", self._api),
            ]
        )
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def stop(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.root}/api/"

    def response_url(self, hook: str) -> str:
        return f"{self.root}/respond/{hook}"

    # -- what tests set up --------------------------------------------------------------------------
    def add_file(self, file_id: str, name: str, mimetype: str, filetype: str, content: bytes, **extra: Any) -> dict[str, Any]:
        """Store a file as Slack would after a share; returns the file object an event carries."""
        info = {
            "id": file_id,
            "name": name,
            "title": name,
            "mimetype": mimetype,
            "filetype": filetype,
            "size": len(content),
            "url_private": f"{self.root}/files/{file_id}/{name}",
            "url_private_download": f"{self.root}/files/{file_id}/{name}",
            **extra,
        }
        self.files[file_id] = info
        self._contents[file_id] = content
        return dict(info)

    def fail_next(self, method: str, status: int = 429, error: str = "ratelimited", retry_after: int | None = 1) -> None:
        """The next call to `method` gets this error instead of an answer."""
        self._failures[method].append(_Failure(status, error, retry_after))

    def calls_to(self, method: str, **where: Any) -> list[Call]:
        return [c for c in self.calls if c.method == method and all(c.params.get(k) == v for k, v in where.items())]

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 180.0) -> Any:
        """Poll until `predicate()` is truthy; fail with what the fake saw (never a timing assertion, just a bound)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = predicate()
            if result:
                return result
            await asyncio.sleep(0.02)
        seen = "\n".join(f"  {c.method} {json.dumps(c.params)[:300]}" for c in self.calls)
        raise AssertionError(f"gave up waiting after {timeout}s; the fake saw:\n{seen}")

    # -- Socket Mode ------------------------------------------------------------------------------------
    async def send_envelope(self, kind: str, payload: dict[str, Any], retry_attempt: int = 0) -> str:
        """Push an envelope (events_api, interactive, slash_commands) to every connected client; returns its id."""
        envelope_id = f"env-{next(self._ts)}"
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": kind != "events_api",
            "retry_attempt": retry_attempt,
            "retry_reason": "timeout" if retry_attempt else "",
        }
        for ws in list(self._sockets):
            await ws.send_str(json.dumps(envelope))
        return envelope_id

    @property
    def connected(self) -> int:
        return len(self._sockets)

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_str(json.dumps({"type": "hello", "num_connections": len(self._sockets), "connection_info": {"app_id": "A111"}}))
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    data = json.loads(message.data)
                    if "envelope_id" in data:
                        self.acks.append(data)
        finally:
            self._sockets.remove(ws)
        return ws

    # -- HTTP routes ---------------------------------------------------------------------------------------
    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params = await _params(request)
        token = _token(request) or params.pop("token", None)
        failures = self._failures.get(method)
        if failures:
            failure = failures.pop(0)
            self.calls.append(Call(method, params, token, failure.status))
            headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else {}
            return web.json_response({"ok": False, "error": failure.error}, status=failure.status, headers=headers)
        call = Call(method, params, token)
        self.calls.append(call)
        if method == "apps.connections.open":
            if token in self.app_tokens:
                call.result = _ok(url=f"ws://127.0.0.1:{self.port}/link")
            else:
                call.result = _error("not_allowed_token_type" if (token or "").startswith("xoxb-") else "invalid_auth")
        elif token not in self.bot_tokens:
            call.result = _error("invalid_auth" if token else "not_authed")
        else:
            handler = getattr(self, "_" + method.replace(".", "_"), None)
            call.result = handler(params) if handler is not None else _error("unknown_method")
        return web.json_response(call.result)

    def _auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return _ok(
            url="https://recbot-test.slack.com/", team="recbot test", user="recbot", team_id=TEAM_ID, user_id=BOT_USER_ID, bot_id="B111"
        )

    def _users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        """A user's profile; with include_locale, the locale a test set in `locales` (Slack's default en-US otherwise)."""
        user = {"id": params.get("user"), "name": "shopper"}
        if str(params.get("include_locale")).lower() in ("true", "1"):
            user["locale"] = self.locales.get(str(params.get("user")), "en-US")
        return _ok(user=user)

    def _chat_postMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        ts = f"{int(time.time())}.{next(self._ts):06d}"
        message = {"type": "message", "user": BOT_USER_ID, "bot_id": "B111", "ts": ts, **params}
        self.messages[(str(params.get("channel")), ts)] = message
        return _ok(channel=params.get("channel"), ts=ts, message=message)

    def add_message(self, channel: str, ts: str, **message: Any) -> None:
        """A message someone else posted, for conversations.replies to find."""
        self.messages[(channel, ts)] = {"type": "message", "ts": ts, **message}

    def _conversations_replies(self, params: dict[str, Any]) -> dict[str, Any]:
        """A thread: its parent message first (the fake keeps no replies)."""
        parent = self.messages.get((str(params.get("channel")), str(params.get("ts"))))
        return _ok(messages=[parent], has_more=False) if parent else _error("thread_not_found")

    def _chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        return _ok(channel=params.get("channel"), ts=params.get("ts"), text=params.get("text", ""))

    def _chat_postEphemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        return _ok(message_ts=f"{int(time.time())}.{next(self._ts):06d}")

    def _files_info(self, params: dict[str, Any]) -> dict[str, Any]:
        info = self.files.get(str(params.get("file")))
        return _ok(file=info) if info else _error("file_not_found")

    def _files_getUploadURLExternal(self, params: dict[str, Any]) -> dict[str, Any]:
        file_id = f"FUP{next(self._ts)}"
        self.files[file_id] = {"id": file_id, "name": params.get("filename"), "size": int(params.get("length", 0))}
        return _ok(upload_url=f"{self.root}/upload/{file_id}", file_id=file_id)

    def _files_completeUploadExternal(self, params: dict[str, Any]) -> dict[str, Any]:
        files = params.get("files")
        files = json.loads(files) if isinstance(files, str) else files or []
        return _ok(files=[{**self.files.get(f["id"], {}), "title": f.get("title")} for f in files])

    async def _download(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        self.calls.append(Call("files.download", {"file": file_id}, _token(request)))
        if _token(request) not in self.bot_tokens:
            # What Slack does for a missing or wrong token: its sign-in page, with status 200.
            return web.Response(text="<html><body>Sign in to Slack</body></html>", content_type="text/html")
        if file_id not in self._contents:
            return web.Response(status=404)
        return web.Response(body=self._contents[file_id], content_type=self.files[file_id]["mimetype"])

    async def _upload(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        body = await request.read()
        self._contents[file_id] = body
        self.calls.append(Call("files.upload", {"file": file_id, "bytes": len(body)}, _token(request)))
        return web.Response(text="OK - " + str(len(body)))

    async def _respond(self, request: web.Request) -> web.Response:
        params = await _params(request)
        self.calls.append(Call("response_url", {"hook": request.match_info["hook"], **params}, None))
        return web.Response(text="ok")


def _ok(**data: Any) -> dict[str, Any]:
    return {"ok": True, **data}


def _error(error: str) -> dict[str, Any]:
    return {"ok": False, "error": error}


def _token(request: web.Request) -> str | None:
    auth = request.headers.get("Authorization", "")
    if not auth.startswith("Bearer "):
        return None
    return auth.removeprefix("Bearer ").strip() or None


async def _params(request: web.Request) -> dict[str, Any]:
    """Query, form or JSON parameters, as slack_sdk sends them for different methods."""
    params: dict[str, Any] = dict(request.query)
    if request.can_read_body:
        if request.content_type == "application/json":
            params.update(await request.json())
        elif request.content_type in {"application/x-www-form-urlencoded", "multipart/form-data"}:
            params.update({k: v for k, v in (await request.post()).items() if isinstance(v, str)})
    for key in ("blocks", "attachments"):
        if isinstance(params.get(key), str):
            params[key] = json.loads(params[key])
    return params
