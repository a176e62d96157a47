"""Blocks as stored: the fast readers agree with ``rlp``, and the wire format round-trips and
refuses what does not add up."""

from __future__ import annotations

import pytest
import rlp
from hypothesis import given, settings
from hypothesis import strategies as st

from node.chain.raw import RawBlock, pack_blocks, receipt_logs, unpack_blocks

logs_strategy = st.lists(
    st.tuples(
        st.binary(min_size=20, max_size=20),
        st.lists(st.binary(min_size=32, max_size=32), max_size=4),
        st.binary(max_size=300),
    ),
    max_size=5,
)


def encode_receipt(logs, *, status: bytes, gas: int, typed: int | None) -> bytes:
    body = rlp.encode([status, gas, b"\x00" * 256, [[a, list(t), d] for a, t, d in logs]])
    return body if typed is None else bytes([typed]) + body


@settings(max_examples=150, deadline=None)
@given(
    logs=logs_strategy,
    status=st.sampled_from([b"", b"\x01"]),
    gas=st.integers(min_value=0, max_value=2**64),
    typed=st.sampled_from([None, 1, 2, 4]),
)
def test_receipt_logs_read_what_rlp_encoded(logs, status, gas, typed) -> None:
    raw = encode_receipt(logs, status=status, gas=gas, typed=typed)
    assert receipt_logs(raw) == [(a, tuple(t), d) for a, t, d in logs]


@pytest.mark.parametrize(
    "raw",
    [
        rlp.encode(b"not a list"),
        rlp.encode([b"\x01", 1, b"\x00" * 256]),  # no logs
        rlp.encode([b"\x01", 1, b"\x00" * 256, b"logs"]),  # logs not a list
        rlp.encode([b"\x01", 1, b"\x00" * 256, [[b"\x01" * 19, [], b""]]]),  # short address
        rlp.encode([b"\x01", 1, b"\x00" * 256, [[b"\x01" * 20, [], b""]]])[:-1],  # cut
        rlp.encode([b"\x01", 1, b"\x00" * 256, []]) + b"\x00",  # trailing byte
    ],
    ids=["string", "three-items", "logs-string", "short-address", "truncated", "trailing"],
)
def test_receipt_logs_refuse_what_is_not_a_receipt(raw: bytes) -> None:
    with pytest.raises(ValueError):
        receipt_logs(raw)


blocks_strategy = st.lists(
    st.builds(
        RawBlock,
        st.binary(min_size=1, max_size=600),
        st.lists(st.binary(min_size=1, max_size=200), max_size=3),
        st.lists(st.binary(min_size=1, max_size=200), max_size=3),
    ),
    max_size=6,
)


def stored(blocks: list[RawBlock]) -> list[tuple[bytes, bytes, bytes]]:
    """Blocks as the chain host's block table keeps them."""
    return [(b.header, rlp.encode(b.transactions), rlp.encode(b.receipts)) for b in blocks]


@settings(max_examples=100, deadline=None)
@given(blocks=blocks_strategy)
def test_packed_blocks_round_trip(blocks: list[RawBlock]) -> None:
    assert unpack_blocks(pack_blocks(stored(blocks))) == blocks


PACKED = pack_blocks(
    stored([RawBlock(b"\xc0header", [b"tx"], [b"receipt"]), RawBlock(b"h", [], [])])
)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        PACKED[:3],  # no count
        (3).to_bytes(4, "big") + PACKED[4:],  # more blocks announced than sized
        PACKED[:-1],  # a byte missing
        PACKED + b"\x00",  # a byte too many
        PACKED[:4] + (2**32 - 1).to_bytes(4, "big") + PACKED[8:],  # a size past the end
        PACKED.replace(rlp.encode([b"tx"]), b"\x82tx"),  # transactions not a list
    ],
    ids=["empty", "no-count", "count-too-big", "short", "long", "huge-size", "not-a-list"],
)
def test_unpack_refuses_sizes_and_data_that_disagree(data: bytes) -> None:
    with pytest.raises(ValueError):
        unpack_blocks(data)
