"""CF models on a user×item CSR matrix: `fit(train)`, then `score(users)` as a dense users×items block.

ItemPop, plain iALS (implicit) and EASE are the baselines; `TunedALS` is the project's model (see
recsys/cf_benchmark.py for how its defaults were chosen).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import scipy.sparse as sp
from threadpoolctl import threadpool_limits


def _threads() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


class ItemPop:
    """Everyone gets the most interacted-with items."""

    name = "ItemPop"

    def fit(self, train: sp.csr_matrix) -> ItemPop:
        counts = np.asarray(train.sum(axis=0)).ravel()
        # distinct scores (ties to the lower item id) keep top-k selection fast and deterministic
        order = np.lexsort((np.arange(len(counts)), -counts))
        self.ranks = np.empty(len(counts), dtype=np.float32)
        self.ranks[order] = np.arange(len(counts), 0, -1, dtype=np.float32)
        return self

    def score(self, users: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.ranks, (len(users), len(self.ranks)))


class PlainALS:
    """implicit's AlternatingLeastSquares on the binary matrix, library defaults except factors/iterations."""

    name = "iALS"

    def __init__(self, factors: int = 256, iterations: int = 15, regularization: float = 0.01, alpha: float = 1.0, seed: int = 7) -> None:
        self.params = dict(factors=factors, iterations=iterations, regularization=regularization, alpha=alpha, random_state=seed)

    def fit(self, train: sp.csr_matrix) -> PlainALS:
        from implicit.cpu.als import AlternatingLeastSquares

        with threadpool_limits(1, "blas"):  # from construction on, as in BlendCF.fit
            self.model = AlternatingLeastSquares(**self.params, num_threads=_threads())
            self.model.fit(train, show_progress=False)
        return self

    def score(self, users: np.ndarray) -> np.ndarray:
        return self.model.user_factors[users] @ self.model.item_factors.T


class EASE:
    """Steck 2019: closed-form item-item regression with a zero diagonal (small item sets only)."""

    name = "EASE"

    def __init__(self, l2: float = 500.0) -> None:
        self.l2 = l2

    def fit(self, train: sp.csr_matrix) -> EASE:
        self.train = train
        gram = (train.T @ train).toarray().astype(np.float64)
        gram[np.diag_indices_from(gram)] += self.l2
        p = np.linalg.inv(gram)
        b = p / (-np.diag(p))
        b[np.diag_indices_from(b)] = 0.0
        self.weights = b.astype(np.float32)
        return self

    def score(self, users: np.ndarray) -> np.ndarray:
        return np.asarray(self.train[users] @ self.weights)


def _row_scale(x: np.ndarray) -> np.ndarray:
    """Each row divided by its largest magnitude, so blended components share a scale per user."""
    x = np.asarray(x, dtype=np.float32)
    return x / (np.abs(x).max(axis=1, keepdims=True) + 1e-9)


def normalized_cooccurrence(train: sp.csr_matrix) -> sp.csr_matrix:
    """Item-item matrix R̃ᵀR̃ with R̃ = D_u^-½ R D_i^-½: co-occurrence damped by user activity and item popularity."""
    du = np.asarray(train.sum(axis=1)).ravel()
    di = np.asarray(train.sum(axis=0)).ravel()
    rn = sp.diags(np.power(np.maximum(du, 1e-9), -0.5)) @ train @ sp.diags(np.power(np.maximum(di, 1e-9), -0.5))
    return sp.csr_matrix(rn.T @ rn, dtype=np.float32)


class BlendCF:
    """The project's CF model: iALS blended with a normalised item-item model, recent history weighted up.

    score(u) = rowscale(p_u · S) + weight · rowscale(x_u · Y)
    with S the normalised co-occurrence (`normalized_cooccurrence`), Y the iALS item factors, p_u the
    user's profile (1 per item, or `decay`^(age rank − 1) when interaction order is known) and x_u the
    user's iALS factors solved against that same profile. The defaults are the small sets' (LastFM, ML-100K), which
    the bot serves too; Gowalla's own are in recsys/cf/benchmark.py's TUNED.
    """

    name = "iALS+ItemItem"

    def __init__(
        self,
        factors: int = 64,
        alpha: float = 10.0,
        regularization: float = 1.0,
        iterations: int = 10,
        weight: float = 1.0,
        decay: float = 1.0,
        seed: int = 7,
    ) -> None:
        self.factors, self.alpha, self.regularization, self.iterations = factors, alpha, regularization, iterations
        self.weight, self.decay, self.seed = weight, decay, seed

    def profile(self, train: sp.csr_matrix, recency: sp.csr_matrix | None = None) -> sp.csr_matrix:
        if recency is None or self.decay == 1.0:
            return sp.csr_matrix(train, dtype=np.float32)
        p = sp.csr_matrix(recency, dtype=np.float32, copy=True)
        p.data = np.power(self.decay, p.data - 1.0).astype(np.float32)
        return p

    def new_als(self) -> Any:
        """implicit's ALS with this model's parameters, one thread per core. BLAS is held at one thread from the
        constructor on, which is where implicit checks it and warns on stderr otherwise."""
        from implicit.cpu.als import AlternatingLeastSquares

        with threadpool_limits(1, "blas"):
            return AlternatingLeastSquares(
                factors=self.factors,
                regularization=self.regularization,
                alpha=self.alpha,
                iterations=self.iterations,
                random_state=self.seed,
                num_threads=_threads(),
            )

    def fit(self, train: sp.csr_matrix, recency: sp.csr_matrix | None = None) -> BlendCF:
        self.als = self.new_als()
        with threadpool_limits(1, "blas"):
            self.als.fit(train, show_progress=False)
            self.profiles = self.profile(train, recency)
            if recency is not None and self.decay != 1.0:  # user factors solved against the recency-weighted profile
                self.als.partial_fit_users(np.arange(train.shape[0]), self.profiles)
        self.similarity = normalized_cooccurrence(train)
        return self

    def score(self, users: np.ndarray) -> np.ndarray:
        item_item = (self.profiles[users] @ self.similarity).toarray()
        latent = self.als.user_factors[users] @ self.als.item_factors.T
        return _row_scale(item_item) + self.weight * _row_scale(latent)
