"""The index's read connections on PostgreSQL, and its planner statistics.

Reads are one prepared statement each, answered in a few tens of microseconds by the
server, so what the client does around them decides their cost. Through SQLAlchemy's pool a
read was four round trips: the pre-ping, BEGIN, the statement and the ROLLBACK of the pool's
reset. Here a read takes an idle autocommit connection from a queue and makes one round
trip, through libpq's own prepared-statement call (``Connection.pgconn``; psycopg's cursor
costs about 40 µs of Python on top, as much as the round trip); psycopg's
:class:`~psycopg.adapt.Transformer` still turns the answer into Python values. A connection
the server dropped (a restart) is replaced and the read retried once, which is what the
pre-ping was for.
"""

from __future__ import annotations

import logging
import queue
from typing import Any

import psycopg
from psycopg import errors, pq
from psycopg.adapt import Transformer
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


class _ReadConnection:
    """One autocommit connection and the statements prepared on it (a few: one per shape
    of :meth:`EventIndexer.events` query)."""

    def __init__(self, conninfo: str) -> None:
        self.conn = psycopg.connect(conninfo, autocommit=True)
        self.pgconn = self.conn.pgconn
        self.loader = Transformer(self.conn)
        self.prepared: dict[str, bytes] = {}

    def _checked(self, result: pq.abc.PGresult, expected: pq.ExecStatus) -> pq.abc.PGresult:
        if result.status == expected:
            return result
        if self.pgconn.status != pq.ConnStatus.OK:
            raise psycopg.OperationalError(self.pgconn.get_error_message())
        raise errors.error_from_result(result)

    def fetchall(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        name = self.prepared.get(sql)
        if name is None:
            name = f"tanlian_read_{len(self.prepared)}".encode()
            self._checked(self.pgconn.prepare(name, sql.encode()), pq.ExecStatus.COMMAND_OK)
            self.prepared[sql] = name
        # text parameters of no stated type: the server types them from their columns
        values = [None if v is None else str(v).encode() for v in params]
        result = self._checked(self.pgconn.exec_prepared(name, values), pq.ExecStatus.TUPLES_OK)
        self.loader.set_pgresult(result)
        try:
            return self.loader.load_rows(0, result.ntuples, tuple)
        finally:
            self.loader.set_pgresult(None)  # an idle connection keeps no answer alive

    def close(self) -> None:
        self.conn.close()


class PgReader:
    """Autocommit connections for the index's reads, one per concurrent reader."""

    def __init__(self, engine: Engine) -> None:
        url = engine.url.set(drivername="postgresql")
        self._conninfo = url.render_as_string(hide_password=False)
        self._idle: queue.SimpleQueue[_ReadConnection] = queue.SimpleQueue()
        # The node disposes its engine on shutdown: the read connections go with it.
        event.listen(engine, "engine_disposed", lambda _engine: self.close())

    def fetchall(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        """The rows of one read (``$1``… parameter markers; str and int parameters)."""
        for attempt in range(2):
            try:
                conn = self._idle.get_nowait()
            except queue.Empty:
                conn = _ReadConnection(self._conninfo)
            try:
                rows = conn.fetchall(sql, params)
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
        """Close the idle connections. One in use now goes back to the queue afterwards (an
        engine stays usable after ``dispose``, and so does this reader)."""
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
