"""The nonce journal: replays refused across restarts, torn writes and expiry handled."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from node.peer.nonces import NonceStore
from node.peer.signing import AuthReplayed

A = "0x" + "ab" * 20


def test_replay_refused_after_reopen(tmp_path: Path) -> None:
    path = tmp_path / "nonces.log"
    store = NonceStore(path, ttl_seconds=60)
    now = int(time.time())
    store.use(A, "00" * 8, now)
    with pytest.raises(AuthReplayed):
        store.use(A, "00" * 8, now)
    store.use("0x" + "cd" * 20, "00" * 8, now)  # same nonce, other account: fine
    store.close()
    again = NonceStore(path, ttl_seconds=60)
    with pytest.raises(AuthReplayed):
        again.use(A, "00" * 8, now)
    again.close()


def test_torn_line_and_expired_entries_are_dropped_at_start(tmp_path: Path) -> None:
    path = tmp_path / "nonces.log"
    now = int(time.time())
    path.write_text(f"{now + 100} {A} {'11' * 8}\n{now - 100} {A} {'22' * 8}\n{now + 100} {A} 3")
    store = NonceStore(path, ttl_seconds=60)
    with pytest.raises(AuthReplayed):
        store.use(A, "11" * 8, now)
    store.use(A, "22" * 8, now)  # expired entry forgotten: the timestamp check guards it
    store.close()
    assert path.read_text().count("\n") == 2


def test_journal_is_compacted_when_mostly_expired(tmp_path: Path) -> None:
    path = tmp_path / "nonces.log"
    store = NonceStore(path, ttl_seconds=0)
    old = int(time.time()) - 10
    for i in range(10_001):
        store.use(A, f"{i:016x}", old)
    store.use(A, "f" * 16, int(time.time()) + 1000)
    store.close()
    assert path.read_text().count("\n") < 1_000
