"""One shopper's accounts on several platforms, linked so they share one stated profile.

`/link` on one account gives a short-lived one-time code; `/link CODE` on another account joins it to the first. Every
account then reads and writes the profile of the group's owner (the account that gave the first code)."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from sqlalchemy import Column, DateTime, MetaData, String, Table, delete, select, update
from sqlalchemy.engine import Connection, Engine

from bot.learning.feedback import UserKey

CODE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: read off one screen, typed on another
CODE_LENGTH = 8
CODE_LIFETIME = dt.timedelta(minutes=10)

metadata = MetaData()
link_codes = Table(
    "link_codes",
    metadata,
    Column("code", String(16), primary_key=True),
    Column("platform", String(32), nullable=False),
    Column("user_id", String(128), nullable=False),
    Column("expires", DateTime(timezone=True), nullable=False),
)
account_links = Table(
    "account_links",
    metadata,
    Column("platform", String(32), primary_key=True),
    Column("user_id", String(128), primary_key=True),
    Column("owner_platform", String(32), nullable=False),
    Column("owner_user_id", String(128), nullable=False),
)


def _account(table: Table, key: UserKey) -> Any:
    """The rows of `table` about the account `key`."""
    return (table.c.platform == key.platform) & (table.c.user_id == key.user_id)


def _owned_by(key: UserKey) -> Any:
    return (account_links.c.owner_platform == key.platform) & (account_links.c.owner_user_id == key.user_id)


def _link_row(account: UserKey, owner: UserKey) -> dict[str, str]:
    return {"platform": account.platform, "user_id": account.user_id, "owner_platform": owner.platform, "owner_user_id": owner.user_id}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(when: dt.datetime) -> dt.datetime:
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)  # SQLite hands timestamps back naive


class AccountLinks:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        metadata.create_all(engine)

    def owner(self, user: UserKey, conn: Connection | None = None) -> UserKey:
        """The account whose profile `user` shares (itself when not linked)."""
        if conn is None:
            with self.engine.connect() as c:
                return self.owner(user, c)
        owner = select(account_links.c.owner_platform, account_links.c.owner_user_id)
        row = conn.execute(owner.where(_account(account_links, user))).first()
        return UserKey(row[0], row[1]) if row else user

    def linked(self, user: UserKey) -> list[UserKey]:
        """Every account in `user`'s group but `user` itself."""
        with self.engine.connect() as conn:
            owner = self.owner(user, conn)
            rows = conn.execute(select(account_links.c.platform, account_links.c.user_id).where(_owned_by(owner))).all()
        group = [owner, *(UserKey(p, u) for p, u in rows)]
        return [u for u in group if u != user]

    def issue(self, user: UserKey) -> str:
        """A new one-time code for `user`'s group; the codes this account gave before stop working."""
        code = "".join(secrets.choice(CODE_LETTERS) for _ in range(CODE_LENGTH))
        with self.engine.begin() as conn:
            conn.execute(delete(link_codes).where((link_codes.c.expires < _now()) | _account(link_codes, user)))
            expires = _now() + CODE_LIFETIME
            conn.execute(link_codes.insert().values(code=code, platform=user.platform, user_id=user.user_id, expires=expires))
        return code

    def redeem(self, user: UserKey, code: str) -> tuple[UserKey | None, UserKey | None]:
        """Join `user` to the group of the account that gave `code`. Returns (the account that gave it, the owner
        whose profile `user` had until now) — the first None when the code is unknown, expired or `user`'s own."""
        code = code.strip().upper().replace("-", "").replace(" ", "")
        with self.engine.begin() as conn:
            row = conn.execute(select(link_codes).where(link_codes.c.code == code).with_for_update()).first()
            if row is None or _aware(row.expires) < _now():
                return None, None
            giver = UserKey(row.platform, row.user_id)
            new_owner, old_owner = self.owner(giver, conn), self.owner(user, conn)
            if new_owner == old_owner:
                return None, None  # already one group: nothing to join
            conn.execute(delete(link_codes).where(link_codes.c.code == code))
            # the old group (this account and any linked to it) moves under the new owner
            moved = {"owner_platform": new_owner.platform, "owner_user_id": new_owner.user_id}
            conn.execute(update(account_links).where(_owned_by(old_owner)).values(**moved))
            for account in {old_owner, user}:
                conn.execute(delete(account_links).where(_account(account_links, account)))
                conn.execute(account_links.insert().values(**_link_row(account, new_owner)))
        return giver, old_owner

    def unlink(self, user: UserKey) -> UserKey | None:
        """Take `user` out of its group; returns the owner it shared with, or None when it was not linked (an owner
        leaving hands the group to the next account)."""
        with self.engine.begin() as conn:
            owner = self.owner(user, conn)
            if owner != user:
                conn.execute(delete(account_links).where(_account(account_links, user)))
                return owner
            rows = conn.execute(select(account_links.c.platform, account_links.c.user_id).where(_owned_by(user))).all()
            if not rows:
                return None
            heir = UserKey(rows[0][0], rows[0][1])
            conn.execute(delete(account_links).where(_account(account_links, heir)))
            conn.execute(update(account_links).where(_owned_by(user)).values(owner_platform=heir.platform, owner_user_id=heir.user_id))
            return heir

    def forget(self, user: UserKey) -> None:
        """Erasure: the whole group's links and every code its accounts gave."""
        with self.engine.begin() as conn:
            owner = self.owner(user, conn)
            rows = conn.execute(select(account_links.c.platform, account_links.c.user_id).where(_owned_by(owner))).all()
            for account in {owner, user, *(UserKey(p, u) for p, u in rows)}:
                conn.execute(delete(account_links).where(_account(account_links, account)))
                conn.execute(delete(link_codes).where(_account(link_codes, account)))
