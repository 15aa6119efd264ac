"""Opening the item store: index the configured catalogue on first run, reuse it afterwards."""

from __future__ import annotations

import logging
from pathlib import Path

from bot.config import BotConfig, CatalogueConfig
from recsys.catalogue.items import DEMO_CATALOGUE
from recsys.catalogue.loading import Format, LoadResult, load_catalogue
from recsys.encoders.image import ClipImageEncoder, ImageEncoder, make_image_encoder
from recsys.encoders.text import TextEncoder
from recsys.store.chroma import ItemStore
from recsys.store.indexer import IndexReport, index_items, reindex_images

log = logging.getLogger(__name__)


def configured_image_encoder(config: BotConfig) -> ImageEncoder | ClipImageEncoder:
    return make_image_encoder(config.models.image_encoder, config.models.clip_path)


def open_catalogue(config: BotConfig, progress: bool = True) -> tuple[ItemStore, TextEncoder, ImageEncoder | ClipImageEncoder]:
    store = ItemStore(config.storage.root / "chroma")
    text_encoder, image_encoder = TextEncoder.shared(), configured_image_encoder(config)
    if store.count() == 0:
        path = config.catalogue.path or DEMO_CATALOGUE
        log.info("first run: indexing %s", path)
        loaded, report = ingest(path, store, text_encoder, image_encoder, config.catalogue, progress)
        log.info("catalogue ready (%s): %s; %s", loaded.format, report, loaded.summary())
    if store.count() == 0:
        log.error("the catalogue is empty: every user is told so until one is loaded with `recbot ingest PATH`")
    elif store.image_encoder() not in (None, image_encoder.name):
        log.info("image encoder changed (%s → %s): re-indexing photos", store.image_encoder(), image_encoder.name)
        reindex_images(store, image_encoder, progress)
    text_encoder.load()  # every text turn needs it: the first user should not wait for it
    return store, text_encoder, image_encoder


def ingest(
    path: Path,
    store: ItemStore,
    text_encoder: TextEncoder,
    image_encoder: ImageEncoder | ClipImageEncoder,
    catalogue: CatalogueConfig,
    progress: bool = True,
    format: Format = "auto",
) -> tuple[LoadResult, IndexReport]:
    loaded = load_catalogue(path, format, catalogue.category_separator)
    for problem in loaded.problems:
        log.warning("%s: %s", path, problem)
    report = index_items(loaded.items, store, text_encoder, image_encoder, progress, catalogue.search_fields)
    return loaded, report
