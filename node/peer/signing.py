"""Signed requests: what a caller signs and how a node checks it.

A request is signed by the caller's chain account over its method, path, query, body
hash, the node it is meant for (audience), a random nonce and a timestamp, as an EIP-191
personal message, so any Ethereum signer could produce it. The node recovers the account
from the signature; it never needs a shared secret.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode

from coincurve import PublicKey
from eth_keys import keys
from eth_utils import keccak, to_checksum_address

from node.errors import TanlianError

SCHEME = "TANLIAN-REQUEST-V1"
H_ACCOUNT = "x-tanlian-account"
H_AUDIENCE = "x-tanlian-audience"
H_NONCE = "x-tanlian-nonce"
H_TIMESTAMP = "x-tanlian-timestamp"
H_SIGNATURE = "x-tanlian-signature"
HEADERS = (H_ACCOUNT, H_AUDIENCE, H_NONCE, H_TIMESTAMP, H_SIGNATURE)


class AuthError(TanlianError):
    code = "auth_failed"
    http_status = 401


class AuthMissing(AuthError):
    code = "auth_missing"


class AuthMalformed(AuthError):
    code = "auth_malformed"


class AuthBadSignature(AuthError):
    code = "auth_bad_signature"


class AuthStale(AuthError):
    code = "auth_stale"


class AuthReplayed(AuthError):
    code = "auth_replayed"


class AuthWrongAudience(AuthError):
    code = "auth_wrong_audience"


class AuthForbidden(AuthError):
    code = "auth_forbidden"
    http_status = 403


class AuthUnknownAccount(AuthForbidden):
    code = "auth_unknown_account"


class AuthNotActive(AuthForbidden):
    code = "auth_not_active"


def canonical_query(query: str) -> str:
    return urlencode(sorted(parse_qsl(query, keep_blank_values=True)))


def message(
    method: str, path: str, query: str, body: bytes, audience: str, nonce: str, timestamp: int
) -> bytes:
    text = "\n".join(
        [
            SCHEME,
            method.upper(),
            path,
            canonical_query(query),
            hashlib.sha256(body).hexdigest(),
            _checksum(audience),
            nonce,
            str(timestamp),
        ]
    )
    return text.encode()


@lru_cache(maxsize=4096)
def _checksum(address: str) -> str:
    # A node sees the same few member addresses over and over.
    return to_checksum_address(address)


def _digest(msg: bytes) -> bytes:
    return keccak(b"\x19Ethereum Signed Message:\n" + str(len(msg)).encode() + msg)


def sign_request(
    key: keys.PrivateKey,
    method: str,
    path: str,
    query: str,
    body: bytes,
    audience: str,
    *,
    nonce: str | None = None,
    timestamp: int | None = None,
) -> dict[str, str]:
    """Headers that authenticate one request as ``key``'s account."""
    nonce = nonce or os.urandom(16).hex()
    timestamp = int(time.time()) if timestamp is None else timestamp
    sig = key.sign_msg_hash(_digest(message(method, path, query, body, audience, nonce, timestamp)))
    r, s, v = sig.r, sig.s, sig.v
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big") + bytes([v + 27])
    return {
        H_ACCOUNT: key.public_key.to_checksum_address(),
        H_AUDIENCE: to_checksum_address(audience),
        H_NONCE: nonce,
        H_TIMESTAMP: str(timestamp),
        H_SIGNATURE: "0x" + raw.hex(),
    }


@dataclass(frozen=True)
class SignedRequest:
    account: str
    nonce: str
    timestamp: int


@dataclass(frozen=True)
class SignedHeaders:
    """A request's x-tanlian-* headers, well formed, fresh and meant for this node: what
    can be checked before a byte of the body is read."""

    account: str
    audience: str
    nonce: str
    timestamp: int
    signature: bytes


def check_headers(
    headers: Mapping[str, str], *, audience: str, now: float, max_skew: int
) -> SignedHeaders:
    """The signing headers' shape, audience and freshness (no body needed)."""
    values = {h: headers.get(h) for h in HEADERS}
    if not any(values.values()):
        raise AuthMissing("this route needs a signed request (x-tanlian-* headers)")
    missing = [h for h, v in values.items() if not v]
    if missing:
        raise AuthMalformed(f"missing headers: {', '.join(missing)}")
    try:
        claimed = _checksum(values[H_ACCOUNT])
        req_audience = _checksum(values[H_AUDIENCE])
        timestamp = int(values[H_TIMESTAMP])
        sig_hex = values[H_SIGNATURE]
        raw = bytes.fromhex(sig_hex[2:] if sig_hex.startswith("0x") else sig_hex)
    except (ValueError, TypeError):
        raise AuthMalformed("malformed x-tanlian-* headers") from None
    nonce = values[H_NONCE]
    if not (16 <= len(nonce) <= 128) or not all(c in "0123456789abcdef" for c in nonce):
        raise AuthMalformed("nonce must be 16-128 lower-case hex characters")
    if len(raw) != 65 or raw[64] not in (27, 28):
        raise AuthMalformed("signature must be 65 bytes r|s|v with v 27 or 28")
    if req_audience != _checksum(audience):
        raise AuthWrongAudience(f"request was signed for {req_audience}, not this node")
    if abs(now - timestamp) > max_skew:
        raise AuthStale(f"timestamp {timestamp} is more than {max_skew}s from this node's clock")
    return SignedHeaders(claimed, req_audience, nonce, timestamp, raw)


def verify_signature(
    signed: SignedHeaders, method: str, path: str, query: str, body: bytes
) -> SignedRequest:
    """Check that ``signed``'s signature covers this request and is its account's."""
    msg = message(method, path, query, body, signed.audience, signed.nonce, signed.timestamp)
    raw = signed.signature
    try:
        # coincurve directly: recovery is the cost every authenticated request pays.
        public = PublicKey.from_signature_and_message(
            raw[:64] + bytes([raw[64] - 27]), _digest(msg), hasher=None
        )
    except Exception:  # coincurve raises plain Exception for unrecoverable signatures
        raise AuthBadSignature("signature does not verify") from None
    if keccak(public.format(compressed=False)[1:])[12:] != bytes.fromhex(signed.account[2:]):
        raise AuthBadSignature("signature does not match x-tanlian-account")
    return SignedRequest(signed.account, signed.nonce, signed.timestamp)


def verify_request(
    headers: Mapping[str, str],
    method: str,
    path: str,
    query: str,
    body: bytes,
    *,
    audience: str,
    now: float,
    max_skew: int,
) -> SignedRequest:
    """Check a request's signature, audience and freshness; returns who signed it.

    Replay (nonce reuse) and membership are checked by the caller, which owns that state.
    """
    signed = check_headers(headers, audience=audience, now=now, max_skew=max_skew)
    return verify_signature(signed, method, path, query, body)
