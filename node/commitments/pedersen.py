"""Pedersen commitments to integer values on BN254's G1, checkable by the EVM's precompiles.

A department commits to per-row values it publishes (e.g. each enterprise's monthly
emissions, in a stated integer unit) as ``C_i = v_i·G + r_i·H``, keeps the blinding
factors ``r_i`` to itself, and anchors the commitments' hash on chain. Later it publishes a
total over any subset of rows with the sum of their blinding factors; anyone (and the
ValueCommitments contract, with ecAdd/ecMul) checks ``total·G + blinding·H == Σ C_i``
without learning any single value. The commitments are binding (the owner cannot change a
value afterwards: that would need log_G H) and hiding (each ``r_i`` is uniform).

``G`` is BN254's generator (1, 2); ``H`` is found by hashing a fixed label onto the curve
(try-and-increment), so that nobody knows its discrete log to base ``G``. There is no range
proof: the values are the committer's own figures, and the check shows that a published
total is consistent with them, not that each is non-negative.

Commitments are made with fixed-base window tables (8-bit windows): about 40 point
additions per commitment instead of two full scalar multiplications
(benchmarks/commitments.py measures both).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache

from eth_utils import keccak
from py_ecc.optimized_bn128 import (
    FQ,
    G1,
    add,
    curve_order,
    field_modulus,
    is_on_curve,
    multiply,
    normalize,
)

from node.commitments.errors import InvalidCommitment, InvalidValue

#: the label H is derived from (changing it changes every commitment)
H_LABEL = b"tanlian/pedersen/H/v1"
#: committed values are integers in [0, 2**64) of the unit the commitment set states
MAX_VALUE = 2**64 - 1
#: bytes of one encoded point: x and y, 32 bytes each, big-endian (the precompiles' layout)
POINT_BYTES = 64
_WINDOW = 8

Point = tuple[FQ, FQ, FQ]  # Jacobian coordinates, as py_ecc's optimized_bn128 keeps them
_B = FQ(3)


def _sqrt(a: int) -> int | None:
    # p = 3 (mod 4): a square root is a^((p+1)/4) when a is a square
    r = pow(a, (field_modulus + 1) // 4, field_modulus)
    return r if r * r % field_modulus == a % field_modulus else None


@cache
def generator_h() -> Point:
    """H: the first x = keccak(label ‖ counter) mod p with a point on the curve, even y."""
    counter = 0
    while True:
        x = int.from_bytes(keccak(H_LABEL + counter.to_bytes(4, "big")), "big") % field_modulus
        y = _sqrt((x * x * x + 3) % field_modulus)
        if y is not None:
            if y % 2:
                y = field_modulus - y
            return (FQ(x), FQ(y), FQ(1))
        counter += 1


@cache
def _table(base: str) -> list[list[Point]]:
    """table[i][j] = j · 2^(8i) · base, for the 32 windows of a 256-bit scalar."""
    point = G1 if base == "G" else generator_h()
    rows: list[list[Point]] = []
    for _ in range(256 // _WINDOW):
        row: list[Point] = [(FQ(1), FQ(1), FQ(0))]  # the point at infinity
        for _ in range((1 << _WINDOW) - 1):
            row.append(add(row[-1], point))
        rows.append(row)
        point = add(row[-1], point)  # 2^8 · point
    return rows


def _fixed_base(base: str, scalar: int) -> Point:
    rows = _table(base)
    acc: Point = (FQ(1), FQ(1), FQ(0))
    i = 0
    while scalar:
        digit = scalar & 0xFF
        if digit:
            acc = add(acc, rows[i][digit])
        scalar >>= _WINDOW
        i += 1
    return acc


def encode(point: Point) -> bytes:
    """64 bytes x ‖ y (the point at infinity is 64 zero bytes, as the precompiles take it)."""
    if point[2] == FQ(0):
        return bytes(POINT_BYTES)
    x, y = normalize(point)
    return int(x).to_bytes(32, "big") + int(y).to_bytes(32, "big")


def decode(data: bytes) -> Point:
    """A point from :func:`encode`'s 64 bytes; :class:`InvalidCommitment` if not on G1."""
    if len(data) != POINT_BYTES:
        raise InvalidCommitment(f"a commitment is {POINT_BYTES} bytes, not {len(data)}")
    x, y = int.from_bytes(data[:32], "big"), int.from_bytes(data[32:], "big")
    if x == y == 0:
        return (FQ(1), FQ(1), FQ(0))
    if x >= field_modulus or y >= field_modulus:
        raise InvalidCommitment("a coordinate is not below the field modulus")
    point = (FQ(x), FQ(y), FQ(1))
    if not is_on_curve(point, _B):
        raise InvalidCommitment("the commitment is not a point of BN254's G1")
    return point


def check_value(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidValue(f"a committed value is an integer of the stated unit, not {value!r}")
    if not 0 <= value <= MAX_VALUE:
        raise InvalidValue(f"a committed value is between 0 and 2^64-1, not {value}")
    return value


def commit(value: int, blinding: int) -> Point:
    """value·G + blinding·H."""
    check_value(value)
    return add(_fixed_base("G", value), _fixed_base("H", blinding % curve_order))


def commit_naive(value: int, blinding: int) -> Point:
    """The same with py_ecc's plain scalar multiplication (the benchmark's baseline)."""
    check_value(value)
    return add(multiply(G1, value), multiply(generator_h(), blinding % curve_order))


def new_blinding() -> int:
    return 1 + secrets.randbelow(curve_order - 1)


@dataclass(frozen=True)
class CommitmentSet:
    """Commitments to a column of values, in row order, and the blindings that open them
    (the blindings stay with the committer)."""

    commitments: tuple[bytes, ...]
    blindings: tuple[int, ...]

    @property
    def packed(self) -> bytes:
        return b"".join(self.commitments)

    @property
    def digest(self) -> bytes:
        """keccak256 of the packed commitments: what goes on chain."""
        return keccak(self.packed)

    def blinding_of(self, indexes: Iterable[int]) -> int:
        """The sum of the blindings of ``indexes`` (mod the group order): publish it with
        their total."""
        return sum(self.blindings[i] for i in indexes) % curve_order


def commit_all(values: Sequence[int]) -> CommitmentSet:
    """Commit to each value with a fresh blinding."""
    blindings = tuple(new_blinding() for _ in values)
    return CommitmentSet(
        tuple(encode(commit(v, r)) for v, r in zip(values, blindings, strict=True)), blindings
    )


def _check_packed(packed: bytes) -> bytes:
    if len(packed) % POINT_BYTES:
        raise InvalidCommitment(f"packed commitments are a multiple of {POINT_BYTES} bytes")
    return packed


def set_digest(packed: bytes) -> bytes:
    """keccak256 of packed commitments (what the contract keeps of a set)."""
    return keccak(_check_packed(packed))


def unpack(packed: bytes) -> list[bytes]:
    _check_packed(packed)
    return [packed[i : i + POINT_BYTES] for i in range(0, len(packed), POINT_BYTES)]


def total_matches(
    commitments: Sequence[bytes], indexes: Iterable[int], total: int, blinding: int
) -> bool:
    """Whether ``total`` with ``blinding`` opens the sum of the commitments at ``indexes``."""
    if isinstance(total, bool) or not isinstance(total, int) or not 0 <= total < curve_order:
        raise InvalidValue(
            f"a total is a non-negative integer below the group order, not {total!r}"
        )
    acc: Point = (FQ(1), FQ(1), FQ(0))
    for i in indexes:
        acc = add(acc, decode(commitments[i]))
    expected = add(_fixed_base("G", total), _fixed_base("H", blinding % curve_order))
    return encode(acc) == encode(expected)
