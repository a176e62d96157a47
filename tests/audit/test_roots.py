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
from node.chain.raw import flat_list, header_links


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
def test_flat_list_reads_a_header_as_rlp_decode_does(extra: bytes, number: int) -> None:
    header = BlockHeader(
        difficulty=1, block_number=number, gas_limit=30_000_000, timestamp=1, extra_data=extra
    )
    raw = rlp.encode(header)
    assert flat_list(raw) == rlp.decode(raw)


@pytest.mark.parametrize("extra", [b"", b"x" * 32])
@pytest.mark.parametrize("number", [0, 1, 127, 128, 255, 256, 10**9])
@pytest.mark.parametrize("timestamp", [0, 1, 1_700_000_000, 2**64 - 1])
@pytest.mark.parametrize("difficulty", [0, 1, 2**80])
def test_header_links_equal_the_decoded_header(extra, number, timestamp, difficulty) -> None:
    header = BlockHeader(
        difficulty=difficulty,
        block_number=number,
        gas_limit=30_000_000,
        timestamp=timestamp,
        extra_data=extra,
        transaction_root=os.urandom(32),
        receipt_root=os.urandom(32),
        parent_hash=os.urandom(32),
    )
    assert header_links(rlp.encode(header)) == (
        header.parent_hash,
        header.transaction_root,
        header.receipt_root,
        number,
        timestamp,
    )


def test_header_links_of_an_unusual_header_fall_back_to_a_full_decode() -> None:
    # a coinbase that is not 20 bytes: the fixed offsets do not hold
    fields = rlp.decode(
        rlp.encode(BlockHeader(difficulty=1, block_number=5, gas_limit=1, timestamp=9))
    )
    fields[2] = b"\x01" * 19
    assert header_links(rlp.encode(fields))[3:] == (5, 9)
