"""What the web chat's HTTP layer adds to a turn: the same requests straight into `BotService.handle` and through
`POST /api/messages` on 127.0.0.1, alternating, median of each.

    .venv/bin/python scripts/bench_web.py [--storage DIR] [--turns 12] [--runs 3]

The `rules` provider is used. Without --storage the catalogue is indexed into a fresh temporary folder first.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

REQUESTS = ["a warm hoodie for running under $60", "a yoga mat", "a blue duffle bag", "我想要一个背包"]


async def one_run(storage: Path, turns: int) -> tuple[float, float]:
    import aiohttp

    from adapters.cli import new_bot
    from adapters.config import Config
    from adapters.web.serve import start
    from bot.messages import Incoming

    config = Config(storage={"dir": storage}, llm={"provider": "rules"}, web={"rate_limit": "100000/minute", "trust_user_field": True})
    bot = new_bot(config)
    await bot.start(progress=False)
    runner = await start(config, bot, port=0)
    host, port = runner.addresses[0][:2]
    direct, web = [], []
    run = uuid.uuid4().hex[:8]  # new shoppers every run: no conversation to continue
    try:
        async with aiohttp.ClientSession() as http:
            for n in range(3):  # the encoders' first calls
                await bot.handle(Incoming(user_id=f"warm{run}-{n}", platform="web", text=REQUESTS[n % len(REQUESTS)]))
            for n in range(turns):
                text = REQUESTS[n % len(REQUESTS)]
                began = time.perf_counter()
                await bot.handle(Incoming(user_id=f"direct{run}-{n}", platform="web", text=text))
                direct.append(time.perf_counter() - began)
                began = time.perf_counter()
                async with http.post(f"http://{host}:{port}/api/messages", json={"text": text, "user": f"http{run}-{n}"}) as response:
                    await response.json()
                web.append(time.perf_counter() - began)
    finally:
        await runner.cleanup()
        await bot.close()
    return statistics.median(direct), statistics.median(web)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--storage", type=Path, default=None, help="recbot storage folder to reuse (default: a fresh temp folder)")
    parser.add_argument("--turns", type=int, default=12)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        runs = [asyncio.run(one_run(args.storage or Path(tmp), args.turns)) for _ in range(args.runs)]
    for n, (direct, web) in enumerate(runs, 1):
        print(f"run {n}: handle {direct * 1000:.0f} ms, POST /api/messages {web * 1000:.0f} ms (median of {args.turns})")
    direct, web = statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)
    print(f"median of {args.runs} runs: handle {direct * 1000:.0f} ms, POST /api/messages {web * 1000:.0f} ms")


if __name__ == "__main__":
    main()
