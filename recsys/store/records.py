"""The catalogue's item records in a table beside the vectors (SQLite under the store's folder by default).

Chroma keeps each item's vectors and what its filters need; everything read for the whole catalogue at once (the
items by id at start, what is already indexed, the catalogue's vocabulary) comes from this table, a few indexed
queries instead of one Chroma `get()` that SQLite's variable limit breaks above about 32,766 items.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from sqlalchemy import Column, Index, MetaData, String, Table, Text, create_engine, delete, event, func, select
from sqlalchemy.engine import Engine

from recsys.catalogue.items import Item

metadata = MetaData()
items = Table(
    "items",
    metadata,
    Column("id", String(512), primary_key=True),
    Column("product_id", String(512), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("encoded_as", String(256), nullable=False),  # text encoder, text format and search fields of its vector
    Column("item", Text, nullable=False),  # the item as JSON (with any colour seen in its photo)
    Index("ix_items_product", "product_id"),
)
PAGE = 5000


def _sqlite_pragmas(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")  # readers (another process's bot) never wait for an ingest
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()


class ItemRecords:
    def __init__(self, url: str) -> None:
        self.engine = create_engine(url, future=True)
        if self.engine.dialect.name == "sqlite":
            _sqlite_pragmas(self.engine)
        metadata.create_all(self.engine)

    def count(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(items)).scalar_one()

    def upsert(self, rows: Iterable[tuple[Item, str, str]]) -> None:
        """(item, fingerprint, encoded_as) rows, written in one transaction."""
        payload = [
            {
                "id": i.id,
                "product_id": i.product_id,
                "fingerprint": fp,
                "encoded_as": enc,
                "item": json.dumps(i.to_dict(), ensure_ascii=False),
            }
            for i, fp, enc in rows
        ]
        if not payload:
            return
        with self.engine.begin() as conn:
            conn.execute(delete(items).where(items.c.id.in_([p["id"] for p in payload])))
            conn.execute(items.insert(), payload)

    def update_items(self, changed: Iterable[Item]) -> None:
        """New contents for stored items (e.g. a colour seen in a re-indexed photo), fingerprints kept."""
        with self.engine.begin() as conn:
            for item in changed:
                conn.execute(items.update().where(items.c.id == item.id).values(item=json.dumps(item.to_dict(), ensure_ascii=False)))

    def fingerprints(self) -> dict[str, tuple[str, str]]:
        with self.engine.connect() as conn:
            return {i: (fp, enc) for i, fp, enc in conn.execute(select(items.c.id, items.c.fingerprint, items.c.encoded_as))}

    def some_encoding(self) -> str | None:
        """What one stored item was encoded as (they all share one text encoder), without reading every row."""
        with self.engine.connect() as conn:
            return conn.execute(select(items.c.encoded_as).limit(1)).scalar()

    def all(self) -> Iterator[Item]:
        """Every item, a page at a time."""
        with self.engine.connect() as conn:
            result = conn.execution_options(yield_per=PAGE).execute(select(items.c.item).order_by(items.c.id))
            for (data,) in result:
                yield Item.from_dict(json.loads(data))

    def get(self, item_id: str) -> Item | None:
        with self.engine.connect() as conn:
            data = conn.execute(select(items.c.item).where(items.c.id == item_id)).scalar()
        return Item.from_dict(json.loads(data)) if data else None

    def siblings(self, product_id: str) -> list[str]:
        """Ids of the variants of one product."""
        with self.engine.connect() as conn:
            return list(conn.execute(select(items.c.id).where(items.c.product_id == product_id)).scalars())
