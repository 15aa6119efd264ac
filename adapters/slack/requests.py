"""Slack HTTP requests, checked before Bolt sees them: whatever arrives is answered with a status, never a traceback.

Bolt parses a request's body before it verifies the signature, so an unsigned request with a timestamp that is not a
number, a body that is not UTF-8, malformed JSON or a bad `payload=` form would each end in a 500 and a traceback in
the log. Here, in order:
1. no signature or a timestamp that is not a number → 401, one log line;
2. a body that is not UTF-8 → 400; a signature that does not verify (slack_sdk's `SignatureVerifier`, which also
   refuses stale timestamps) → 401;
3. a body that is not a JSON object or form, or lacks what its kind needs (a button press without a user,
   a command without `user_id`, an event callback without an event) → 400;
4. a signature seen before (a captured request re-sent within its five-minute window) → 200 and nothing runs: the
   signature is recorded in the event database (`Handler.first_delivery`), so this holds across restarts and workers.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from slack_bolt.request.internals import parse_body
from slack_sdk.signature import SignatureVerifier

from bot.handler import Handler

log = logging.getLogger(__name__)

Route = Callable[[web.Request], Awaitable[web.StreamResponse]]


def payload_problem(payload: Any) -> str | None:
    """Why a parsed Slack body cannot be handled, or None when it has what its kind needs."""
    if not isinstance(payload, dict):
        return "the body is not an object"
    kind = payload.get("type") if isinstance(payload.get("type"), str) else None
    if kind == "event_callback":
        event = payload.get("event")
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            return "an event callback without an event"
    elif kind in {"block_actions", "interactive_message"}:
        user = payload.get("user")
        if not isinstance(user, dict) or not isinstance(user.get("id"), str) or not user["id"]:
            return "a button press without a user"
        actions = payload.get("actions")
        named = isinstance(actions, list) and all(isinstance(a, dict) and isinstance(a.get("action_id"), str) for a in actions)
        if not actions or not named:
            return "a button press without actions"
    elif "command" in payload:
        if not payload.get("user_id") or not isinstance(payload.get("command"), str):
            return "a command without a user"
    elif kind is None and not {"payload", "challenge", "ssl_check"} & payload.keys():
        return "not a Slack request"
    return None


def request_guard(signing_secret: str, bot: Handler, path: str) -> Callable[[web.Request, Route], Awaitable[web.StreamResponse]]:
    """An aiohttp middleware that checks every POST to `path` (Bolt's route) as the module docstring says."""
    verifier = SignatureVerifier(signing_secret)

    @web.middleware
    async def guard(request: web.Request, handler: Route) -> web.StreamResponse:
        if request.method != "POST" or request.path != path:
            return await handler(request)
        timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
        signature = request.headers.get("X-Slack-Signature", "")
        if not timestamp.isascii() or not timestamp.isdigit() or not signature:
            log.info("refused an unsigned request from %s", request.remote)
            return web.Response(status=401, text="unsigned request")
        try:
            body = (await request.read()).decode("utf-8")
        except UnicodeDecodeError:  # nothing Slack sends; and the verifier itself would raise on it
            log.info("refused a request from %s: its body is not UTF-8", request.remote)
            return web.Response(status=400, text="the body is not UTF-8")
        if not verifier.is_valid(body, timestamp, signature):
            log.info("refused a request from %s: its signature does not verify", request.remote)
            return web.Response(status=401, text="invalid signature")
        try:
            payload = parse_body(body, request.content_type)
        except ValueError:  # json.JSONDecodeError is a ValueError
            payload = None
        problem = "the body is not JSON or a form" if payload is None else payload_problem(payload)
        if problem is not None:
            log.info("refused a signed request: %s", problem)
            return web.Response(status=400, text=problem)
        if not await bot.first_delivery(f"slack:signature:{signature}"):
            log.info("ignored a replayed request (signature seen before)")
            return web.Response(status=200, text="")
        return await handler(request)

    return guard
