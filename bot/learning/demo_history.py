"""Seed history for the bundled demo catalogue, so collaborative filtering has signal from day one.

Two sources from the Luma sample store (recsys/demo_catalogue/fixtures/, same OSL/AFL terms):
- reviews: each reviewer is a seed user; rating ≥ 4 is a like, ≤ 2 a dislike (3 says nothing). Reviews
  name the parent product, so the reviewer is credited with one of its colour variants, picked by a
  stable hash of reviewer and product (a reviewer bought one colour; every colour gets some reviews).
- related / up-sell / cross-sell links: the store's own "goes with" lists. Each link row becomes one seed
  basket per colour of the product (`more_like_this` on the product and on each linked product, in the
  same colour where the linked product has it), i.e. item co-occurrence.
Events land on the `seed` platform: admin stats, erasure and real users' histories never see them.
"""

from __future__ import annotations

import csv
import hashlib
import logging
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from bot.config import BotConfig
from bot.learning.feedback import EventType, FeedbackLog
from recsys.catalogue.items import DEMO_CATALOGUE, Item

log = logging.getLogger(__name__)

FIXTURES = DEMO_CATALOGUE.parent / "fixtures"
LINK_FILES = ("related_configurable.csv", "related_simple.csv", "upsell_configurable.csv", "crosssell_configurable.csv")


def _stable(*parts: str) -> int:
    return int.from_bytes(hashlib.sha1("|".join(parts).encode()).digest()[:4], "big")


def demo_history(items: Iterable[Item], fixtures: Path = FIXTURES) -> list[tuple[str, str, EventType]]:
    """(seed user, item id, event) rows for the catalogue's items; links to items it lacks are skipped."""
    variants: dict[str, list[Item]] = defaultdict(list)
    for item in items:
        variants[item.product_id].append(item)
        if item.product_id != item.id:
            variants[item.id].append(item)  # a link may name one variant (e.g. 24-WG082-pink)
    for group in variants.values():
        group.sort(key=lambda i: i.id)

    rows: list[tuple[str, str, EventType]] = []
    skipped = 0
    with (fixtures / "reviews.csv").open(encoding="utf-8", newline="") as f:
        for n, review in enumerate(csv.DictReader(f)):
            group = variants.get(review["sku"].strip())
            try:
                rating = int(review["rating_value"])
            except ValueError:
                rating = 3
            if not group:
                skipped += 1
                continue
            if rating == 3:
                continue
            pick = group[_stable(review["reviewer"], review["sku"]) % len(group)]
            rows.append((f"review:{n}:{review['reviewer']}", pick.id, "like" if rating >= 4 else "dislike"))

    for name in LINK_FILES:
        with (fixtures / name).open(encoding="utf-8", newline="") as f:
            for link in csv.DictReader(f):
                source = variants.get(link["sku"].strip())
                linked = [variants[s.strip()] for s in link["linked_sku"].splitlines() if s.strip() in variants]
                if not source or not linked:
                    skipped += 1
                    continue
                for own in source:
                    basket = [own] + [
                        next((v for v in g if v.color and v.color == own.color), g[_stable(own.id, g[0].id) % len(g)]) for g in linked
                    ]
                    user = f"{name.removesuffix('.csv')}:{own.id}"
                    rows.extend((user, item.id, "more_like_this") for item in dict.fromkeys(basket))
    log.info("demo history: %d seed events (%d fixture rows name no catalogue item)", len(rows), skipped)
    return rows


def seed_demo_history(feedback: FeedbackLog, items: Iterable[Item]) -> int:
    """Add the demo history once; a log that already holds seed events is left alone."""
    if feedback.has_seed():
        return 0
    return feedback.record_seed(demo_history(items))


def seed_for_config(config: BotConfig, feedback: FeedbackLog, items: Iterable[Item]) -> int:
    """Seed only when the bundled demo catalogue serves and `training.seed_demo` is on."""
    if config.training.seed_demo and config.catalogue.path is None:
        return seed_demo_history(feedback, items)
    return 0
