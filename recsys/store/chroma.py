"""The item store: Chroma collections of item text and image vectors with filterable metadata, and the item records
beside them (recsys/store/records.py) for everything read for the whole catalogue at once. Whole-collection reads
of Chroma go a page at a time: one `get()` of more than about 32,766 rows fails on SQLite's variable limit."""

from __future__ import annotations

import itertools
import json
import logging
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

import chromadb
import numpy as np
from chromadb.config import Settings

from recsys.catalogue.items import Item
from recsys.photo.colors import COLOR_DIM, visual_color
from recsys.store.filters import VISUAL_COLOR, Filters, category_prefixes, color_key
from recsys.store.records import PAGE, ItemRecords

log = logging.getLogger(__name__)

TEXT = "items_text"
VERSION = "catalogue_version"  # in the text collection's metadata on a server: see ItemStore.follow
IMAGE = "items_image"
DETAIL = "items_image_detail"  # a close-up crop of each photo, same ids as IMAGE
# HNSW's breadth of search. Chroma's default (100) misses the true nearest item of a request far from every item (a
# need in words no item uses: cosines all near 0.25), and recall@10 on such flat data is 0.83; 400 gives 0.99 for
# about 0.1 ms more per query (3,000 random vectors: tests/test_indexing.py).
SEARCH_EF = 400
HNSW = {"hnsw": {"space": "cosine", "ef_search": SEARCH_EF}}


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
        **({"price": float(item.price)} if item.price is not None else {}),  # no price: never matches a price filter
        "color_key": color_key(stored),
        "cats": category_prefixes(item.categories) or ["(none)"],
        "sizes": [s.lower() for s in item.sizes] or ["(none)"],
        "fingerprint": plain.fingerprint(),
        "encoder": encoder,
        "item": json.dumps(stored.to_dict(), ensure_ascii=False),
    }


def _paged(collection, include: list[str], ids: list[str] | None = None) -> Iterator[tuple[str, dict, np.ndarray | None]]:  # type: ignore[no-untyped-def]
    """(id, metadata, embedding) of every row (or of `ids`), PAGE rows per Chroma call."""
    for start in itertools.count(0, PAGE):
        if ids is not None:
            if start >= len(ids):
                return
            got = collection.get(ids=ids[start : start + PAGE], include=include)
        else:
            got = collection.get(limit=PAGE, offset=start, include=include)
        metas = got.get("metadatas") or [{}] * len(got["ids"])
        vectors = got.get("embeddings")
        vectors = vectors if vectors is not None else [None] * len(got["ids"])
        yield from zip(got["ids"], metas, vectors, strict=True)
        if ids is None and len(got["ids"]) < PAGE:
            return


class ItemStore:
    """Items in Chroma, one collection per modality: embedded (a `PersistentClient` under `path`) or, with `url`, on a
    Chroma server (`chroma run`) that several workers share. `path` keeps this process's own files either way: the
    item records (read back from the server's metadata when empty), the photo cache and the category model."""

    def __init__(self, path: Path, url: str | None = None) -> None:
        path.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.url = url
        settings = Settings(anonymized_telemetry=False)
        if url:
            server = urlsplit(url)
            https = server.scheme == "https"
            port = server.port or (443 if https else 8000)
            self._client = chromadb.HttpClient(host=server.hostname or "127.0.0.1", port=port, ssl=https, settings=settings)
        else:
            self._client = chromadb.PersistentClient(path=str(path), settings=settings)
        # No embedding function: vectors always come from our own offline encoders.
        self._text = self._collection(TEXT)
        self._open_image_collections()
        self._records = ItemRecords(f"sqlite:///{path / 'items.sqlite'}")
        self._cache: dict[str, Item] | None = None
        self._rows: ImageRows | None = None
        self._seen = self._server_version()
        if self._records.count() == 0 and self._text.count() > 0:
            self._backfill_records()

    # -- several workers on one server -------------------------------------------------------------------
    def _server_version(self) -> str | None:
        """The catalogue's version on the server: a new one after every write, by any worker."""
        if not self.url:
            return None
        return (self._client.get_collection(TEXT, embedding_function=None).metadata or {}).get(VERSION)  # type: ignore[arg-type]

    def _wrote(self) -> None:
        self._cache = None
        self._rows = None
        if self.url:
            self._seen = uuid.uuid4().hex
            self._text.modify(metadata={**(self._text.metadata or {}), VERSION: self._seen})

    def follow(self) -> bool:
        """Catch up with what another worker wrote to the server (`recbot ingest` there, photos re-indexed): the item
        records are read back from the server and the caches dropped. False when nothing changed (or embedded, where
        this process is the only one that writes)."""
        version = self._server_version()
        if version == self._seen:
            return False
        self._backfill_records()
        self._seen, self._cache, self._rows = version, None, None
        return True

    def _backfill_records(self) -> None:
        """A store indexed before the item records existed: copy them out of Chroma's metadata once."""
        rows = []
        for _, meta, _ in _paged(self._text, ["metadatas"]):
            rows.append((Item.from_dict(json.loads(meta["item"])), meta["fingerprint"], meta.get("encoder", "")))
        self._records.upsert(rows)
        log.info("item store: %d item records copied from the vector store", len(rows))

    def _collection(self, name: str) -> chromadb.Collection:
        """A collection searched with SEARCH_EF, including one made before it was the setting."""
        collection = self._client.get_or_create_collection(name, embedding_function=None, configuration=HNSW)  # type: ignore[arg-type]
        hnsw = (collection.configuration_json or {}).get("hnsw") or {}
        if hnsw.get("ef_search", SEARCH_EF) < SEARCH_EF:
            collection.modify(configuration={"hnsw": {"ef_search": SEARCH_EF}})
        return collection

    def _open_image_collections(self) -> None:
        self._image = self._collection(IMAGE)
        self._detail = self._collection(DETAIL)
        self._rows = None

    def fit_text_dimension(self, dim: int) -> None:
        """Make room for text vectors of `dim` (another text encoder): the old vectors go, the item records stay, and
        every item is encoded again since what it was encoded as no longer matches."""
        got = self._text.get(limit=1, include=["embeddings"])
        embeddings = got.get("embeddings")
        if got["ids"] and embeddings is not None and len(embeddings[0]) != dim:
            log.info("item store: text vectors of %d dimensions give way to %d", len(embeddings[0]), dim)
            self._client.delete_collection(TEXT)
            self._text = self._collection(TEXT)

    def text_encoder(self) -> str | None:
        """The name of the text encoder the stored items were encoded with (None for an empty store)."""
        encoded = self._records.some_encoding()
        return encoded.split("|")[0] if encoded else None

    def clear_images(self) -> None:
        """Drop every photo vector (a new image encoder may have another dimension); item text is kept."""
        for name in (IMAGE, DETAIL):
            self._client.delete_collection(name)
        self._open_image_collections()

    # -- writing -----------------------------------------------------------------------------
    def fingerprints(self) -> dict[str, tuple[str, str]]:
        """id → (item fingerprint, what its vector was encoded as) for everything stored, to skip unchanged items."""
        return self._records.fingerprints()

    def upsert(
        self,
        items: list[Item],
        text_vectors: np.ndarray,
        text_encoder: str,
        visual_colors: dict[str, str] | None = None,
        texts: list[str] | None = None,
    ) -> None:
        """Store items with their text vectors (and the `texts` they encode); `visual_colors` (id → colour name seen in
        the photo) lets a colour filter match items the catalogue gives no colour (bags, watches)."""
        if not items:
            return
        visual_colors = visual_colors or {}
        self._text.upsert(
            ids=[i.id for i in items],
            embeddings=text_vectors,
            documents=texts or [i.embedding_text() for i in items],
            metadatas=[_metadata(i, text_encoder, visual_colors.get(i.id)) for i in items],
        )
        self._records.upsert((_with_visual_color(i, visual_colors.get(i.id)), catalogue_item(i).fingerprint(), text_encoder) for i in items)
        self._wrote()

    def set_visual_colors(self, visual_colors: dict[str, str]) -> None:
        """Update the inferred colours of stored items (e.g. after re-indexing photos)."""
        ids, metas, changed = [], [], []
        for item_id, meta, _ in _paged(self._text, ["metadatas"], ids=list(visual_colors)):
            item = _with_visual_color(Item.from_dict(json.loads(meta["item"])), visual_colors[item_id])
            ids.append(item_id)
            metas.append({**meta, "color_key": color_key(item), "item": json.dumps(item.to_dict(), ensure_ascii=False)})
            changed.append(item)
        for start in range(0, len(ids), PAGE):
            self._text.update(ids=ids[start : start + PAGE], metadatas=metas[start : start + PAGE])
        if changed:
            self._records.update_items(changed)
            self._wrote()

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
        self._wrote()

    def delete_images(self, ids: list[str]) -> None:
        if ids:
            self._image.delete(ids=ids)
            self._detail.delete(ids=ids)
            self._wrote()

    def image_rows(self) -> ImageRows:
        """All photos with vectors and colour signatures, cached until the photos change."""
        if self._rows is None:
            got = list(_paged(self._image, ["metadatas", "embeddings"]))
            metas = [meta for _, meta, _ in got]
            items = [Item.from_dict(json.loads(m["item"])) for m in metas]
            catalogue = self.all_items()  # the text side carries the inferred colours
            items = [catalogue.get(i.id, i) for i in items]
            vectors = np.asarray([v for _, _, v in got], dtype=np.float32) if len(items) else np.zeros((0, 0), dtype=np.float32)
            colors = np.asarray([m.get("colors") or [0.0] * COLOR_DIM for m in metas], dtype=np.float32).reshape(len(items), COLOR_DIM)
            encoder = metas[0].get("encoder", "") if metas else ""
            details = None
            if items:
                by_id = {i: v for i, _, v in _paged(self._detail, ["embeddings"], ids=[i.id for i in items])}
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
        return self._records.count()

    def all_items(self) -> dict[str, Item]:
        """Every item by id, read from the item records once and kept in memory."""
        if self._cache is None:
            self._cache = {i.id: i for i in self._records.all()}
        return self._cache

    def get(self, item_id: str) -> Item | None:
        return self.all_items().get(item_id)

    def variants(self, product_id: str) -> list[str]:
        """Ids of every variant of one product."""
        return self._records.siblings(product_id)

    def text_vectors(self, ids: list[str]) -> dict[str, np.ndarray]:
        if not ids:
            return {}
        return {i: np.asarray(v, dtype=np.float32) for i, _, v in _paged(self._text, ["embeddings"], ids=list(ids))}

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
