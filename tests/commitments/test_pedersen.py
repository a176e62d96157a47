"""Pedersen commitments on BN254 G1, held to py_ecc's plain (non-optimized) reference."""

from __future__ import annotations

import pytest
from eth_utils import keccak
from hypothesis import given, settings
from hypothesis import strategies as st
from py_ecc import bn128 as reference

from node.commitments import pedersen
from node.commitments.errors import InvalidCommitment, InvalidValue
from node.commitments.pedersen import (
    MAX_VALUE,
    commit,
    commit_all,
    commit_naive,
    decode,
    encode,
    generator_h,
    total_matches,
)

P = reference.field_modulus
N = reference.curve_order


def _ref_h() -> tuple[int, int]:
    """H by the derivation's words, with plain integers: the first counter whose
    keccak(label ‖ counter) mod p is an x on y^2 = x^3 + 3, taking the even y."""
    counter = 0
    while True:
        x = int.from_bytes(keccak(b"tanlian/pedersen/H/v1" + counter.to_bytes(4, "big")), "big") % P
        rhs = (x**3 + 3) % P
        y = pow(rhs, (P + 1) // 4, P)
        if y * y % P == rhs:
            return x, (y if y % 2 == 0 else P - y)
        counter += 1


def _ref_commit(value: int, blinding: int) -> bytes:
    h = tuple(reference.FQ(c) for c in _ref_h())
    point = reference.add(reference.multiply(reference.G1, value), reference.multiply(h, blinding))
    if point is None:
        return bytes(64)
    return int(point[0]).to_bytes(32, "big") + int(point[1]).to_bytes(32, "big")


def test_h_is_the_hashed_point_and_not_g() -> None:
    x, y = _ref_h()
    assert encode(generator_h()) == x.to_bytes(32, "big") + y.to_bytes(32, "big")
    assert (y * y - x**3 - 3) % P == 0 and y % 2 == 0
    assert (x, y) != (1, 2)


@pytest.mark.parametrize(
    ("value", "blinding"),
    [(0, 1), (1, 0), (2, 3), (MAX_VALUE, N - 1), (123_456_789, 2**200 + 7), (255, 256)],
)
def test_commitments_equal_the_reference_arithmetic(value: int, blinding: int) -> None:
    assert encode(commit(value, blinding)) == _ref_commit(value, blinding)
    assert encode(commit_naive(value, blinding)) == _ref_commit(value, blinding)


def test_g_and_h_by_hand() -> None:
    assert encode(commit(1, 0)) == (1).to_bytes(32, "big") + (2).to_bytes(32, "big")
    assert encode(commit(0, 1)) == encode(generator_h())
    assert encode(commit(0, 0)) == bytes(64)  # the point at infinity


@settings(max_examples=40, deadline=None)
@given(
    values=st.lists(st.integers(0, MAX_VALUE), min_size=1, max_size=12),
    data=st.data(),
)
def test_a_subset_total_opens_with_its_blinding_sum_and_nothing_else(values, data) -> None:
    cset = commit_all(values)
    indexes = sorted(data.draw(st.sets(st.integers(0, len(values) - 1), min_size=1)))
    total = sum(values[i] for i in indexes)
    blinding = cset.blinding_of(indexes)
    assert total_matches(cset.commitments, indexes, total, blinding)
    assert not total_matches(cset.commitments, indexes, total + 1, blinding)
    assert not total_matches(cset.commitments, indexes, total, (blinding + 1) % N)
    if total:
        assert not total_matches(cset.commitments, indexes, total - 1, blinding)


def test_the_same_value_twice_gives_unrelated_commitments() -> None:
    cset = commit_all([42, 42])
    assert cset.commitments[0] != cset.commitments[1]
    assert len(set(cset.blindings)) == 2
    assert cset.digest == keccak(cset.packed)


@pytest.mark.parametrize("value", [-1, MAX_VALUE + 1, 1.5, True, "3"])
def test_values_outside_the_integer_unit_are_refused(value) -> None:
    with pytest.raises(InvalidValue):
        commit(value, 1)


@pytest.mark.parametrize("total", [-1, N, 2.0])
def test_totals_outside_the_group_are_refused(total) -> None:
    cset = commit_all([1, 2])
    with pytest.raises(InvalidValue):
        total_matches(cset.commitments, [0, 1], total, cset.blinding_of([0, 1]))


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"\x01" * 63, "64 bytes"),
        ((1).to_bytes(32, "big") + (3).to_bytes(32, "big"), "not a point"),
        (P.to_bytes(32, "big") + (2).to_bytes(32, "big"), "field modulus"),
    ],
)
def test_bytes_that_are_no_point_are_refused(data: bytes, words: str) -> None:
    with pytest.raises(InvalidCommitment, match=words):
        decode(data)


def test_a_forged_commitment_in_a_set_breaks_the_total() -> None:
    cset = commit_all([5, 7, 11])
    forged = list(cset.commitments)
    forged[1] = encode(commit(8, cset.blindings[1]))  # the owner "changes" 7 to 8 afterwards
    assert not total_matches(forged, [0, 1, 2], 23, cset.blinding_of([0, 1, 2]))
    assert total_matches(forged, [0, 1, 2], 24, cset.blinding_of([0, 1, 2]))
    assert pedersen.set_digest(b"".join(forged)) != cset.digest  # and the anchored hash shows it
