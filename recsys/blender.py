"""Ranking candidates by content match, collaborative score and the user's own feedback, with diversity."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from recsys.catalogue import Item
from recsys.filters import Filters
from recsys.store import Hit


@dataclass(frozen=True)
class Weights:
    content: float = 1.0
    cf: float = 0.15
    feedback: float = 0.35
    disliked_product_penalty: float = 0.5


@dataclass
class Profile:
    """What the recommender knows of one user's taste: liked and disliked items with their vectors."""

    user: str
    liked: list[Item] = field(default_factory=list)
    disliked: list[Item] = field(default_factory=list)
    liked_vectors: np.ndarray | None = None
    disliked_vectors: np.ndarray | None = None

    @property
    def has_history(self) -> bool:
        return bool(self.liked or self.disliked)


@dataclass
class Recommendation:
    item: Item
    score: float
    reason: str


_STOP = set(
    [
        "a",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "can",
        "do",
        "for",
        "from",
        "get",
        "have",
        "i",
        "im",
        "in",
        "is",
        "it",
        "looking",
        "me",
        "my",
        "need",
        "of",
        "on",
        "or",
        "please",
        "show",
        "some",
        "something",
        "that",
        "the",
        "this",
        "to",
        "want",
        "with",
        "would",
        "you",
        "like",
        "under",
        "over",
        "below",
        "above",
        "less",
        "more",
        "than",
        "not",
        "no",
        "cheap",
        "cheaper",
        "dollars",
        "dollar",
        "usd",
    ]
)


def query_terms(query: str) -> list[str]:
    return [w for w in re.findall(r"[a-z][a-z'-]+", query.lower()) if w not in _STOP and len(w) > 2]


def _matched_terms(terms: list[str], item: Item) -> list[str]:
    text = item.embedding_text().lower()
    # a crude stem: "running" matches "run", "hoodies" matches "hoodie"
    return [t for t in terms if t in text or (len(t) > 4 and t[:-3] in text) or t.rstrip("s") in text]


def blend(
    hits: list[Hit],
    cf_scores: np.ndarray,
    profile: Profile,
    filters: Filters,
    k: int,
    weights: Weights = Weights(),
    query: str = "",
    max_per_product: int = 1,
    basis: str = "",
) -> list[Recommendation]:
    """Score every hit, then pick k with at most `max_per_product` variants of one product."""
    if not hits:
        return []
    vectors = np.stack([h.vector for h in hits])
    liked_sim = _max_sim(vectors, profile.liked_vectors)
    disliked_sim = _max_sim(vectors, profile.disliked_vectors)
    disliked_products = {i.product_id for i in profile.disliked}
    scored = []
    for n, hit in enumerate(hits):
        content = max(hit.similarity, 0.0)
        taste = liked_sim[n][0] - disliked_sim[n][0]
        score = weights.content * content + weights.cf * float(cf_scores[n]) + weights.feedback * taste
        if hit.item.product_id in disliked_products:
            score -= weights.disliked_product_penalty
        scored.append((score, n))
    scored.sort(key=lambda t: -t[0])

    picked: list[Recommendation] = []
    per_product: dict[str, int] = {}
    chosen_vectors: list[np.ndarray] = []
    terms = query_terms(query)
    for score, n in scored:
        hit = hits[n]
        pid = hit.item.product_id
        if per_product.get(pid, 0) >= max_per_product:
            continue
        if any(float(v @ hit.vector) > 0.985 for v in chosen_vectors):  # near-identical listings
            continue
        per_product[pid] = per_product.get(pid, 0) + 1
        chosen_vectors.append(hit.vector)
        liked_item = profile.liked[int(liked_sim[n][1])] if profile.liked and liked_sim[n][0] > 0.6 else None
        reason = _reason(hit, terms, filters, liked_item, float(cf_scores[n]), basis)
        picked.append(Recommendation(hit.item, round(float(score), 4), reason))
        if len(picked) == k:
            break
    return picked


def _max_sim(vectors: np.ndarray, others: np.ndarray | None) -> np.ndarray:
    """(max similarity, argmax) of each vector against a set; zeros when the set is empty."""
    if others is None or len(others) == 0:
        return np.zeros((len(vectors), 2), dtype=np.float32)
    sims = vectors @ others.T
    return np.stack([sims.max(axis=1), sims.argmax(axis=1)], axis=1)


def _reason(hit: Hit, terms: list[str], filters: Filters, liked: Item | None, cf: float, basis: str) -> str:
    parts = []
    if basis:
        parts.append(basis)
    matched = _matched_terms(terms, hit.item)
    if matched:
        parts.append("matches " + ", ".join(f"“{t}”" for t in matched[:3]))
    if liked is not None and liked.id != hit.item.id:
        parts.append(f"close to the {liked.name} you liked")
    if filters.max_price is not None:
        parts.append(f"${hit.item.price:g}, within your ${filters.max_price:g}")
    if filters.exclude_colors and hit.item.color:
        parts.append(f"{hit.item.color.lower()}, not {'/'.join(c.lower() for c in filters.exclude_colors)}")
    if cf > 0.7 and not liked:
        parts.append("popular with shoppers like you")
    if not parts:
        leaf = hit.item.categories[0].split("/")[-1].lower() if hit.item.categories else "item"
        parts.append(f"a close match among our {leaf}")
    text = "; ".join(parts)
    return text[0].upper() + text[1:]
