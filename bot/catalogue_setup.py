"""Opening the item store: index the configured catalogue on first run, reuse it afterwards."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from bot.config import BotConfig
from recsys.catalogue.items import DEMO_CATALOGUE, Item
from recsys.catalogue.loading import Format, LoadResult, load_catalogue
from recsys.encoders.image import ClipImageEncoder, ImageEncoder, make_image_encoder
from recsys.encoders.text import SentenceEncoder, make_text_encoder, written_in_chinese
from recsys.store.chroma import ItemStore, catalogue_item
from recsys.store.indexer import IndexReport, index_items, reindex_images

log = logging.getLogger(__name__)


def configured_image_encoder(config: BotConfig) -> ImageEncoder | ClipImageEncoder:
    return make_image_encoder(config.models.image_encoder, config.models.clip_path)


def text_encoder_for(config: BotConfig, store: ItemStore, items: list[Item] | None = None) -> SentenceEncoder:
    """The configured text encoder; `auto`: the one the store was encoded with, else by the language of the items."""
    kind = config.models.text_encoder
    if kind == "auto":
        if items is not None:
            kind = "use-multilingual" if written_in_chinese([i.name for i in items]) else "minilm"
        else:
            kind = store.text_encoder() or "minilm"
    return make_text_encoder(kind)


def _read(path: Path) -> str | None:
    return path.read_text(encoding="utf-8").strip() if path.is_file() else None


def open_catalogue(config: BotConfig, progress: bool = True) -> tuple[ItemStore, SentenceEncoder, ImageEncoder | ClipImageEncoder]:
    store = ItemStore(config.storage.root / "chroma", config.storage.chroma_url)
    image_encoder = configured_image_encoder(config)
    text_encoder = text_encoder_for(config, store)
    demo_stamp = config.storage.root / "chroma" / "demo_catalogue.sha256"
    demo = hashlib.sha256(DEMO_CATALOGUE.read_bytes()).hexdigest() if config.catalogue.path is None else None
    if store.count() == 0 or (demo is not None and _read(demo_stamp) != demo):
        # a first run, or a new version of the bundled demo (an upgrade): ingest is idempotent, so only what changed is stored
        path = config.catalogue.path or DEMO_CATALOGUE
        log.info("%s: indexing %s", "first run" if store.count() == 0 else "the bundled catalogue changed", path)
        loaded, report, text_encoder = ingest(path, store, None, image_encoder, config, progress)
        log.info("catalogue ready (%s): %s; %s", loaded.format, report, loaded.summary())
        if demo is not None:
            demo_stamp.write_text(demo, encoding="utf-8")
    elif store.text_encoder() != text_encoder.name:
        log.info("text encoder changed (%s → %s): encoding the stored items again", store.text_encoder(), text_encoder.name)
        stored = [catalogue_item(i) for i in store.all_items().values()]
        index_items(stored, store, text_encoder, image_encoder, progress, config.catalogue.search_fields)
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
    text_encoder: SentenceEncoder | None,
    image_encoder: ImageEncoder | ClipImageEncoder,
    config: BotConfig,
    progress: bool = True,
    format: Format = "auto",
) -> tuple[LoadResult, IndexReport, SentenceEncoder]:
    """Load a catalogue file and index it; `text_encoder` None: the configured one, chosen by the file's items."""
    catalogue = config.catalogue
    loaded = load_catalogue(path, format, catalogue.category_separator)
    for problem in loaded.problems:
        log.warning("%s: %s", path, problem)
    text_encoder = text_encoder or text_encoder_for(config, store, loaded.items)
    report = index_items(loaded.items, store, text_encoder, image_encoder, progress, catalogue.search_fields)
    return loaded, report, text_encoder
