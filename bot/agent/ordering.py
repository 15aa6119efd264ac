"""One turn at a time per conversation, also across workers.

In one process an asyncio lock per conversation is enough. When the event database is PostgreSQL (several workers
sharing it), the turn also holds a session advisory lock keyed by the conversation, so two messages of one chat that
two workers receive are answered one after the other, each seeing the conversation the other left. The lock is
polled with `pg_try_advisory_lock` rather than waited on, so a waiting turn never ties up a worker thread.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

POLL_S = 0.05


def lock_key(conversation: str) -> int:
    """A signed 64-bit key for PostgreSQL's advisory locks."""
    return int.from_bytes(hashlib.sha256(conversation.encode()).digest()[:8], "big", signed=True)


class ConversationOrder:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.shared = engine.dialect.name == "postgresql"
        self._local: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)

    @asynccontextmanager
    async def turn(self, conversation: str) -> AsyncIterator[None]:
        async with self._local[conversation]:
            if not self.shared:
                yield
                return
            key = lock_key(conversation)
            conn = await asyncio.to_thread(self.engine.connect)
            try:
                while not await asyncio.to_thread(self._try_lock, conn, key):
                    await asyncio.sleep(POLL_S)
                try:
                    yield
                finally:
                    await asyncio.to_thread(self._unlock, conn, key)
            finally:
                await asyncio.to_thread(conn.close)

    @staticmethod
    def _try_lock(conn: Connection, key: int) -> bool:
        taken = bool(conn.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar())
        conn.commit()  # end the implicit transaction; the session lock stays until unlocked
        return taken

    @staticmethod
    def _unlock(conn: Connection, key: int) -> None:
        conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
        conn.commit()
