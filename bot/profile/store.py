"""Stated profiles in the feedback log's database (SQLite or PostgreSQL, through the same engine), one row per group
of linked accounts (a shopper's Telegram and Slack, say), kept under the group's owner."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Column, DateTime, MetaData, String, Table, Text, delete, select
from sqlalchemy.engine import Connection, Engine

from bot.learning.feedback import UserKey
from bot.profile.links import AccountLinks
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
        self.links = AccountLinks(engine)

    def get(self, user: UserKey) -> StatedProfile:
        return self._read(self.links.owner(user))

    def update(self, user: UserKey, changes: list[Change]) -> StatedProfile:
        """Apply what the shopper said and store it before the bot acknowledges it."""
        owner = self.links.owner(user)
        with self.engine.begin() as conn:
            row = conn.execute(select(profiles.c.data).where(*self._where(owner)).with_for_update()).first()
            profile = StatedProfile.from_json(row[0] if row else None)
            profile.apply(changes)
            self._write(conn, owner, profile)
        return profile

    def link(self, user: UserKey, code: str) -> UserKey | None:
        """Join `user` to the accounts of whoever gave `code` (None: unknown or expired); what `user` had said before
        is kept where the other accounts said nothing of it."""
        giver, old_owner = self.links.redeem(user, code)
        if giver is None or old_owner is None:
            return None
        mine, owner = self._read(old_owner), self.links.owner(user)
        with self.engine.begin() as conn:
            self._write(conn, owner, self._read(owner).merged_over(mine))
            self._write(conn, old_owner, StatedProfile())
        return giver

    def unlink(self, user: UserKey) -> bool:
        """Stop sharing: `user` and the rest of its old group each keep a copy of the profile they shared."""
        shared = self.get(user)
        rest = self.links.unlink(user)
        if rest is None:
            return False
        with self.engine.begin() as conn:
            self._write(conn, user, shared)
            self._write(conn, self.links.owner(rest), shared)
        return True

    def forget(self, user: UserKey) -> bool:
        """Erase the profile every linked account shared, and the links."""
        group = [user, *self.links.linked(user)]
        with self.engine.begin() as conn:
            removed = sum(conn.execute(delete(profiles).where(*self._where(account))).rowcount for account in group)
        self.links.forget(user)
        return bool(removed)

    def _read(self, key: UserKey) -> StatedProfile:
        with self.engine.connect() as conn:
            row = conn.execute(select(profiles.c.data).where(*self._where(key))).first()
        return StatedProfile.from_json(row[0] if row else None)

    def _write(self, conn: Connection, key: UserKey, profile: StatedProfile) -> None:
        conn.execute(delete(profiles).where(*self._where(key)))
        if profile:
            values = {"user_id": key.user_id, "platform": key.platform, "data": profile.to_json(), "updated": dt.datetime.now(dt.UTC)}
            conn.execute(profiles.insert().values(**values))

    @staticmethod
    def _where(key: UserKey) -> tuple[Any, ...]:
        return (profiles.c.user_id == key.user_id, profiles.c.platform == key.platform)
