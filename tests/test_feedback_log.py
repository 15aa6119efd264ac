"""The feedback log keeps every event durably and answers what the recommender and admins ask."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot.feedback import FeedbackLog, UserKey


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
    assert sorted(log.interactions()) == [("terminal:a", "X", 4.0), ("terminal:b", "X", 4.0)]
