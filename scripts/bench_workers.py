"""Several workers on 127.0.0.1: a second worker's start-up, turn latency embedded vs. server-backed, and throughput of
one and two workers under a bounded load. Real `recbot serve slack` processes (HTTP mode, `rules` provider) in front of
the fake Slack; a Chroma server (`chroma run`) and a throw-away PostgreSQL are started here and stopped after.

    .venv/bin/python scripts/bench_workers.py [--rounds 3] [--load 40]

Needs the PostgreSQL server binaries (scripts/install_system_deps.sh); the demo catalogue is indexed into a temporary
folder first (a few minutes).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp

from adapters.config import Config
from bot.catalogue_setup import open_catalogue
from tests import servers
from tests.fakes.slack_api import FakeSlack
from tests.test_two_workers import Worker, dm, seed_server

REQUESTS = ["a hoodie", "a blue tee under $30", "a bag for the gym", "black pants under $60", "a watch", "a red jacket"]


async def turn(http: aiohttp.ClientSession, slack: FakeSlack, worker: Worker, text: str, n: int, shopper: str) -> float:
    """Seconds from a signed DM to the bot's answer in that DM."""
    channel = f"D{shopper}"
    before = len(slack.calls_to("chat.postMessage", channel=channel))
    started = time.monotonic()
    await dm(http, worker, text, n, user=f"U{shopper}", channel=channel)
    await slack.wait_for(lambda: len(slack.calls_to("chat.postMessage", channel=channel)) > before)
    return time.monotonic() - started


async def latency(http: aiohttp.ClientSession, slack: FakeSlack, worker: Worker, rounds: int, name: str) -> float:
    """Median over rounds of each round's median turn, in ms."""
    medians = []
    for r in range(rounds):
        samples = [await turn(http, slack, worker, text, r * 100 + k, f"{name}{r}") for k, text in enumerate(REQUESTS)]
        medians.append(statistics.median(samples))
    return statistics.median(medians) * 1000


async def load(http: aiohttp.ClientSession, slack: FakeSlack, workers: list[Worker], n: int, name: str) -> float:
    """`n` requests, four each from n/4 shoppers at once, spread round robin over `workers`: turns per second."""

    async def shopper(s: int) -> None:
        for k in range(4):
            await turn(http, slack, workers[(s + k) % len(workers)], REQUESTS[(s + k) % len(REQUESTS)], k, f"{name}{s}")

    started = time.monotonic()
    await asyncio.gather(*(shopper(s) for s in range(n // 4)))
    return n / (time.monotonic() - started)


async def bench(root: Path, chroma_url: str, postgres_url: str, rounds: int, n: int) -> None:
    open_catalogue(Config(storage={"dir": root / "index"}), progress=False)
    seed_server(root / "index" / "chroma", chroma_url, root)
    shutil.copytree(root / "index" / "chroma", root / "embedded" / "chroma")  # one machine's own index, as `recbot chat` has
    shared = {
        "RECBOT_STORAGE__CHROMA_URL": chroma_url,
        "RECBOT_STORAGE__EVENTS_URL": postgres_url,
        "RECBOT_STORAGE__MEMORY_URL": postgres_url,
        "RECBOT_STORAGE__MODELS_DIR": str(root / "models"),
    }
    slack = await FakeSlack().start()
    running: list[Worker] = []
    try:
        first = Worker("a", root, shared, slack)
        await first.start()
        running.append(first)
        starts = []
        for k in range(rounds):  # a second worker joining, each time on a fresh storage folder
            joining = Worker(f"b{k}", root, shared, slack)
            starts.append(await joining.start())
            await joining.stop()
        second, embedded = Worker("b", root, shared, slack), Worker("embedded", root, {}, slack)
        for worker in (second, embedded):
            await worker.start()
            running.append(worker)
        async with aiohttp.ClientSession() as http:
            for worker in running:
                await turn(http, slack, worker, "hello", 0, f"warm{worker.port}")  # first-call costs are not what users see
            local = await latency(http, slack, embedded, rounds, "e")
            served = await latency(http, slack, first, rounds, "s")
            one = await load(http, slack, [first], n, "one")
            two = await load(http, slack, [first, second], n, "two")
        each = ", ".join(f"{s:.1f}" for s in starts)
        print(f"second worker start-up to listening, median of {rounds}: {statistics.median(starts):.1f} s ({each})")
        print(f"turn latency, median of {rounds} rounds of {len(REQUESTS)} requests: embedded {local:.0f} ms, ", end="")
        print(f"Chroma server + PostgreSQL {served:.0f} ms")
        print(f"throughput, {n} requests from {n // 4} shoppers at once: one worker {one:.2f} turns/s, two workers {two:.2f} turns/s")
    finally:
        for worker in running:
            await worker.stop()
        await slack.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--load", type=int, default=40, help="requests in each load run (four per shopper)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "chroma-server").mkdir()
        with servers.chroma(root / "chroma-server") as chroma_url, servers.postgres() as postgres_url:
            asyncio.run(bench(root, chroma_url, postgres_url, args.rounds, args.load))


if __name__ == "__main__":
    main()
