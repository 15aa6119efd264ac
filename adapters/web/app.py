"""The web chat: one page (static/, no third-party assets) and the JSON API it speaks, which other integrations can use.

- `GET /`: the page, with the session's CSRF token in it.
- `POST /api/messages`: JSON `{"text", "user"}` or a multipart form (`text`, `photo`, `voice`, `user`); answers the
  JSON of `recbot chat --json` (`text`, `items`, `transcript`, `error`) plus `intro` (the text without the item
  listing the cards show), `language` and, for an admin's /stats, `attachment` (`name`, a data `url`). An item's
  `image` is a URL the browser can load: `/images/<item id>` for a photo that is a file on this machine.
- `POST /api/feedback`: `item_id` and `action` (like, dislike, more_like_this); the same JSON.
- `GET /images/<item id>`: a catalogue photo.

A refused request gets a 4xx and the same JSON shape, its `text` in the shopper's language; nothing a shopper sends
ends in a 500.
"""

from __future__ import annotations

import base64
import json
import logging
import mimetypes
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import limits
from aiohttp import web
from aiohttp_remotes import XForwardedStrict
from babel.core import negotiate_locale
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter

from adapters.config import WebConfig
from adapters.images import add_image_route, is_web_image
from adapters.web.requests import BadRequest, Message, feedback_of, read_body
from adapters.web.session import Session, Sessions, cross_origin
from bot.handler import Handler
from bot.messages import Command, Feedback, Incoming, Reply
from bot.understanding.lang import Language, language
from bot.understanding.lang.glossary import has_han

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
PAGE = STATIC / "index.html"
TEXT_SLACK = 4  # the adapter keeps 4x the bot's text limit, so the bot still sees (and says) that it cut a message
SECURITY_HEADERS = {
    # everything from this server; a catalogue's photos may be on the shop's own image host
    "Content-Security-Policy": "default-src 'self'; img-src 'self' https: http: data: blob:; media-src 'self' blob:; "
    "script-src 'self'; style-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
AUDIO = ("audio/", "video/webm", "video/ogg", "video/mp4", "application/ogg")  # what browsers record voice as


class WebChat:
    def __init__(self, bot: Handler, config: WebConfig, sessions: Sessions, languages: list[str], max_text_chars: int) -> None:
        self.bot, self.config, self.sessions = bot, config, sessions
        self.languages = languages
        self.max_text = max_text_chars * TEXT_SLACK
        self.rate = limits.parse(config.rate_limit)
        self.limiter = MovingWindowRateLimiter(MemoryStorage())  # per worker: a shopper's turns mostly land on one
        self.page = PAGE.read_text(encoding="utf-8")

    def app(self) -> web.Application:
        app = web.Application(client_max_size=self.config.max_upload_mb * 2**20 + 2**16, middlewares=[_headers])
        if self.config.trusted_proxies:  # outermost: every later step sees the shopper's address, not the proxy's
            behind = XForwardedStrict([self.config.trusted_proxies], white_paths=["/healthz"])
            app.middlewares.insert(0, behind.middleware)
        app.router.add_get("/", self.index)
        app.router.add_get("/healthz", _healthy)
        app.router.add_post("/api/messages", self.messages)
        app.router.add_post("/api/feedback", self.feedback)
        app.router.add_static("/static", STATIC, show_index=False, append_version=False)
        add_image_route(app, self.bot)
        return app

    async def index(self, request: web.Request) -> web.Response:
        session = self.sessions.open(request)
        lang = self._asked_language(request)
        page = self.page.replace("__CSRF__", self.sessions.token(session.user_id)).replace("__LANG__", lang)
        response = web.Response(text=page, content_type="text/html", headers={"Cache-Control": "no-store"})
        self.sessions.remember(response, session)
        return response

    async def messages(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(request, self._message)

    async def feedback(self, request: web.Request) -> web.StreamResponse:
        return await self._serve(request, self._feedback)

    async def _serve(self, request: web.Request, build: Any) -> web.StreamResponse:
        """The steps every API request takes: same origin, body, who, CSRF, rate, then the bot."""
        lang = language(self._asked_language(request))
        session: Session | None = None
        try:
            if cross_origin(request):
                log.info("web: refused a cross-origin %s from %s", request.path, request.headers.get("Origin"))
                raise BadRequest(403, "cross_origin", "web_cross_origin")
            message = await read_body(request, self.config.max_upload_mb)
            lang = language("zh") if has_han(message.text) else lang
            user, session = self._who(request, message)
            await self._within_rate(user if session is None or not session.new else f"ip:{request.remote}")
            incoming = build(message, user, lang)
        except BadRequest as exc:
            log.info("web: %s %s refused (%s) from %s", request.method, request.path, exc.code, request.remote)
            return _json(Reply(text=lang.say(exc.sentence, **exc.data), error=exc.code), status=exc.status, retry=exc.data)
        if isinstance(incoming, Reply):
            reply = incoming
        else:
            try:
                reply = await self.bot.handle(incoming)
            except Exception:  # the bot never raises for what a user sends; if it does, the shopper still gets an answer
                log.exception("web: the bot failed on a %s", request.path)
                reply = Reply(text=lang.say("internal_error"), error="internal")
        response = _json(reply)
        if session is not None:
            self.sessions.remember(response, session)
        return response

    def _who(self, request: web.Request, message: Message) -> tuple[str, Session | None]:
        if self.config.trust_user_field and message.user:
            return message.user, None
        session = self.sessions.open(request)
        if not session.new and not self.sessions.token_matches(request, session.user_id):
            raise BadRequest(403, "csrf", "web_session_expired")
        return session.user_id, session

    async def _within_rate(self, key: str) -> None:
        """Per shopper; a request that has just made its session has no history of its own, so its address counts."""
        if await self.limiter.hit(self.rate, "web", key):
            return
        stats = await self.limiter.get_window_stats(self.rate, "web", key)
        seconds = max(1, round(stats.reset_time - time.time()))
        raise BadRequest(429, "rate_limited", "web_rate_limited", seconds=seconds)

    def _message(self, message: Message, user: str, lang: Language) -> Incoming | Reply:
        text = message.text[: self.max_text]
        hint = lang.code
        if message.photo is not None:
            return Incoming(user_id=user, platform="web", text=text, photos=[message.photo], language=hint)
        if message.voice is not None:
            mime = message.voice_mime if (message.voice_mime or "").startswith(AUDIO) else None  # ffmpeg finds out
            return Incoming(user_id=user, platform="web", voice=message.voice, voice_mime=mime, language=hint)
        stripped = text.strip()
        if stripped.startswith("/"):
            name, _, args = stripped[1:].partition(" ")
            if name.lower() in {"photo", "voice"}:  # never a path on this server
                return Reply(text=lang.say("web_no_paths"), error="no_paths")
            return Incoming(user_id=user, platform="web", command=Command(name.lower(), args.strip()), language=hint)
        return Incoming(user_id=user, platform="web", text=text, language=hint)

    def _feedback(self, message: Message, user: str, lang: Language) -> Incoming:
        action, item_id = feedback_of(message)
        return Incoming(user_id=user, platform="web", feedback=Feedback(action, item_id), language=lang.code)

    def _asked_language(self, request: web.Request) -> str:
        """The browser's first language the bot speaks (Accept-Language), else the bot's default."""
        wanted = [part.split(";")[0].strip().replace("-", "_") for part in request.headers.get("Accept-Language", "").split(",")]
        return negotiate_locale([w for w in wanted if w and w != "*"], self.languages) or self.languages[0]


def _json(reply: Reply, status: int = 200, retry: dict[str, Any] | None = None) -> web.Response:
    body = reply.to_json() | {"intro": reply.intro(), "language": reply.language}
    for item in body["items"]:
        image = item.get("image")
        if image and not is_web_image(image):  # a file on this machine: the browser gets it from the image route
            item["image"] = "/images/" + quote(item["id"], safe="")
    if reply.attachment:  # the /stats chart: shown on the page as it comes
        kind = mimetypes.guess_type(reply.attachment_name or "")[0] or "image/png"
        body["attachment"] = {"name": reply.attachment_name, "url": f"data:{kind};base64,{base64.b64encode(reply.attachment).decode()}"}
    headers = {"Retry-After": str(retry["seconds"])} if status == 429 and retry else None
    return web.json_response(body, status=status, headers=headers, dumps=_dumps)


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False)


async def _healthy(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


@web.middleware
async def _headers(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:  # 404, 405 …: aiohttp's own answer, with our headers
        exc.headers.update(SECURITY_HEADERS)
        raise
    except Exception:  # a bug must not become aiohttp's 500 page
        log.exception("web: %s %s failed", request.method, request.path)
        response = web.json_response({"text": "", "items": [], "transcript": None, "error": "unavailable"}, status=503)
    response.headers.update(SECURITY_HEADERS)
    return response
