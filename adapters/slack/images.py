"""Catalogue photos that are files on this machine, served over HTTP so Slack can show them on item cards.

Slack fetches a card's image itself, from a public URL; a catalogue whose photos are local files (the bundled demo,
most `recbot ingest` runs) has none. With `slack.public_url` set, `GET <public_url>/images/<item id>` serves the
item's photo from the same aiohttp server as the events endpoint (HTTP mode) or from a small one of its own (Socket
Mode). Only photos of catalogue items are served, looked up by id, so no other file can be reached.
"""

from __future__ import annotations

import asyncio
import io
import logging
from pathlib import Path

from aiohttp import web

from adapters.slack.blocks import is_web_image
from bot.handler import Handler

log = logging.getLogger(__name__)

ROUTE = "/images/{item_id:.+}"
CACHE_CONTROL = "public, max-age=86400"
_SLACK_SHOWS = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".gif": "image/gif"}


def add_image_route(app: web.Application, bot: Handler) -> None:
    async def photo(request: web.Request) -> web.StreamResponse:
        item_id = request.match_info["item_id"]
        image = bot.item_photo(item_id)
        path = Path(image) if image and not is_web_image(image) else None
        if path is None or not path.is_file():
            log.info("slack image: no local photo for item %r", item_id)
            raise web.HTTPNotFound(text="no photo for this item")
        headers = {"Cache-Control": CACHE_CONTROL}
        content_type = _SLACK_SHOWS.get(path.suffix.lower())
        if content_type is not None:
            return web.FileResponse(path, headers=headers | {"Content-Type": content_type})
        try:  # WebP, TIFF, BMP …: Slack shows only JPEG, PNG and GIF
            body = await asyncio.to_thread(_as_jpeg, path)
        except (OSError, ValueError) as exc:
            log.warning("slack image: photo of %r at %s does not open: %s", item_id, path, exc)
            raise web.HTTPNotFound(text="no photo for this item") from exc
        return web.Response(body=body, content_type="image/jpeg", headers=headers)

    app.router.add_get(ROUTE, photo)


def _as_jpeg(path: Path) -> bytes:
    from PIL import Image

    with Image.open(path) as image:
        image.thumbnail((1024, 1024))
        out = io.BytesIO()
        image.convert("RGB").save(out, "JPEG", quality=85)
    return out.getvalue()


async def start_image_server(bot: Handler, host: str, port: int) -> web.AppRunner:
    """Socket Mode has no HTTP server of its own: serve only the photos."""
    app = web.Application()
    add_image_route(app, bot)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
