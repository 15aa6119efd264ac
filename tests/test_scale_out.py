"""Beyond one machine (issue 18): workers with their own storage folders sharing a Chroma server and PostgreSQL, both
real servers on 127.0.0.1 started by the tests."""

from __future__ import annotations

import shutil
from pathlib import Path

from adapters.cli import new_bot
from bot.learning.feedback import UserKey
from bot.messages import Command, Feedback, Incoming
from recsys.store import indexer
from recsys.store.chroma import ItemStore
from recsys.store.filters import Filters
from tests.conftest import make_config
from tests.test_indexing import CountingEncoder, catalogue


def test_a_second_worker_finds_the_catalogue_on_the_chroma_server_and_encodes_nothing(tmp_path: Path, chroma_url: str) -> None:
    items = catalogue(30)
    first = ItemStore(tmp_path / "worker-a", chroma_url)
    report = indexer.index_items(items, first, CountingEncoder(), None, progress=False)
    assert report.added == 30

    second = ItemStore(tmp_path / "worker-b", chroma_url)  # another machine: nothing of the first one's folder
    assert second.count() == 30 and set(second.all_items()) == {i.id for i in items}
    encoder = CountingEncoder()
    again = indexer.index_items(items, second, encoder, None, progress=False)
    assert encoder.encoded == 0 and again.unchanged == 30
    probe = second.text_vectors(["I0003"])["I0003"]
    assert second.search_text(probe, Filters(), 1)[0].item.id == "I0003"


async def test_workers_on_postgresql_continue_each_others_conversations(tmp_path: Path, indexed_chroma: Path, postgres_url: str) -> None:
    shared = {"events_url": postgres_url, "memory_url": postgres_url}
    workers = []
    for name in ("a", "b"):
        config = make_config(tmp_path / name, indexed_chroma)
        config = config.model_copy(update={"storage": config.storage.model_copy(update=shared)})
        worker = new_bot(config)
        await worker.start(progress=False)
        workers.append(worker)
    a, b = workers
    try:
        first = await a.handle(Incoming(user_id="42", platform="telegram", text="a hoodie under $70"))
        assert first.items
        cheaper = await b.handle(Incoming(user_id="42", platform="telegram", text="cheaper"))
        floor = min(i.price for i in first.items)
        assert cheaper.items and all(i.price < floor for i in cheaper.items), "worker b read worker a's conversation"
        assert all("Hoodies" in " ".join(i.categories) for i in cheaper.items)
        await a.handle(Incoming(user_id="42", platform="telegram", feedback=Feedback("like", first.items[0].id)))
        assert b.log.reactions(UserKey("telegram", "42"))[0] == [first.items[0].id]
        await b.handle(Incoming(user_id="42", platform="telegram", command=Command("forget", "yes")))
        assert a.log.reactions(UserKey("telegram", "42")) == ([], [])
        fresh = await a.handle(Incoming(user_id="42", platform="telegram", text="cheaper"))
        assert not fresh.items, "the conversation was erased on the shared memory"
    finally:
        for worker in workers:
            await worker.close()
        shutil.rmtree(tmp_path, ignore_errors=True)
