"""The item store: Chroma collections of item text and image vectors with filterable metadata."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import chromadb
import numpy as np
from chromadb.config import Settings

from recsys.catalogue import Item
from recsys.filters import Filters, category_prefixes

log = logging.getLogger(__name__)

TEXT = "items_text"
IMAGE = "items_image"


@dataclass
class Hit:
    """An item found by a vector query, with its cosine similarity and its stored vector."""

    item: Item
    similarity: float
    vector: np.ndarray


def _metadata(item: Item, encoder: str) -> dict:
    return {
        "item_id": item.id,
        "product_id": item.product_id,
        "price": float(item.price),
        "color_key": (item.color or "").lower(),
        "cats": category_prefixes(item.categories) or ["(none)"],
        "fingerprint": item.fingerprint(),
        "encoder": encoder,
        "item": json.dumps(item.to_dict(), ensure_ascii=False),
    }


class ItemStore:
    """Items persisted in a Chroma `PersistentClient`; one collection per modality."""

    def __init__(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        self._client = chromadb.PersistentClient(path=str(path), settings=Settings(anonymized_telemetry=False))
        # No embedding function: vectors always come from our own offline encoders.
        self._text = self._client.get_or_create_collection(TEXT, embedding_function=None, configuration={"hnsw": {"space": "cosine"}})
        self._image = self._client.get_or_create_collection(IMAGE, embedding_function=None, configuration={"hnsw": {"space": "cosine"}})
        self._cache: dict[str, Item] | None = None

    # -- writing -----------------------------------------------------------------------------
    def fingerprints(self) -> dict[str, tuple[str, str]]:
        """id → (item fingerprint, text encoder) for everything stored, to skip unchanged items."""
        got = self._text.get(include=["metadatas"])
        return {i: (m["fingerprint"], m.get("encoder", "")) for i, m in zip(got["ids"], got["metadatas"] or [], strict=True)}

    def upsert(self, items: list[Item], text_vectors: np.ndarray, text_encoder: str) -> None:
        if not items:
            return
        self._text.upsert(
            ids=[i.id for i in items],
            embeddings=text_vectors,
            documents=[i.embedding_text() for i in items],
            metadatas=[_metadata(i, text_encoder) for i in items],
        )
        self._cache = None

    def upsert_images(self, items: list[Item], vectors: np.ndarray, image_encoder: str) -> None:
        if not items:
            return
        self._image.upsert(ids=[i.id for i in items], embeddings=vectors, metadatas=[_metadata(i, image_encoder) for i in items])

    def delete_images(self, ids: list[str]) -> None:
        if ids:
            self._image.delete(ids=ids)

    def image_ids(self) -> set[str]:
        return set(self._image.get(include=[])["ids"])

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

    def search_image(self, vector: np.ndarray, filters: Filters, n: int) -> list[Hit]:
        return self._query(self._image, vector, filters, n)

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

    def vocabulary(self) -> tuple[list[str], list[str]]:
        """The catalogue's colour names and category paths (with prefixes), for parsing requests."""
        items = self.all_items().values()
        colors = sorted({i.color for i in items if i.color})
        cats = sorted({p for i in items for p in category_prefixes(i.categories)})
        return colors, cats
