"""Telegram's webhook on aiohttp, in front of the python-telegram-bot Application (the pattern of PTB's own custom
webhook example: updates are read here and put on `application.update_queue`).

PTB's built-in webhook server answers a body that is not JSON with a 500 and a traceback, and an update it cannot
read with a 400, which Telegram retries. Here every request gets a deliberate answer:
- a missing or wrong `X-Telegram-Bot-Api-Secret-Token` → 403; not `application/json` → 415; over `MAX_BODY` → 413;
  not JSON → 400 (one log line each);
- an update PTB cannot read → 200, skipped and logged once (adapters/telegram/updates.py), so Telegram moves on;
- an update id seen before (Telegram redelivering, or a replay) → 200 and nothing runs: the id is recorded in the
  event database (`Handler.first_delivery`), so this holds across restarts and workers.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

from aiohttp import web
from telegram.ext import Application

from adapters.telegram.updates import read_update
from bot.handler import Handler

log = logging.getLogger(__name__)

MAX_BODY = 4 * 2**20  # an update is a few kilobytes; anything near this is not from Telegram


async def start_webhook(application: Application, options: dict[str, Any]) -> web.AppRunner:
    """Serve `options["url_path"]` on listen:port and register `webhook_url` with Telegram (`webhook_options`)."""
    secret: str = options["secret_token"]
    bot = application.bot
    handler: Handler = application.bot_data["handler"]

    async def receive(request: web.Request) -> web.Response:
        given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            log.info("refused a webhook request from %s without the secret", request.remote)
            return web.Response(status=403)
        if request.content_type != "application/json":
            return web.Response(status=415, text="expected application/json")
        try:
            data = json.loads(await request.read())
        except web.HTTPRequestEntityTooLarge:
            log.info("refused a webhook request over %d bytes", MAX_BODY)
            return web.Response(status=413)
        except ValueError:  # not UTF-8, or not JSON
            log.info("refused a webhook request whose body is not JSON")
            return web.Response(status=400, text="the body is not JSON")
        update = read_update(data, bot)
        if update is None:
            return web.Response(status=200)
        if not await handler.first_delivery(f"telegram:update:{bot.id}:{update.update_id}"):
            log.info("ignored update %s: delivered before", update.update_id)
            return web.Response(status=200)
        bot.insert_callback_data(update)  # type: ignore[attr-defined]  # the buttons' data, as PTB's own webhook does
        await application.update_queue.put(update)
        return web.Response(status=200)

    app = web.Application(client_max_size=MAX_BODY)
    app.router.add_post("/" + options["url_path"].lstrip("/"), receive)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, options["listen"], options["port"]).start()
    await bot.set_webhook(url=options["webhook_url"], allowed_updates=options["allowed_updates"], secret_token=secret)
    return runner
