"""The event indexer on SQLite and PostgreSQL: decode, cursor, replay, reads."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from node.chain.artifacts import load_artifact
from node.chain.backend import open_backend
from node.chain.client import ChainClient, Contract, new_account
from node.chain.errors import IndexerError
from node.chain.indexer.indexer import EventIndexer
from node.chain.indexer.models import ChainEvent, IndexCursor
from node.db import create_schema, make_engine
from node.errors import InvalidInput


@pytest.fixture
def chain(tmp_path: Path):
    backend = open_backend("embedded", home=tmp_path / "chain")
    client = ChainClient(backend, new_account())
    probe, _ = client.deploy(load_artifact("ChainProbe"), "indexed")
    for tag in range(3):
        client.transact(probe, "emitBatch", tag, tag * 100, 10)
    client.transact(probe, "store", "0x" + "0a" * 32, 77)
    yield backend, client, probe
    backend.close()


def _count(engine) -> int:
    with Session(engine) as s:
        return s.scalar(select(func.count()).select_from(ChainEvent))


def test_sync_decodes_every_event(chain, db_url: str) -> None:
    backend, client, probe = chain
    ix = EventIndexer(backend, make_engine(db_url), batch_blocks=2)
    ix.watch(probe.address, "ChainProbe")
    assert ix.sync() == 2 + 30 + 1  # RoleGranted x2, Pinged x30, ValueStored
    assert ix.cursor() == backend.block_number()
    (stored,) = ix.events(address=probe.address, event="ValueStored")
    assert stored.args == {"key": "0x" + "0a" * 32, "writer": client.address, "value": 77}
    tag1 = ix.events(address=probe.address, event="Pinged", args={"tag": 1})
    assert [e.args["seq"] for e in tag1] == list(range(100, 110))
    assert (
        ix.events(address=probe.address, event="Pinged", args={"tag": 1, "seq": 105})[0]
        .args["payload"]
        .startswith("0x")
    )
    by_writer = ix.events(
        address=probe.address, event="ValueStored", args={"writer": client.address.lower()}
    )
    assert len(by_writer) == 1
    assert (
        ix.events(address=probe.address, event="Pinged", from_block=3, to_block=3)[0].args["tag"]
        == 1
    )


def test_block_bounds_beyond_64_bits_are_no_bounds(chain, db_url: str) -> None:
    backend, _, probe = chain
    ix = EventIndexer(backend, make_engine(db_url))
    ix.watch(probe.address, "ChainProbe")
    ix.sync()
    everything = ix.events(address=probe.address)
    assert ix.events(address=probe.address, from_block=-(2**70), to_block=2**70) == everything
    assert ix.events(address=probe.address, from_block=2**70) == []
    assert len(ix.events(address=probe.address, limit=2**70)) == len(everything)


def test_cursor_persists_and_replay_is_idempotent(chain, db_url: str) -> None:
    backend, client, probe = chain
    engine = make_engine(db_url)
    first = EventIndexer(backend, engine)
    first.watch(probe.address, "ChainProbe")
    first.sync()
    total = _count(engine)
    # a new indexer on the same database resumes from the persisted cursor
    client.transact(probe, "emitBatch", 5, 0, 4)
    second = EventIndexer(backend, engine)
    assert second.watched == {probe.address: "ChainProbe"}
    assert second.sync() == 4
    assert _count(engine) == total + 4
    # rewinding the cursor and syncing again adds nothing twice
    genesis = backend.get_block(0)
    with Session(engine) as s, s.begin():
        s.execute(update(IndexCursor).values(block_number=0, block_hash="0x" + genesis.hash.hex()))
    second.sync()
    assert _count(engine) == total + 4


def test_contract_watched_later_is_backfilled(chain, db_url: str) -> None:
    backend, client, probe = chain
    ix = EventIndexer(backend, make_engine(db_url))
    ix.sync()
    assert ix.events() == []
    other, _ = client.deploy(load_artifact("ChainProbe"), "late")
    client.transact(other, "emitBatch", 4, 0, 2)
    ix.sync()
    ix.watch(probe.address, "ChainProbe")  # deployed before the cursor: backfilled
    assert len(ix.events(address=probe.address, event="Pinged")) == 30
    ix.watch(other.address, "ChainProbe")
    ix.sync()
    assert len(ix.events(address=other.address, event="Pinged")) == 2


def test_index_of_another_chain_is_refused(chain, tmp_path: Path, db_url: str) -> None:
    backend, _, probe = chain
    engine = make_engine(db_url)
    ix = EventIndexer(backend, engine)
    ix.watch(probe.address, "ChainProbe")
    ix.sync()
    other = open_backend("embedded", home=tmp_path / "other-chain")
    ChainClient(other, new_account()).deploy(load_artifact("ChainProbe"), "x")
    with pytest.raises(IndexerError, match="another chain"):
        EventIndexer(other, engine).sync()
    other.close()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"event": "Pinged", "args": {"tag": 1}}, "needs the contract"),
        ({"event": "Pinged", "args": {"payload": "0x00"}}, "not an indexed argument"),
        ({"event": "Nope", "args": {"tag": 1}}, "no event"),
    ],
)
def test_bad_queries_are_invalid_input(chain, tmp_path: Path, kwargs: dict, message: str) -> None:
    backend, _, probe = chain
    ix = EventIndexer(backend, make_engine(f"sqlite:///{tmp_path / 'q.db'}"))
    ix.watch(probe.address, "ChainProbe")
    if "args" in kwargs and "needs the contract" not in message:
        kwargs = {"address": probe.address, **kwargs}
    with pytest.raises(InvalidInput, match=message):
        ix.events(**kwargs)


def test_unknown_contract_logs_are_ignored(chain, tmp_path: Path) -> None:
    backend, client, probe = chain
    stranger: Contract
    stranger, _ = client.deploy(load_artifact("ChainProbe"), "unwatched")
    client.transact(stranger, "emitBatch", 1, 0, 3)
    ix = EventIndexer(backend, make_engine(f"sqlite:///{tmp_path / 'u.db'}"))
    ix.watch(probe.address, "ChainProbe")
    ix.sync()
    assert {e.address for e in ix.events()} == {probe.address}


# -- PostgreSQL: plans, statistics and connections of the read path ---------------------------
def _plan(engine, sql: str, params: list, mode: str) -> str:
    """The plan PostgreSQL makes for one read: a custom plan (for these values) or the
    generic one a prepared statement switches to after five executions."""
    raw = engine.raw_connection()
    try:
        cur = psycopg.RawCursor(raw.driver_connection)  # the reader's $n parameter markers
        cur.execute(f"SET plan_cache_mode = force_{mode}_plan")
        cur.execute("EXPLAIN (ANALYZE, COSTS OFF) " + sql, params)
        plan = "\n".join(r[0] for r in cur.fetchall())
        raw.rollback()
        return plan
    finally:
        raw.close()


def _reltuples(engine) -> float:
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT reltuples FROM pg_class WHERE oid = 'chain_event'::regclass")
        ).scalar()


def test_pg_lookup_by_argument_uses_its_index_after_a_bulk_load(chain, pg_url: str) -> None:
    backend, client, probe = chain
    for i in range(4):  # 2,000 events of one contract and event: enough to need the plan
        client.transact(probe, "emitBatch", 7, 1_000 + i * 500, 500)
    engine = make_engine(pg_url)
    ix = EventIndexer(backend, engine)
    ix.watch(probe.address, "ChainProbe")
    assert ix.sync() == 2 + 30 + 1 + 2_000
    # the sync refreshed the planner's statistics itself (autovacuum may be off or late)
    assert _reltuples(engine) == 2_033
    for arg, value, column in (("seq", 2_222, "arg1"), ("tag", 1, "arg0")):
        sql, params = ix._read_sql(
            address=probe.address,
            event="Pinged",
            args={arg: value},
            from_block=None,
            to_block=None,
            limit=None,
        )
        for mode in ("custom", "generic"):
            plan = _plan(engine, sql, params, mode)
            assert f"ix_event_{column}" in plan, plan
            assert f"({column})::text = " in plan.split("Index Cond:")[1], plan
            assert "Rows Removed by Filter" not in plan, plan
    (found,) = ix.events(address=probe.address, event="Pinged", args={"seq": 2_222})
    assert found.args["tag"] == 7


def test_pg_index_without_statistics_is_analyzed_when_opened(chain, pg_url: str) -> None:
    backend, _, probe = chain
    engine = make_engine(pg_url)
    create_schema(engine)
    with engine.begin() as conn:  # rows written by an indexer that kept no statistics
        conn.execute(
            text(
                "INSERT INTO chain_event (block_number, block_hash, tx_hash, tx_index, "
                "log_index, address, contract, event, args, arg0, arg1) "
                "SELECT 1000 + n / 100, '0x', '0x', 0, n % 100, :address, 'ChainProbe', "
                "'Pinged', '{}', (n % 10)::text, n::text FROM generate_series(0, 999) n"
            ),
            {"address": probe.address},
        )
    assert _reltuples(engine) < 0  # never analyzed
    EventIndexer(backend, engine)
    assert _reltuples(engine) == 1_000


def test_pg_reads_survive_the_server_dropping_connections(chain, pg_url: str) -> None:
    backend, _, probe = chain
    engine = make_engine(pg_url)
    ix = EventIndexer(backend, engine)
    ix.watch(probe.address, "ChainProbe")
    ix.sync()
    assert len(ix.events(address=probe.address, event="Pinged", args={"tag": 2})) == 10
    with engine.connect() as conn:  # what a server restart does to every open connection
        killed = conn.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar()
    assert killed >= 1
    assert len(ix.events(address=probe.address, event="Pinged", args={"tag": 2})) == 10
    engine.dispose()  # closes the read connections too
    with psycopg.connect(pg_url.rsplit("/", 1)[0] + "/postgres") as admin:
        name = pg_url.rsplit("/", 1)[1]
        (left,) = admin.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [name]
        ).fetchone()
    assert left == 0
