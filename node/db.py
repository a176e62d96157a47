"""SQL engine for a node's index and metadata (SQLite by default, PostgreSQL supported)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson
from psycopg.types.json import set_json_loads
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session

from node.errors import ConfigError
from node.home import open_private


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
            # a ping per checkout guards against a dropped server connection; a SQLite file
            # has none, and the ping was a query on every request (see benchmarks/load.py)
            pool_pre_ping=not url.startswith("sqlite"),
            json_serializer=lambda v: orjson.dumps(v).decode(),
            json_deserializer=orjson.loads,
        )
    except Exception as exc:
        raise ConfigError(f"bad database URL {url!r}: {exc}") from exc
    if engine.dialect.name == "sqlite":
        database = engine.url.database
        if database and database != ":memory:" and not Path(database).exists():
            # created 0600 before SQLite does (its WAL and shm files take the same mode)
            os.close(open_private(Path(database), os.O_WRONLY | os.O_CREAT))

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
    import node.cockpit.models
    import node.commitments.models
    import node.privacy.models
    import node.quality.documents
    import node.sharing.purposes  # noqa: F401

    Base.metadata.create_all(engine)


@contextmanager
def durable_session(engine: Engine) -> Iterator[Session]:
    """A session in one transaction whose commit is on disk when the block exits: on SQLite
    that commit also syncs the write-ahead log (``synchronous=FULL``; the node's NORMAL
    survives a killed process but not a power cut); PostgreSQL commits synchronously."""
    with engine.connect() as conn:
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:
            conn.exec_driver_sql("PRAGMA synchronous=FULL")
            conn.commit()
        try:
            with Session(bind=conn) as s, s.begin():
                yield s
        finally:
            if sqlite:
                conn.rollback()
                conn.exec_driver_sql("PRAGMA synchronous=NORMAL")
                conn.commit()
