"""Slack: recbot on slack-bolt (async `AsyncApp`).

People DM the bot or @mention it in a channel (it answers in a thread); they can share a photo or an
audio clip; every answer is a Block Kit message with one card per item and 👍 / 👎 / "More like this"
buttons; `/recbot help|forget|stats|retrain` runs commands (stats and retrain for `slack.admins` only).

Run it with `recbot serve slack`, tokens from the environment:
- Socket Mode (default, no public URL): SLACK_BOT_TOKEN (xoxb-…) and SLACK_APP_TOKEN (xapp-…, with
  connections:write).
- HTTP mode (`slack.mode: http`): SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET; events, actions and the
  slash command are served at http://{slack.host}:{slack.port}{slack.path} (127.0.0.1 unless configured).

The Slack app needs the bot scopes app_mentions:read, chat:write, commands, files:read, im:history
(files:write to post charts), the events app_mention and message.im, interactivity, and /recbot.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import secrets
import signal
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import aiohttp
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack_blocks import ACTION_PATTERN, ACTIONS, render, with_reaction
from adapters.slack_images import add_image_route, start_image_server
from bot.config import Config, ConfigError, SlackConfig
from bot.messages import Command, Feedback, Incoming, Reply
from bot.service import BotService

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 25 * 1024 * 1024
AUDIO_FILETYPES = {"m4a", "mp3", "ogg", "oga", "opus", "wav", "flac", "aac", "amr"}
SLACK_HELP = (
    "On Slack: press 👍 / 👎 or “More like this” under an item; `/recbot like ID` and `/recbot reset` work too, "
    "and `/recbot forget` erases what I know about you."
)
_USER_SUBTYPES = {None, "file_share", "thread_broadcast"}


# -- tokens and start-up checks ------------------------------------------------------------------------
@dataclass(frozen=True)
class SlackTokens:
    """The secrets `recbot serve slack` needs, read from the environment and checked for shape."""

    bot: str
    app: str | None = None
    signing_secret: str | None = None

    @classmethod
    def from_env(cls, mode: str, env: Mapping[str, str] = os.environ) -> SlackTokens:
        bot = env.get("SLACK_BOT_TOKEN", "").strip()
        app = env.get("SLACK_APP_TOKEN", "").strip() or None
        secret = env.get("SLACK_SIGNING_SECRET", "").strip() or None
        if not bot:
            raise ConfigError("SLACK_BOT_TOKEN is not set: export the app's Bot User OAuth Token (xoxb-…)")
        if not bot.startswith("xoxb-"):
            raise ConfigError(f"SLACK_BOT_TOKEN must be a bot token (xoxb-…), not one starting with {bot[:5]!r}")
        if mode == "socket":
            if not app:
                raise ConfigError(
                    "SLACK_APP_TOKEN is not set: Socket Mode needs an app-level token (xapp-…) with connections:write "
                    "(or set slack.mode: http and SLACK_SIGNING_SECRET)"
                )
            if not app.startswith("xapp-"):
                raise ConfigError(f"SLACK_APP_TOKEN must be an app-level token (xapp-…), not one starting with {app[:5]!r}")
        elif not secret:
            raise ConfigError("SLACK_SIGNING_SECRET is not set: HTTP mode verifies every request with the app's signing secret")
        return cls(bot, app, secret)


def make_client(token: str, base_url: str) -> AsyncWebClient:
    """A Web API client that waits out `ratelimited` (429 + Retry-After) and retries transient failures."""
    return AsyncWebClient(
        token=token,
        base_url=base_url if base_url.endswith("/") else base_url + "/",
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncRateLimitErrorRetryHandler(max_retry_count=3),
            AsyncServerErrorRetryHandler(max_retry_count=2),
        ],
    )


async def check_bot_token(client: AsyncWebClient) -> dict[str, Any]:
    """auth.test, worded for whoever starts the bot when it fails."""
    try:
        response = await client.auth_test()
    except SlackApiError as exc:
        raise ConfigError(f"Slack refused SLACK_BOT_TOKEN (auth.test: {exc.response.get('error', exc)})") from exc
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        raise ConfigError(f"cannot reach the Slack API at {client.base_url}: {exc}") from exc
    return dict(response.data)  # type: ignore[arg-type]


async def check_app_token(client: AsyncWebClient, app_token: str) -> None:
    """apps.connections.open once, so a wrong app token stops start-up instead of reconnecting forever."""
    try:
        await client.apps_connections_open(app_token=app_token)
    except SlackApiError as exc:
        error = exc.response.get("error", exc)
        raise ConfigError(
            f"Slack refused SLACK_APP_TOKEN (apps.connections.open: {error}); it must be the app-level token (xapp-…) "
            "with connections:write, and Socket Mode must be enabled for the app"
        ) from exc
    except (aiohttp.ClientError, OSError, TimeoutError) as exc:
        raise ConfigError(f"cannot reach the Slack API at {client.base_url}: {exc}") from exc


# -- the Bolt app ----------------------------------------------------------------------------------------
class RecentIds:
    """The last few thousand event ids, so a redelivered event (X-Slack-Retry-Num) is answered once."""

    def __init__(self, size: int = 5000) -> None:
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._size = size

    def add(self, key: str) -> bool:
        """True the first time a key is seen."""
        if key in self._ids:
            return False
        self._ids[key] = None
        if len(self._ids) > self._size:
            self._ids.popitem(last=False)
        return True


def build_app(service: BotService, client: AsyncWebClient, signing_secret: str | None = None) -> AsyncApp:
    """The Bolt app: DMs, @mentions, file shares, the feedback buttons and `/recbot`, all answered by `service`."""
    # Without a secret (Socket Mode) HTTP requests must still fail verification, so use one nobody knows.
    app = AsyncApp(client=client, signing_secret=signing_secret or secrets.token_hex(32), name="recbot")
    seen = RecentIds()

    @app.middleware
    async def skip_redeliveries(body: dict[str, Any], request: Any, next: Any) -> BoltResponse | None:
        event_id = body.get("event_id")
        if event_id and not seen.add(event_id):
            retry = request.headers.get("x-slack-retry-num", ["?"])[0]
            log.info("ignoring redelivery %s of event %s", retry, event_id)
            return BoltResponse(status=200, body="")
        return await next()

    @app.event("message")
    async def direct_message(event: dict[str, Any], context: Any, client: AsyncWebClient) -> None:
        if event.get("channel_type") != "im" or not _from_a_person(event):
            return  # channel chatter, edits, deletions and other bots are not for us
        await answer(service, client, event, context.bot_user_id, threaded=False)

    @app.event("app_mention")
    async def mention(event: dict[str, Any], context: Any, client: AsyncWebClient) -> None:
        if event.get("channel", "").startswith("D") or not _from_a_person(event):
            return  # a mention inside a DM arrives as a message too
        await answer(service, client, event, context.bot_user_id, threaded=True)

    @app.action(ACTION_PATTERN)
    async def feedback_button(ack: Any, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient, respond: Any) -> None:
        await ack()
        await on_feedback(service, client, respond, body, action)

    @app.command("/recbot")
    async def recbot_command(ack: Any, command: dict[str, Any], respond: Any, client: AsyncWebClient) -> None:
        await ack()  # within Slack's 3 seconds; the work below continues after the acknowledgement
        await on_command(service, client, respond, command)

    return app


def _from_a_person(event: dict[str, Any]) -> bool:
    return event.get("subtype") in _USER_SUBTYPES and not event.get("bot_id") and bool(event.get("user"))


# -- handlers: Slack event → Incoming → service → Block Kit -------------------------------------------------
async def answer(service: BotService, client: AsyncWebClient, event: dict[str, Any], bot_user_id: str | None, threaded: bool) -> None:
    """A DM or an @mention (with any shared files) → one `Incoming` → one reply, in a thread for mentions."""
    channel, user, ts = event["channel"], event["user"], event["ts"]
    thread_ts = event.get("thread_ts")
    conversation = f"{channel}:{thread_ts or ts}" if threaded else channel
    reply_in = (thread_ts or ts) if threaded else thread_ts
    incoming = Incoming(user_id=user, platform="slack", conversation_id=conversation, text=clean_text(event.get("text", ""), bot_user_id))
    if event.get("files"):
        try:
            await attach_files(incoming, event["files"], client)
        except FileProblem as exc:
            log.info("file from %s not used: %s", user, exc)
            await post_reply(client, channel, Reply(text=str(exc), error=exc.code), reply_in)
            return
    reply = await service.handle(incoming)
    log.info(
        "slack %s from %s: %d items%s", "mention" if threaded else "DM", user, len(reply.items), f", {reply.error}" if reply.error else ""
    )
    await post_reply(client, channel, reply, reply_in, service.config.slack.public_url)


async def on_feedback(service: BotService, client: AsyncWebClient, respond: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
    """👍 / 👎 mark the card in place; "More like this" posts new items in the card's thread."""
    user = body["user"]["id"]
    channel = (body.get("channel") or {}).get("id") or body["container"]["channel_id"]
    message = body.get("message") or {}
    thread_ts = message.get("thread_ts") or message.get("ts")
    conversation = channel if channel.startswith("D") else f"{channel}:{thread_ts}"
    kind = ACTIONS[action["action_id"]]
    feedback = Feedback(kind, action.get("value", ""))
    reply = await service.handle(Incoming(user_id=user, platform="slack", conversation_id=conversation, feedback=feedback))
    log.info("slack %s on %s from %s%s", kind, feedback.item_id, user, f": {reply.error}" if reply.error else "")
    if reply.error or not message.get("ts"):
        await respond(text=reply.text, response_type="ephemeral", replace_original=False)
    elif kind == "more_like_this":
        await post_reply(client, channel, reply, thread_ts, service.config.slack.public_url)
    else:
        try:
            await client.chat_update(
                channel=channel,
                ts=message["ts"],
                text=message.get("text", ""),
                blocks=with_reaction(message.get("blocks", []), feedback.item_id, reply.text),
            )
        except SlackApiError as exc:
            log.warning("chat.update failed (%s); answering ephemerally", exc.response.get("error"))
            await respond(text=reply.text, response_type="ephemeral", replace_original=False)


async def on_command(service: BotService, client: AsyncWebClient, respond: Any, command: dict[str, Any]) -> None:
    """`/recbot NAME ARGS` → `Command`; the answer is ephemeral (only the caller sees it)."""
    name, _, args = (command.get("text") or "").strip().partition(" ")
    name = name.lower().lstrip("/") or "help"
    channel = command.get("channel_id")
    incoming = Incoming(user_id=command["user_id"], platform="slack", conversation_id=channel, command=Command(name, args.strip()))
    reply = await service.handle(incoming)
    log.info("slack /recbot %s from %s%s", name, command["user_id"], f": {reply.error}" if reply.error else "")
    if name in {"help", "start"} and not reply.error:
        reply.text = f"{reply.text}\n{SLACK_HELP}"
    text, blocks = render(reply, service.config.slack.public_url)
    await respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)
    if reply.attachment and channel:
        await upload_attachment(client, channel, reply, None)


async def post_reply(client: AsyncWebClient, channel: str, reply: Reply, thread_ts: str | None, public_url: str | None = None) -> None:
    """chat.postMessage with Block Kit and a fallback text; Slack failures are logged, not raised into Bolt."""
    text, blocks = render(reply, public_url)
    try:
        await client.chat_postMessage(
            channel=channel, thread_ts=thread_ts, text=text, blocks=blocks, unfurl_links=False, unfurl_media=False
        )
    except SlackApiError as exc:
        log.error("chat.postMessage to %s failed: %s", channel, exc.response.get("error"))
        return
    if reply.attachment:
        await upload_attachment(client, channel, reply, thread_ts)


async def upload_attachment(client: AsyncWebClient, channel: str, reply: Reply, thread_ts: str | None) -> None:
    name = reply.attachment_name or "chart.png"
    try:
        await client.files_upload_v2(channel=channel, thread_ts=thread_ts, file=reply.attachment, filename=name, title=name)
    except SlackApiError as exc:
        log.warning("could not upload %s to %s: %s", name, channel, exc.response.get("error"))


_LINK = re.compile(r"<([^<>|]+)(?:\|([^<>]*))?>")


def clean_text(text: str, bot_user_id: str | None) -> str:
    """Slack mrkdwn → what the person typed: the bot's mention removed, links and channels as their labels."""
    if bot_user_id:
        text = re.sub(rf"<@{re.escape(bot_user_id)}(\|[^>]*)?>", " ", text)

    def label(match: re.Match[str]) -> str:
        target, shown = match.group(1), match.group(2)
        if shown:
            return ("#" + shown) if target.startswith("#C") else shown
        return target

    text = _LINK.sub(label, text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return re.sub(r"[ \t]+", " ", text).strip()


# -- files -------------------------------------------------------------------------------------------------
class FileProblem(Exception):
    """A shared file we cannot use, with a message for the person who shared it."""

    def __init__(self, message: str, code: str = "file_unreadable") -> None:
        super().__init__(message)
        self.code = code


def file_kind(file: dict[str, Any]) -> str | None:
    """ "photo", "voice" or None for a Slack file object."""
    mime = (file.get("mimetype") or "").lower()
    filetype = (file.get("filetype") or "").lower()
    if mime.startswith("image/"):
        return "photo"
    if mime.startswith("audio/") or file.get("subtype") == "slack_audio" or filetype in AUDIO_FILETYPES:
        return "voice"
    return None


_AUDIO_MIMES = {"m4a": "audio/mp4", "mp4": "audio/mp4", "webm": "audio/webm", "mp3": "audio/mpeg", "ogg": "audio/ogg", "oga": "audio/ogg"}


def voice_mime(file: dict[str, Any]) -> str:
    """An audio MIME type for a clip; Slack labels some clips video/* (e.g. a webm recorded in the browser)."""
    mime = (file.get("mimetype") or "").lower()
    if mime.startswith("audio/"):
        return mime
    filetype = (file.get("filetype") or "").lower()
    return _AUDIO_MIMES.get(filetype, f"audio/{filetype}" if filetype else "application/octet-stream")


async def attach_files(incoming: Incoming, files: list[dict[str, Any]], client: AsyncWebClient) -> None:
    """Download shared images (→ photos) and the first audio clip (→ voice) into `incoming`."""
    unusable: list[str] = []
    for file in files:
        if file.get("file_access") == "check_file_info" or not file.get("url_private"):
            try:
                file = (await client.files_info(file=file["id"]))["file"]
            except SlackApiError as exc:
                raise FileProblem("I couldn't open that file (Slack would not tell me about it).") from exc
        kind = file_kind(file)
        if kind is None or (kind == "voice" and incoming.voice is not None):
            unusable.append(file.get("name") or file.get("filetype") or "file")
            continue
        data = await download(file, client)
        if kind == "photo":
            incoming.photos.append(data)
        else:
            incoming.voice, incoming.voice_mime = data, voice_mime(file)
    if unusable and not incoming.photos and incoming.voice is None and not incoming.text:
        raise FileProblem(f"I can look at photos and listen to audio clips, but not at {', '.join(unusable)}.", "unsupported_file")


async def download(file: dict[str, Any], client: AsyncWebClient) -> bytes:
    """GET url_private with the bot token (only to Slack's own hosts), refusing anything over MAX_FILE_BYTES."""
    size = int(file.get("size") or 0)
    if size > MAX_FILE_BYTES:
        raise FileProblem(
            f"That file is too large ({size // (1024 * 1024)} MB); I read files up to {MAX_FILE_BYTES // (1024 * 1024)} MB.",
            "file_too_large",
        )
    url = file.get("url_private_download") or file.get("url_private") or ""
    if not _slack_host(url, client.base_url):
        log.warning("not sending the bot token to %s", urlparse(url).hostname)
        raise FileProblem("I couldn't download that file.")
    headers = {"Authorization": f"Bearer {client.token}"}
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session,
            session.get(url, headers=headers, allow_redirects=True) as response,
        ):
            if response.status != 200:
                raise FileProblem(f"I couldn't download that file (Slack answered {response.status}).")
            if response.content_type == "text/html":
                # Slack answers a missing files:read scope or a bad token with its sign-in page.
                log.error("Slack sent a web page instead of %s: does the app have the files:read scope?", file.get("id"))
                raise FileProblem("I couldn't download that file (the app may lack the files:read permission).")
            data = bytearray()
            async for chunk in response.content.iter_chunked(64 * 1024):
                data += chunk
                if len(data) > MAX_FILE_BYTES:
                    raise FileProblem(f"That file is too large; I read files up to {MAX_FILE_BYTES // (1024 * 1024)} MB.", "file_too_large")
            return bytes(data)
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise FileProblem("I couldn't download that file; please try again.") from exc


def _slack_host(url: str, api_base_url: str) -> bool:
    host = (urlparse(url).hostname or "").lower()
    api_host = (urlparse(api_base_url).hostname or "").lower()
    return bool(host) and (host == api_host or host == "slack.com" or host.endswith(".slack.com"))


# -- serving -----------------------------------------------------------------------------------------------
async def start_http(app: AsyncApp, slack: SlackConfig, port: int | None = None, service: BotService | None = None) -> web.AppRunner:
    """Serve events, actions and the slash command on slack.host:slack.port at slack.path (Bolt verifies signatures),
    and the catalogue's photos beside them when `slack.public_url` is set."""
    web_app = app.web_app(path=slack.path, port=slack.port)
    if slack.public_url and service is not None:
        add_image_route(web_app, service)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, slack.host, slack.port if port is None else port).start()
    return runner


async def start_socket_mode(app: AsyncApp, app_token: str) -> AsyncSocketModeHandler:
    handler = AsyncSocketModeHandler(app, app_token)
    await handler.connect_async()
    return handler


async def run(config: Config, tokens: SlackTokens, stop: asyncio.Event | None = None) -> None:
    """Check the tokens, start the bot service, serve until `stop` is set (or SIGINT/SIGTERM), then shut down."""
    slack = config.slack
    client = make_client(tokens.bot, slack.api_base_url)
    identity = await check_bot_token(client)
    if slack.mode == "socket":
        assert tokens.app is not None
        await check_app_token(client, tokens.app)
    if stop is None:
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    service = BotService(config)
    await service.start(progress=True)
    app = build_app(service, client, tokens.signing_secret)
    handler: AsyncSocketModeHandler | None = None
    runner: web.AppRunner | None = None
    try:
        if slack.mode == "socket":
            if slack.public_url:  # before the first event, so the first cards' photos load
                runner = await start_image_server(service, slack.host, slack.port)
                log.info("catalogue photos for %s served on http://%s:%s", slack.public_url, slack.host, slack.port)
            handler = await start_socket_mode(app, tokens.app)  # type: ignore[arg-type]
            log.info("recbot is on Slack as @%s in %s (Socket Mode)", identity.get("user"), identity.get("team"))
        else:
            runner = await start_http(app, slack, service=service)
            log.info("recbot is on Slack as @%s; listening on http://%s:%s%s", identity.get("user"), slack.host, slack.port, slack.path)
        await stop.wait()
    finally:
        if handler is not None:
            await handler.close_async()
        if runner is not None:
            await runner.cleanup()
        await service.close()


def serve(config: Config) -> int:
    """`recbot serve slack`: the bot on Slack until interrupted."""
    tokens = SlackTokens.from_env(config.slack.mode)
    asyncio.run(run(config, tokens))
    return 0
