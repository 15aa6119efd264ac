"""Opening the item store: index the configured catalogue on first run, reuse it afterwards."""

from __future__ import annotations

import logging
from pathlib import Path

from bot.config import Config
from recsys.catalogue import DEMO_CATALOGUE, LoadResult, load_catalogue
from recsys.image_encoder import ImageEncoder
from recsys.indexer import IndexReport, index_items
from recsys.store import ItemStore
from recsys.text_encoder import TextEncoder

log = logging.getLogger(__name__)


def open_catalogue(config: Config, progress: bool = True) -> tuple[ItemStore, TextEncoder, ImageEncoder]:
    store = ItemStore(config.storage.root / "chroma")
    text_encoder, image_encoder = TextEncoder.shared(), ImageEncoder.shared()
    if store.count() == 0:
        path = config.catalogue.path or DEMO_CATALOGUE
        log.info("first run: indexing %s", path)
        loaded, report = ingest(path, store, text_encoder, image_encoder, progress)
        log.info("catalogue ready: %s (%d rows skipped)", report, sum(p.skipped for p in loaded.problems))
    return store, text_encoder, image_encoder


def ingest(
    path: Path, store: ItemStore, text_encoder: TextEncoder, image_encoder: ImageEncoder, progress: bool = True
) -> tuple[LoadResult, IndexReport]:
    loaded = load_catalogue(path)
    for problem in loaded.problems:
        log.warning("%s: %s", path, problem)
    report = index_items(loaded.items, store, text_encoder, image_encoder, progress)
    return loaded, report
