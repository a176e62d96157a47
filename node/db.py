"""SQL engine for a node's index and metadata (SQLite by default, PostgreSQL supported)."""

from __future__ import annotations

import orjson
from psycopg.types.json import set_json_loads
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import DeclarativeBase

from node.errors import ConfigError


class Base(DeclarativeBase):
    """Declarative base of every table the node keeps."""


def make_engine(url: str) -> Engine:
    """An engine for ``url`` with the pragmas the node relies on."""
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    try:
        # orjson: index reads return thousands of JSON argument maps at a time.
        engine = create_engine(
            url,
            pool_pre_ping=True,
            json_serializer=lambda v: orjson.dumps(v).decode(),
            json_deserializer=orjson.loads,
        )
    except Exception as exc:
        raise ConfigError(f"bad database URL {url!r}: {exc}") from exc
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(conn, _record):
            cur = conn.cursor()
            # WAL keeps readers and the indexer's writer out of each other's way.
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=10000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

    else:

        @event.listens_for(engine, "connect")
        def _pg_json(conn, _record):
            set_json_loads(orjson.loads, conn)

    return engine


def create_schema(engine: Engine) -> None:
    # Importing the model modules registers their tables on Base.metadata.
    import node.audit.models
    import node.chain.indexer.models
    import node.privacy.models  # noqa: F401

    Base.metadata.create_all(engine)
