"""Catalogue photos given as URLs, fetched during ingest: a bounded pool of connections, a size limit read as the
bytes arrive, only image content types, one overall deadline per photo, and a cache on disk so a re-ingest (or one
resumed after an interruption) fetches nothing twice. A photo that cannot be fetched is a reason, not an exception:
its item is indexed without a photo vector and the reason is reported once."""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

log = logging.getLogger(__name__)

MAX_BYTES = 20 * 1024 * 1024
WORKERS = 8
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
DEADLINE_S = 30.0  # a server that trickles bytes forever is cut off here


class PhotoFetcher:
    """`fetch(urls)` → url → bytes or a reason why not (str)."""

    def __init__(self, cache: Path, max_bytes: int | None = None, workers: int = WORKERS) -> None:
        self.cache = cache
        self.max_bytes = max_bytes or MAX_BYTES
        self.workers = workers
        self._client = httpx.Client(
            timeout=TIMEOUT,
            follow_redirects=True,
            limits=httpx.Limits(max_connections=workers, max_keepalive_connections=workers),
            headers={"User-Agent": "recbot-catalogue-ingest"},
        )

    def close(self) -> None:
        self._client.close()

    def _path(self, url: str) -> Path:
        return self.cache / hashlib.sha256(url.encode()).hexdigest()[:40]

    def fetch(self, urls: Iterable[str]) -> dict[str, bytes | str]:
        wanted = list(dict.fromkeys(urls))
        if not wanted:
            return {}
        with ThreadPoolExecutor(max_workers=min(self.workers, len(wanted)), thread_name_prefix="photo-fetch") as pool:
            return dict(zip(wanted, pool.map(self._one, wanted), strict=True))

    def _one(self, url: str) -> bytes | str:
        cached = self._path(url)
        if cached.is_file():
            return cached.read_bytes()
        try:
            data = self._download(url)
        except httpx.HTTPError as exc:
            return f"could not fetch {url}: {exc.__class__.__name__}: {exc}"
        if isinstance(data, bytes):
            self._keep(cached, data)
        return data

    def _download(self, url: str) -> bytes | str:
        deadline = time.monotonic() + DEADLINE_S
        with self._client.stream("GET", url) as response:
            if response.status_code != 200:
                return f"{url} answered HTTP {response.status_code}"
            kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
            if kind and not kind.startswith("image/") and kind != "application/octet-stream":
                return f"{url} is not an image ({kind})"
            declared = int(response.headers.get("content-length") or 0)
            if declared > self.max_bytes:
                return f"{url} is too large ({declared // (1024 * 1024)} MB; the limit is {self.max_bytes // (1024 * 1024)} MB)"
            body = bytearray()
            for chunk in response.iter_bytes(64 * 1024):
                body += chunk
                if len(body) > self.max_bytes:
                    return f"{url} is too large (over {self.max_bytes // (1024 * 1024)} MB)"
                if time.monotonic() > deadline:
                    return f"{url} took longer than {DEADLINE_S:.0f} s"
            return bytes(body)

    def _keep(self, path: Path, data: bytes) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
        except OSError as exc:  # a full disk costs a fetch next time, nothing else
            log.warning("photo cache: could not keep %s: %s", path.name, exc)
