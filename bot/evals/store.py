"""`recbot bench store --items N`: the item store at a shop's size, on a synthetic catalogue anyone can regenerate.

Prints ingest throughput (text only: the real MiniLM encoder and Chroma), the start-up time of `recbot chat --json` on
the indexed store until its first answer, and the time of a rules-provider turn, filtered (kind + colour + budget)
and unfiltered, as p50 / p95 over the queries.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bot.config import BotConfig

KINDS = {
    "Outdoor": ["Tents", "Sleeping Bags", "Backpacks", "Trekking Poles", "Headlamps", "Camp Stoves"],
    "Home": ["Lamps", "Rugs", "Cushions", "Vases", "Mirrors", "Clocks", "Curtains"],
    "Kitchen": ["Pans", "Knives", "Mugs", "Teapots", "Cutting Boards", "Bowls"],
    "Office": ["Desk Chairs", "Notebooks", "Pens", "Desk Organizers", "Monitor Stands"],
    "Clothing": ["Jackets", "Sweaters", "Shirts", "Trousers", "Scarves", "Hats", "Socks"],
    "Sports": ["Yoga Mats", "Dumbbells", "Water Bottles", "Running Shoes", "Bike Helmets"],
}
COLORS = ["Black", "White", "Gray", "Blue", "Red", "Green", "Yellow", "Orange", "Purple", "Brown", "Beige", "Pink"]
ADJECTIVES = [
    "classic",
    "compact",
    "sturdy",
    "light",
    "soft",
    "vintage",
    "modern",
    "rugged",
    "slim",
    "cozy",
    "bright",
    "minimal",
    "deluxe",
    "travel",
    "everyday",
]
MATERIALS = ["oak", "steel", "cotton", "wool", "linen", "bamboo", "ceramic", "glass", "leather", "nylon", "cork", "copper"]
BRANDS = ["Nordhavn", "Fjellvik", "Alder", "Kestrel", "Lumen", "Tarn", "Brisa", "Ostra", "Halden", "Corvo"]


def synthetic_catalogue(n: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    kinds = [(dept, kind) for dept, names in KINDS.items() for kind in names]
    rows = []
    for i in range(n):
        dept, kind = kinds[i % len(kinds)]
        adjective, material, brand = rng.choice(ADJECTIVES), rng.choice(MATERIALS), rng.choice(BRANDS)
        singular = kind[:-1] if kind.endswith("s") else kind
        rows.append(
            {
                "id": f"SYN-{i:06d}",
                "name": f"{brand} {adjective.title()} {material.title()} {singular}",
                "price": round(rng.uniform(5, 400), 2),
                "color": rng.choice(COLORS),
                "categories": [f"{dept} > {kind}"],
                "description": f"A {adjective} {singular.lower()} made of {material}, by {brand}. Good for {rng.choice(ADJECTIVES)} days.",
                "brand": brand,
                "material": material,
            }
        )
    return rows


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def bench(items: int, folder: Path, queries: int = 40) -> dict[str, Any]:
    from bot.catalogue_setup import ingest
    from recsys.encoders.text import TextEncoder
    from recsys.store.chroma import ItemStore

    path = folder / "catalogue.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in synthetic_catalogue(items)))
    config = BotConfig(storage={"dir": folder / "store"}, catalogue={"path": path}, llm={"provider": "rules"}, training={"enabled": False})
    encoder = TextEncoder.shared()
    encoder.load()
    started = time.perf_counter()
    store = ItemStore(config.storage.root / "chroma", config.storage.chroma_url)
    _, report, _ = ingest(path, store, encoder, None, config, progress=sys.stderr.isatty())
    ingest_s = time.perf_counter() - started
    out: dict[str, Any] = {"items": items, "ingest_items_per_s": round(report.added / ingest_s, 1), "ingest_s": round(ingest_s, 1)}
    out["startup_first_answer_s"] = _first_answer_seconds(config)
    out |= asyncio.run(_turns(config, queries))
    return out


def _first_answer_seconds(config: BotConfig) -> float:
    """A new `recbot chat --json` process on the indexed store: seconds until its first answer line."""
    env = {
        **os.environ,
        "RECBOT_STORAGE__DIR": str(config.storage.dir),
        "RECBOT_CATALOGUE__PATH": str(config.catalogue.path),
        "RECBOT_LLM__PROVIDER": "rules",
        "RECBOT_TRAINING__ENABLED": "false",
        "RECBOT_LOGGING__LEVEL": "WARNING",
    }
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "adapters.cli", "chat", "--json"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, text=True
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write("a blue jacket under 100\n")
    proc.stdin.flush()
    proc.stdout.readline()
    seconds = time.perf_counter() - started
    proc.stdin.close()
    proc.wait(timeout=120)
    return round(seconds, 2)


async def _turns(config: BotConfig, queries: int) -> dict[str, float]:
    from bot.messages import Incoming
    from bot.service import BotService

    rng = random.Random(3)
    kinds = [k for names in KINDS.values() for k in names]
    service = BotService(config)
    await service.start(progress=False)
    try:
        await service.handle(Incoming(user_id="warm", text="a lamp"))
        times: dict[str, list[float]] = {"filtered": [], "unfiltered": []}
        for n in range(queries):
            kind, color = rng.choice(kinds).lower(), rng.choice(COLORS).lower()
            for label, text in (
                ("filtered", f"{color} {kind} under {rng.randint(50, 300)}"),
                ("unfiltered", f"something {rng.choice(ADJECTIVES)}"),
            ):
                started = time.perf_counter()
                await service.handle(Incoming(user_id=f"bench{n}", text=text))
                times[label].append(time.perf_counter() - started)
    finally:
        await service.close()
    return {
        f"{label}_turn_{q}_s": round(_percentile(values, p), 3) for label, values in times.items() for q, p in (("p50", 0.5), ("p95", 0.95))
    }


def run(config: BotConfig, args: argparse.Namespace) -> int:
    runs = []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory(prefix="recbot-bench-") as tmp:
            runs.append(bench(args.items, Path(tmp)))
    result = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
    if args.json:
        print(json.dumps({"median_of": args.runs, **result}))
    else:
        print(f"item store at {args.items} items (median of {args.runs}):")
        for key, value in result.items():
            print(f"  {key}: {value}")
    return 0
