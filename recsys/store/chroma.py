"""The item store: Chroma collections of item text and image vectors with filterable metadata."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, replace
from pathlib import Path

import chromadb
import numpy as np
from chromadb.config import Settings

from recsys.catalogue.items import Item
from recsys.photo.colors import COLOR_DIM, visual_color
from recsys.store.filters import VISUAL_COLOR, Filters, category_prefixes, color_key

log = logging.getLogger(__name__)

TEXT = "items_text"
IMAGE = "items_image"
DETAIL = "items_image_detail"  # a close-up crop of each photo, same ids as IMAGE


@dataclass
class Hit:
    """An item found by a vector query, with its cosine similarity and its stored vector."""

    item: Item
    similarity: float
    vector: np.ndarray


@dataclass
class ImageRows:
    """Every stored photo at once (ids, vectors, colour signatures, items), for re-ranking and for
    fitting the photo category model; small next to the catalogue."""

    items: list[Item]
    vectors: np.ndarray
    colors: np.ndarray
    encoder: str
    details: np.ndarray | None = None  # close-up vectors in the same order (zero rows where missing)


def catalogue_item(item: Item) -> Item:
    """The item as the catalogue gave it (without the visual colour the indexer inferred)."""
    if VISUAL_COLOR not in item.attributes:
        return item
    return replace(item, attributes={k: v for k, v in item.attributes.items() if k != VISUAL_COLOR})


def _with_visual_color(item: Item, visual: str | None) -> Item:
    item = catalogue_item(item)
    if not visual or item.color:  # only items without a catalogue colour get one; `color` is never changed
        return item
    return replace(item, attributes={**item.attributes, VISUAL_COLOR: visual})


def _metadata(item: Item, encoder: str, visual: str | None = None) -> dict:
    plain = catalogue_item(item)
    stored = _with_visual_color(item, visual) if visual else item
    return {
        "item_id": item.id,
        "product_id": item.product_id,
        "price": float(item.price),
        "color_key": color_key(stored),
        "cats": category_prefixes(item.categories) or ["(none)"],
        "fingerprint": plain.fingerprint(),
        "encoder": encoder,
        "item": json.dumps(stored.to_dict(), ensure_ascii=False),
    }


class ItemStore:
    """Items persisted in a Chroma `PersistentClient`; one collection per modality."""

    def __init__(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        self._client = chromadb.PersistentClient(path=str(path), settings=Settings(anonymized_telemetry=False))
        # No embedding function: vectors always come from our own offline encoders.
        self._text = self._client.get_or_create_collection(TEXT, embedding_function=None, configuration={"hnsw": {"space": "cosine"}})
        self._open_image_collections()
        self._cache: dict[str, Item] | None = None
        self._rows: ImageRows | None = None

    def _open_image_collections(self) -> None:
        space = {"hnsw": {"space": "cosine"}}
        self._image = self._client.get_or_create_collection(IMAGE, embedding_function=None, configuration=space)
        self._detail = self._client.get_or_create_collection(DETAIL, embedding_function=None, configuration=space)
        self._rows = None

    def clear_images(self) -> None:
        """Drop every photo vector (a new image encoder may have another dimension); item text is kept."""
        for name in (IMAGE, DETAIL):
            self._client.delete_collection(name)
        self._open_image_collections()

    # -- writing -----------------------------------------------------------------------------
    def fingerprints(self) -> dict[str, tuple[str, str]]:
        """id → (item fingerprint, text encoder) for everything stored, to skip unchanged items."""
        got = self._text.get(include=["metadatas"])
        return {i: (m["fingerprint"], m.get("encoder", "")) for i, m in zip(got["ids"], got["metadatas"] or [], strict=True)}

    def upsert(self, items: list[Item], text_vectors: np.ndarray, text_encoder: str, visual_colors: dict[str, str] | None = None) -> None:
        """Store items with their text vectors; `visual_colors` (id → colour name seen in the photo)
        lets a colour filter match items the catalogue gives no colour (bags, watches)."""
        if not items:
            return
        visual_colors = visual_colors or {}
        self._text.upsert(
            ids=[i.id for i in items],
            embeddings=text_vectors,
            documents=[i.embedding_text() for i in items],
            metadatas=[_metadata(i, text_encoder, visual_colors.get(i.id)) for i in items],
        )
        self._cache = None
        self._rows = None

    def set_visual_colors(self, visual_colors: dict[str, str]) -> None:
        """Update the inferred colours of stored items (e.g. after re-indexing photos)."""
        got = self._text.get(ids=list(visual_colors), include=["metadatas"])
        metas = []
        for item_id, meta in zip(got["ids"], got["metadatas"] or [], strict=True):
            item = _with_visual_color(Item.from_dict(json.loads(meta["item"])), visual_colors[item_id])
            metas.append({**meta, "color_key": color_key(item), "item": json.dumps(item.to_dict(), ensure_ascii=False)})
        if metas:
            self._text.update(ids=got["ids"], metadatas=metas)
            self._cache = None
            self._rows = None

    def upsert_images(
        self,
        items: list[Item],
        vectors: np.ndarray,
        image_encoder: str,
        colors: np.ndarray | None = None,
        details: np.ndarray | None = None,
    ) -> None:
        """Store photo vectors; `colors` holds each photo's colour signature (recsys.photo.colors.color_features),
        `details` the vector of a close-up crop of each photo."""
        if not items:
            return
        if details is not None:
            self._detail.upsert(ids=[i.id for i in items], embeddings=details, metadatas=[{"encoder": image_encoder} for _ in items])
        else:
            self._detail.delete(ids=[i.id for i in items])
        metas = []
        for n, item in enumerate(items):
            meta = _metadata(item, image_encoder)
            if colors is not None:
                meta["colors"] = [round(float(x), 5) for x in colors[n]]
                meta["visual_color"] = visual_color(colors[n])
            metas.append(meta)
        self._image.upsert(ids=[i.id for i in items], embeddings=vectors, metadatas=metas)
        self._rows = None

    def delete_images(self, ids: list[str]) -> None:
        if ids:
            self._image.delete(ids=ids)
            self._detail.delete(ids=ids)
            self._rows = None

    def image_rows(self) -> ImageRows:
        """All photos with vectors and colour signatures, cached until the photos change."""
        if self._rows is None:
            got = self._image.get(include=["metadatas", "embeddings"])
            metas = got["metadatas"] or []
            items = [Item.from_dict(json.loads(m["item"])) for m in metas]
            catalogue = self.all_items()  # the text side carries the inferred colours
            items = [catalogue.get(i.id, i) for i in items]
            vectors = np.asarray(got["embeddings"], dtype=np.float32) if len(items) else np.zeros((0, 0), dtype=np.float32)
            colors = np.asarray([m.get("colors") or [0.0] * COLOR_DIM for m in metas], dtype=np.float32).reshape(len(items), COLOR_DIM)
            encoder = metas[0].get("encoder", "") if metas else ""
            details = None
            if items:
                got_details = self._detail.get(ids=[i.id for i in items], include=["embeddings"])
                by_id = dict(zip(got_details["ids"], got_details["embeddings"], strict=True))
                if by_id:
                    details = np.zeros_like(vectors)
                    for n, item in enumerate(items):
                        if item.id in by_id:
                            details[n] = by_id[item.id]
            self._rows = ImageRows(items, vectors, colors, encoder, details)
        return self._rows

    def image_encoder(self) -> str | None:
        got = self._image.get(limit=1, include=["metadatas"])
        return got["metadatas"][0].get("encoder") if got["ids"] else None

    # -- reading -----------------------------------------------------------------------------
    def count(self) -> int:
        return self._text.count()

    def all_items(self) -> dict[str, Item]:
        """Every item by id, cached in memory: the catalogue is small next to the vectors."""
        if self._cache is None:
            got = self._text.get(include=["metadatas"])
            self._cache = {i: Item.from_dict(json.loads(m["item"])) for i, m in zip(got["ids"], got["metadatas"] or [], strict=True)}
        return self._cache

    def get(self, item_id: str) -> Item | None:
        return self.all_items().get(item_id)

    def text_vectors(self, ids: list[str]) -> dict[str, np.ndarray]:
        if not ids:
            return {}
        got = self._text.get(ids=list(ids), include=["embeddings"])
        return {i: np.asarray(v, dtype=np.float32) for i, v in zip(got["ids"], got["embeddings"], strict=True)}

    def search_text(self, vector: np.ndarray, filters: Filters, n: int) -> list[Hit]:
        return self._query(self._text, vector, filters, n)

    def _query(self, collection, vector: np.ndarray, filters: Filters, n: int) -> list[Hit]:
        total = collection.count()
        if total == 0 or n <= 0:
            return []
        got = collection.query(
            query_embeddings=[np.asarray(vector, dtype=np.float32)],
            n_results=min(n, total),
            where=filters.to_where(),
            include=["metadatas", "distances", "embeddings"],
        )
        hits = []
        for meta, dist, vec in zip(got["metadatas"][0], got["distances"][0], got["embeddings"][0], strict=True):
            item = Item.from_dict(json.loads(meta["item"]))
            if filters.matches(item):  # belt and braces: the reply must honour every constraint
                hits.append(Hit(item, 1.0 - float(dist), np.asarray(vec, dtype=np.float32)))
        return hits
