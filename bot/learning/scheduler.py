"""The retraining schedule: one APScheduler job on the bot's event loop, interval or cron from `training` config, and a
second that swaps in a model version another worker saved."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.config import TrainingConfig

log = logging.getLogger(__name__)

JOB_ID = "retrain-cf"
FOLLOW_ID = "follow-cf"
Job = Callable[[], Awaitable[object]]
FOLLOW_SECONDS = 30  # how soon a worker serves a version another worker trained


def trigger_for(config: TrainingConfig) -> BaseTrigger:
    if config.schedule_cron:
        return CronTrigger.from_crontab(config.schedule_cron, timezone="UTC")
    return IntervalTrigger(minutes=config.interval_minutes, timezone="UTC")


class TrainingScheduler:
    """Runs `job` on the configured trigger; an exception in the job is logged and the bot keeps serving."""

    def __init__(self, config: TrainingConfig, job: Job, follow: Job | None = None) -> None:
        self.config = config
        self._job = job
        self._follow = follow
        self.scheduler = AsyncIOScheduler(timezone="UTC")

    async def run_job(self) -> None:
        try:
            await self._job()
        except Exception:
            log.exception("scheduled retraining failed; the serving model stays")

    async def run_follow(self) -> None:
        try:
            await self._follow()  # type: ignore[misc]
        except Exception:
            log.exception("looking for a newer model version failed; the serving model stays")

    def start(self) -> None:
        """Register the job and start ticking on the running event loop."""
        # one run at a time; runs missed while the bot was busy or down collapse into one
        self.scheduler.add_job(self.run_job, trigger_for(self.config), id=JOB_ID, max_instances=1, coalesce=True, misfire_grace_time=3600)
        if self._follow is not None:
            every = IntervalTrigger(seconds=FOLLOW_SECONDS, timezone="UTC")
            self.scheduler.add_job(self.run_follow, every, id=FOLLOW_ID, max_instances=1, coalesce=True)
        self.scheduler.start()
        log.info("retraining scheduled: %s", self.job.trigger)

    @property
    def job(self):  # type: ignore[no-untyped-def]
        return self.scheduler.get_job(JOB_ID)

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
