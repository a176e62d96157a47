"""The embedded chain survives kill -9 and refuses damaged stores loudly."""

from __future__ import annotations

import json
import random
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from node.chain.artifacts import load_artifact
from node.chain.backend import Receipt, open_backend
from node.chain.client import ChainClient, new_account
from node.chain.embedded.chain import STORE_FILE, EmbeddedChain, GenesisSpec
from node.chain.embedded.host import start_chain_host
from node.chain.errors import ChainError, ChainStoreError, ChainStoreLocked

ROOT = Path(__file__).resolve().parents[2]


def test_kill9_under_load_loses_no_acknowledged_transaction(tmp_path: Path) -> None:
    home = tmp_path / "host"
    host = start_chain_host(home)
    backend = open_backend("rpc", url=host.url)
    owner = ChainClient(backend, new_account())
    probe, _ = owner.deploy(load_artifact("ChainProbe"), "durable")
    backend.close()
    rng = random.Random(20260)
    acknowledged: list[Receipt] = []
    port = host.port
    for _round in range(4):
        stop = threading.Event()

        def load(url: str = host.url, stop: threading.Event = stop) -> None:
            b = open_backend("rpc", url=url, timeout=5)
            c = ChainClient(b, new_account())
            i = 0
            while not stop.is_set():
                try:
                    r = c.transact(probe, "emitBatch", 9, i, 3, timeout=5)
                except (ChainError, OSError):
                    return  # the host died under us: this one was never acknowledged
                acknowledged.append(r.receipt)
                i += 1

        senders = [threading.Thread(target=load) for _ in range(3)]
        for t in senders:
            t.start()
        time.sleep(rng.uniform(0.4, 1.2))
        host.kill()  # SIGKILL at an arbitrary point of the load
        stop.set()
        for t in senders:
            t.join(30)
        host = start_chain_host(home, port=port)
    try:
        assert len(acknowledged) > 30
        backend = open_backend("rpc", url=host.url)
        head = backend.get_block("latest")
        last = max(acknowledged, key=lambda r: r.block_number)
        # the head is the last acknowledged block, or beyond it by at most one transaction
        # per sender: each may have had one committed but not yet acknowledged
        assert last.block_number <= head.number <= last.block_number + 3
        if head.number == last.block_number:
            assert head.hash == last.block_hash
        for receipt in acknowledged:
            assert backend.wait_for_receipt(receipt.tx_hash, timeout=1) == receipt
            assert backend.get_block(receipt.block_number).hash == receipt.block_hash
        # and the chain goes on
        assert ChainClient(backend, new_account()).transact(probe, "emitBatch", 1, 0, 1).receipt.ok
        backend.close()
    finally:
        host.stop()


_CRASH_IN_COMMIT = r"""
import json, os, signal, sys
from node.chain.artifacts import load_artifact
from node.chain.backend import open_backend
from node.chain.client import ChainClient, new_account
from node.chain.embedded import store

backend = open_backend("embedded", home=sys.argv[1])
client = ChainClient(backend, new_account())
probe, _ = client.deploy(load_artifact("ChainProbe"), "crash")
client.transact(probe, "store", "0x" + "01" * 32, 1)
head = backend.get_block("latest")
print(json.dumps({"head": head.number, "hash": head.hash.hex(), "probe": probe.address,
                  "key": client.account.key.hex()}), flush=True)

def dying_commit(self, meta=None):
    # write the whole block inside the transaction, then die before COMMIT
    self._conn.execute("BEGIN IMMEDIATE")
    self._conn.executemany("INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)",
                           [(k, v) for k, v in self._pending.items() if v is not None])
    os.kill(os.getpid(), signal.SIGKILL)

store.DurableKV.commit = dying_commit
client.transact(probe, "store", "0x" + "01" * 32, 2)
"""


def test_kill9_inside_block_commit_leaves_previous_head(tmp_path: Path) -> None:
    home = tmp_path / "chain"
    proc = subprocess.run(
        [sys.executable, "-c", _CRASH_IN_COMMIT, str(home)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert proc.returncode == -9, proc.stderr
    before = json.loads(proc.stdout.splitlines()[0])
    backend = open_backend("embedded", home=home, create=False)
    head = backend.get_block("latest")
    assert (head.number, head.hash.hex()) == (before["head"], before["hash"])
    from eth_account import Account

    client = ChainClient(backend, Account.from_key(before["key"]))
    probe = client.at(load_artifact("ChainProbe"), before["probe"])
    assert client.call(probe, "valueOf", "0x" + "01" * 32) == 1
    assert client.call(probe, "writes") == 1
    # the nonce of the lost transaction is free again and the chain continues
    assert (
        client.transact(probe, "store", "0x" + "01" * 32, 3).receipt.block_number == head.number + 1
    )
    backend.close()


def _make_chain(home: Path, txs: int = 3) -> None:
    backend = open_backend("embedded", home=home)
    client = ChainClient(backend, new_account())
    probe, _ = client.deploy(load_artifact("ChainProbe"), "x")
    for i in range(txs):
        client.transact(probe, "store", "0x" + "02" * 32, i + 1)
    backend.close()


def test_garbage_store_is_a_clear_error(tmp_path: Path) -> None:
    home = tmp_path / "chain"
    home.mkdir()
    (home / STORE_FILE).write_bytes(b"this is not a database" * 100)
    with pytest.raises(ChainStoreError, match=r"not a readable database|unreadable"):
        EmbeddedChain(home, genesis=GenesisSpec())
    assert (home / STORE_FILE).read_bytes().startswith(b"this is not a database")


def test_empty_store_is_a_clear_error(tmp_path: Path) -> None:
    home = tmp_path / "chain"
    home.mkdir()
    (home / STORE_FILE).write_bytes(b"")
    with pytest.raises(ChainStoreError, match="empty"):
        EmbeddedChain(home, genesis=GenesisSpec())


def test_truncated_store_is_a_clear_error(tmp_path: Path) -> None:
    home = tmp_path / "chain"
    _make_chain(home, txs=20)
    path = home / STORE_FILE
    with sqlite3.connect(path) as conn:  # fold the WAL into the main file first
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(ChainStoreError):
        chain = EmbeddedChain(home)
        # if the pages needed to open survived, the first full read must fail
        for n in range(chain.block_number() + 1):
            chain.get_block(n, full_transactions=True)


def test_store_without_metadata_is_not_replaced(tmp_path: Path) -> None:
    home = tmp_path / "chain"
    _make_chain(home)
    with sqlite3.connect(home / STORE_FILE) as conn:
        conn.execute("DELETE FROM meta")
    with pytest.raises(ChainStoreError, match="no chain metadata"):
        EmbeddedChain(home, genesis=GenesisSpec())


def test_missing_store_with_leftover_wal_is_not_replaced(tmp_path: Path) -> None:
    home = tmp_path / "chain"
    home.mkdir()
    (home / (STORE_FILE + "-wal")).write_bytes(b"\0" * 64)
    with pytest.raises(ChainStoreError, match="write-ahead log"):
        EmbeddedChain(home, genesis=GenesisSpec())


def test_no_store_and_no_genesis_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ChainStoreError, match="no chain store"):
        EmbeddedChain(tmp_path / "nothing")


def test_second_owner_is_refused(tmp_path: Path) -> None:
    home = tmp_path / "chain"
    with (
        EmbeddedChain(home, genesis=GenesisSpec()),
        pytest.raises(ChainStoreLocked, match="in use by pid"),
    ):
        EmbeddedChain(home)
    EmbeddedChain(home).close()  # released on close


def test_rejected_transaction_leaves_no_trace(tmp_path: Path) -> None:
    home = tmp_path / "chain"
    backend = open_backend("embedded", home=home)
    client = ChainClient(backend, new_account())
    client.deploy(load_artifact("ChainProbe"), "x")
    head = backend.get_block("latest")
    from eth_account import Account

    bad = Account.sign_transaction(
        {
            "nonce": 7,
            "gas": 100_000,
            "maxFeePerGas": 0,
            "maxPriorityFeePerGas": 0,
            "to": client.address,
            "value": 0,
            "data": b"",
            "chainId": backend.chain_id,
        },
        client.account.key,
    )
    with pytest.raises(ChainError, match="rejected"):
        backend.send_raw_transaction(bad.raw_transaction)
    with pytest.raises(ChainError, match="rejected"):
        backend.send_raw_transaction(b"\x02garbage")
    assert backend.get_block("latest") == head
    backend.close()
    assert open_backend("embedded", home=home, create=False).get_block("latest") == head


def test_a_store_without_its_log_index_is_backfilled_on_open(tmp_path: Path) -> None:
    """Stores written before the log index existed get it on open, with the same answers."""
    import sqlite3

    from node.chain.embedded.chain import STORE_FILE, EmbeddedChain

    home = tmp_path / "old"
    backend = open_backend("embedded", home=home)
    client = ChainClient(backend, new_account())
    probe, _ = client.deploy(load_artifact("ChainProbe"), "old")
    for i in range(5):
        client.transact(probe, "emitBatch", i, 10 * i, 3)
    before = backend.get_logs(0, backend.block_number(), [probe.address])
    tagged = backend.get_logs(
        0, backend.block_number(), [probe.address], [None, [(2).to_bytes(32, "big")]]
    )
    backend.close()
    assert len(before) == 2 + 15 and len(tagged) == 3  # 2 role grants at deploy, 15 pings
    db = sqlite3.connect(home / STORE_FILE)
    db.execute("DELETE FROM logs")
    db.execute("DELETE FROM meta WHERE k = 'logs_to'")
    db.commit()
    db.close()
    EmbeddedChain(home).close()  # opening rebuilds the index from the receipts
    backend = open_backend("embedded", home=home)
    try:
        assert backend.get_logs(0, backend.block_number(), [probe.address]) == before
        assert (
            backend.get_logs(
                0, backend.block_number(), [probe.address], [None, [(2).to_bytes(32, "big")]]
            )
            == tagged
        )
    finally:
        backend.close()


def test_a_store_without_its_block_table_is_backfilled_on_open(tmp_path: Path) -> None:
    """Stores written before the block table existed get it on open; every block it serves
    equals py-evm's own records (headers by number, the values of each block's tries)."""
    home = tmp_path / "old"
    _make_chain(home, txs=4)
    with EmbeddedChain(home) as chain:
        head = chain.block_number()
        served = chain.raw_blocks(0, head)
        assert served == chain._trie_blocks(0, head)
    assert [len(b.transactions) for b in served] == [0] + [1] * head
    db = sqlite3.connect(home / STORE_FILE)
    db.execute("DELETE FROM blocks")
    db.execute("DELETE FROM meta WHERE k = 'blocks_to'")
    db.commit()
    db.close()
    with EmbeddedChain(home) as chain:  # opening fills the table again
        assert chain.raw_blocks(0, head) == served
    db = sqlite3.connect(home / STORE_FILE)
    db.execute("DELETE FROM blocks WHERE number = 2")
    db.commit()
    db.close()
    with EmbeddedChain(home) as chain, pytest.raises(ChainStoreError, match="block table"):
        chain.raw_blocks(0, head)
