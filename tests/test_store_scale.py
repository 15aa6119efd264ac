"""A shop's size: a 40,000-item store (past the 32,766 rows one Chroma `get()` can read) starts and answers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from adapters.cli import new_bot
from adapters.config import Config
from bot.evals.store import synthetic_catalogue
from bot.messages import Incoming
from recsys.catalogue.items import Item, category_path
from recsys.store.chroma import ItemStore
from recsys.store.filters import Filters

N = 40_000


def _items() -> list[Item]:
    return [
        Item(
            r["id"],
            r["name"],
            r["price"],
            r["description"],
            (category_path(r["categories"][0]),),
            r["color"],
            attributes={"brand": r["brand"]},
        )
        for r in synthetic_catalogue(N)
    ]


@pytest.fixture(scope="module")
def big_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """40,000 items with random unit vectors: the store is under test here, not the encoder."""
    root = tmp_path_factory.mktemp("big")
    store = ItemStore(root / "chroma")
    rng = np.random.default_rng(0)
    items = _items()
    for start in range(0, N, 5000):
        batch = items[start : start + 5000]
        vectors = rng.normal(size=(len(batch), 384)).astype(np.float32)
        # recorded as MiniLM's, the encoder the bot would pick for this catalogue, so starting it encodes nothing
        store.upsert(batch, vectors / np.linalg.norm(vectors, axis=1, keepdims=True), "minilm-l6-v2|bench")
    return root


@pytest.mark.slow
def test_a_40000_item_store_reads_back_whole(big_store: Path) -> None:
    store = ItemStore(big_store / "chroma")  # as a new process would open it
    assert store.count() == N and len(store.all_items()) == N and len(store.fingerprints()) == N
    some = [f"SYN-{n:06d}" for n in range(0, N, 3)]
    assert len(store.text_vectors(some)) == len(some)
    hits = store.search_text(store.text_vectors(["SYN-000001"])["SYN-000001"], Filters(max_price=100, colors=("Blue",)), 20)
    assert hits and all(h.item.price <= 100 and h.item.color == "Blue" for h in hits)


@pytest.mark.slow
async def test_the_bot_starts_on_a_40000_item_store_and_answers(big_store: Path) -> None:
    config = Config(storage={"dir": big_store}, catalogue={"path": str(big_store / "none.jsonl")}, llm={"provider": "rules"})
    bot = new_bot(config)
    await bot.start(progress=False)
    try:
        reply = await bot.handle(Incoming(user_id="u", text="a blue lamp under 200"))
        greeting = await bot.handle(Incoming(user_id="u", text="hi"))
    finally:
        await bot.close()
    assert reply.error is None and reply.items
    assert all(i.color == "Blue" and i.price <= 200 and "Lamps" in i.categories[0] for i in reply.items)
    assert "lamps" in greeting.text.lower() or "tents" in greeting.text.lower()  # it names this shop's own kinds
