"""Catalogue photos served over HTTP at `/images/<item id>`: for Slack, which fetches a card's image itself from a
public URL, and for the web chat's cards.

A catalogue whose photos are local files (the bundled demo, most `recbot ingest` runs) has no URL for them. Slack gets
them from the same aiohttp server as its events endpoint (HTTP mode, with `slack.public_url` set) or from a small one
of its own (Socket Mode); the web chat from its own server. Only photos of catalogue items are served, looked up by
id, so no other file can be reached. A photo the catalogue gives as a web address is redirected to.
"""

from __future__ import annotations

import asyncio
import io
import logging
from pathlib import Path

from aiohttp import web

from bot.handler import Handler

log = logging.getLogger(__name__)

ROUTE = "/images/{item_id:.+}"
CACHE_CONTROL = "public, max-age=86400"
_SLACK_SHOWS = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".gif": "image/gif"}


def is_web_image(image: str | None) -> bool:
    return bool(image) and image.lower().startswith(("http://", "https://"))  # type: ignore[union-attr]


def add_image_route(app: web.Application, bot: Handler) -> None:
    async def photo(request: web.Request) -> web.StreamResponse:
        item_id = request.match_info["item_id"]
        image = bot.item_photo(item_id)
        if image and is_web_image(image):
            raise web.HTTPFound(image)
        path = Path(image) if image else None
        if path is None or not path.is_file():
            log.info("image route: no local photo for item %r", item_id)
            raise web.HTTPNotFound(text="no photo for this item")
        headers = {"Cache-Control": CACHE_CONTROL}
        content_type = _SLACK_SHOWS.get(path.suffix.lower())
        if content_type is not None:
            return web.FileResponse(path, headers=headers | {"Content-Type": content_type})
        try:  # WebP, TIFF, BMP …: Slack shows only JPEG, PNG and GIF (and browsers no TIFF)
            body = await asyncio.to_thread(_as_jpeg, path)
        except (OSError, ValueError) as exc:
            log.warning("image route: photo of %r at %s does not open: %s", item_id, path, exc)
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
