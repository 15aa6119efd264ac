"""Collaborative filtering: implicit ALS over user×item interactions, popularity for everyone else."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Interaction:
    user: str
    item: str
    weight: float


class CFScorer:
    """`fit` on interactions, then `scores` for any user and candidate items, in [0, 1]."""

    def __init__(self, factors: int = 64, regularization: float = 0.05, iterations: int = 15, min_users: int = 3) -> None:
        self.factors = factors
        self.regularization = regularization
        self.iterations = iterations
        self.min_users = min_users
        self._model = None
        self._users: dict[str, int] = {}
        self._items: dict[str, int] = {}
        self._matrix: sp.csr_matrix | None = None
        self._popularity: dict[str, float] = {}

    @property
    def trained(self) -> bool:
        return self._model is not None

    def fit(self, interactions: list[Interaction]) -> None:
        totals: dict[tuple[str, str], float] = defaultdict(float)
        for x in interactions:
            if x.weight > 0:
                totals[(x.user, x.item)] += x.weight
        item_pop: dict[str, float] = defaultdict(float)
        for (_, item), w in totals.items():
            item_pop[item] += w
        top = max(item_pop.values(), default=0.0)
        self._popularity = {i: float(np.log1p(w) / np.log1p(top)) for i, w in item_pop.items()} if top else {}
        self._users = {u: n for n, u in enumerate(sorted({u for u, _ in totals}))}
        self._items = {i: n for n, i in enumerate(sorted(item_pop))}
        self._model = None
        if len(self._users) < self.min_users or len(self._items) < 2:
            log.info("CF: %d users with history; popularity only until there are %d", len(self._users), self.min_users)
            return
        rows = [self._users[u] for u, _ in totals]
        cols = [self._items[i] for _, i in totals]
        self._matrix = sp.csr_matrix((list(totals.values()), (rows, cols)), shape=(len(self._users), len(self._items)), dtype=np.float32)
        from implicit.als import AlternatingLeastSquares

        model = AlternatingLeastSquares(
            factors=self.factors, regularization=self.regularization, iterations=self.iterations, random_state=7
        )
        with threadpool_limits(1, "blas"):
            model.fit(self._matrix, show_progress=False)
        self._model = model
        log.info("CF: ALS trained on %d users × %d items (%d interactions)", len(self._users), len(self._items), len(totals))

    def update_user(self, user: str, interactions: list[Interaction]) -> None:
        """Recompute one known user's factors from their full history, without a retrain."""
        if self._model is None or user not in self._users:
            return
        row = np.zeros(len(self._items), dtype=np.float32)
        for x in interactions:
            if x.item in self._items and x.weight > 0:
                row[self._items[x.item]] += x.weight
        with threadpool_limits(1, "blas"):
            self._model.recalculate_user(self._users[user], sp.csr_matrix(row))  # type: ignore[attr-defined]

    def scores(self, user: str, item_ids: list[str]) -> np.ndarray:
        """Collaborative score for known users, popularity otherwise; 0 for unknown items."""
        if self._model is not None and user in self._users:
            factors = self._model.user_factors[self._users[user]]
            raw = np.array(
                [float(self._model.item_factors[self._items[i]] @ factors) if i in self._items else np.nan for i in item_ids],
                dtype=np.float32,
            )
            known = ~np.isnan(raw)
            out = np.zeros(len(item_ids), dtype=np.float32)
            if known.any():
                lo, hi = raw[known].min(), raw[known].max()
                out[known] = (raw[known] - lo) / (hi - lo) if hi > lo else 0.5
            return out
        return np.array([self._popularity.get(i, 0.0) for i in item_ids], dtype=np.float32)

    def popular(self, n: int) -> list[str]:
        return [i for i, _ in sorted(self._popularity.items(), key=lambda kv: -kv[1])[:n]]
