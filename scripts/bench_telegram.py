"""Telegram latency: time from a getUpdates delivery to the bot's first answer (sendMessage/sendMediaGroup/sendPhoto)
and to its last item card, with the real adapter and BotService against the fake Bot API on 127.0.0.1.

    .venv/bin/python scripts/bench_telegram.py [--rounds 3] [--storage DIR]

The `rules` provider is used whatever config.yaml says. Without --storage the catalogue is indexed into a fresh
temporary folder first (a few minutes); pass a folder to reuse its index between runs.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from telegram import Update
from telegram.ext import TypeHandler

from adapters.cli import new_bot
from adapters.config import Config
from adapters.telegram.app import ALLOWED_UPDATES, build_application
from tests.fakes.telegram_api import TOKEN, FakeTelegramAPI

REQUESTS = [
    "a blue tee under $30",
    "a hoodie",
    "a bag for the gym",
    "something for yoga",
    "a red jacket",
    "cheaper",
    "a watch",
    "black pants under $60",
]
ANSWERS = {"sendMessage", "sendMediaGroup", "sendPhoto"}


async def bench(storage: Path, rounds: int) -> None:
    async with FakeTelegramAPI() as api:
        config = Config(
            storage={"dir": storage},
            llm={"provider": "rules"},
            telegram={"base_url": api.base_url, "base_file_url": api.base_file_url},
        )
        app = build_application(config, TOKEN, new_bot(config))
        handled: dict[int, asyncio.Event] = {}

        async def mark(update: Update, context: object) -> None:
            handled.setdefault(update.update_id, asyncio.Event()).set()

        app.add_handler(TypeHandler(Update, mark), group=99)
        await app.initialize()
        await app.post_init(app)
        await app.updater.start_polling(timeout=1, allowed_updates=ALLOWED_UPDATES)
        await app.start()
        try:

            async def ask(user: int, text: str) -> tuple[float, float]:
                start = len(api.calls)
                update_id = await api.push(api.text(user, text))
                await asyncio.wait_for(handled.setdefault(update_id, asyncio.Event()).wait(), 300)
                answers = [c for c in api.calls[start:] if c.method in ANSWERS and c.params.get("chat_id") == user]
                delivered = api.delivered_at[update_id]
                return answers[0].at - delivered, answers[-1].at - delivered

            await ask(1, "hello")  # warm-up: first-call costs are not what a user sees every time
            medians = []
            for n in range(rounds):
                samples = [await ask(100 + n, text) for text in REQUESTS]
                first = statistics.median(s[0] for s in samples) * 1000
                last = statistics.median(s[1] for s in samples) * 1000
                medians.append((first, last))
                print(f"round {n + 1}: median first message {first:.0f} ms, last item card {last:.0f} ms ({len(samples)} requests)")
            print(
                f"median of {rounds} rounds: first message {statistics.median(m[0] for m in medians):.0f} ms, "
                f"last item card {statistics.median(m[1] for m in medians):.0f} ms"
            )
        finally:
            await app.updater.stop()
            await app.stop()
            await app.shutdown()
            await app.post_shutdown(app)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--storage", type=Path, default=None, help="recbot storage folder to reuse (default: a fresh temp folder)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if args.storage is not None:
        asyncio.run(bench(args.storage, args.rounds))
        return
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(bench(Path(tmp), args.rounds))


if __name__ == "__main__":
    main()
