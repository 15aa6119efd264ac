"""Beyond one machine (issue 18): workers with their own storage folders sharing a Chroma server and PostgreSQL, both
real servers on 127.0.0.1 started by the tests."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import shutil
import threading
import time
from pathlib import Path

import pytest
import yaml

from adapters.cli import main as cli_main
from adapters.cli import new_bot
from adapters.config import Config
from bot.agent.ordering import ConversationOrder
from bot.config import TrainingConfig
from bot.learning.demo_history import seed_demo_history
from bot.learning.feedback import FeedbackLog, UserKey
from bot.learning.lease import Lease
from bot.learning.serving import ServingModel
from bot.learning.training import RetrainResult
from bot.messages import Command, Feedback, Incoming
from recsys.catalogue.items import DEMO_CATALOGUE
from recsys.cf.scorer import CFScorer
from recsys.store import indexer
from recsys.store.chroma import ItemStore
from recsys.store.filters import Filters
from tests.conftest import REPO, make_config
from tests.test_indexing import CountingEncoder, catalogue
from tests.test_learning import ITEMS, add_shoppers


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
        photo = (DEMO_CATALOGUE.parent / "images" / "mb01-blue-0.jpg").read_bytes()
        for _ in range(2):  # the same photo twice: one stored query
            assert (await a.handle(Incoming(user_id="42", platform="telegram", photos=[photo]))).items
        cheaper_photo = await b.handle(Incoming(user_id="42", platform="telegram", text="cheaper"))
        assert cheaper_photo.items and "look like your photo" in cheaper_photo.text, "worker b found the photo a was sent"
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


async def test_items_ingested_into_the_shared_store_reach_running_workers(
    tmp_path: Path, indexed_chroma: Path, chroma_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.test_two_workers import seed_server

    seed_server(indexed_chroma, chroma_url, tmp_path / "seed")
    workers = []
    for name in ("a", "b"):
        worker = new_bot(Config(storage={"dir": tmp_path / name, "chroma_url": chroma_url}, llm={"provider": "rules"}))
        await worker.start(progress=False)
        workers.append(worker)
    a, b = workers
    try:
        assert not await b.follow_catalogue()  # nothing new yet
        new = tmp_path / "winter.jsonl"
        row = {
            "id": "SNOW-1",
            "name": "Glacier Trail Snowshoes",
            "description": "Aluminium snowshoes for deep snow",
            "price": 129,
            "categories": "Gear/Winter",
        }
        new.write_text(json.dumps(row) + "\n", encoding="utf-8")
        monkeypatch.setenv("RECBOT_STORAGE__DIR", str(tmp_path / "admin"))  # `recbot ingest` on a third machine
        monkeypatch.setenv("RECBOT_STORAGE__CHROMA_URL", chroma_url)
        assert cli_main(["ingest", str(new)]) == 0
        asked = Incoming(user_id="7", platform="telegram", text="snowshoes")
        assert b.item("SNOW-1") is None and "SNOW-1" not in [i.id for i in (await b.handle(asked)).items]
        for worker in (a, b):
            assert await worker.follow_catalogue()
            reply = await worker.handle(Incoming(user_id="8", platform="web", text="snowshoes for deep snow"))
            assert reply.items and reply.items[0].id == "SNOW-1", reply.text
            assert worker.item("SNOW-1") is not None and worker.item("24-MB01") is not None
        assert not await a.follow_catalogue()
    finally:
        for worker in workers:
            await worker.close()


# -- one model for every worker -------------------------------------------------------------------------------------
class Holder:
    """What a Recommender is to the serving model: something with a `scorer`."""

    scorer: CFScorer


def worker(log_url: str, models: Path) -> tuple[ServingModel, Holder]:
    return ServingModel(TrainingConfig(), FeedbackLog(log_url), models, lambda: set(ITEMS)), Holder()


def test_workers_serve_one_model_version_train_once_and_see_each_others_likes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'events.sqlite'}"
    seed_demo_history(FeedbackLog(url), ITEMS.values())
    (a, held_a), (b, held_b) = worker(url, tmp_path / "models"), worker(url, tmp_path / "models")
    a.serve(held_a)  # the first worker trains the first version
    b.serve(held_b)  # the second loads it
    assert a.version == b.version == "v0001"

    add_shoppers(a.feedback, 12, [i for i in list(ITEMS)[:5]], "n")
    train = a.trainer.retrain
    a.trainer.retrain = lambda: (time.sleep(1.0), train())[1]  # type: ignore[method-assign]  # a retrain that takes a while
    results: list[RetrainResult] = []
    both = [threading.Thread(target=lambda w=w: results.append(w.retrain())) for w in (a, b)]
    both[0].start()
    time.sleep(0.3)  # a has the lease and is training when b's schedule fires
    both[1].start()
    for thread in both:
        thread.join()
    assert sum(r.reason == "another worker is retraining now" for r in results) == 1, [r.reason for r in results]
    newest = a.models.versions()[-1].name
    assert b.follow() or b.version == newest  # the worker that did not train swaps to what the other saved
    assert a.version == b.version == newest

    shopper, item = UserKey("telegram", "77"), next(iter(ITEMS))
    a.feedback.record(shopper, "like", [item])
    a.refresh([shopper])  # the worker the 👍 came through updates at once…
    b.catch_up_user(shopper)  # …and the other before the shopper's next turn there
    assert str(shopper) in held_b.scorer.users


def test_a_lease_has_one_holder_until_it_is_released_or_expires(tmp_path: Path, postgres_url: str) -> None:
    for url in (f"sqlite:///{tmp_path / 'events.sqlite'}", postgres_url):
        engine = FeedbackLog(url).engine
        first, second = Lease(engine, "job", dt.timedelta(hours=1)), Lease(engine, "job", dt.timedelta(hours=1))
        assert first.acquire() and not second.acquire()
        first.release()
        assert second.acquire()
        stale = Lease(engine, "other", dt.timedelta(seconds=-1))  # a holder that died: its lease has run out
        assert stale.acquire() and Lease(engine, "other", dt.timedelta(hours=1)).acquire()


async def test_two_workers_answer_one_conversation_in_turn_on_postgresql(postgres_url: str) -> None:
    a, b = ConversationOrder(FeedbackLog(postgres_url).engine), ConversationOrder(FeedbackLog(postgres_url).engine)
    order: list[str] = []

    async def turn(order_of: ConversationOrder, name: str, hold: float) -> None:
        async with order_of.turn("telegram:42:42"):
            order.append(f"{name} starts")
            await asyncio.sleep(hold)
            order.append(f"{name} ends")

    first = asyncio.create_task(turn(a, "a", 0.5))
    await asyncio.sleep(0.1)
    await asyncio.gather(first, turn(b, "b", 0.0))
    assert order == ["a starts", "a ends", "b starts", "b ends"]
    async with b.turn("telegram:43:43"):  # another conversation is not held up
        assert a.shared and b.shared


# -- deployment ---------------------------------------------------------------------------------------------------
def test_every_setting_compose_gives_the_workers_is_a_real_config_key(monkeypatch: pytest.MonkeyPatch) -> None:
    from adapters.config import load_config

    compose = yaml.safe_load((REPO / "compose.yaml").read_text())
    settings = {k: str(v) for k, v in compose["x-shared"].items()}
    for service in ("bot", "web"):
        settings |= {k: str(v) for k, v in compose["services"][service]["environment"].items() if k.startswith("RECBOT_")}
    for key, value in settings.items():  # what compose substitutes: ${NAME:-default} → default, ${NAME:?why} → a value
        monkeypatch.setenv(key, re.sub(r"\$\{\w+:\?[^}]*\}", "pw", re.sub(r"\$\{\w+:-([^}]*)\}", r"\1", value)))
    config = load_config(None)
    assert config.storage.chroma_url == "http://chroma:8000" and str(config.storage.models_dir) == "/shared/models"
    assert config.storage.events_url == config.storage.memory_url and "@postgres:5432/recbot" in config.storage.events_url
    assert (config.slack.mode, config.slack.host, config.slack.port) == ("http", "0.0.0.0", 3000)
    assert (config.web.host, config.web.port, config.web.cookie_secure) == ("0.0.0.0", 8080, False)
    assert "172.16.0.0/12" in config.web.trusted_proxies
    assert "WEB_COOKIE_SECRET" in compose["services"]["web"]["environment"]
    assert (config.telegram.mode, config.telegram.webhook.port) == ("webhook", 8443)
    assert "chroma" in compose["services"]["chroma"]["command"] and (REPO / "deploy" / "nginx.conf").is_file()
