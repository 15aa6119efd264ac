"""Stated profiles in the feedback log's database (SQLite or PostgreSQL, through the same engine), one row per user."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, DateTime, MetaData, String, Table, Text, delete, select
from sqlalchemy.engine import Engine

from bot.learning.feedback import UserKey
from bot.profile.stated import Change, StatedProfile

metadata = MetaData()
profiles = Table(
    "profiles",
    metadata,
    Column("user_id", String(128), primary_key=True),
    Column("platform", String(32), primary_key=True),
    Column("data", Text, nullable=False),
    Column("updated", DateTime(timezone=True), nullable=False),
)


class ProfileStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        metadata.create_all(engine)

    def get(self, user: UserKey) -> StatedProfile:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(profiles.c.data).where(profiles.c.user_id == user.user_id, profiles.c.platform == user.platform)
            ).first()
        return StatedProfile.from_json(row[0] if row else None)

    def update(self, user: UserKey, changes: list[Change]) -> StatedProfile:
        """Apply what the shopper said and store it before the bot acknowledges it."""
        with self.engine.begin() as conn:
            where = (profiles.c.user_id == user.user_id, profiles.c.platform == user.platform)
            row = conn.execute(select(profiles.c.data).where(*where).with_for_update()).first()
            profile = StatedProfile.from_json(row[0] if row else None)
            profile.apply(changes)
            conn.execute(delete(profiles).where(*where))
            if profile:
                values = {"user_id": user.user_id, "platform": user.platform, "data": profile.to_json(), "updated": dt.datetime.now(dt.UTC)}
                conn.execute(profiles.insert().values(**values))
        return profile

    def forget(self, user: UserKey) -> bool:
        with self.engine.begin() as conn:
            result = conn.execute(delete(profiles).where(profiles.c.user_id == user.user_id, profiles.c.platform == user.platform))
        return bool(result.rowcount)
