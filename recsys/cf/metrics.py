"""Top-k ranking metrics over the full item set, with each user's training items excluded.

Definitions follow the LightGCN/NGCF evaluation code: Recall@k = hits / |test items|,
NDCG@k with binary gains and the ideal DCG of min(k, |test items|) hits, HR@k = 1 if any test item
is in the top k. Users without test items are not counted.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import scipy.sparse as sp


def top_k(scores: np.ndarray, k: int, seen: sp.csr_matrix | None = None) -> np.ndarray:
    """Indices of the k best items per row, best first; items in `seen` rows are never returned."""
    scores = np.array(scores, dtype=np.float32, copy=True)
    if seen is not None and seen.nnz:
        rows = np.repeat(np.arange(seen.shape[0]), np.diff(seen.indptr))
        scores[rows, seen.indices] = -np.inf
    k = min(k, scores.shape[1])
    part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)


def hits(top: np.ndarray, truth: sp.csr_matrix) -> np.ndarray:
    """0/1 matrix the shape of `top`: whether each ranked item is a test item of that row."""
    truth = sp.csr_matrix(truth)
    # search each ranked item among that row's (sorted) test items: no dense users×items array needed
    truth.sort_indices()
    n_items = truth.shape[1]
    keys = (np.repeat(np.arange(truth.shape[0], dtype=np.int64), np.diff(truth.indptr)) * n_items + truth.indices).astype(np.int64)
    wanted = (np.arange(top.shape[0], dtype=np.int64)[:, None] * n_items + top).ravel()
    pos = np.minimum(np.searchsorted(keys, wanted), max(len(keys) - 1, 0))
    found = keys[pos] == wanted if len(keys) else np.zeros(len(wanted), dtype=bool)
    return found.reshape(top.shape)


def recall_at_k(top: np.ndarray, truth: sp.csr_matrix, k: int) -> np.ndarray:
    """Per-row recall@k (NaN where the row has no test items)."""
    n_true = np.diff(truth.indptr).astype(np.float64)
    found = hits(top[:, :k], truth).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n_true > 0, found / n_true, np.nan)


def ndcg_at_k(top: np.ndarray, truth: sp.csr_matrix, k: int) -> np.ndarray:
    """Per-row NDCG@k with binary relevance (NaN where the row has no test items)."""
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    h = hits(top[:, :k], truth)
    dcg = (h * discounts[: h.shape[1]]).sum(axis=1)
    n_true = np.diff(truth.indptr)
    ideal = np.concatenate([[0.0], np.cumsum(discounts)])[np.minimum(n_true, k)]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(n_true > 0, dcg / ideal, np.nan)


def hr_at_k(top: np.ndarray, truth: sp.csr_matrix, k: int) -> np.ndarray:
    """Per-row hit rate@k: 1 if any test item is in the top k (NaN where the row has no test items)."""
    n_true = np.diff(truth.indptr)
    found = hits(top[:, :k], truth).any(axis=1).astype(np.float64)
    return np.where(n_true > 0, found, np.nan)


METRICS: dict[str, Callable[[np.ndarray, sp.csr_matrix, int], np.ndarray]] = {
    "recall": recall_at_k,
    "ndcg": ndcg_at_k,
    "hr": hr_at_k,
}


def evaluate(
    score_users: Callable[[np.ndarray], np.ndarray],
    train: sp.csr_matrix,
    test: sp.csr_matrix,
    k: int,
    metrics: tuple[str, ...] = ("recall", "ndcg"),
    batch_size: int = 1024,
) -> dict[str, float]:
    """Mean metrics@k over users with test items; `score_users(user_ids)` returns a dense (users × items) block."""
    users = np.flatnonzero(np.diff(test.indptr) > 0)
    sums = dict.fromkeys(metrics, 0.0)
    for start in range(0, len(users), batch_size):
        batch = users[start : start + batch_size]
        top = top_k(score_users(batch), k, train[batch])
        truth = test[batch]
        for name in metrics:
            sums[name] += float(np.nansum(METRICS[name](top, truth, k)))
    n = max(len(users), 1)
    return {f"{name}@{k}": sums[name] / n for name in metrics}
