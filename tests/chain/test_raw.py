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


@settings(max_examples=100, deadline=None)
@given(blocks=blocks_strategy)
def test_packed_blocks_round_trip(blocks: list[RawBlock]) -> None:
    assert unpack_blocks(pack_blocks(blocks)) == blocks


@pytest.mark.parametrize(
    "mangle",
    [
        lambda p: {**p, "sizes": p["sizes"][:-1]},  # a block cut short
        lambda p: {**p, "data": p["data"][:-2]},  # a byte missing
        lambda p: {**p, "data": p["data"] + "00"},  # a byte too many
        lambda p: {**p, "sizes": [-1, *p["sizes"][1:]]},
        lambda p: {**p, "sizes": ["3", *p["sizes"][1:]]},
        lambda p: {**p, "data": "0xzz"},
        lambda p: {"sizes": p["sizes"]},
    ],
    ids=["sizes-cut", "data-short", "data-long", "negative", "string-size", "not-hex", "no-data"],
)
def test_unpack_refuses_sizes_and_data_that_disagree(mangle) -> None:
    packed = pack_blocks([RawBlock(b"\xc0header", [b"tx"], [b"receipt"]), RawBlock(b"h", [], [])])
    with pytest.raises(ValueError):
        unpack_blocks(mangle(packed))
