"""Gated retraining of the collaborative model: log → weighted matrix → candidate → held-out check → versioned swap.

The held-out slice is each user's latest item (users with `min_history` items or more). When a model is
already serving, only users whose latest event is newer than that model's training data count: both
models are judged on feedback neither has seen, and the serving one gets each slice user's earlier items
folded in, exactly as the instant update does while it serves. The candidate is swapped in only if its
NDCG@k is not below the serving model's (plus `min_improvement`); the model that then serves is refit on
the whole log so every user's latest item counts.

Versions are kept by bot/learning/registry.py.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import time
from collections import defaultdict
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from bot.config import TrainingConfig
from bot.learning.feedback import Event, FeedbackLog, UserKey
from bot.learning.registry import ModelRegistry
from recsys.cf.metrics import evaluate
from recsys.cf.scorer import CFScorer, Interaction

log = logging.getLogger(__name__)

GATE_METRIC = "ndcg"


# -- from the log to weighted interactions ------------------------------------------------------------------
@dataclass
class History:
    """Confidence per (user, item) and each user's items from oldest to latest."""

    weights: dict[tuple[str, str], float]
    latest: dict[tuple[str, str], int]  # event id of the latest positive event per (user, item)
    last_id: int = 0
    ignored: int = 0

    def interactions(self, without: dict[str, str] | None = None) -> list[Interaction]:
        without = without or {}
        return [Interaction(u, i, w) for (u, i), w in self.weights.items() if without.get(u) != i]

    def items_in_order(self) -> dict[str, list[str]]:
        order: dict[str, list[tuple[int, str]]] = defaultdict(list)
        for (u, i), n in self.latest.items():
            order[u].append((n, i))
        return {u: [i for _, i in sorted(pairs)] for u, pairs in order.items()}


def build_history(events: list[Event], config: TrainingConfig, known: Collection[str] | None, now: dt.datetime | None = None) -> History:
    """Confidence = event weight × ½^(age / half-life), summed per (user, item); a later dislike cancels the item."""
    now = now or dt.datetime.now(dt.UTC)
    weights: dict[tuple[str, str], float] = defaultdict(float)
    latest: dict[tuple[str, str], int] = {}
    ignored = 0
    last_id = 0
    for e in events:
        last_id = max(last_id, e.id)
        if known is not None and e.item_id not in known:
            ignored += 1
            continue
        key = (e.user, e.item_id)
        if e.event == "dislike":
            weights.pop(key, None)
            latest.pop(key, None)
            continue
        base = config.event_weights.get(e.event, 0.0)  # type: ignore[call-overload]
        if base <= 0:
            continue
        age_days = max((now - e.ts).total_seconds() / 86400.0, 0.0)
        weights[key] += base * 0.5 ** (age_days / config.half_life_days)
        latest[key] = e.id
    if ignored:
        log.warning("training: ignored %d events on items not in the catalogue", ignored)
    return History(dict(weights), latest, last_id, ignored)


def kinds(config: TrainingConfig) -> list[str]:
    return [*config.event_weights, "dislike"]


def user_history(feedback: FeedbackLog, user: UserKey, config: TrainingConfig, known: Collection[str] | None) -> list[Interaction]:
    """One user's full weighted history, as training would see it (the instant update uses this)."""
    return build_history(feedback.training_events(kinds(config), user=user), config, known).interactions()


# -- the held-out check -------------------------------------------------------------------------------------------------------
def leave_last_out(history: History, min_history: int, newer_than: int = 0) -> dict[str, str]:
    """user → their latest item, for users with `min_history` items whose latest event is newer than `newer_than`."""
    held: dict[str, str] = {}
    for user, items in history.items_in_order().items():
        if len(items) >= min_history and history.latest[(user, items[-1])] > newer_than:
            held[user] = items[-1]
    return held


def score_slice(scorer: CFScorer, train: list[Interaction], held: dict[str, str], k: int) -> dict[str, float]:
    """Recall@k and NDCG@k of `scorer` on the held-out items, ranking every item except the user's own."""
    items = sorted({x.item for x in train} | set(held.values()))
    col = {i: n for n, i in enumerate(items)}
    users = sorted(held)
    row = {u: n for n, u in enumerate(users)}
    seen = [(row[x.user], col[x.item]) for x in train if x.user in row]
    shape = (len(users), len(items))
    train_m = sp.csr_matrix((np.ones(len(seen), dtype=np.float32), ([r for r, _ in seen], [c for _, c in seen])), shape=shape)
    test_m = sp.csr_matrix((np.ones(len(users), dtype=np.float32), (range(len(users)), [col[held[u]] for u in users])), shape=shape)

    def score_users(batch: np.ndarray) -> np.ndarray:
        return np.stack([scorer.scores(users[b], items) for b in batch])

    return evaluate(score_users, train_m, test_m, k)


# -- the gated retrain -------------------------------------------------------------------------------------------------------------
@dataclass
class RetrainResult:
    swapped: bool
    reason: str
    version: str | None  # what serves afterwards
    previous: str | None
    candidate: dict[str, float] | None = None
    serving: dict[str, float] | None = None
    eval_users: int = 0
    train_seconds: float = 0.0
    at: str = field(default_factory=lambda: dt.datetime.now(dt.UTC).isoformat(timespec="seconds"))

    def summary(self) -> str:
        def fmt(m: dict[str, float] | None) -> str:
            return ", ".join(f"{k} {v:.4f}" for k, v in m.items()) if m else "—"

        verdict = f"swapped in {self.version}" if self.swapped else f"kept {self.version or 'no model'}"
        return (
            f"{verdict}: {self.reason}\n"
            f"candidate: {fmt(self.candidate)}\nserving ({self.previous or 'none'}): {fmt(self.serving)}\n"
            f"held-out users: {self.eval_users}; training took {self.train_seconds:.2f} s"
        )


class Trainer:
    """Runs one gated retrain against the registry; `make_scorer` builds the candidate (tests pass a worse one)."""

    def __init__(
        self,
        feedback: FeedbackLog,
        config: TrainingConfig,
        registry: ModelRegistry,
        known_items: Callable[[], Collection[str]] | None = None,
        make_scorer: Callable[[], CFScorer] = CFScorer,
    ) -> None:
        self.feedback = feedback
        self.config = config
        self.registry = registry
        self.known_items = known_items
        self.make_scorer = make_scorer

    def retrain(self) -> tuple[RetrainResult, CFScorer | None]:
        """Train, check, and save a new version if it is not worse; returns the result and the model to serve (None: keep)."""
        started = time.perf_counter()
        cfg = self.config
        serving = self.registry.load_latest()
        previous = serving[1].name if serving else None
        history = build_history(self.feedback.training_events(kinds(cfg)), cfg, self.known_items() if self.known_items else None)

        def done(reason: str, model: CFScorer | None = None, version: str | None = None, **extra) -> tuple[RetrainResult, CFScorer | None]:
            seconds = time.perf_counter() - started
            result = RetrainResult(model is not None, reason, version or previous, previous, train_seconds=seconds, **extra)
            (log.info if model is not None else log.warning)("retrain: %s", result.summary().replace("\n", "; "))
            self.registry.record_decision(result)
            return result, model

        if not history.weights:
            return done("the feedback log has nothing to learn from")
        held = leave_last_out(history, cfg.min_history, serving[1].trained_through if serving else 0)
        train = history.interactions(without=held)
        if serving is not None and len(held) < cfg.min_eval_users:
            return done(f"only {len(held)} users have feedback newer than {previous} (need {cfg.min_eval_users}) — nothing new to judge on")

        candidate = self.make_scorer()
        candidate.fit(train)
        if not candidate.trained:
            return done("too little history to train a collaborative model")
        cand_m = score_slice(candidate, train, held, cfg.k) if held else None
        serv_m = None
        if serving is not None:
            old = serving[0]
            before: dict[str, list[Interaction]] = defaultdict(list)
            for x in train:
                if x.user in held:
                    before[x.user].append(x)
            for user in held:  # fold in what the user did before the held-out item, as instant updates do while serving
                old.update_user(user, before[user])
            serv_m = score_slice(old, train, held, cfg.k)
        gate = f"{GATE_METRIC}@{cfg.k}"
        if cand_m is not None and not all(math.isfinite(v) for v in cand_m.values()):
            return done("the candidate's metrics are not finite", candidate=cand_m, serving=serv_m, eval_users=len(held))
        if serv_m is not None and cand_m is not None and cand_m[gate] < serv_m[gate] + cfg.min_improvement:
            reason = f"candidate {gate} {cand_m[gate]:.4f} is below serving {serv_m[gate]:.4f}"
            if cfg.min_improvement:
                reason += f" + {cfg.min_improvement}"
            return done(reason, candidate=cand_m, serving=serv_m, eval_users=len(held))

        final = self.make_scorer()
        final.fit(history.interactions())
        if not final.trained:
            return done("the model refit on the whole log did not train")
        info = {
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "trained_through": history.last_id,
            "users": len({u for u, _ in history.weights}),
            "items": len({i for _, i in history.weights}),
            "interactions": len(history.weights),
            "metrics": cand_m,
            "serving_metrics": serv_m,
            "replaced": previous,
            "eval_users": len(held),
            "k": cfg.k,
        }
        version = self.registry.save(final, info)
        if serv_m is None:
            reason = "first model" + ("" if cand_m else " (too little history for a held-out check)")
        else:
            reason = f"candidate {gate} {cand_m[gate]:.4f} ≥ serving {serv_m[gate]:.4f}" if cand_m else "accepted"
        return done(reason, final, version.name, candidate=cand_m, serving=serv_m, eval_users=len(held))
