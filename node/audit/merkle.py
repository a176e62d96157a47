"""Merkle trees over log entries, as in Certificate Transparency (RFC 6962 / RFC 9162).

Leaves are ``SHA-256(0x00 || entry hash)`` and inner nodes ``SHA-256(0x01 || left || right)``;
the domain bytes keep a leaf from passing for an inner node. A tree of n leaves splits at the
largest power of two below n, which is the same as pairing level by level and carrying an
odd last node up unchanged.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def root(leaves: Sequence[bytes]) -> bytes:
    """The root over already-hashed leaves (``leaf_hash`` of each entry)."""
    if not leaves:
        raise ValueError("a Merkle tree needs at least one leaf")
    level = list(leaves)
    while len(level) > 1:
        nxt = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            nxt.append(level[-1])
        level = nxt
    return level[0]


def proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """The inclusion path of leaf ``index`` (RFC 6962 PATH)."""
    if not 0 <= index < len(leaves):
        raise ValueError(f"leaf {index} is not in a tree of {len(leaves)}")
    path: list[bytes] = []
    lo, hi, m = 0, len(leaves), index
    subtrees = []
    while hi - lo > 1:
        k = 1 << ((hi - lo - 1).bit_length() - 1)
        if m < k:
            subtrees.append((lo + k, hi))
            hi = lo + k
        else:
            subtrees.append((lo, lo + k))
            lo, m = lo + k, m - k
    for a, b in reversed(subtrees):
        path.append(root(leaves[a:b]))
    return path


def verify(leaf: bytes, index: int, size: int, path: Sequence[bytes], expected_root: bytes) -> bool:
    """RFC 9162 §2.1.3.2: does ``path`` prove ``leaf`` at ``index`` of a tree of ``size``?"""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == expected_root
