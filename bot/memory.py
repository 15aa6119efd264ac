"""Conversation memory: LangGraph's checkpointer, one thread per conversation and user: SQLite in one process's
storage folder by default, or PostgreSQL (`storage.memory_url`) that every worker shares.

Each checkpoint carries the user's key in its metadata, so a user's threads are found through the checkpointer's own
`alist(filter=...)` (erasure), whatever the thread ids look like.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aiosqlite
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from sqlalchemy.engine import make_url

from bot.learning.feedback import UserKey

USER_KEY = "recbot_user"  # checkpoint metadata: whose conversation this is


class ConversationMemory:
    """Opens the checkpointer, says how a turn is stored, and deletes threads."""

    def __init__(self, path: Path, url: str | None = None) -> None:
        self.path = path
        self.url = url
        self._close: Callable[[], Awaitable[None]] | None = None
        self._saver: BaseCheckpointSaver | None = None

    async def open(self) -> BaseCheckpointSaver:
        if self.url:
            self._saver = await self._open_postgres(self.url)
        else:
            conn = await aiosqlite.connect(str(self.path))
            self._saver, self._close = AsyncSqliteSaver(conn), conn.close
        await self._saver.setup()  # type: ignore[attr-defined]
        return self._saver

    async def _open_postgres(self, url: str) -> BaseCheckpointSaver:
        from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
        from psycopg.rows import dict_row
        from psycopg_pool import AsyncConnectionPool

        conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)  # libpq's own scheme
        # the connection settings LangGraph's Postgres saver expects of a pool it is given
        pool = AsyncConnectionPool(conninfo, kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row}, open=False)
        await pool.open()
        self._close = pool.close
        return AsyncPostgresSaver(pool)  # type: ignore[arg-type]

    async def close(self) -> None:
        if self._close is not None:
            await self._close()
            self._close = self._saver = None

    @property
    def saver(self) -> BaseCheckpointSaver:
        assert self._saver is not None, "memory is not open"
        return self._saver

    @staticmethod
    def run_config(thread: str, user: UserKey, recursion_limit: int) -> dict[str, Any]:
        """The agent's run config for one turn: the thread, and the user in every checkpoint's metadata."""
        return {"configurable": {"thread_id": thread}, "metadata": {USER_KEY: str(user)}, "recursion_limit": recursion_limit}

    async def delete(self, thread: str) -> None:
        await self.saver.adelete_thread(thread)

    async def forget(self, user: UserKey) -> int:
        """Delete every conversation of the user (DMs, channels, threads); returns how many."""
        threads = {c.config["configurable"]["thread_id"] async for c in self.saver.alist(None, filter={USER_KEY: str(user)})}
        for thread in threads:
            await self.saver.adelete_thread(thread)
        return len(threads)
