"""`recbot serve telegram`: check the token, then run the bot by long polling or as a webhook until SIGTERM/SIGINT.

Webhook mode: `telegram.mode: webhook`, `telegram.webhook.url` (the public URL Telegram posts to) and
TELEGRAM_WEBHOOK_SECRET; requests without that secret are refused. `telegram.base_url` and
`telegram.base_file_url` point the bot at any Bot API server (e.g. a self-hosted one).
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
import sys
from typing import Any

from telegram import Bot
from telegram.error import InvalidToken, NetworkError
from telegram.ext import Application

from adapters.config import Config
from adapters.telegram.app import ALLOWED_UPDATES, build_application
from adapters.telegram.webhook import start_webhook
from bot.config import ConfigError
from bot.handler import Handler

log = logging.getLogger(__name__)

_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


def webhook_options(config: Config) -> dict[str, Any]:
    """`Updater.start_webhook` arguments from config and TELEGRAM_WEBHOOK_SECRET; refuses to run without a secret."""
    hook = config.telegram.webhook
    secret = os.environ.get("TELEGRAM_WEBHOOK_SECRET", "")
    if not hook.url:
        raise ConfigError("telegram.webhook.url is required in webhook mode: the public HTTPS URL Telegram posts updates to")
    if not _SECRET.fullmatch(secret):
        raise ConfigError(
            "TELEGRAM_WEBHOOK_SECRET must be set in webhook mode: 1-256 characters of A-Z, a-z, 0-9, _ and -; "
            "requests without it are refused"
        )
    return {
        "listen": hook.listen,
        "port": hook.port,
        "url_path": hook.path.lstrip("/"),
        "webhook_url": hook.url,
        "secret_token": secret,
        "allowed_updates": ALLOWED_UPDATES,
    }


def serve(config: Config, handler: Handler) -> int:
    """Run `handler` on Telegram until SIGTERM/SIGINT (exit 0); clear messages for start-up problems."""
    token = os.environ.get("TELEGRAM_BOT_TOKEN", "").strip()
    if not token:
        raise ConfigError("TELEGRAM_BOT_TOKEN is not set: create a bot with @BotFather and export its token")
    hook = webhook_options(config) if config.telegram.mode == "webhook" else None
    problem = asyncio.run(check_bot_api(config, token))
    if problem is not None:
        print(f"recbot: {problem}", file=sys.stderr)
        return 2
    application = build_application(config, token, handler)
    if hook is not None:
        asyncio.run(run_webhook(application, hook))
    else:
        application.run_polling(allowed_updates=ALLOWED_UPDATES)
    return 0


async def run_webhook(application: Application, hook: dict[str, Any], stop: asyncio.Event | None = None) -> None:
    """What `Application.run_webhook` does, with our own webhook server (adapters/telegram/webhook.py), until `stop`
    is set or SIGINT/SIGTERM arrives."""
    if stop is None:
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    async with application:  # initialize … shutdown
        await application.post_init(application)  # type: ignore[misc]
        runner = await start_webhook(application, hook)
        await application.start()
        log.info("Telegram webhook on http://%s:%s/%s", hook["listen"], hook["port"], hook["url_path"])
        try:
            await stop.wait()
        finally:
            await runner.cleanup()
            await application.stop()
    await application.post_shutdown(application)  # type: ignore[misc]


async def check_bot_api(config: Config, token: str) -> str | None:
    """One getMe before starting, so a bad token or an unreachable server is one clear line (PTB's own start-up
    failure logs a traceback that quotes the token)."""
    server = config.telegram.base_url
    bot = Bot(token, base_url=server, base_file_url=config.telegram.base_file_url)
    try:
        me = await bot.get_me()
    except InvalidToken as exc:
        return f"the Bot API at {server} rejected TELEGRAM_BOT_TOKEN (getMe: {exc.message}); check the token and telegram.base_url"
    except NetworkError as exc:
        return f"cannot reach the Telegram Bot API at {server}: {exc.message}"
    finally:
        await bot.shutdown()
    log.info("connected to %s as @%s", server, me.username)
    return None
