"""The audit's trie walk reads back exactly what a trie holds, node by node."""

from __future__ import annotations

import pytest
import rlp
from hypothesis import given, settings
from hypothesis import strategies as st
from trie import HexaryTrie

from node.chain.embedded.chain import _trie_values
from node.chain.errors import ChainStoreError


def build(values: list[bytes]) -> tuple[dict, bytes]:
    db: dict = {}
    trie = HexaryTrie(db)
    for i, v in enumerate(values):
        trie[rlp.encode(i, sedes=rlp.sedes.big_endian_int)] = v
    return db, trie.root_hash


@pytest.mark.parametrize(
    "values",
    [
        [],
        [b"\x01" * 120],  # one leaf, stored by hash
        [b"a", b"b"],  # short values: nodes embedded in their parent
        [bytes([i]) * (i % 40 + 1) for i in range(17)],  # a branch with a value slot
        [bytes([i % 251]) * 90 for i in range(300)],  # keys past 0x7f and 0xff
    ],
)
def test_walk_equals_the_key_by_key_reading(values) -> None:
    db, root = build(values)
    assert _trie_values(db, root) == values


@settings(max_examples=40, deadline=None)
@given(st.lists(st.binary(min_size=1, max_size=80), max_size=40))
def test_walk_equals_the_trie_for_any_values(values) -> None:
    db, root = build(values)
    assert _trie_values(db, root) == values


def test_a_gap_in_the_keys_is_refused() -> None:
    db: dict = {}
    trie = HexaryTrie(db)
    trie[rlp.encode(0, sedes=rlp.sedes.big_endian_int)] = b"x" * 40
    trie[rlp.encode(2, sedes=rlp.sedes.big_endian_int)] = b"y" * 40
    with pytest.raises(ChainStoreError, match=r"not keyed 0\.\.n-1"):
        _trie_values(db, trie.root_hash)


def test_header_roots_are_read_at_their_offsets() -> None:
    from eth.rlp.headers import BlockHeader

    from node.chain.raw import header_roots

    for extra in (b"", b"x" * 32):
        header = BlockHeader(
            difficulty=1,
            block_number=7,
            gas_limit=30_000_000,
            timestamp=1,
            coinbase=b"\x11" * 20,
            parent_hash=b"\x22" * 32,
            uncles_hash=b"\x33" * 32,
            state_root=b"\x44" * 32,
            transaction_root=b"\x55" * 32,
            receipt_root=b"\x66" * 32,
            extra_data=extra,
        )
        raw = rlp.encode(header)
        assert header_roots(raw) == (b"\x55" * 32, b"\x66" * 32)


def test_get_many_reads_pending_cached_stored_and_absent_keys(tmp_path) -> None:
    from node.chain.embedded.store import DurableKV

    kv = DurableKV(tmp_path / "kv.sqlite")
    try:
        kv[b"stored"] = b"1"
        kv[b"gone"] = b"2"
        kv.commit()
        del kv[b"gone"]
        kv[b"pending"] = b"3"
        keys = [b"stored", b"pending", b"gone", b"absent", b"stored"]
        assert kv.get_many(keys) == [b"1", b"3", None, None, b"1"]
        many = [bytes([i % 256, i // 256]) for i in range(2000)]  # more than one chunk
        for k in many:
            kv[k] = k * 2
        kv.commit()
        assert kv.get_many(many) == [k * 2 for k in many]
    finally:
        kv.close()
