"""bLSAG linkable ring signatures (issue 17's anonymous feedback).

The module signs and verifies with libsodium's ed25519 group. These tests hold it against a
second implementation written here from the published equations with plain integers (RFC
8032's point arithmetic, Zero to Monero §3.4's signing and verification): signatures made by
one verify in the other, and a signature built here by hand from fixed nonces is accepted.
Only the hash to a point is shared (libsodium's Elligator map); that its points lie in the
prime subgroup is checked here.
"""

from __future__ import annotations

import hashlib
import random

import pytest

from node.privacy import ring as blsag
from node.privacy.ring import L, RingSignature, RingSignatureError

# -- a reference ed25519 group in plain integers (RFC 8032, §5.1) ----------------------------
P = 2**255 - 19
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)
IDENTITY = (0, 1, 1, 0)


def _add(a, b):
    x1, y1, z1, t1 = a
    x2, y2, z2, t2 = b
    aa = (y1 - x1) * (y2 - x2) % P
    bb = (y1 + x1) * (y2 + x2) % P
    cc = 2 * t1 * t2 * D % P
    dd = 2 * z1 * z2 % P
    e, f, g, h = bb - aa, dd - cc, dd + cc, bb + aa
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def _mul(s: int, pt):
    q = IDENTITY
    while s:
        if s & 1:
            q = _add(q, pt)
        pt = _add(pt, pt)
        s >>= 1
    return q


def _equal(a, b) -> bool:
    return (a[0] * b[2] - b[0] * a[2]) % P == 0 and (a[1] * b[2] - b[1] * a[2]) % P == 0


def _decode(s: bytes):
    y = int.from_bytes(s, "little")
    sign, y = y >> 255, y & ((1 << 255) - 1)
    assert y < P
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P) % P
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P:
        x = x * SQRT_M1 % P
    assert (x * x - x2) % P == 0, "not on the curve"
    if x & 1 != sign:
        x = P - x
    return (x, y, 1, x * y % P)


def _encode(pt) -> bytes:
    x, y, z, _ = pt
    zi = pow(z, P - 2, P)
    x, y = x * zi % P, y * zi % P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


G = _decode(bytes.fromhex("5866666666666666666666666666666666666666666666666666666666666666"))


def _int(b: bytes) -> int:
    return int.from_bytes(b, "little")


def _scalar_bytes(s: int) -> bytes:
    return (s % L).to_bytes(32, "little")


def _hash_scalar(ring, message, image, a, b) -> int:
    """The challenge hash, as the module's docstring defines it (independently written)."""
    data = b"tanlian/blsag/challenge/v1" + len(ring).to_bytes(2, "big") + b"".join(ring)
    data += len(message).to_bytes(8, "big") + message + image + a + b
    return _int(hashlib.sha512(data).digest()) % L


def reference_verify(message: bytes, ring: list[bytes], sig: RingSignature) -> bool:
    keys = sorted(ring)
    try:
        image = _decode(sig.key_image)
    except AssertionError:  # not a curve point at all
        return False
    if not _equal(_mul(L, image), IDENTITY):
        return False
    c0 = c = _int(sig.c0)
    for k, r in zip(keys, sig.responses, strict=True):
        hp = _decode(blsag.hash_to_point(k))
        a = _add(_mul(_int(r), G), _mul(c, _decode(k)))
        b = _add(_mul(_int(r), hp), _mul(c, image))
        c = _hash_scalar(keys, message, sig.key_image, _encode(a), _encode(b))
    return c == c0


def reference_sign(message: bytes, ring: list[bytes], k: int, alpha: int, rs: dict[int, int]):
    """Zero to Monero §3.4, step by step, with the nonces given."""
    keys = sorted(ring)
    mine = _encode(_mul(k, G))
    n, pi = len(keys), keys.index(mine)
    hps = [_decode(blsag.hash_to_point(x)) for x in keys]
    image = _mul(k, hps[pi])
    img = _encode(image)
    c = [0] * n
    r = [0] * n
    c[(pi + 1) % n] = _hash_scalar(
        keys, message, img, _encode(_mul(alpha, G)), _encode(_mul(alpha, hps[pi]))
    )
    i = (pi + 1) % n
    while i != pi:
        r[i] = rs[i]
        a = _add(_mul(r[i], G), _mul(c[i], _decode(keys[i])))
        b = _add(_mul(r[i], hps[i]), _mul(c[i], image))
        c[(i + 1) % n] = _hash_scalar(keys, message, img, _encode(a), _encode(b))
        i = (i + 1) % n
    r[pi] = (alpha - c[pi] * k) % L
    return RingSignature(img, _scalar_bytes(c[0]), tuple(_scalar_bytes(x) for x in r))


# -- fixtures -----------------------------------------------------------------------------------
def _members(n: int) -> list[tuple[bytes, bytes]]:
    return [blsag.keypair(f"consumer-{i}".encode().ljust(32, b".")) for i in range(n)]


MESSAGE = "数据质量问题：锦江区 2023 年用电量缺失 (dataset 0xab…, version 3)".encode()


def test_the_base_point_agrees_with_rfc_8032_test_vector_1() -> None:
    # RFC 8032 §7.1 TEST 1: secret 9d61…7f60, public d75a…511a (clamped SHA-512 scalar)
    seed = bytes.fromhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    h = bytearray(hashlib.sha512(seed).digest()[:32])
    h[0] &= 248
    h[31] &= 127
    h[31] |= 64
    expected = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    assert _encode(_mul(_int(bytes(h)), G)).hex() == expected
    # libsodium reduces scalars mod ℓ; the same point comes out of the reduced scalar
    reduced = _scalar_bytes(_int(bytes(h)))
    assert blsag.public_key(reduced).hex() == expected


def test_hash_to_point_lands_in_the_prime_subgroup() -> None:
    for pk in (m[1] for m in _members(4)):
        hp = _decode(blsag.hash_to_point(pk))
        assert _equal(_mul(L, hp), IDENTITY)
        assert not _equal(hp, IDENTITY)
    assert blsag.hash_to_point(_members(1)[0][1]) != blsag.hash_to_point(_members(2)[1][1])


@pytest.mark.parametrize("n", [1, 2, 6])
def test_a_signature_verifies_here_and_in_the_reference(n: int) -> None:
    members = _members(n)
    ring = [pk for _, pk in members]
    for secret, _ in members:
        sig = blsag.sign(MESSAGE, ring, secret)
        blsag.verify(MESSAGE, ring, sig)
        assert reference_verify(MESSAGE, ring, sig)
        assert sig.key_image == blsag.key_image(secret)


def test_a_signature_built_by_hand_from_fixed_nonces_is_accepted() -> None:
    """The derived vector: ring of 3, signer consumer-1, α = 7, r = 11, 13 (mod ℓ)."""
    members = _members(3)
    ring = [pk for _, pk in members]
    secret, public = members[1]
    pi = sorted(ring).index(public)
    others = [i for i in range(3) if i != pi]
    sig = reference_sign(MESSAGE, ring, _int(secret), 7, {others[0]: 11, others[1]: 13})
    # the nonces show through where the equations say: r_i = the fixed r for i ≠ π, and
    # r_π = α − c_π·k
    assert _int(sig.responses[others[0]]) == 11 and _int(sig.responses[others[1]]) == 13
    blsag.verify(MESSAGE, ring, sig)
    assert reference_verify(MESSAGE, ring, sig)
    assert sig.key_image == blsag.key_image(secret)
    # one bit of any part changed: refused by both
    for field in range(2 + 3):
        raw = bytearray(sig.to_bytes())
        raw[32 * field] ^= 1
        try:
            bad = RingSignature.from_bytes(bytes(raw), 3)
        except RingSignatureError:
            continue
        with pytest.raises(RingSignatureError):
            blsag.verify(MESSAGE, ring, bad)
        assert not reference_verify(MESSAGE, ring, bad)


def test_the_ring_order_given_reveals_nothing_and_changes_nothing() -> None:
    members = _members(6)
    ring = [pk for _, pk in members]
    rng = random.Random(5)
    sigs = {}
    for idx in (0, 3, 5):
        shuffled = ring[:]
        rng.shuffle(shuffled)
        # the signer listed first, last or anywhere: one canonical order inside
        sig = blsag.sign(
            MESSAGE, [ring[idx], *[k for k in shuffled if k != ring[idx]]], members[idx][0]
        )
        for order in (ring, shuffled, list(reversed(ring))):
            blsag.verify(MESSAGE, order, sig)
        sigs[idx] = sig
    # every signer's signature has the same shape: a key image, c_0 and one response per
    # ring member in the canonical order, all of them scalars below ℓ
    assert {len(s.to_bytes()) for s in sigs.values()} == {32 * 8}
    assert all(_int(r) < L for s in sigs.values() for r in s.responses)


def test_a_signature_does_not_single_out_the_signers_position() -> None:
    """Responses at the signer's position and elsewhere are alike: over many signatures,
    the mean of each position's response (scaled to [0, 1)) stays near 1/2 for every signer."""
    members = _members(3)
    ring = [pk for _, pk in members]
    for secret, public in members:
        pi = sorted(ring).index(public)
        means = [0.0, 0.0, 0.0]
        for _ in range(200):
            sig = blsag.sign(MESSAGE, ring, secret)
            for i, r in enumerate(sig.responses):
                means[i] += _int(r) / L / 200
        assert all(0.4 < m < 0.6 for m in means), (pi, means)


def test_the_same_member_is_linked_across_messages_and_others_are_not() -> None:
    members = _members(4)
    ring = [pk for _, pk in members]
    a1 = blsag.sign(b"feedback one", ring, members[2][0])
    a2 = blsag.sign(b"feedback two", ring, members[2][0])
    b = blsag.sign(b"feedback one", ring, members[1][0])
    assert a1 != a2  # fresh nonces each time
    assert blsag.linked(a1, a2)
    assert not blsag.linked(a1, b)


def test_forged_and_out_of_ring_signatures_are_refused() -> None:
    members = _members(4)
    ring = [pk for _, pk in members[:3]]
    outsider_secret = members[3][0]
    with pytest.raises(RingSignatureError, match="not in the ring"):
        blsag.sign(MESSAGE, ring, outsider_secret)
    # an outsider who signs for a ring with its own key in it, then swaps its key out
    sig = blsag.sign(MESSAGE, [*ring[:2], members[3][1]], outsider_secret)
    with pytest.raises(RingSignatureError):
        blsag.verify(MESSAGE, ring, sig)
    assert not reference_verify(MESSAGE, ring, sig)
    good = blsag.sign(MESSAGE, ring, members[0][0])
    with pytest.raises(RingSignatureError):
        blsag.verify(MESSAGE + b"!", ring, good)  # another message
    # a key image with a small-order component added: refused before any work
    small_order = bytes.fromhex("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")
    tweaked = _encode(_add(_decode(good.key_image), _decode(small_order)))
    with pytest.raises(RingSignatureError, match="prime-order subgroup"):
        blsag.verify(MESSAGE, ring, RingSignature(tweaked, good.c0, good.responses))
    # a response at or above ℓ (a malleated copy of a valid one)
    bumped = (_int(good.responses[0]) + L).to_bytes(32, "little")
    malleated = RingSignature(good.key_image, good.c0, (bumped, *good.responses[1:]))
    with pytest.raises(RingSignatureError, match="below the group order"):
        blsag.verify(MESSAGE, ring, malleated)


@pytest.mark.parametrize(
    ("ring", "message"),
    [
        ([], "1 to 256 keys"),
        ([b"\x00" * 31], "not an ed25519 public key"),
        ([b"\x01" + b"\x00" * 31], "not an ed25519 public key"),  # the identity
        ("dup", "each key once"),
        ("big", "1 to 256 keys"),
    ],
)
def test_bad_rings_get_a_clear_error(ring, message: str) -> None:
    members = _members(2)
    if ring == "dup":
        ring = [members[0][1], members[0][1]]
    elif ring == "big":
        ring = [members[0][1]] * 257
    with pytest.raises(RingSignatureError, match=message):
        blsag.sign(MESSAGE, ring, members[0][0])
    assert RingSignatureError.code == "ring_signature_invalid"


def test_from_bytes_bounds_the_signature_by_the_ring() -> None:
    with pytest.raises(RingSignatureError, match="1 to 256"):
        RingSignature.from_bytes(b"", 0)
    with pytest.raises(RingSignatureError, match="is 128 bytes, not 127"):
        RingSignature.from_bytes(b"\x00" * 127, 2)
