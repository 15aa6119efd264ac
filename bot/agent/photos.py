"""What each photo a user sent told (vector, colours, printed text), by id: "cheaper" after a photo searches again
without the photo being sent again. On disk under one process's storage folder by default; in the event database when
that is shared (`storage.events_url`), so the worker that gets "cheaper" finds the photo another worker was sent."""

from __future__ import annotations

import contextlib
import datetime as dt
from pathlib import Path

from sqlalchemy import Column, DateTime, LargeBinary, MetaData, String, Table, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from recsys.photo.search import PhotoQuery

metadata = MetaData()
photo_queries = Table(
    "photo_queries",
    metadata,
    Column("photo_id", String(64), primary_key=True),
    Column("query", LargeBinary, nullable=False),
    Column("saved_at", DateTime(timezone=True), nullable=False),
)


class PhotoVectors:
    """What each photo told by id: files in `folder`, or rows in `engine`'s database when one is given."""

    def __init__(self, folder: Path, engine: Engine | None = None) -> None:
        self.folder = folder
        self.engine = engine
        if engine is not None:
            metadata.create_all(engine)
        else:
            folder.mkdir(parents=True, exist_ok=True)

    def save(self, photo_id: str, query: PhotoQuery) -> None:
        name = Path(photo_id).name
        if self.engine is None:
            (self.folder / f"{name}.npz").write_bytes(query.to_bytes())
            return
        row = {"photo_id": name, "query": query.to_bytes(), "saved_at": dt.datetime.now(dt.UTC)}
        with contextlib.suppress(IntegrityError), self.engine.begin() as conn:  # the same photo again: already there
            conn.execute(photo_queries.insert().values(**row))

    def load(self, photo_id: str) -> PhotoQuery | None:
        name = Path(photo_id).name  # the model fills this in: never a path
        try:
            if self.engine is not None:
                with self.engine.connect() as conn:
                    data = conn.execute(select(photo_queries.c.query).where(photo_queries.c.photo_id == name)).scalar()
                return PhotoQuery.from_bytes(data) if data is not None else None
            for path in (self.folder / f"{name}.npz", self.folder / f"{name}.npy"):
                if path.is_file():
                    return PhotoQuery.from_file(path)
        except (OSError, ValueError, KeyError):
            return None
        return None
