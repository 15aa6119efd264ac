"""A lease in the event database: one holder at a time across every worker that shares the database, so a retrain
is never run twice at once. A holder that dies keeps it only until it expires; what it was writing never serves
(model versions are renamed into place whole), so the model before keeps serving."""

from __future__ import annotations

import datetime as dt
import os
import socket
import uuid

from sqlalchemy import Column, DateTime, MetaData, String, Table, delete, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

metadata = MetaData()
leases = Table(
    "leases",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("holder", String(128), nullable=False),
    Column("expires", DateTime(timezone=True), nullable=False),
)


def this_worker() -> str:
    """A name for this process that no other worker shares."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Lease:
    def __init__(self, engine: Engine, name: str, ttl: dt.timedelta, holder: str | None = None) -> None:
        self.engine, self.name, self.ttl = engine, name, ttl
        self.holder = holder or this_worker()
        metadata.create_all(engine)

    def acquire(self) -> bool:
        """Take the lease when it is free or expired; False while another holder has it."""
        now = dt.datetime.now(dt.UTC)
        try:
            with self.engine.begin() as conn:
                conn.execute(leases.insert().values(name=self.name, holder=self.holder, expires=now + self.ttl))
            return True
        except IntegrityError:
            pass
        with self.engine.begin() as conn:  # one UPDATE decides between workers racing for an expired lease
            taken = conn.execute(
                update(leases)
                .where(leases.c.name == self.name, (leases.c.expires < now) | (leases.c.holder == self.holder))
                .values(holder=self.holder, expires=now + self.ttl)
            )
        return taken.rowcount == 1

    def release(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(leases).where(leases.c.name == self.name, leases.c.holder == self.holder))
