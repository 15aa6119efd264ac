"""A fake Telegram Bot API server on 127.0.0.1 that tests start, plus the user side of a conversation.

It speaks the wire protocol python-telegram-bot uses (POST `/bot<token>/<method>`, parameters form-encoded
or multipart, JSON answers `{"ok": ..., "result": ...}`) and the file download route
`/file/bot<token>/<path>`. Every call is recorded so tests can assert on what the bot sent, and a test can
make the next call to a method fail (a 429 with `retry_after`, a 502, ...).

Telegram's own limits are enforced (4096-char text, 1024-char captions, 64-byte callback data), so a bot
that breaks them fails here as it would in production.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import ClientSession, web

TOKEN = "123456:TEST-token_for-the-fake-api"
BOT_USER = {"id": 123456, "is_bot": True, "first_name": "RecBot", "username": "recbot_test_bot", "can_join_groups": True}

# Parameters that arrive JSON-encoded inside form fields; the rest stay strings (a text "42" is not a number).
_JSON_FIELDS = {
    "reply_markup",
    "media",
    "commands",
    "allowed_updates",
    "scope",
    "entities",
    "caption_entities",
    "reply_parameters",
    "link_preview_options",
}
_INT_FIELDS = {"chat_id", "offset", "limit", "message_id", "reply_to_message_id"}
_SENDS = {"sendMessage", "sendPhoto", "sendMediaGroup", "sendDocument"}


@dataclass
class Call:
    """One request the bot made."""

    method: str
    params: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)
    status: int = 200


@dataclass
class _Failure:
    status: int
    description: str
    retry_after: int | None


class FakeTelegramAPI:
    """`async with FakeTelegramAPI() as api:` serves on a free 127.0.0.1 port; `api.base_url` goes into config."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.bot_user = dict(BOT_USER)
        self.calls: list[Call] = []
        self.languages: dict[int, str] = {}  # user id → the language_code their updates carry
        self.sent: list[dict[str, Any]] = []  # every message the bot created, in order
        self.webhook: dict[str, Any] | None = None
        self.delivered_at: dict[int, float] = {}  # update_id → when getUpdates first handed it out
        self.downloads: list[str] = []  # file ids the bot fetched from the file route
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1000)
        self._message_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._files: dict[str, bytes] = {}  # file_id → content
        self._chats: dict[int, dict[str, Any]] = {}
        self._failures: dict[str, list[_Failure]] = {}
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # -- life cycle ----------------------------------------------------------------------------------
    async def __aenter__(self) -> FakeTelegramAPI:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    # -- what tests control ------------------------------------------------------------------------------
    async def push(self, update: dict[str, Any]) -> int:
        """Queue an update for getUpdates; returns its update_id."""
        update = {"update_id": next(self._update_ids), **update}
        async with self._changed:
            self._updates.append(update)
            self._changed.notify_all()
        return update["update_id"]

    def fail_next(self, method: str, status: int = 429, retry_after: int | None = 1, description: str | None = None) -> None:
        """The next call to `method` gets this error instead of a result."""
        text = description or (f"Too Many Requests: retry after {retry_after}" if status == 429 else "Bad Gateway")
        self._failures.setdefault(method, []).append(_Failure(status, text, retry_after if status == 429 else None))

    def add_file(self, data: bytes) -> str:
        file_id = f"file-{next(self._file_ids)}"
        self._files[file_id] = data
        return file_id

    def calls_to(self, *methods: str) -> list[Call]:
        return [c for c in self.calls if c.method in methods]

    def outgoing(self, chat_id: int) -> list[dict[str, Any]]:
        """Messages the bot sent to a chat, as the user would see them, oldest first."""
        return [m for m in self.sent if m["chat"]["id"] == chat_id]

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 120.0) -> None:
        """Wait until `predicate()` holds after some call; a generous ceiling, not a timing assertion."""

        async def waiting() -> None:
            async with self._changed:
                await self._changed.wait_for(predicate)

        await asyncio.wait_for(waiting(), timeout)

    async def deliver_webhook(self, url: str, update: dict[str, Any], secret_token: str | None) -> int:
        """POST an update to the bot's webhook the way Telegram does; returns the HTTP status."""
        update = {"update_id": next(self._update_ids), **update}
        headers = {"Content-Type": "application/json"}
        if secret_token is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret_token
        async with ClientSession() as session, session.post(url, data=json.dumps(update), headers=headers) as response:
            return response.status

    # -- the user side: updates as Telegram would build them ---------------------------------------------
    def user(self, user_id: int) -> dict[str, Any]:
        """A user as updates carry them; `language_code` from `languages` (set by a test), English otherwise."""
        return {"id": user_id, "is_bot": False, "first_name": f"User{user_id}", "language_code": self.languages.get(user_id, "en")}

    def chat(self, chat_id: int, chat_type: str = "private") -> dict[str, Any]:
        chat = {"id": chat_id, "type": chat_type}
        chat.update({"first_name": f"User{chat_id}"} if chat_type == "private" else {"title": f"Group {chat_id}"})
        self._chats[chat_id] = chat
        return chat

    def message(self, user_id: int, chat_id: int | None = None, chat_type: str = "private", **content: Any) -> dict[str, Any]:
        """A `message` update from a user; `content` holds text/photo/voice/... fields."""
        return {"message": self._message_dict(user_id, chat_id, chat_type, **content)}

    def _message_dict(self, user_id: int, chat_id: int | None, chat_type: str, **content: Any) -> dict[str, Any]:
        chat_id = user_id if chat_id is None else chat_id
        return {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": self.chat(chat_id, chat_type),
            "from": self.user(user_id),
            **content,
        }

    def text(self, user_id: int, text: str, **kw: Any) -> dict[str, Any]:
        """A text message; a leading /command and @mentions get their entities, as Telegram adds them."""
        entities = []
        command = text.split()[0] if text.startswith("/") else ""
        if command:
            entities.append({"type": "bot_command", "offset": 0, "length": len(command)})
        mention = "@" + self.bot_user["username"]
        at = text.find(mention, len(command))
        if at >= 0:
            entities.append({"type": "mention", "offset": at, "length": len(mention)})
        if entities:
            kw["entities"] = entities
        return self.message(user_id, text=text, **kw)

    def photo(self, user_id: int, data: bytes, caption: str = "", **kw: Any) -> dict[str, Any]:
        """A photo: Telegram sends several sizes, smallest first; the small one here is not an image at all."""
        thumb, full = self.add_file(b"thumbnail bytes, not an image"), self.add_file(data)
        sizes = [
            {"file_id": thumb, "file_unique_id": f"u{thumb}", "width": 90, "height": 90, "file_size": 29},
            {"file_id": full, "file_unique_id": f"u{full}", "width": 800, "height": 800, "file_size": len(data)},
        ]
        if caption:
            kw["caption"] = caption
        return self.message(user_id, photo=sizes, **kw)

    def voice(self, user_id: int, data: bytes, duration: int = 2, mime: str = "audio/ogg", **kw: Any) -> dict[str, Any]:
        file_id = self.add_file(data)
        voice = {"file_id": file_id, "file_unique_id": f"u{file_id}", "duration": duration, "mime_type": mime, "file_size": len(data)}
        return self.message(user_id, voice=voice, **kw)

    def document(self, user_id: int, data: bytes, mime: str, file_name: str, **kw: Any) -> dict[str, Any]:
        file_id = self.add_file(data)
        doc = {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_name": file_name, "mime_type": mime, "file_size": len(data)}
        return self.message(user_id, document=doc, **kw)

    def press(self, user_id: int, message: dict[str, Any], data: str) -> dict[str, Any]:
        """A `callback_query` update: the user pressed the button with `data` under `message`."""
        return {
            "callback_query": {
                "id": f"cq{next(self._message_ids)}",
                "from": self.user(user_id),
                "message": message,
                "chat_instance": f"ci{message['chat']['id']}",
                "data": data,
            }
        }

    # -- the server --------------------------------------------------------------------------------------
    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        params, files = await self._params(request)
        call = Call(method, params, files)
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()
        if request.match_info["token"] != self.token:
            return self._error(call, 401, "Unauthorized")
        failures = self._failures.get(method)
        if failures:
            failure = failures.pop(0)
            extra = {"parameters": {"retry_after": failure.retry_after}} if failure.retry_after is not None else {}
            return self._error(call, failure.status, failure.description, **extra)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return self._error(call, 404, "Not Found: method not found")
        try:
            result = await handler(params, files)
        except _BadRequest as exc:
            return self._error(call, 400, f"Bad Request: {exc}")
        async with self._changed:
            self._changed.notify_all()
        return web.json_response({"ok": True, "result": result})

    def _error(self, call: Call, status: int, description: str, **extra: Any) -> web.Response:
        call.status = status
        return web.json_response({"ok": False, "error_code": status, "description": description, **extra}, status=status)

    async def _params(self, request: web.Request) -> tuple[dict[str, Any], dict[str, bytes]]:
        params: dict[str, Any] = dict(request.query)
        files: dict[str, bytes] = {}
        if request.content_type == "application/json":
            params.update(await request.json())
            return params, files
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                files[key] = value.file.read()
            elif key in _JSON_FIELDS:
                params[key] = json.loads(value)
            elif key in _INT_FIELDS:
                params[key] = int(value)
            else:
                params[key] = value
        return params, files

    async def _download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        file_id = request.match_info["path"].removeprefix("files/")
        data = self._files.get(file_id)
        self.downloads.append(file_id)
        if data is None:
            return web.Response(status=404)
        return web.Response(body=data, content_type="application/octet-stream")

    # -- methods -----------------------------------------------------------------------------------------
    async def _m_getMe(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        return self.bot_user

    async def _m_deleteWebhook(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        self.webhook = None
        return True

    async def _m_setWebhook(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        self.webhook = params
        return True

    async def _m_getUpdates(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        limit = int(params.get("limit") or 100)
        async with self._changed:
            if offset:  # an offset confirms every earlier update: they are gone for good
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait_for(lambda: bool(self._updates)), timeout)
            batch = self._updates[:limit]
        now = time.monotonic()
        for update in batch:
            self.delivered_at.setdefault(update["update_id"], now)
        return batch

    async def _m_getFile(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        file_id = params.get("file_id", "")
        if file_id not in self._files:
            raise _BadRequest("invalid file_id")
        size = len(self._files[file_id])
        return {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": size, "file_path": f"files/{file_id}"}

    async def _m_sendChatAction(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        return True

    async def _m_setMyCommands(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        for command in params.get("commands", []):
            if not 1 <= len(command["command"]) <= 32 or not 1 <= len(command["description"]) <= 256:
                raise _BadRequest("command is invalid")
        return True

    async def _m_answerCallbackQuery(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        if len(params.get("text", "")) > 200:
            raise _BadRequest("MESSAGE_TOO_LONG")
        return True

    async def _m_sendMessage(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        text = params.get("text", "")
        if not text.strip():
            raise _BadRequest("message text is empty")
        if len(text) > 4096:
            raise _BadRequest("message is too long")
        self._check_markup(params)
        return self._sent(params["chat_id"], text=text, reply_markup=params.get("reply_markup"))

    async def _m_sendPhoto(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        self._check_caption(params)
        self._check_markup(params)
        photo = self._photo_sizes(params.get("photo"), files.get("photo"))
        return self._sent(params["chat_id"], photo=photo, caption=params.get("caption"), reply_markup=params.get("reply_markup"))

    async def _m_sendDocument(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        self._check_caption(params)
        data = files.get("document", b"")
        file_id = self.add_file(data)
        document = {"file_id": file_id, "file_unique_id": f"u{file_id}", "file_size": len(data)}
        return self._sent(params["chat_id"], document=document, caption=params.get("caption"))

    async def _m_sendMediaGroup(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        media = params.get("media") or []
        if not 2 <= len(media) <= 10:
            raise _BadRequest("wrong number of media in the group")
        result = []
        for entry in media:
            self._check_caption(entry)
            ref = entry.get("media", "")
            upload = files.get(ref.removeprefix("attach://")) if ref.startswith("attach://") else None
            result.append(self._sent(params["chat_id"], photo=self._photo_sizes(ref, upload), caption=entry.get("caption")))
        return result

    async def _m_editMessageReplyMarkup(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        self._check_markup(params)
        for message in self.sent:
            if message["chat"]["id"] == params.get("chat_id") and message["message_id"] == params.get("message_id"):
                message["reply_markup"] = params.get("reply_markup")
                return message
        raise _BadRequest("message to edit not found")

    async def _m_editMessageText(self, params: dict[str, Any], files: dict[str, bytes]) -> Any:
        for message in self.sent:
            if message["chat"]["id"] == params.get("chat_id") and message["message_id"] == params.get("message_id"):
                message["text"] = params.get("text", "")
                message["reply_markup"] = params.get("reply_markup")
                return message
        raise _BadRequest("message to edit not found")

    # -- helpers -----------------------------------------------------------------------------------------
    def _sent(self, chat_id: int, **content: Any) -> dict[str, Any]:
        chat = self._chats.get(chat_id) or {"id": chat_id, "type": "private", "first_name": f"User{chat_id}"}
        message = {"message_id": next(self._message_ids), "date": int(time.time()), "chat": chat, "from": self.bot_user}
        message.update({k: v for k, v in content.items() if v is not None})
        self.sent.append(message)
        return message

    def _photo_sizes(self, ref: str | None, upload: bytes | None) -> list[dict[str, Any]]:
        if upload is not None:
            file_id = self.add_file(upload)
        elif ref and ref in self._files:
            file_id = ref
        else:
            raise _BadRequest("wrong file identifier/HTTP URL specified")
        return [{"file_id": file_id, "file_unique_id": f"u{file_id}", "width": 600, "height": 600, "file_size": len(self._files[file_id])}]

    @staticmethod
    def _check_caption(params: dict[str, Any]) -> None:
        if len(params.get("caption") or "") > 1024:
            raise _BadRequest("message caption is too long")

    @staticmethod
    def _check_markup(params: dict[str, Any]) -> None:
        markup = params.get("reply_markup") or {}
        for row in markup.get("inline_keyboard", []):
            for button in row:
                if len(button.get("callback_data", "").encode()) > 64:
                    raise _BadRequest("BUTTON_DATA_INVALID")


class _BadRequest(Exception):
    pass
