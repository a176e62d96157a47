"""The index's read connections on PostgreSQL, and its planner statistics.

Reads are one prepared statement each, answered in a few tens of microseconds by the
server, so what the client does around them decides their cost. Through SQLAlchemy's pool a
read was four round trips: the pre-ping, BEGIN, the statement and the ROLLBACK of the pool's
reset. Here a read takes an idle autocommit connection from a queue and makes one round
trip; a connection the server dropped (a restart) is replaced and the read retried once,
which is what the pre-ping was for.
"""

from __future__ import annotations

import logging
import queue
from typing import Any

import psycopg
from sqlalchemy import Engine, event, text

logger = logging.getLogger(__name__)

# When to refresh the planner's statistics of the event table: PostgreSQL's own autovacuum
# rule (autovacuum_analyze_threshold 50 + autovacuum_analyze_scale_factor 0.1 of the rows).
# Autovacuum itself cannot be relied on: it may be off, and it runs up to a minute
# (autovacuum_naptime) after a bulk load, while the reads come right after it. Without
# statistics the planner takes every (address, event) pair for a rare one and walks the
# whole contract's events in block order to find one argument value.
ANALYZE_MIN_ROWS = 50
ANALYZE_FRACTION = 0.1


class PgReader:
    """Autocommit connections for the index's reads, one per concurrent reader."""

    def __init__(self, engine: Engine) -> None:
        url = engine.url.set(drivername="postgresql")
        self._conninfo = url.render_as_string(hide_password=False)
        self._idle: queue.SimpleQueue[psycopg.Connection] = queue.SimpleQueue()
        # The node disposes its engine on shutdown: the read connections go with it.
        event.listen(engine, "engine_disposed", lambda _engine: self.close())

    def fetchall(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        """The rows of one prepared read (``%s`` placeholders)."""
        for attempt in range(2):
            try:
                conn = self._idle.get_nowait()
            except queue.Empty:
                conn = psycopg.connect(self._conninfo, autocommit=True)
            try:
                with conn.cursor() as cursor:
                    cursor.execute(sql, params, prepare=True)
                    rows = cursor.fetchall()
            except psycopg.OperationalError:
                conn.close()
                if attempt:
                    raise
                logger.info("index read connection lost; reconnecting")
                continue
            except BaseException:
                conn.close()
                raise
            self._idle.put(conn)
            return rows
        raise AssertionError("unreachable")  # pragma: no cover

    def close(self) -> None:
        """Close the idle connections (one in use closes when it is next returned)."""
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return


class Statistics:
    """Keeps the planner's statistics of ``table`` no older than the autovacuum rule allows."""

    def __init__(self, engine: Engine, table: str) -> None:
        self.engine = engine
        self.table = table
        with engine.connect() as conn:
            analyzed, changed = conn.execute(
                text(
                    "SELECT c.reltuples, coalesce(s.n_mod_since_analyze, 0) FROM pg_class c "
                    "LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid "
                    "WHERE c.oid = to_regclass(:table)"
                ),
                {"table": table},
            ).one()
            if analyzed < 0:  # never analyzed: an index built before statistics were kept
                exists = conn.execute(text(f"SELECT EXISTS (SELECT 1 FROM {table})")).scalar()
                changed = ANALYZE_MIN_ROWS + 1 if exists else 0
        self.analyzed_rows = max(float(analyzed), 0.0)
        self.pending = int(changed)
        self.refresh_if_stale()

    def added(self, rows: int) -> None:
        """Count ``rows`` written, and refresh the statistics if they are now stale."""
        self.pending += rows
        self.refresh_if_stale()

    def refresh_if_stale(self) -> bool:
        if self.pending <= ANALYZE_MIN_ROWS + ANALYZE_FRACTION * self.analyzed_rows:
            return False
        with self.engine.connect() as conn:
            conn.execute(text(f"ANALYZE {self.table}"))
            conn.commit()
            self.analyzed_rows = max(
                float(
                    conn.execute(
                        text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:table)"),
                        {"table": self.table},
                    ).scalar()
                ),
                0.0,
            )
        logger.debug("analyzed %s after %d new rows", self.table, self.pending)
        self.pending = 0
        return True
