"""Which platform deliveries were already handled: a replayed request or a redelivered event runs once.

A captured, correctly signed Slack request re-sent within its five-minute window, an Events API retry, a Telegram
webhook update sent again: each carries a key (its signature, event id or update id) that is written here, in the
event database, before the delivery is handled. The primary key makes the check atomic, so it holds across
restarts and across every worker that shares the database.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import Column, DateTime, MetaData, String, Table, delete
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

log = logging.getLogger(__name__)

KEPT = dt.timedelta(hours=1)  # well beyond Slack's 5-minute signature window and Telegram's retries
PRUNE_EVERY = 500  # deliveries between two clean-ups of expired keys

metadata = MetaData()
seen_deliveries = Table(
    "seen_deliveries",
    metadata,
    Column("key", String(160), primary_key=True),
    Column("seen_at", DateTime(timezone=True), nullable=False, index=True),
)


class Deliveries:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        metadata.create_all(engine)
        self._since_prune = 0

    def first_time(self, key: str) -> bool:
        """Record `key`; True when no delivery with it was recorded in the last `KEPT`."""
        now = dt.datetime.now(dt.UTC)
        self._since_prune += 1
        if self._since_prune >= PRUNE_EVERY:
            self._since_prune = 0
            with self.engine.begin() as conn:
                conn.execute(delete(seen_deliveries).where(seen_deliveries.c.seen_at < now - KEPT))
        try:
            with self.engine.begin() as conn:
                conn.execute(seen_deliveries.insert().values(key=key[:160], seen_at=now))
        except IntegrityError:
            return False
        return True
