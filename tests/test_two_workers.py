"""Two `recbot serve slack` processes (HTTP mode) with their own storage folders and the same Chroma server,
PostgreSQL and models folder, in front of a fake Slack on 127.0.0.1 (issue 18): the second does not index the
catalogue again, continues the first one's conversation, counts its feedback and serves the same model version; a
retrain triggered on both at once trains once and both then serve its version; a like acknowledged by a worker that
is killed in the middle of a turn is kept, and the other worker carries on."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import re
import shutil
import signal
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import aiohttp
import chromadb
import pytest
from chromadb.config import Settings

from bot.learning.feedback import FeedbackLog, UserKey
from recsys.store.chroma import DETAIL, IMAGE, TEXT, ItemStore
from tests.conftest import REPO
from tests.fakes.slack_api import BOT_TOKEN, FakeSlack
from tests.servers import free_port
from tests.test_learning import ITEMS, add_shoppers

pytestmark = pytest.mark.slow
SECRET = "two-workers-signing-secret-0123456789"
USER, DM, ADMIN = "U2W", "D2W", "UADM"


def seed_server(indexed: Path, url: str, scratch: Path) -> None:
    """The demo index copied onto the Chroma server as it is (vectors and metadata): what a first worker leaves there."""
    shutil.copytree(indexed, scratch / "source")
    source = chromadb.PersistentClient(path=str(scratch / "source"), settings=Settings(anonymized_telemetry=False))
    ItemStore(scratch / "seed", url)  # the collections, configured as workers make them
    server = urlsplit(url)
    target = chromadb.HttpClient(host=server.hostname, port=server.port, settings=Settings(anonymized_telemetry=False))
    for name in (TEXT, IMAGE, DETAIL):
        rows = source.get_collection(name).get(include=["embeddings", "metadatas", "documents"])
        for start in range(0, len(rows["ids"]), 500):
            part = {key: rows[key][start : start + 500] for key in ("ids", "embeddings", "metadatas", "documents")}
            target.get_collection(name).add(**part)


class Worker:
    def __init__(self, name: str, root: Path, shared: dict[str, str], slack: FakeSlack) -> None:
        self.port = free_port()
        self.log = root / f"{name}.log"
        self.env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "RECBOT_STORAGE__DIR": str(root / name),
            "RECBOT_LLM__PROVIDER": "rules",
            "RECBOT_SLACK__MODE": "http",
            "RECBOT_SLACK__PORT": str(self.port),
            "RECBOT_SLACK__API_BASE_URL": slack.base_url,
            "RECBOT_SLACK__ADMINS": json.dumps([ADMIN]),
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            **shared,
        }
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> float:
        started = time.monotonic()
        with self.log.open("wb") as out:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "adapters.cli", "serve", "slack", env=self.env, stdout=out, stderr=out, cwd=REPO
            )
        deadline = time.monotonic() + 600
        while "listening on" not in self.log.read_text(errors="replace"):
            assert self.process.returncode is None, self.log.read_text()[-3000:]
            assert time.monotonic() < deadline, "worker did not start"
            await asyncio.sleep(0.2)
        return time.monotonic() - started

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/slack/events"

    async def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.send_signal(sig)
            await asyncio.wait_for(self.process.wait(), 120)


async def post(http: aiohttp.ClientSession, url: str, body: str, content_type: str) -> int:
    ts = str(int(time.time()))
    signature = "v0=" + hmac.new(SECRET.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}
    async with http.post(url, data=body.encode(), headers=headers) as response:
        return response.status


async def dm(http: aiohttp.ClientSession, worker: Worker, text: str, n: int, user: str = USER, channel: str = DM) -> None:
    event = {"type": "message", "channel": channel, "channel_type": "im", "user": user, "text": text, "ts": f"1700000100.{n:06d}"}
    envelope = {"type": "event_callback", "event_id": f"Ev2W{time.time_ns()}", "event_time": int(time.time()), "event": event}
    assert await post(http, worker.url, json.dumps(envelope), "application/json") == 200


async def command(http: aiohttp.ClientSession, worker: Worker, slack: FakeSlack, text: str, hook: str) -> str:
    form = {"command": "/recbot", "text": text, "user_id": ADMIN, "channel_id": DM, "response_url": slack.response_url(hook)}
    assert await post(http, worker.url, urlencode(form), "application/x-www-form-urlencoded") == 200
    call = await slack.wait_for(lambda: next(iter(slack.calls_to("response_url", hook=hook)), None))
    return json.dumps(call.params)


def items_of(call) -> list[str]:  # type: ignore[no-untyped-def]
    """The item id of each card of a posted message."""
    out = []
    for block in call.params.get("blocks") or []:
        if block.get("type") == "actions":
            out.append(block["elements"][0]["value"])
    return out


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    fake = await FakeSlack().start()
    yield fake
    await fake.stop()


async def test_two_worker_processes_share_index_conversation_feedback_and_model(
    tmp_path: Path, indexed_chroma: Path, chroma_url: str, postgres_url: str, slack: FakeSlack
) -> None:
    seed_server(indexed_chroma, chroma_url, tmp_path)
    shared = {
        "RECBOT_STORAGE__CHROMA_URL": chroma_url,
        "RECBOT_STORAGE__EVENTS_URL": postgres_url,
        "RECBOT_STORAGE__MEMORY_URL": postgres_url,
        "RECBOT_STORAGE__MODELS_DIR": str(tmp_path / "models"),
    }
    a, b = Worker("a", tmp_path, shared, slack), Worker("b", tmp_path, shared, slack)
    try:
        await a.start()
        await b.start()
        for worker in (a, b):
            logged = worker.log.read_text()
            assert not re.search(r"[1-9]\d* added|[1-9]\d* updated", logged), "nothing is encoded again: " + logged[-3000:]
            assert "Traceback" not in logged
        async with aiohttp.ClientSession() as http:
            await dm(http, a, "a hoodie under $70", 1)
            first = await slack.wait_for(lambda: next(iter(slack.calls_to("chat.postMessage", channel=DM)), None))
            shown = items_of(first)
            assert shown
            await dm(http, b, "cheaper", 2)
            second = await slack.wait_for(lambda: (c := slack.calls_to("chat.postMessage", channel=DM))[1:] and c[1])
            assert "Cheaper than what I showed" in json.dumps(second.params), "worker b continued worker a's conversation"

            payload = {
                "type": "block_actions",
                "user": {"id": USER},
                "channel": {"id": DM},
                "message": {**first.result["message"], "ts": first.result["ts"]},
                "response_url": slack.response_url("like"),
                "actions": [{"action_id": "recbot_like", "value": shown[0], "type": "button"}],
            }
            assert await post(http, a.url, urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded") == 200
            await slack.wait_for(lambda: slack.calls_to("chat.update"))  # acknowledged on the card
            stats = await command(http, b, slack, "stats", "stats-b")
            assert "Model: v0001" in stats and "Likes: 1" in stats, stats  # one model version; a's like, counted by b

            add_shoppers(FeedbackLog(postgres_url), 300, list(ITEMS)[:6], "load")  # enough new history for a real retrain
            both = await asyncio.gather(command(http, a, slack, "retrain", "retrain-a"), command(http, b, slack, "retrain", "retrain-b"))
            assert sum("another worker is retraining now" in said for said in both) == 1, both  # one trains, the other waits it out
            newest = "v0002" if any("swapped in v0002" in said for said in both) else "v0001"
            for n in range(40):  # the worker that did not train serves the new version within its follow interval
                if f"Model: {newest}" in await command(http, b, slack, "stats", f"follow-{n}"):
                    break
                await asyncio.sleep(2)
            else:
                raise AssertionError(f"worker b never served {newest}")

            await dm(http, a, "a tee", 3)
            await asyncio.sleep(0.2)
            await a.stop(signal.SIGKILL)  # worker a dies in the middle of a turn
            assert FeedbackLog(postgres_url).reactions(UserKey("slack", USER))[0] == [shown[0]], "the acknowledged like is kept"
            answered = len(slack.calls_to("chat.postMessage", channel=DM))
            await dm(http, b, "a bag", 4)  # the shopper carries on with the worker that is left
            await slack.wait_for(lambda: len(slack.calls_to("chat.postMessage", channel=DM)) > answered)
    finally:
        await a.stop(signal.SIGKILL)
        await b.stop()
    assert "Traceback" not in b.log.read_text()
