"""Linkable ring signatures (bLSAG) over ed25519, for anonymous feedback on a dataset.

A consumer signs for a ring of public keys (the active consumers of a dataset): anyone can
check that one of the ring signed, nobody can tell which, and two signatures by the same key
carry the same *key image*, so one member files once per version (linkability). The scheme
is the back-referenced LSAG of Liu, Wei and Wong (2004) as "Zero to Monero" (2nd ed., §3.4)
writes it, on libsodium's ed25519 group through PyNaCl:

    K_i = k_i·G                  public keys; the signer is π with secret k_π
    Hp(K) = from_uniform(SHA-512(tag ‖ K)[:32])        hash to a point of the prime subgroup
    K̃ = k_π·Hp(K_π)              key image
    c_{π+1} = Hn(ring ‖ m ‖ K̃ ‖ α·G ‖ α·Hp(K_π))
    c_{i+1} = Hn(ring ‖ m ‖ K̃ ‖ r_i·G + c_i·K_i ‖ r_i·Hp(K_i) + c_i·K̃)    for i ≠ π
    r_π = α − c_π·k_π  (mod ℓ)                          σ = (K̃, c_0, r_0 … r_{n−1})

Verification walks the n steps from c_0 and accepts when it comes back to c_0. The challenge
hash binds the whole ring and the key image as well as the message (Zero to Monero hashes
the message only and leaves binding the ring to the caller). The ring is put in one
canonical order (sorted by key bytes) by sign and verify alike, so the order a caller lists
it in reveals nothing of the signer. The nonces α and r_i come from the operating system's
random source: a signature never repeats, even for the same message.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass

from nacl.bindings import (
    crypto_core_ed25519_add,
    crypto_core_ed25519_from_uniform,
    crypto_core_ed25519_is_valid_point,
    crypto_core_ed25519_scalar_mul,
    crypto_core_ed25519_scalar_reduce,
    crypto_core_ed25519_scalar_sub,
    crypto_scalarmult_ed25519_base_noclamp,
    crypto_scalarmult_ed25519_noclamp,
)
from nacl.exceptions import RuntimeError as NaclRuntimeError

from node.errors import TanlianError

#: The order ℓ of ed25519's prime subgroup.
L = 2**252 + 27742317777372353535851937790883648493
#: Rings are small (the active consumers of one dataset); this bounds the work a signature
#: can ask of a verifier before any of it is checked.
MAX_RING = 256
_POINT_TAG = b"tanlian/blsag/hash-to-point/v1"
_CHALLENGE_TAG = b"tanlian/blsag/challenge/v1"


class RingSignatureError(TanlianError):
    """A ring, key or signature that cannot be used (malformed, not in the ring, too big)."""

    code = "ring_signature_invalid"
    http_status = 400


@dataclass(frozen=True)
class RingSignature:
    """σ = (K̃, c_0, r_0 … r_{n−1}); ``responses`` in the ring's canonical order."""

    key_image: bytes
    c0: bytes
    responses: tuple[bytes, ...]

    def to_bytes(self) -> bytes:
        return self.key_image + self.c0 + b"".join(self.responses)

    @classmethod
    def from_bytes(cls, data: bytes, ring_size: int) -> RingSignature:
        """Parse a signature for a ring of ``ring_size`` keys (its length is fixed by it)."""
        if not 1 <= ring_size <= MAX_RING:
            raise RingSignatureError(f"a ring has 1 to {MAX_RING} keys, not {ring_size}")
        if len(data) != 32 * (2 + ring_size):
            raise RingSignatureError(
                f"a signature for a ring of {ring_size} is {32 * (2 + ring_size)} bytes, "
                f"not {len(data)}"
            )
        parts = [data[i : i + 32] for i in range(0, len(data), 32)]
        return cls(parts[0], parts[1], tuple(parts[2:]))


def _scalar(data: bytes) -> bytes:
    """A 64-byte hash reduced mod ℓ."""
    return crypto_core_ed25519_scalar_reduce(data)


def _random_scalar() -> bytes:
    return _scalar(os.urandom(64))


def hash_to_point(key: bytes) -> bytes:
    """Hp(K): a point of the prime-order subgroup nobody knows the discrete log of."""
    return crypto_core_ed25519_from_uniform(hashlib.sha512(_POINT_TAG + key).digest()[:32])


def keypair(seed: bytes | None = None) -> tuple[bytes, bytes]:
    """(secret scalar k, public key K = k·G), from ``seed`` (≥ 32 bytes) or at random."""
    if seed is not None and len(seed) < 32:
        raise RingSignatureError("a key seed has at least 32 bytes")
    k = _scalar(hashlib.sha512(seed).digest() if seed is not None else os.urandom(64))
    return k, public_key(k)


def public_key(secret: bytes) -> bytes:
    _check_scalar(secret, "secret key")
    return crypto_scalarmult_ed25519_base_noclamp(secret)


def key_image(secret: bytes) -> bytes:
    """K̃ = k·Hp(K): the same for every signature of one key, whatever the message."""
    return crypto_scalarmult_ed25519_noclamp(secret, hash_to_point(public_key(secret)))


def canonical_ring(ring: Sequence[bytes]) -> tuple[bytes, ...]:
    """The ring's keys checked and sorted: the order sign and verify both use."""
    keys = tuple(bytes(k) for k in ring)
    if not 1 <= len(keys) <= MAX_RING:
        raise RingSignatureError(f"a ring has 1 to {MAX_RING} keys, not {len(keys)}")
    if len(set(keys)) != len(keys):
        raise RingSignatureError("a ring lists each key once")
    for k in keys:
        if len(k) != 32 or not crypto_core_ed25519_is_valid_point(k):
            raise RingSignatureError(f"0x{k.hex()} is not an ed25519 public key")
    return tuple(sorted(keys))


def _challenge(ring: tuple[bytes, ...], message: bytes, image: bytes, a: bytes, b: bytes) -> bytes:
    h = hashlib.sha512(_CHALLENGE_TAG)
    h.update(len(ring).to_bytes(2, "big"))
    for k in ring:
        h.update(k)
    h.update(len(message).to_bytes(8, "big"))
    h.update(message)
    h.update(image + a + b)
    return _scalar(h.digest())


def _combine(r: bytes, base: bytes | None, c: bytes, point: bytes) -> bytes:
    """r·base + c·point (``base`` None: r·G)."""
    left = (
        crypto_scalarmult_ed25519_base_noclamp(r)
        if base is None
        else crypto_scalarmult_ed25519_noclamp(r, base)
    )
    return crypto_core_ed25519_add(left, crypto_scalarmult_ed25519_noclamp(c, point))


def sign(message: bytes, ring: Sequence[bytes], secret: bytes) -> RingSignature:
    """Sign ``message`` for ``ring``, which must hold this secret key's public key."""
    keys = canonical_ring(ring)
    mine = public_key(secret)
    if mine not in keys:
        raise RingSignatureError("the signer's public key is not in the ring")
    n, pi = len(keys), keys.index(mine)
    points = [hash_to_point(k) for k in keys]
    image = crypto_scalarmult_ed25519_noclamp(secret, points[pi])
    alpha = _random_scalar()
    c: list[bytes] = [b""] * n
    r: list[bytes] = [b""] * n
    c[(pi + 1) % n] = _challenge(
        keys,
        message,
        image,
        crypto_scalarmult_ed25519_base_noclamp(alpha),
        crypto_scalarmult_ed25519_noclamp(alpha, points[pi]),
    )
    i = (pi + 1) % n
    while i != pi:
        r[i] = _random_scalar()
        c[(i + 1) % n] = _challenge(
            keys,
            message,
            image,
            _combine(r[i], None, c[i], keys[i]),
            _combine(r[i], points[i], c[i], image),
        )
        i = (i + 1) % n
    r[pi] = crypto_core_ed25519_scalar_sub(alpha, crypto_core_ed25519_scalar_mul(c[pi], secret))
    return RingSignature(image, c[0], tuple(r))


def verify(message: bytes, ring: Sequence[bytes], signature: RingSignature) -> None:
    """Return when one of ``ring`` signed ``message``; raise RingSignatureError otherwise."""
    keys = canonical_ring(ring)
    if len(signature.responses) != len(keys):
        raise RingSignatureError(
            f"the signature is for a ring of {len(signature.responses)}, not {len(keys)}"
        )
    for s in (signature.c0, *signature.responses):
        _check_scalar(s, "signature scalar")
    image = signature.key_image
    # A key image outside the prime subgroup (a small-order component added) would let one
    # key make several unlinkable images: is_valid_point refuses those.
    if len(image) != 32 or not crypto_core_ed25519_is_valid_point(image):
        raise RingSignatureError("the key image is not a point of the prime-order subgroup")
    c = signature.c0
    try:
        for i, k in enumerate(keys):
            r = signature.responses[i]
            c = _challenge(
                keys,
                message,
                image,
                _combine(r, None, c, k),
                _combine(r, hash_to_point(k), c, image),
            )
    except NaclRuntimeError as exc:  # a sum or product at the identity: not a signature
        raise RingSignatureError(f"the signature does not verify ({exc})") from None
    if c != signature.c0:
        raise RingSignatureError("the signature does not verify for this ring and message")


def linked(a: RingSignature, b: RingSignature) -> bool:
    """Whether two (verified) signatures were made with the same secret key."""
    return a.key_image == b.key_image


def _check_scalar(s: bytes, what: str) -> None:
    if len(s) != 32 or int.from_bytes(s, "little") >= L:
        raise RingSignatureError(f"a {what} is a 32-byte scalar below the group order")
