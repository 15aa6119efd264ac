"""The feedback log: an append-only, durable store of what users were shown and how they reacted."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sqlalchemy import (
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    create_engine,
    delete,
    event,
    func,
    inspect,
    or_,
    select,
    text,
)
from sqlalchemy.engine import Engine

EventType = Literal["shown", "like", "dislike", "more_like_this", "purchase", "message"]

metadata = MetaData()
events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", String(128), nullable=False),
    Column("platform", String(32), nullable=False),
    Column("item_id", String(256), nullable=True),
    Column("event", String(32), nullable=False),
    Column("ts", DateTime(timezone=True), nullable=False),
    Index("ix_events_user", "user_id", "platform"),
    Index("ix_events_event_item", "event", "item_id"),
    Index("ix_events_event_id", "event", "id"),  # the training query: weighted events in log order
    Index("ix_events_ts", "ts"),  # reactions per day for /stats
)

SEED_PLATFORM = "seed"  # demo history derived from the store's reviews and product links; not a person


@dataclass(frozen=True)
class Event:
    """One stored event, as the training job reads it."""

    id: int
    user: str  # "platform:user_id"
    item_id: str
    event: str
    ts: dt.datetime


@dataclass(frozen=True)
class UserKey:
    """A user is only unique within a platform."""

    platform: str
    user_id: str

    def __str__(self) -> str:
        return f"{self.platform}:{self.user_id}"


@dataclass
class Stats:
    users: int
    messages: int
    likes: int
    dislikes: int
    top_items: list[tuple[str, int]]


def _sqlite_durability(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")  # an acknowledged write survives power loss, even in WAL
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()


class FeedbackLog:
    """Records events and answers the questions the recommender and admins ask of them."""

    def __init__(self, url: str) -> None:
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).expanduser().parent.mkdir(parents=True, exist_ok=True)
        self.engine = create_engine(url, future=True)
        if self.engine.dialect.name == "sqlite":
            _sqlite_durability(self.engine)
        metadata.create_all(self.engine)
        for index in events.indexes:  # a log created by an older version gains the newer indexes
            index.create(self.engine, checkfirst=True)
        if "weight" in {c["name"] for c in inspect(self.engine).get_columns("events")}:
            # older versions stored a per-event weight nobody read (training weighs events from config); its NOT NULL
            # would refuse the rows this version writes
            with self.engine.begin() as conn:
                conn.execute(text("ALTER TABLE events DROP COLUMN weight"))

    def record(self, user: UserKey, event_type: EventType, item_ids: list[str | None] | None = None) -> None:
        """Append events; returns only once they are committed."""
        now = dt.datetime.now(dt.UTC)
        rows = [
            {
                "user_id": user.user_id,
                "platform": user.platform,
                "item_id": item,
                "event": event_type,
                "ts": now,
            }
            for item in (item_ids or [None])
        ]
        with self.engine.begin() as conn:
            conn.execute(events.insert(), rows)

    def record_seed(self, rows: list[tuple[str, str, EventType]]) -> int:
        """Append demo history as (seed user, item, event) rows on the seed platform; returns how many."""
        now = dt.datetime.now(dt.UTC)
        payload = [{"user_id": u, "platform": SEED_PLATFORM, "item_id": i, "event": e, "ts": now} for u, i, e in rows]
        if payload:
            with self.engine.begin() as conn:
                conn.execute(events.insert(), payload)
        return len(payload)

    def has_seed(self) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(events.c.id).where(events.c.platform == SEED_PLATFORM).limit(1)).first() is not None

    def training_events(self, kinds: list[str], user: UserKey | None = None, after_id: int = 0) -> list[Event]:
        """Events of the given kinds that name an item, in log order; one user's only when `user` is given."""
        query = select(events.c.id, events.c.platform, events.c.user_id, events.c.item_id, events.c.event, events.c.ts).where(
            events.c.event.in_(kinds), events.c.item_id.is_not(None), events.c.id > after_id
        )
        if user is not None:
            query = query.where(events.c.user_id == user.user_id, events.c.platform == user.platform)
        with self.engine.connect() as conn:
            rows = conn.execute(query.order_by(events.c.id)).all()
        return [Event(n, f"{p}:{u}", i, e, ts if ts.tzinfo else ts.replace(tzinfo=dt.UTC)) for n, p, u, i, e, ts in rows]

    def latest_reaction(self, user: UserKey, kinds: list[str]) -> int:
        """The id of the user's newest event of these kinds (0 for none): another worker's 👍 shows up here."""
        query = select(func.max(events.c.id)).where(
            events.c.user_id == user.user_id, events.c.platform == user.platform, events.c.event.in_(kinds)
        )
        with self.engine.connect() as conn:
            return conn.execute(query).scalar() or 0

    def reactions_per_day(self, days: int = 30) -> list[tuple[dt.date, int, int]]:
        """(day, likes, dislikes) for the last `days` days of people's feedback (seed history excluded)."""
        since = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
        query = select(events.c.ts, events.c.event).where(
            events.c.event.in_(["like", "dislike"]), events.c.ts >= since, events.c.platform != SEED_PLATFORM
        )
        per_day: dict[dt.date, list[int]] = {}
        with self.engine.connect() as conn:
            for ts, kind in conn.execute(query):  # grouped in Python: date functions differ between SQLite and PostgreSQL
                counts = per_day.setdefault(ts.date(), [0, 0])
                counts[0 if kind == "like" else 1] += 1
        return [(day, likes, dislikes) for day, (likes, dislikes) in sorted(per_day.items())]

    def reactions(self, user: UserKey, *linked: UserKey) -> tuple[list[str], list[str]]:
        """(liked, disliked) item ids of `user` and the accounts linked to it; the latest reaction to an item wins,
        whichever account gave it."""
        accounts = or_(*(and_(events.c.user_id == u.user_id, events.c.platform == u.platform) for u in (user, *linked)))
        query = (
            select(events.c.item_id, events.c.event).where(accounts).where(events.c.event.in_(["like", "dislike"])).order_by(events.c.id)
        )
        latest: dict[str, str] = {}
        with self.engine.connect() as conn:
            for item_id, kind in conn.execute(query):
                latest.pop(item_id, None)
                latest[item_id] = kind
        liked = [i for i, k in latest.items() if k == "like"]
        disliked = [i for i, k in latest.items() if k == "dislike"]
        return liked, disliked

    def last_shown(self, user: UserKey) -> list[str]:
        """The items of the latest reply that showed any, in the order shown."""
        where = (events.c.user_id == user.user_id, events.c.platform == user.platform, events.c.event == "shown")
        with self.engine.connect() as conn:
            latest = conn.execute(select(func.max(events.c.ts)).where(*where)).scalar()
            if latest is None:
                return []
            rows = conn.execute(select(events.c.item_id).where(*where, events.c.ts == latest).order_by(events.c.id)).all()
        return [r[0] for r in rows if r[0]]

    def forget(self, user: UserKey) -> int:
        """Erase every event of a user; returns how many were removed."""
        with self.engine.begin() as conn:
            result = conn.execute(delete(events).where(events.c.user_id == user.user_id, events.c.platform == user.platform))
            return result.rowcount or 0

    def stats(self, top: int = 5) -> Stats:
        """What people did; the seeded demo history is not counted."""
        people = events.c.platform != SEED_PLATFORM
        with self.engine.connect() as conn:
            users = conn.execute(select(func.count(func.distinct(events.c.platform + ":" + events.c.user_id))).where(people)).scalar_one()

            def count(kind: str) -> int:
                return conn.execute(select(func.count()).where(events.c.event == kind, people)).scalar_one()

            top_items = conn.execute(
                select(events.c.item_id, func.count().label("n"))
                .where(events.c.event == "like", people)
                .group_by(events.c.item_id)
                .order_by(func.count().desc(), events.c.item_id)
                .limit(top)
            ).all()
            return Stats(users, count("message"), count("like"), count("dislike"), [(i, n) for i, n in top_items])
