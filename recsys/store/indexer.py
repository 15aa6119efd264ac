"""Putting catalogue items into the store: encode what changed, skip what did not."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import httpx
import numpy as np
from PIL import Image
from tqdm import tqdm

from recsys.catalogue.items import Item
from recsys.encoders.image import ClipImageEncoder, ImageEncoder
from recsys.encoders.images import ImageError, decode_image
from recsys.encoders.text import TextEncoder
from recsys.photo.colors import color_features, detail_crop, visual_color
from recsys.store.chroma import ItemStore, catalogue_item

log = logging.getLogger(__name__)
BATCH = 32


@dataclass
class IndexReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    image_problems: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.added} added, {self.updated} updated, {self.unchanged} unchanged"


def index_items(
    items: list[Item],
    store: ItemStore,
    text_encoder: TextEncoder,
    image_encoder: ImageEncoder | ClipImageEncoder | None,
    progress: bool = True,
) -> IndexReport:
    """Upsert items by id (idempotent); only new or changed items are encoded again."""
    report = IndexReport()
    known = store.fingerprints()
    changed = []
    for item in items:
        before = known.get(item.id)
        if before == (item.fingerprint(), text_encoder.name):
            report.unchanged += 1
            continue
        changed.append(item)
        if before is None:
            report.added += 1
        else:
            report.updated += 1
    bar = tqdm(total=len(changed), desc="Indexing catalogue", unit="item", disable=not progress or not changed)
    for start in range(0, len(changed), BATCH):
        batch = changed[start : start + BATCH]
        photos = _photos(batch, report) if image_encoder is not None else None
        store.upsert(batch, text_encoder.encode([i.embedding_text() for i in batch]), text_encoder.name, _visual_colors(photos))
        if image_encoder is not None and photos is not None:
            _store_photos(batch, photos, store, image_encoder)
        bar.update(len(batch))
    bar.close()
    return report


def reindex_images(store: ItemStore, image_encoder: ImageEncoder | ClipImageEncoder, progress: bool = True) -> IndexReport:
    """Re-encode every item photo, e.g. after switching image encoders."""
    report = IndexReport()
    items = [catalogue_item(i) for i in store.all_items().values()]
    store.clear_images()
    bar = tqdm(total=len(items), desc="Indexing photos", unit="item", disable=not progress)
    for start in range(0, len(items), BATCH):
        batch = items[start : start + BATCH]
        photos = _photos(batch, report)
        _store_photos(batch, photos, store, image_encoder)
        store.set_visual_colors(_visual_colors(photos))
        report.updated += len(batch)
        bar.update(len(batch))
    bar.close()
    return report


def _photos(batch: list[Item], report: IndexReport) -> tuple[list[Item], list[Image.Image], list[np.ndarray]]:
    """The batch's items that have a usable photo, the photos, and their colour signatures."""
    with_photo: list[Item] = []
    pictures: list[Image.Image] = []
    for item in batch:
        if not item.image:
            continue
        try:
            pictures.append(_open(item.image))
            with_photo.append(item)
        except (OSError, ImageError, httpx.HTTPError) as exc:
            report.image_problems.append(f"{item.id}: {exc}")
            log.warning("photo of %s not indexed: %s", item.id, exc)
    return with_photo, pictures, [color_features(p) for p in pictures]


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


def _open(location: str) -> Image.Image:
    if location.startswith(("http://", "https://")):
        response = httpx.get(location, timeout=10.0, follow_redirects=True)
        response.raise_for_status()
        return decode_image(response.content)
    with open(location, "rb") as fh:
        return decode_image(fh.read())
