"""The audit's own RLP and root arithmetic equals the reference libraries'."""

from __future__ import annotations

import os

import pytest
import rlp
from eth.rlp.headers import BlockHeader
from hypothesis import given, settings
from hypothesis import strategies as st
from trie import HexaryTrie

from node.audit.verify import trie_root
from node.chain.headers import header_fields


def reference_root(items: list[bytes]) -> bytes:
    trie = HexaryTrie({})
    for i, item in enumerate(items):
        trie[rlp.encode(i, sedes=rlp.sedes.big_endian_int)] = item
    return trie.root_hash


@pytest.mark.parametrize("size", [1, 2, 30, 55, 56, 57, 200, 1000, 70_000])
def test_one_item_root_equals_the_trie_s(size: int) -> None:
    item = os.urandom(size)
    assert trie_root([item]) == reference_root([item])


@pytest.mark.parametrize("item", [b"\x00", b"\x7f", b"\x80", b"\xff"])
def test_one_byte_items(item: bytes) -> None:
    assert trie_root([item]) == reference_root([item])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.binary(min_size=1, max_size=300), min_size=1, max_size=20))
def test_any_items_root_equals_the_trie_s(items: list[bytes]) -> None:
    assert trie_root(items) == reference_root(items)


@pytest.mark.parametrize("extra", [b"", b"\x05", b"x" * 32])
@pytest.mark.parametrize("number", [0, 7, 127, 128, 10**9])
def test_header_fields_equal_rlp_decode(extra: bytes, number: int) -> None:
    header = BlockHeader(
        difficulty=1, block_number=number, gas_limit=30_000_000, timestamp=1, extra_data=extra
    )
    raw = rlp.encode(header)
    assert header_fields(raw) == rlp.decode(raw)
