"""`recbot eval dialogue --suite needs|complements`: does the bot answer with the right kinds of item?

- needs (suites/needs.jsonl): a request that states a need and names no product ("something to keep me warm on winter
  runs"). It is answered when most of the items shown (more than half) are of a kind a shop assistant would accept.
- complements (suites/complements.jsonl): "what goes with X", "complete the look", "what else do I need for yoga".
  Answered when most items are of an accepted kind; X itself, or X's own kind, never counts.

Both suites were written before any tuning, each line marked `tuning` or `held_out`; figures are given for both halves.
Stated constraints beside the need (gender, budget, colours to avoid) are checked item by item.
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path
from typing import Any

from bot.config import BotConfig
from bot.evals.eval_bot import eval_bot
from bot.messages import Incoming, ItemCard

SUITES = Path(__file__).with_name("suites")
GENDERS = ("Men", "Women")


def load_suite(name: str) -> list[dict[str, Any]]:
    lines = (SUITES / f"{name}.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def leaves(item: ItemCard) -> set[str]:
    """Every category name on the item's paths: a kind may sit above a grouping ("Gear/Bags/Collections/…")."""
    return {part for c in item.categories for part in c.split("/")}


def broken_constraints(item: ItemCard, case: dict[str, Any]) -> list[str]:
    """What an item breaks of the constraints stated beside the need."""
    bad = []
    if case.get("max_price") is not None and (item.price is None or item.price > case["max_price"]):
        bad.append("price")
    if item.color and item.color in (case.get("exclude_colors") or []):
        bad.append("excluded colour")
    other = [g for g in GENDERS if g != case.get("gender")] if case.get("gender") else []
    if any(c.startswith(f"{g}/") for g in other for c in item.categories):
        bad.append("gender")
    return bad


def score_case(case: dict[str, Any], items: list[ItemCard]) -> dict[str, Any]:
    accepted = set(case["acceptable"])
    own = case.get("anchor_kind")
    good = [i for i in items if leaves(i) & accepted and i.id != case.get("anchor") and own not in leaves(i)]
    return {
        "answered": bool(items) and len(good) * 2 > len(items),
        "items": len(items),
        "acceptable_items": len(good),
        "anchor_returned": any(i.id == case.get("anchor") for i in items),
        "own_kind_items": sum(1 for i in items if own and own in leaves(i)),
        "broken": [f"{i.id} ({', '.join(b)})" for i in items if (b := broken_constraints(i, case))],
    }


def summary(scored: list[tuple[dict[str, Any], dict[str, Any]]]) -> dict[str, Any]:
    items = sum(s["items"] for _, s in scored)
    return {
        "requests": len(scored),
        "answered_with_acceptable_kinds": round(sum(s["answered"] for _, s in scored) / len(scored), 4) if scored else None,
        "item_kind_precision": round(sum(s["acceptable_items"] for _, s in scored) / items, 4) if items else None,
        "anchor_returned": sum(s["anchor_returned"] for _, s in scored),
        "own_kind_items": sum(s["own_kind_items"] for _, s in scored),
        "constraint_violations": sum(len(s["broken"]) for _, s in scored),
    }


async def evaluate(config: BotConfig, provider: str, suite: str) -> dict[str, Any]:
    cases = load_suite(suite)
    scored: list[tuple[dict[str, Any], dict[str, Any]]] = []
    latencies: list[float] = []
    failures: list[str] = []
    async with eval_bot(config, provider) as (service, ready_s):
        for case in cases:
            start = time.perf_counter()
            reply = await service.handle(Incoming(user_id=f"{suite}-{case['id']}", text=case["message"]))
            latencies.append(time.perf_counter() - start)
            result = score_case(case, reply.items)
            scored.append((case, result))
            if not result["answered"] or result["broken"] or result["anchor_returned"]:
                kinds = ", ".join(sorted({k for i in reply.items for k in leaves(i)})) or "no items"
                failures.append(f"[{case['split']}] {case['message']!r} → {kinds} {' '.join(result['broken'])}".rstrip())
    latencies.sort()
    return {
        "suite": suite,
        "provider": provider,
        "tuning": summary([s for s in scored if s[0]["split"] == "tuning"]),
        "held_out": summary([s for s in scored if s[0]["split"] == "held_out"]),
        "all": summary(scored),
        "latency_p50_s": round(statistics.median(latencies), 4),
        "latency_p95_s": round(latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))], 4),
        **({"model_ready_s": round(ready_s, 2)} if ready_s is not None else {}),
        "failures": failures,
    }
