"""Ranking candidates by content match, collaborative score and the user's own feedback, with diversity."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from recsys.catalogue.items import Item
from recsys.ranking.preferences import Preferences
from recsys.ranking.weights import Weights
from recsys.store.chroma import Hit
from recsys.store.filters import Filters

DEFAULT_WEIGHTS = Weights()


@dataclass
class Profile:
    """What the recommender knows of one user's taste: liked and disliked items with their vectors."""

    user: str
    liked: list[Item] = field(default_factory=list)
    disliked: list[Item] = field(default_factory=list)
    liked_vectors: np.ndarray | None = None
    disliked_vectors: np.ndarray | None = None
    stated: Preferences = field(default_factory=Preferences)  # what they said about themselves

    @property
    def has_history(self) -> bool:
        return bool(self.liked or self.disliked)


Reason = tuple[str, dict[str, Any]]  # a reason code and its data; bot/ puts it in words


@dataclass
class Recommendation:
    item: Item
    score: float
    reasons: list[Reason]


SUFFIXES = ("ing", "ers", "er", "es", "ed", "s")


def _stem(word: str) -> str:
    """A crude stem for a reason to say what matched: "running" and "run", "hoodies" and "hoodie", never "count" and
    "cotton" (a stem keeps at least three letters and is compared whole)."""
    for suffix in SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    return word[:-1] if len(word) > 3 and word[-1] == word[-2] else word  # "runn" → "run"


def _matched_terms(terms: Sequence[str], item: Item) -> list[str]:
    text = item.embedding_text().lower()
    stems = {_stem(w) for w in re.findall(r"[a-z0-9]+", text)}
    # words without spaces between them (Chinese) are looked for in the text as they are
    return [t for t in terms if (t in text if not t.isascii() else _stem(t.lower()) in stems or (" " in t and t in text))]


def blend(
    hits: list[Hit],
    cf_scores: np.ndarray,
    profile: Profile,
    filters: Filters,
    k: int,
    weights: Weights = DEFAULT_WEIGHTS,
    terms: Sequence[str] = (),
    max_per_product: int = 1,
    basis: Reason | None = None,
) -> list[Recommendation]:
    """Score every hit, then pick k with at most `max_per_product` variants of one product."""
    if not hits:
        return []
    vectors = np.stack([h.vector for h in hits])
    liked_sim = _max_sim(vectors, profile.liked_vectors)
    disliked_sim = _max_sim(vectors, profile.disliked_vectors)
    disliked_products = {i.product_id for i in profile.disliked}
    scored = []
    stated_met: list[list[str]] = []  # which stated preferences each hit meets, for its reasons
    for n, hit in enumerate(hits):
        content = max(hit.similarity, 0.0)
        taste = liked_sim[n][0] - disliked_sim[n][0]
        score = weights.content * content + weights.cf * float(cf_scores[n]) + weights.feedback * taste
        if hit.item.product_id in disliked_products:
            score -= weights.disliked_product_penalty
        said, met = profile.stated.score(hit.item) if profile.stated else (0.0, [])
        score += weights.stated * said
        if filters.audience and any(c.split("/")[0] == filters.audience for c in hit.item.categories):
            score += weights.audience
        stated_met.append(met)
        scored.append((score, n))
    scored.sort(key=lambda t: -t[0])

    picked: list[Recommendation] = []
    per_product: dict[str, int] = {}
    chosen_vectors: list[np.ndarray] = []
    for score, n in scored:
        hit = hits[n]
        pid = hit.item.product_id
        if per_product.get(pid, 0) >= max_per_product:
            continue
        if any(float(v @ hit.vector) > weights.near_duplicate for v in chosen_vectors):  # near-identical listings
            continue
        per_product[pid] = per_product.get(pid, 0) + 1
        chosen_vectors.append(hit.vector)
        liked_item = profile.liked[int(liked_sim[n][1])] if profile.liked and liked_sim[n][0] > weights.liked_reason else None
        popular = float(cf_scores[n]) > weights.cf_reason
        reasons = _reasons(hit, terms, filters, liked_item, popular, basis, profile.stated, stated_met[n])
        picked.append(Recommendation(hit.item, round(float(score), 4), reasons))
        if len(picked) == k:
            break
    return picked


def _max_sim(vectors: np.ndarray, others: np.ndarray | None) -> np.ndarray:
    """(max similarity, argmax) of each vector against a set; zeros when the set is empty."""
    if others is None or len(others) == 0:
        return np.zeros((len(vectors), 2), dtype=np.float32)
    sims = vectors @ others.T
    return np.stack([sims.max(axis=1), sims.argmax(axis=1)], axis=1)


def _reasons(
    hit: Hit,
    terms: Sequence[str],
    filters: Filters,
    liked: Item | None,
    popular: bool,
    basis: Reason | None,
    stated: Preferences,
    met: list[str],
) -> list[Reason]:
    reasons: list[Reason] = [basis] if basis else []
    matched = _matched_terms(terms, hit.item)
    if matched:
        reasons.append(("matches", {"terms": matched[:3]}))
    if liked is not None and liked.id != hit.item.id:
        reasons.append(("close_to_liked", {"name": liked.name, "id": liked.id}))
    if filters.max_price is not None and hit.item.price is not None:
        reasons.append(("within_budget", {"price": hit.item.price, "max_price": filters.max_price}))
    if filters.exclude_colors and hit.item.color:
        reasons.append(("not_colors", {"color": hit.item.color, "excluded": list(filters.exclude_colors)}))
    if popular and not liked:
        reasons.append(("similar_shoppers", {}))
    if met:
        if "size" in met and not filters.sizes:
            reasons.append(("your_size", {"sizes": [s for s in hit.item.sizes if s.lower() in {x.lower() for x in stated.sizes}]}))
        if "color" in met and not filters.colors:
            reasons.append(("liked_color", {"color": hit.item.color or ""}))
    if not reasons:
        leaf = hit.item.categories[0].split("/")[-1] if hit.item.categories else None
        reasons.append(("close_match", {"kind": leaf}))
    return reasons
