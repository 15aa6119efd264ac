"""Putting catalogue items into the store: encode what changed, skip what did not."""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from recsys.catalogue.items import TEXT_FORMAT, Item
from recsys.encoders.image import ClipImageEncoder, ImageEncoder
from recsys.encoders.images import ImageError, decode_image
from recsys.encoders.text import SentenceEncoder
from recsys.photo.category_model import CategoryModel
from recsys.photo.colors import color_features, detail_crop, visual_color
from recsys.photo.segment import isolate_product
from recsys.store.chroma import ItemStore, catalogue_item
from recsys.store.photo_fetch import PhotoFetcher

log = logging.getLogger(__name__)
BATCH = 32  # items a batch when photos are read too (decoded photos are held in memory)
TEXT_BATCH = 256  # text only: fewer, larger store writes


@dataclass
class IndexReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    image_problems: list[str] = field(default_factory=list)
    failed_photos: set[str] = field(default_factory=set)

    def __str__(self) -> str:
        return f"{self.added} added, {self.updated} updated, {self.unchanged} unchanged"


def index_items(
    items: list[Item],
    store: ItemStore,
    text_encoder: SentenceEncoder,
    image_encoder: ImageEncoder | ClipImageEncoder | None,
    progress: bool = True,
    search_fields: Collection[str] | None = None,
) -> IndexReport:
    """Upsert items by id (idempotent); only new or changed items are encoded again (an item, the text encoder, the
    text format and the search fields all decide what its vector is)."""
    report = IndexReport()
    store.fit_text_dimension(text_encoder.dim)
    known = store.fingerprints()
    encoded_as = f"{text_encoder.name}|text{TEXT_FORMAT}|" + (",".join(sorted(search_fields)) if search_fields is not None else "all")
    changed = []
    for item in items:
        before = known.get(item.id)
        if before == (item.fingerprint(), encoded_as):
            report.unchanged += 1
            continue
        changed.append(item)
        if before is None:
            report.added += 1
        else:
            report.updated += 1
    bar = tqdm(total=len(changed), desc="Indexing catalogue", unit="item", disable=not progress or not changed)
    size = BATCH if image_encoder is not None else TEXT_BATCH
    fetcher = PhotoFetcher(store.path / "photo-cache")
    try:
        for start in range(0, len(changed), size):  # each batch is stored whole: an interrupted ingest resumes after it
            batch = changed[start : start + size]
            photos = _photos(batch, report, fetcher) if image_encoder is not None else None
            texts = [i.embedding_text(search_fields) for i in batch]
            store.upsert(batch, text_encoder.encode(texts), encoded_as, _visual_colors(photos), texts)
            if image_encoder is not None and photos is not None:
                _store_photos(batch, photos, store, image_encoder)
            bar.update(len(batch))
    finally:
        fetcher.close()
        bar.close()
    if image_encoder is not None and changed:
        fit_photo_categories(store)
    return report


def fit_photo_categories(store: ItemStore) -> None:
    """Fit the photo category model now, at index time, and store it: the first photo a shopper sends does not wait."""
    CategoryModel.for_rows(store.image_rows(), store.path)


def reindex_images(store: ItemStore, image_encoder: ImageEncoder | ClipImageEncoder, progress: bool = True) -> IndexReport:
    """Re-encode every item photo, e.g. after switching image encoders."""
    report = IndexReport()
    items = [catalogue_item(i) for i in store.all_items().values()]
    store.clear_images()
    bar = tqdm(total=len(items), desc="Indexing photos", unit="item", disable=not progress)
    fetcher = PhotoFetcher(store.path / "photo-cache")
    try:
        for start in range(0, len(items), BATCH):
            batch = items[start : start + BATCH]
            photos = _photos(batch, report, fetcher)
            _store_photos(batch, photos, store, image_encoder)
            store.set_visual_colors(_visual_colors(photos))
            report.updated += len(batch)
            bar.update(len(batch))
    finally:
        fetcher.close()
        bar.close()
    fit_photo_categories(store)
    return report


def _photos(batch: list[Item], report: IndexReport, fetcher: PhotoFetcher) -> tuple[list[Item], list[Image.Image], list[np.ndarray]]:
    """The batch's items that have a usable photo, the photos, and their colour signatures; photos given as URLs are
    fetched together, a bounded pool at a time."""
    fetched = fetcher.fetch(i.image for i in batch if i.image and _is_url(i.image))
    with_photo: list[Item] = []
    pictures: list[Image.Image] = []
    for item in batch:
        if not item.image:
            continue
        try:
            data = fetched[item.image] if _is_url(item.image) else Path(item.image).read_bytes()
            if isinstance(data, str):
                raise OSError(data)
            pictures.append(isolate_product(decode_image(data)))  # a shot in a room: the product on white, as queries are
            with_photo.append(item)
        except (OSError, ImageError) as exc:
            why = f"not an image the bot can read ({exc.code})" if isinstance(exc, ImageError) else str(exc)
            if item.image not in report.failed_photos:  # one report per photo, however many items share it
                report.failed_photos.add(item.image)
                report.image_problems.append(f"{item.id}: {why}")
                log.warning("photo of %s not indexed: %s", item.id, why)
    return with_photo, pictures, [color_features(p) for p in pictures]


def _is_url(location: str) -> bool:
    return location.startswith(("http://", "https://"))


def _visual_colors(photos: tuple[list[Item], list[Image.Image], list[np.ndarray]] | None) -> dict[str, str]:
    if photos is None:
        return {}
    with_photo, _, colors = photos
    return {item.id: visual_color(signature) for item, signature in zip(with_photo, colors, strict=True)}


def _store_photos(
    batch: list[Item],
    photos: tuple[list[Item], list[Image.Image], list[np.ndarray]],
    store: ItemStore,
    encoder: ImageEncoder | ClipImageEncoder,
) -> None:
    with_photo, pictures, colors = photos
    store.delete_images([i.id for i in batch if i not in with_photo])
    if with_photo:
        details = encoder.encode([detail_crop(p) for p in pictures])
        store.upsert_images(with_photo, encoder.encode(pictures), encoder.name, np.stack(colors), details)
