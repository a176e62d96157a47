"""The event indexer on SQLite and PostgreSQL: decode, cursor, replay, reads."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from node.chain.artifacts import load_artifact
from node.chain.backend import open_backend
from node.chain.client import ChainClient, Contract, new_account
from node.chain.errors import IndexerError
from node.chain.indexer.indexer import EventIndexer
from node.chain.indexer.models import ChainEvent, IndexCursor
from node.db import make_engine
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
