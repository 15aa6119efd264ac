"""The body of an API request, read into what the bot needs and checked, or refused with a reason a shopper can read.

`POST /api/messages` takes JSON (`{"text", "user"}`) or a form (multipart with `text`, `photo`, `voice`, `user`, as
the page sends it); `POST /api/feedback` takes `item_id` and `action` in either. Every problem is a `BadRequest`
with an HTTP status, a machine-readable code and the key of the sentence that explains it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, get_args

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from multidict import MultiDictProxy

from bot.messages import FeedbackAction

MAX_USER_CHARS = 128
MAX_ITEM_ID_CHARS = 256
ACTIONS = frozenset(get_args(FeedbackAction))


class BadRequest(Exception):
    def __init__(self, status: int, code: str, sentence: str, **data: Any) -> None:
        super().__init__(code)
        self.status, self.code, self.sentence, self.data = status, code, sentence, data


@dataclass
class Message:
    text: str = ""
    user: str | None = None
    photo: bytes | None = None
    voice: bytes | None = None
    voice_mime: str | None = None
    fields: dict[str, str] = field(default_factory=dict)  # any other text fields (item_id, action)


async def read_body(request: web.Request, limit_mb: int) -> Message:
    """JSON or a form; a body over the upload limit (aiohttp's `client_max_size`) is a 413."""
    kind = request.content_type
    try:
        if kind == "application/json":
            return _from_json(await request.read())
        if kind in {"multipart/form-data", "application/x-www-form-urlencoded"}:
            return await _from_form(await request.post())
    except web.HTTPRequestEntityTooLarge as exc:
        raise BadRequest(413, "file_too_large", "web_too_large", limit_mb=limit_mb) from exc
    except (ValueError, RuntimeError, AssertionError, HttpProcessingError) as exc:  # a torn multipart body, a bad boundary…
        raise BadRequest(400, "bad_request", "web_bad_request") from exc
    raise BadRequest(415, "unsupported_media_type", "web_bad_request")


def _from_json(body: bytes) -> Message:
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(400, "bad_json", "web_bad_request") from exc
    if not isinstance(data, dict):
        raise BadRequest(400, "bad_json", "web_bad_request")
    for key in ("photo", "voice"):
        if key in data:  # binary goes in a form; base64 in JSON would be a second way to do one thing
            raise BadRequest(400, "bad_request", "web_upload_as_form")
    texts = {key: value for key, value in data.items() if key != "user"}
    if any(not isinstance(value, str) for value in texts.values()):
        raise BadRequest(400, "bad_request", "web_bad_request")
    return Message(text=texts.get("text", ""), user=_user(data.get("user")), fields=texts)


async def _from_form(form: MultiDictProxy[str | bytes | web.FileField]) -> Message:
    message = Message()
    for key in form:
        value = form[key]
        if isinstance(value, web.FileField):
            if key == "photo":
                message.photo = value.file.read()
            elif key == "voice":
                message.voice, message.voice_mime = value.file.read(), value.content_type
            continue
        text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
        if key in {"photo", "voice"}:
            raise BadRequest(400, "bad_request", "web_upload_as_form")
        if key == "user":
            message.user = _user(text)
        else:
            message.fields[key] = text
    message.text = message.fields.get("text", "")
    if message.photo is not None and message.voice is not None:  # which one was meant is not ours to guess
        raise BadRequest(400, "one_upload", "web_one_upload")
    return message


def _user(value: object) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > MAX_USER_CHARS or not value.isprintable() or not value.strip():
        raise BadRequest(400, "bad_user", "web_bad_user", most=MAX_USER_CHARS)
    return value.strip()


def feedback_of(message: Message) -> tuple[FeedbackAction, str]:
    action, item_id = message.fields.get("action", "").strip(), message.fields.get("item_id", "").strip()
    if action not in ACTIONS:
        raise BadRequest(400, "bad_action", "web_bad_action", actions=", ".join(sorted(ACTIONS)))
    if not item_id or len(item_id) > MAX_ITEM_ID_CHARS:
        raise BadRequest(400, "bad_request", "web_bad_request")
    return action, item_id  # type: ignore[return-value]
