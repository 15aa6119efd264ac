"""Collaborative filtering for the bot: iALS + item-item over user×item interactions, popularity for everyone else."""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from recsys.cf.models import BlendCF

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Interaction:
    user: str
    item: str
    weight: float


class CFScorer:
    """`fit` on interactions, then `scores` for any user and candidate items, in [0, 1].

    The model is `recsys.cf.models.BlendCF` (iALS blended with normalised item-item co-occurrence), the
    family benchmarked by `recbot eval cf`, with its defaults (tuned on the small sets there, recsys/cf/benchmark.py)
    unless `params` say otherwise. Interaction weights act as confidences. Users without positive history get popularity.
    """

    def __init__(self, min_users: int = 3, **params: Any) -> None:
        self.min_users = min_users
        self.params = params  # BlendCF's keyword arguments
        self._model: BlendCF | None = None
        self._users: dict[str, int] = {}
        self._items: dict[str, int] = {}
        self._names: list[str] = []  # the inverse of _items, built when bought_with first needs it
        self._matrix: sp.csr_matrix | None = None
        self._popularity: dict[str, float] = {}

    def _new_model(self) -> BlendCF:
        """An untrained model with this scorer's parameters (BlendCF's fixed seed: a retrain on the same data is the same model)."""
        return BlendCF(**self.params)

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
        self._names = []
        self._model = None
        if len(self._users) < self.min_users or len(self._items) < 2:
            log.info("CF: %d users with history; popularity only until there are %d", len(self._users), self.min_users)
            return
        rows = [self._users[u] for u, _ in totals]
        cols = [self._items[i] for _, i in totals]
        self._matrix = sp.csr_matrix((list(totals.values()), (rows, cols)), shape=(len(self._users), len(self._items)), dtype=np.float32)
        model = self._new_model()
        model.fit(self._matrix)
        self._model = model
        log.info("CF: trained on %d users × %d items (%d interactions)", len(self._users), len(self._items), len(totals))

    def update_user(self, user: str, interactions: list[Interaction]) -> None:
        """Re-solve one user's factors and profile from their full history, without a retrain.

        implicit's `recalculate_user` only returns factors; `partial_fit_users` stores them (and grows the
        factor table for a user first seen after training), so the very next `scores` call reflects it.
        """
        if self._model is None or self._matrix is None:
            return
        row = np.zeros(len(self._items), dtype=np.float32)
        for x in interactions:
            if x.item in self._items and x.weight > 0:
                row[self._items[x.item]] += x.weight
        if user not in self._users:
            if not row.any():
                return
            self._users[user] = len(self._users)
            self._matrix = sp.vstack([self._matrix, sp.csr_matrix((1, len(self._items)), dtype=np.float32)], format="csr")
        uid = self._users[user]
        new_row = sp.csr_matrix(row)
        self._matrix = sp.vstack([self._matrix[:uid], new_row, self._matrix[uid + 1 :]], format="csr")
        self._model.profiles = self._matrix
        with threadpool_limits(1, "blas"):
            self._model.als.partial_fit_users(np.array([uid]), new_row)

    def scores(self, user: str, item_ids: list[str]) -> np.ndarray:
        """Collaborative score for users with positive history, popularity otherwise; 0 for unknown items."""
        uid = self._users.get(user)
        has_history = self._matrix is not None and uid is not None and self._matrix.indptr[uid + 1] > self._matrix.indptr[uid]
        if self._model is not None and has_history:
            full = self._model.score(np.array([uid]))[0]
            raw = np.array([full[self._items[i]] if i in self._items else np.nan for i in item_ids], dtype=np.float32)
            known = ~np.isnan(raw)
            out = np.zeros(len(item_ids), dtype=np.float32)
            if known.any():
                lo, hi = raw[known].min(), raw[known].max()
                out[known] = (raw[known] - lo) / (hi - lo) if hi > lo else 0.5
            return out
        return np.array([self._popularity.get(i, 0.0) for i in item_ids], dtype=np.float32)

    def bought_with(self, item_id: str, n: int = 20) -> list[tuple[str, float]]:
        """Items most often in the same baskets as `item_id` (the model's item-item co-occurrence), strongest first."""
        index = self._items.get(item_id)
        if self._model is None or index is None or self._model.similarity is None:
            return []
        row = sp.csr_matrix(self._model.similarity[index])
        names = self._item_names()
        pairs = sorted(zip(row.indices, row.data, strict=True), key=lambda p: -p[1])
        return [(names[int(j)], float(w)) for j, w in pairs if int(j) != index and w > 0][:n]

    def _item_names(self) -> list[str]:
        """Column → item id; the columns only change when the model is fitted or loaded again."""
        if not self._names:
            self._names = sorted(self._items, key=self._items.__getitem__)
        return self._names

    # -- erasure and persistence -------------------------------------------------------------------
    def forget_user(self, user: str) -> bool:
        """Drop a user's row: their profile and factors are zeroed and the id is unmapped (they score as new)."""
        uid = self._users.pop(user, None)
        if uid is None:
            return False
        if self._matrix is not None:
            self._matrix = sp.csr_matrix(self._matrix, copy=True)
            self._matrix.data[self._matrix.indptr[uid] : self._matrix.indptr[uid + 1]] = 0.0
            self._matrix.eliminate_zeros()
        if self._model is not None:
            self._model.profiles = self._matrix
            if uid < len(self._model.als.user_factors):
                self._model.als.user_factors[uid] = 0.0
        return True

    @property
    def users(self) -> list[str]:
        return list(self._users)

    def save(self, folder: Path) -> None:
        """implicit's own ALS file (`model.npz`), scipy's sparse files for the profiles and the co-occurrence, and the id
        maps, popularity and parameters in `ids.json`."""
        folder.mkdir(parents=True, exist_ok=True)
        users = [""] * (max(self._users.values(), default=-1) + 1)
        for name, n in self._users.items():
            users[n] = name
        ids = {
            "params": {"min_users": self.min_users, **self.params},
            "users": users,
            "items": self._item_names(),
            "popularity": self._popularity,
        }
        if self._model is not None and self._matrix is not None:
            self._model.als.save(folder / "model.npz")
            sp.save_npz(folder / "profiles.npz", sp.csr_matrix(self._matrix))
            sp.save_npz(folder / "similarity.npz", sp.csr_matrix(self._model.similarity))
        (folder / "ids.json").write_text(json.dumps(ids), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> CFScorer:
        ids = json.loads((folder / "ids.json").read_text(encoding="utf-8"))
        scorer = cls(**ids["params"])
        scorer._users = {u: n for n, u in enumerate(ids["users"]) if u}
        scorer._items = {i: n for n, i in enumerate(ids["items"])}
        scorer._names = list(ids["items"])
        scorer._popularity = {k: float(v) for k, v in ids["popularity"].items()}
        if not (folder / "model.npz").is_file():  # popularity only: too little history to train
            return scorer
        from implicit.cpu.als import AlternatingLeastSquares

        model = scorer._new_model()
        with threadpool_limits(1, "blas"):  # implicit checks BLAS threads when it constructs the model
            model.als = AlternatingLeastSquares.load(folder / "model.npz")
        model.als.num_threads = 1  # serving solves one user at a time
        scorer._matrix = sp.csr_matrix(sp.load_npz(folder / "profiles.npz"), dtype=np.float32)
        model.profiles = scorer._matrix
        model.similarity = sp.csr_matrix(sp.load_npz(folder / "similarity.npz"), dtype=np.float32)
        scorer._model = model
        return scorer
