"""`recbot serve web`: the chat page and its API on web.host:web.port (127.0.0.1:8080 by default) until stopped."""

from __future__ import annotations

import asyncio
import logging
import signal

from aiohttp import web

from adapters.config import Config
from adapters.web.app import WebChat
from adapters.web.session import Sessions, load_secret
from bot.config import ConfigError
from bot.handler import Handler

log = logging.getLogger(__name__)


def chat_app(config: Config, bot: Handler) -> web.Application:
    sessions = Sessions(load_secret(config.storage.root), secure=config.web.cookie_secure)
    return WebChat(bot, config.web, sessions, config.chat.languages, config.chat.max_text_chars).app()


async def start(config: Config, bot: Handler, port: int | None = None) -> web.AppRunner:
    runner = web.AppRunner(chat_app(config, bot), access_log=None)
    await runner.setup()
    port = config.web.port if port is None else port
    try:
        await web.TCPSite(runner, config.web.host, port).start()
    except OSError as exc:
        await runner.cleanup()
        raise ConfigError(f"cannot listen on {config.web.host}:{port} (web.host, web.port): {exc.strerror or exc}") from exc
    return runner


async def run(config: Config, bot: Handler, stop: asyncio.Event | None = None) -> None:
    """Start the bot, then serve the page until `stop` is set (or SIGINT/SIGTERM), then shut down."""
    if stop is None:
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    await bot.start(progress=True)
    runner: web.AppRunner | None = None
    try:
        runner = await start(config, bot)
        log.info("recbot web chat: open http://%s:%s/ in a browser", config.web.host, config.web.port)
        print(f"recbot web chat: open http://{config.web.host}:{config.web.port}/ in a browser", flush=True)
        await stop.wait()
    finally:
        if runner is not None:
            await runner.cleanup()
        await bot.close()


def serve(config: Config, bot: Handler) -> int:
    asyncio.run(run(config, bot))
    return 0
