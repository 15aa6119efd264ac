"""`recbot serve slack`: check the tokens, then serve the Bolt app in Socket Mode or over HTTP until stopped.

- Socket Mode (default, no public URL): SLACK_BOT_TOKEN (xoxb-…) and SLACK_APP_TOKEN (xapp-…, with
  connections:write).
- HTTP mode (`slack.mode: http`): SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET; events, actions and the
  slash command are served at http://{slack.host}:{slack.port}{slack.path} (127.0.0.1 unless configured).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.app.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from adapters.config import Config, SlackConfig
from adapters.images import add_image_route, start_image_server
from adapters.slack.app import build_app
from adapters.slack.requests import request_guard
from bot.config import ConfigError
from bot.handler import Handler

log = logging.getLogger(__name__)


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


async def start_http(app: AsyncApp, slack: SlackConfig, bot: Handler, signing_secret: str, port: int | None = None) -> web.AppRunner:
    """Serve events, actions and the slash command on slack.host:slack.port at slack.path, each request checked first
    (adapters/slack/requests.py: signature, shape, replays), and the catalogue's photos beside them when
    `slack.public_url` is set."""
    web_app = app.web_app(path=slack.path, port=slack.port)
    web_app.middlewares.append(request_guard(signing_secret, bot, slack.path))
    if slack.public_url:
        add_image_route(web_app, bot)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, slack.host, slack.port if port is None else port).start()
    return runner


async def start_socket_mode(app: AsyncApp, app_token: str) -> AsyncSocketModeHandler:
    handler = AsyncSocketModeHandler(app, app_token)
    await handler.connect_async()
    return handler


async def run(config: Config, tokens: SlackTokens, bot: Handler, stop: asyncio.Event | None = None) -> None:
    """Check the tokens, start the bot, serve until `stop` is set (or SIGINT/SIGTERM), then shut down."""
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
    await bot.start(progress=True)
    app = build_app(bot, client, tokens.signing_secret, slack.public_url)
    handler: AsyncSocketModeHandler | None = None
    runner: web.AppRunner | None = None
    try:
        if slack.mode == "socket":
            if slack.public_url:  # before the first event, so the first cards' photos load
                runner = await start_image_server(bot, slack.host, slack.port)
                log.info("catalogue photos for %s served on http://%s:%s", slack.public_url, slack.host, slack.port)
            handler = await start_socket_mode(app, tokens.app)  # type: ignore[arg-type]
            log.info("recbot is on Slack as @%s in %s (Socket Mode)", identity.get("user"), identity.get("team"))
        else:
            assert tokens.signing_secret is not None  # SlackTokens.from_env refuses HTTP mode without it
            runner = await start_http(app, slack, bot, tokens.signing_secret)
            log.info("recbot is on Slack as @%s; listening on http://%s:%s%s", identity.get("user"), slack.host, slack.port, slack.path)
        await stop.wait()
    finally:
        if handler is not None:
            await handler.close_async()
        if runner is not None:
            await runner.cleanup()
        await bot.close()


def serve(config: Config, bot: Handler) -> int:
    """`recbot serve slack`: `bot` on Slack until interrupted."""
    tokens = SlackTokens.from_env(config.slack.mode)
    asyncio.run(run(config, tokens, bot))
    return 0
