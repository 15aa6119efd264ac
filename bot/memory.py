"""Conversation memory: LangGraph's SQLite checkpointer, one thread per conversation and user.

Each checkpoint carries the user's key in its metadata, so a user's threads are found through the checkpointer's own
`alist(filter=...)` (erasure), whatever the thread ids look like.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiosqlite
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from bot.learning.feedback import UserKey

USER_KEY = "recbot_user"  # checkpoint metadata: whose conversation this is


class ConversationMemory:
    """Opens the checkpointer, says how a turn is stored, and deletes threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn: aiosqlite.Connection | None = None
        self._saver: AsyncSqliteSaver | None = None

    async def open(self) -> BaseCheckpointSaver:
        self._conn = await aiosqlite.connect(str(self.path))
        self._saver = AsyncSqliteSaver(self._conn)
        await self._saver.setup()
        return self._saver

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = self._saver = None

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
