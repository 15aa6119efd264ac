"""The collaborative model that serves: loaded (or first trained) at start, swapped after a retrain that passes the
gate, and updated per user right after their feedback, so the next reply already reflects a 👍.

Several workers share it through a models folder they all mount (`storage.models_dir`) and the event database: one
retrains at a time (a lease in the database), every worker swaps to a newer version within `FOLLOW_SECONDS`, and a
user's row is recomputed before their turn when the log holds a reaction newer than this worker has seen (a 👍 given
through another worker)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading
from collections.abc import Callable, Collection, Iterable
from pathlib import Path
from typing import Protocol

from bot.config import TrainingConfig
from bot.learning.feedback import FeedbackLog, UserKey
from bot.learning.lease import Lease
from bot.learning.registry import ModelRegistry
from bot.learning.scheduler import TrainingScheduler
from bot.learning.training import RetrainResult, Trainer, kinds, user_history
from recsys.cf.scorer import CFScorer

log = logging.getLogger(__name__)
TRAINING_LEASE = dt.timedelta(hours=2)  # longer than any retrain; a worker that dies mid-training holds it no longer


class HoldsScorer(Protocol):
    scorer: CFScorer


class ServingModel:
    """Owns the model versions, the trainer and the schedule; `holder.scorer` is what recommendations read."""

    def __init__(self, config: TrainingConfig, feedback: FeedbackLog, folder: Path, known_items: Callable[[], Collection[str]]) -> None:
        self.config = config
        self.feedback = feedback
        self.known_items = known_items
        self.models = ModelRegistry(folder, config.keep_versions)
        self.trainer = Trainer(feedback, config, self.models, known_items)
        self.version: str | None = None
        self.scheduler: TrainingScheduler | None = None
        self._holder: HoldsScorer | None = None
        self._lock = threading.Lock()  # instant updates, swaps and erasure touch the serving model one at a time
        self._train_lock = threading.Lock()  # /retrain and the schedule never train at the same time
        self.lease = Lease(feedback.engine, "cf-retrain", TRAINING_LEASE)  # …nor do two workers
        self._seen: dict[str, int] = {}  # user → their newest reaction this worker's model rows reflect

    def serve(self, holder: HoldsScorer) -> None:
        """Serve the newest stored model into `holder` (training the first one if there is none)."""
        self._holder = holder
        loaded = self.models.load_latest()
        if loaded is None:
            self.retrain()
            return
        scorer, version = loaded
        with self._lock:
            holder.scorer = scorer
            self.version = version.name
        self._catch_up(version.trained_through)
        log.info("CF: serving %s", version.name)

    def hand_over(self, holder: HoldsScorer) -> None:
        """Serve the same model into a new holder (a recommender rebuilt on a changed catalogue)."""
        with self._lock:
            if self._holder is not None:
                holder.scorer = self._holder.scorer
            self._holder = holder

    def retrain(self) -> RetrainResult:
        """Gated retrain from the log; a model that is not worse replaces the serving one at once."""
        with self._train_lock:
            if not self.lease.acquire():
                log.info("CF: another worker is retraining; this one keeps serving %s", self.version)
                return RetrainResult(False, "another worker is retraining now", self.version, self.version)
            try:
                result, model = self.trainer.retrain()
            finally:
                self.lease.release()
        if model is not None and self._holder is not None:
            with self._lock:
                self._holder.scorer = model  # one reference swap: a request sees the old model or the new one
                self.version = result.version
            self._catch_up(self.models.versions()[-1].trained_through)
        return result

    def follow(self) -> bool:
        """Serve the newest stored version when another worker saved one; True when this worker swapped."""
        versions = self.models.versions()
        if not versions or versions[-1].name == self.version or self._holder is None:
            return False
        loaded = self.models.load_latest()
        if loaded is None:
            return False
        scorer, version = loaded
        with self._lock:
            self._holder.scorer = scorer
            self.version = version.name
        self._seen.clear()
        self._catch_up(version.trained_through)
        log.info("CF: now serving %s (trained by another worker)", version.name)
        return True

    def catch_up_user(self, user: UserKey) -> None:
        """Before a turn: the user's row again if the log has a reaction of theirs this worker has not seen."""
        newest = self.feedback.latest_reaction(user, kinds(self.config))
        if newest > self._seen.get(str(user), 0):
            self.refresh([user])

    async def scheduled_retrain(self) -> RetrainResult:
        return await asyncio.to_thread(self.retrain)

    def start_schedule(self) -> None:
        self.scheduler = TrainingScheduler(self.config, self.scheduled_retrain, lambda: asyncio.to_thread(self.follow))
        self.scheduler.start()

    def stop_schedule(self) -> None:
        if self.scheduler is not None:
            self.scheduler.stop()
            self.scheduler = None

    def _catch_up(self, trained_through: int) -> None:
        """Users with feedback newer than the model's training data get their rows recomputed now."""
        users = {e.user for e in self.feedback.training_events(kinds(self.config), after_id=trained_through)}
        self.refresh(UserKey(*user.split(":", 1)) for user in users)

    def refresh(self, users: Iterable[UserKey]) -> None:
        """Recompute each user's CF row from their full weighted history; the next reply uses it."""
        assert self._holder is not None
        known = self.known_items()
        for user in users:
            newest = self.feedback.latest_reaction(user, kinds(self.config))
            history = user_history(self.feedback, user, self.config, known)
            with self._lock:
                self._holder.scorer.update_user(str(user), history)
                self._seen[str(user)] = newest

    def forget(self, user: UserKey) -> None:
        """The user's row leaves the serving model and every stored version."""
        assert self._holder is not None
        with self._lock:
            self._holder.scorer.forget_user(str(user))
            self.models.forget_user(str(user))
