"""Catalogue photos given as URLs: fetched during ingest from a real HTTP server on 127.0.0.1; a photo that cannot be
had (HTML instead of an image, a 404, one too large, a server that hangs) leaves its item in the catalogue without a
photo vector and is reported once; a re-ingest takes the photos from the cache."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import httpx
import pytest

from recsys.catalogue.items import DEMO_CATALOGUE, Item
from recsys.store import photo_fetch
from recsys.store.chroma import ItemStore
from recsys.store.indexer import index_items

JPEG = (DEMO_CATALOGUE.parent / "images" / "mb01-blue-0.jpg").read_bytes()


class Shop(BaseHTTPRequestHandler):
    hits: ClassVar[dict[str, int]] = {}

    def do_GET(self) -> None:
        Shop.hits[self.path] = Shop.hits.get(self.path, 0) + 1
        if self.path == "/bag.jpg":
            self._send(200, "image/jpeg", JPEG)
        elif self.path == "/page":
            self._send(200, "text/html; charset=utf-8", b"<html>sign in</html>")
        elif self.path == "/huge.jpg":
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(50 * 1024 * 1024))
            self.end_headers()
        elif self.path == "/hang.jpg":
            time.sleep(3)
        else:
            self._send(404, "text/plain", b"gone")

    def _send(self, status: int, kind: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def shop() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Shop)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Shop.hits = {}
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.slow
def test_photos_by_url_are_fetched_once_and_failures_reported_once(shop: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from recsys.encoders.image import make_image_encoder
    from recsys.encoders.text import TextEncoder

    monkeypatch.setattr(photo_fetch, "TIMEOUT", httpx.Timeout(1.0, connect=1.0))  # the hanging server, quickly
    urls = {"good": "/bag.jpg", "html": "/page", "missing": "/nope.jpg", "huge": "/huge.jpg", "hang": "/hang.jpg"}
    items = [Item(f"{name}-{n}", f"Bag {name} {n}", 10.0, image=shop + path) for name, path in urls.items() for n in (1, 2)]
    store = ItemStore(tmp_path / "chroma")
    encoders = TextEncoder.shared(), make_image_encoder("efficientnet-lite0", None)
    report = index_items(items, store, *encoders, progress=False)

    assert store.count() == len(items), "every item is in the catalogue, photo or not"
    assert {i.id for i in store.image_rows().items} == {"good-1", "good-2"}
    problems = "\n".join(report.image_problems)
    assert len(report.image_problems) == 4, "one report per photo that failed, however many items share it"
    assert "not an image (text/html)" in problems and "HTTP 404" in problems and "too large" in problems
    assert "ReadTimeout" in problems or "took longer" in problems
    assert Shop.hits["/bag.jpg"] == 1, "two items, one photo: fetched once"

    store.delete_images(["good-1", "good-2"])
    again = index_items([Item("good-3", "Bag good 3", 10.0, image=shop + "/bag.jpg")], store, *encoders, progress=False)
    assert not again.image_problems and Shop.hits["/bag.jpg"] == 1, "the second ingest takes the photo from the cache"
