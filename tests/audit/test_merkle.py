"""Merkle batches of the access log: proofs verify, and any edit, drop or swap fails."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from node.audit import merkle


def leaves(n: int) -> list[bytes]:
    return [merkle.leaf_hash(hashlib.sha256(str(i).encode()).digest()) for i in range(n)]


def rfc6962_root(ls: list[bytes]) -> bytes:
    """RFC 6962's recursive definition (split at the largest power of two below n)."""
    if len(ls) == 1:
        return ls[0]
    k = 1 << ((len(ls) - 1).bit_length() - 1)
    return merkle.node_hash(rfc6962_root(ls[:k]), rfc6962_root(ls[k:]))


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 7, 8, 9, 31, 100])
def test_root_matches_the_rfc_definition_and_every_proof_verifies(n: int) -> None:
    ls = leaves(n)
    root = merkle.root(ls)
    assert root == rfc6962_root(ls)
    for i in range(n):
        assert merkle.verify(ls[i], i, n, merkle.proof(ls, i), root)


def test_known_vector() -> None:
    # two leaves: H(0x01 || H(0x00||a) || H(0x00||b)), computed by hand
    a, b = merkle.leaf_hash(b"a"), merkle.leaf_hash(b"b")
    expected = hashlib.sha256(
        b"\x01" + hashlib.sha256(b"\x00a").digest() + hashlib.sha256(b"\x00b").digest()
    ).digest()
    assert merkle.root([a, b]) == expected


@settings(max_examples=150, deadline=None)
@given(n=st.integers(2, 64), data=st.data())
def test_edited_dropped_or_swapped_leaves_fail(n: int, data: st.DataObject) -> None:
    ls = leaves(n)
    root = merkle.root(ls)
    i = data.draw(st.integers(0, n - 1))
    path = merkle.proof(ls, i)
    edited = merkle.leaf_hash(b"edited")
    assert not merkle.verify(edited, i, n, path, root)
    j = data.draw(st.integers(0, n - 1).filter(lambda j: ls[j] != ls[i]))
    assert not merkle.verify(ls[i], j, n, path, root)  # moved to another position
    swapped = list(ls)
    swapped[i], swapped[j] = swapped[j], swapped[i]
    assert merkle.root(swapped) != root
    assert merkle.root(ls[:i] + ls[i + 1 :]) != root  # dropped
    # (a path alone does not pin the tree's size: the count is anchored beside the root)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        merkle.root([])
    with pytest.raises(ValueError):
        merkle.proof(leaves(3), 3)
    assert not merkle.verify(leaves(1)[0], 1, 1, [], merkle.root(leaves(1)))
