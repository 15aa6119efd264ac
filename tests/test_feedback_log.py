"""The feedback log keeps every event durably and answers what the recommender and admins ask."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot.learning.feedback import FeedbackLog, UserKey


def test_reactions_latest_wins_and_survive_reopening(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'events.sqlite'}"
    log = FeedbackLog(url)
    alice = UserKey("terminal", "alice")
    log.record(alice, "like", ["A"])
    log.record(alice, "like", ["B"])
    log.record(alice, "dislike", ["A"])  # changed her mind
    log.record(UserKey("telegram", "alice"), "like", ["C"])  # another platform, another person
    assert FeedbackLog(url).reactions(alice) == (["B"], ["A"])


def test_sqlite_runs_in_wal_with_full_sync(tmp_path: Path) -> None:
    log = FeedbackLog(f"sqlite:///{tmp_path / 'e.sqlite'}")
    with log.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL


def test_forget_erases_only_that_user(tmp_path: Path) -> None:
    log = FeedbackLog(f"sqlite:///{tmp_path / 'e.sqlite'}")
    a, b = UserKey("slack", "U1"), UserKey("slack", "U2")
    log.record(a, "like", ["X", "Y"])
    log.record(b, "like", ["X"])
    assert log.forget(a) == 2
    assert log.reactions(a) == ([], [])
    assert log.reactions(b) == (["X"], [])
    rows = sqlite3.connect(tmp_path / "e.sqlite").execute("select count(*) from events where user_id='U1'").fetchone()
    assert rows == (0,)


def test_stats_and_training_rows(tmp_path: Path) -> None:
    log = FeedbackLog(f"sqlite:///{tmp_path / 'e.sqlite'}")
    a, b = UserKey("terminal", "a"), UserKey("terminal", "b")
    log.record(a, "message")
    log.record(a, "shown", ["X", "Y"])
    log.record(a, "like", ["X"])
    log.record(b, "like", ["X"])
    log.record(b, "dislike", ["Y"])
    stats = log.stats()
    assert (stats.users, stats.messages, stats.likes, stats.dislikes) == (2, 1, 2, 1)
    assert stats.top_items == [("X", 2)]
    rows = log.training_events(["like", "more_like_this", "purchase"])
    assert sorted((e.user, e.item_id, e.event) for e in rows) == [("terminal:a", "X", "like"), ("terminal:b", "X", "like")]


def test_a_log_written_by_an_older_version_keeps_its_events_and_takes_new_ones(tmp_path: Path) -> None:
    import sqlite3

    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as db:  # the shape an older version created: a NOT NULL weight column nobody read
        db.execute(
            "CREATE TABLE events (id INTEGER PRIMARY KEY AUTOINCREMENT, user_id VARCHAR(128) NOT NULL, platform VARCHAR(32) NOT NULL,"
            " item_id VARCHAR(256), event VARCHAR(32) NOT NULL, weight FLOAT NOT NULL, ts DATETIME NOT NULL)"
        )
        db.execute(
            "INSERT INTO events (user_id, platform, item_id, event, weight, ts)"
            " VALUES ('a', 'terminal', 'X', 'like', 4.0, '2026-11-01 10:00:00')"
        )
    log = FeedbackLog(f"sqlite:///{path}")
    log.record(UserKey("terminal", "a"), "like", ["Y"])
    assert log.reactions(UserKey("terminal", "a")) == (["X", "Y"], [])
