"""Indexing into the real store: an interrupted ingest resumes where it stopped, sizes filter in the store's query."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from recsys.catalogue.items import Item
from recsys.store import indexer
from recsys.store.chroma import ItemStore
from recsys.store.filters import Filters


class CountingEncoder:
    """A text encoder that counts what it encodes, and can fail part-way like a killed ingest."""

    name = "counting"
    dim = 8

    def __init__(self, fail_after: int | None = None) -> None:
        self.encoded = 0
        self.fail_after = fail_after

    def encode(self, texts: list[str]) -> np.ndarray:
        if self.fail_after is not None and self.encoded >= self.fail_after:
            raise KeyboardInterrupt  # what Ctrl-C does mid-ingest
        self.encoded += len(texts)
        vectors = np.random.default_rng(len(texts)).normal(size=(len(texts), 8)).astype(np.float32)
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def catalogue(n: int) -> list[Item]:
    return [Item(f"I{k:04d}", f"Item {k}", float(k), sizes=("S", "M") if k % 2 else ("L",)) for k in range(n)]


def test_an_interrupted_ingest_resumes_without_encoding_what_is_stored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(indexer, "TEXT_BATCH", 10)
    items = catalogue(35)
    store = ItemStore(tmp_path / "chroma")
    with pytest.raises(KeyboardInterrupt):
        indexer.index_items(items, store, CountingEncoder(fail_after=20), None, progress=False)
    assert ItemStore(tmp_path / "chroma").count() == 20, "the batches done before the interruption are stored"

    again = CountingEncoder()
    report = indexer.index_items(items, ItemStore(tmp_path / "chroma"), again, None, progress=False)
    assert again.encoded == 15 and (report.added, report.unchanged) == (15, 20)
    assert ItemStore(tmp_path / "chroma").count() == 35


def test_a_size_filter_works_in_the_stores_own_query(tmp_path: Path) -> None:
    store = ItemStore(tmp_path / "chroma")
    indexer.index_items(catalogue(12), store, CountingEncoder(), None, progress=False)
    probe = store.text_vectors(["I0001"])["I0001"]
    hits = store.search_text(probe, Filters(sizes=("M",)), 12)
    assert len(hits) == 6 and all("M" in h.item.sizes for h in hits)


def test_switching_the_text_encoder_encodes_the_stored_items_again_and_search_still_answers(tmp_path: Path) -> None:
    from adapters.config import Config
    from bot.catalogue_setup import open_catalogue

    shop = Path(__file__).parent / "fixtures" / "catalogues" / "eur_shop.jsonl"

    def opened(kind: str):  # type: ignore[no-untyped-def]
        config = Config(storage={"dir": tmp_path}, catalogue={"path": shop, "currency": "EUR"}, models={"text_encoder": kind})
        return open_catalogue(config, progress=False)

    store, encoder, _ = opened("auto")
    assert store.text_encoder() == encoder.name == "minilm-l6-v2"  # a catalogue written in English
    count = store.count()
    store, encoder, _ = opened("use-multilingual")
    assert store.text_encoder() == encoder.name == "use-m3-multilingual" and store.count() == count
    hits = store.search_text(encoder.encode_one("亚麻衬衫"), Filters(), 3)  # Chinese for "linen shirt"
    assert hits and hits[0].item.name == "Linen Shirt"
    store, encoder, _ = opened("auto")  # auto keeps what the store holds
    assert encoder.name == "use-m3-multilingual"


def test_search_finds_the_true_nearest_items_when_every_item_is_about_equally_far(tmp_path: Path) -> None:
    """A request in words no item uses sits about equally far from every item; HNSW at Chroma's default breadth then
    misses items that a shopper should have seen first (recall@10 0.83 on this data)."""
    rng = np.random.default_rng(1)
    vectors = rng.normal(size=(3000, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    items = catalogue(3000)
    store = ItemStore(tmp_path / "chroma")
    for start in range(0, 3000, 500):
        store.upsert(items[start : start + 500], vectors[start : start + 500], "random")
    queries = rng.normal(size=(50, 384)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    found = []
    for query in queries:
        truth = {items[i].id for i in np.argsort(-(vectors @ query))[:10]}
        found.append(len(truth & {h.item.id for h in store.search_text(query, Filters(), 10)}) / 10)
    assert np.mean(found) >= 0.97
