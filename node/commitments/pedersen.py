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
from gmpy2 import mpz
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
def _table(base: str) -> list[list[tuple[int, int]]]:
    """table[i][j] = j · 2^(8i) · base in affine coordinates (entry 0 unused), for the 32
    windows of a 256-bit scalar."""
    x, y = (mpz(int(c)) for c in normalize(G1 if base == "G" else generator_h()))
    rows: list[list[tuple[int, int]]] = []
    for _ in range(256 // _WINDOW):
        row = [(x, y, mpz(1))]
        for _ in range((1 << _WINDOW) - 2):
            row.append(_madd(row[-1], x, y))
        x, y = _normalize_all([_madd(row[-1], x, y)])[0]  # 2^8 · the window's base
        rows.append([(0, 0), *_normalize_all(row)])
    return rows


#: gmpy2 (pinned for MPyC) multiplies and reduces 254-bit numbers some 2.5x faster than ints
_P = mpz(field_modulus)


def _madd(acc: tuple[int, int, int], x2: int, y2: int) -> tuple[int, int, int]:
    """Jacobian ``acc`` + affine (x2, y2), on raw integers mod p (madd-2007-bl): the
    commitments' hot loop, several times faster than py_ecc's FQ objects. The cases the formula
    does not cover (infinity, equal or opposite points) go through py_ecc."""
    x1, y1, z1 = acc
    if z1 == 0:
        return (x2, y2, mpz(1))
    z1z1 = z1 * z1 % _P
    h = (x2 * z1z1 - x1) % _P
    r = 2 * (y2 * z1 * z1z1 - y1) % _P
    if h == 0:
        return _from_py_ecc(add(_to_py_ecc(acc), (FQ(int(x2)), FQ(int(y2)), FQ(1))))
    hh = h * h % _P
    i = 4 * hh
    j = h * i % _P
    v = x1 * i % _P
    x3 = (r * r - j - 2 * v) % _P
    y3 = (r * (v - x3) - 2 * y1 * j) % _P
    z3 = ((z1 + h) * (z1 + h) - z1z1 - hh) % _P
    return (x3, y3, z3)


def _to_py_ecc(point: tuple[int, int, int]) -> Point:
    # py_ecc keeps homogeneous projective coordinates (x = X/Z), this module Jacobian ones
    # (x = X/Z², y = Y/Z³)
    x, y, z = (int(c) for c in point)
    return (FQ(x * z), FQ(y), FQ(z * z * z))


def _from_py_ecc(point: Point) -> tuple[int, int, int]:
    x, y, z = (mpz(int(c)) for c in point)
    return (x * z % _P, y * z * z % _P, z)


def _fixed_base(base: str, scalar: int, acc: tuple[int, int, int] = (mpz(1), mpz(1), mpz(0))):
    rows = _table(base)
    i = 0
    while scalar:
        digit = scalar & 0xFF
        if digit:
            acc = _madd(acc, *rows[i][digit])
        scalar >>= _WINDOW
        i += 1
    return acc


def _jacobian(value: int, blinding: int) -> tuple[int, int, int]:
    return _fixed_base("G", value, _fixed_base("H", blinding % curve_order))


def _normalize_all(points: Sequence[tuple[int, int, int]]) -> list[tuple[int, int]]:
    """Affine (x, y) of Jacobian points, (0, 0) for infinity, with one field inversion for
    all of them (Montgomery's trick)."""
    zs = [z for _, _, z in points if z]
    prefix, acc = [], 1
    for z in zs:
        prefix.append(acc)
        acc = acc * z % _P
    inv = pow(acc, _P - 2, _P)
    invs = [0] * len(zs)
    for k in range(len(zs) - 1, -1, -1):
        invs[k] = inv * prefix[k] % _P
        inv = inv * zs[k] % _P
    out, k = [], 0
    for x, y, z in points:
        if z == 0:
            out.append((mpz(0), mpz(0)))
            continue
        zi = invs[k]
        k += 1
        zi2 = zi * zi % _P
        out.append((x * zi2 % _P, y * zi2 * zi % _P))
    return out


def _affine_all(points: Sequence[tuple[int, int, int]]) -> list[bytes]:
    return [
        int(x).to_bytes(32, "big") + int(y).to_bytes(32, "big") for x, y in _normalize_all(points)
    ]


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
    return _to_py_ecc(_jacobian(value, blinding))


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
    for v in values:
        check_value(v)
    blindings = tuple(new_blinding() for _ in values)
    points = [_jacobian(v, r) for v, r in zip(values, blindings, strict=True)]
    return CommitmentSet(tuple(_affine_all(points)), blindings)


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
    expected = _fixed_base("G", total, _fixed_base("H", blinding % curve_order))
    return encode(acc) == encode(_to_py_ecc(expected))
