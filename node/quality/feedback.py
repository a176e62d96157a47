"""Feedback on a dataset version: what is signed, who is in an anonymous ring, and the
checks the owner's node runs before it anchors a feedback.

Named feedback is filed on chain by the consumer's own account; its text then goes to the
owner's node in a signed request, which stores it once the chain shows a feedback of that
text's hash by that caller. Anonymous feedback goes to the owner's node with a bLSAG ring
signature (:mod:`node.privacy.ring`) over the feedback keys of the dataset's *active
consumers* (an authorized or released grant that has not expired); the node checks it,
stores text, ring and signature, and files it on chain itself with the signature's key
image, which the catalog refuses twice on one version. The request carries no account
signature (that would name the filer): the ring signature is its authentication, and the
key image is its replay guard.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from node.errors import InvalidInput
from node.privacy import ring
from node.quality.documents import canonical_json
from node.quality.ledger import CATEGORIES

#: a ring smaller than this names its signer too nearly (one other member: a coin toss)
MIN_RING = 2
#: a dataset's active consumers are few; this bounds what a verifier checks before a body
#: is accepted (node.api.routes.quality sizes its body limit on it)
MAX_FEEDBACK_RING = 64
MAX_TEXT = 4000
#: grants whose holders count as a dataset's active consumers
ACTIVE_STATES = ("authorized", "released")


def ring_secret(account_secret: bytes) -> bytes:
    """The feedback ring key's secret scalar, derived from the account key, never stored."""
    seed = hmac.new(account_secret, b"tanlian/feedback-ring-key/v1", hashlib.sha512).digest()
    return ring.keypair(seed)[0]


def ring_public(account_secret: bytes) -> bytes:
    return ring.public_key(ring_secret(account_secret))


def text_hash(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


def message(dataset_id: str, version: int, category: str, text_sha256: bytes) -> bytes:
    """The bytes a ring signature signs: the feedback's every field, canonical."""
    return canonical_json(
        {
            "purpose": "tanlian/anonymous-feedback/v1",
            "dataset_id": dataset_id.lower(),
            "version": version,
            "category": category,
            "text_sha256": "0x" + text_sha256.hex(),
        }
    )


def active_consumers(requests: Iterable[dict[str, Any]], dataset_id: str, now: int) -> set[str]:
    """Accounts holding a live grant on ``dataset_id`` (the request view's dicts)."""
    return {
        r["consumer"]
        for r in requests
        if r["dataset_id"].lower() == dataset_id.lower()
        and r["state"] in ACTIVE_STATES
        and (r["expires_at"] is None or r["expires_at"] > now)
    }


def ring_for(consumers: Iterable[str], keys: dict[str, bytes]) -> list[bytes]:
    """The ring of ``consumers`` that registered a feedback key, in canonical order."""
    found = {keys[c] for c in consumers if c in keys}
    return sorted(found)


class AnonymousFeedback(BaseModel):
    """What a consumer sends the owner's node to file feedback without its name."""

    model_config = ConfigDict(extra="forbid")
    dataset_id: str = Field(pattern=r"^0x[0-9a-fA-F]{64}$")
    version: int = Field(ge=1, le=2**32 - 1)
    category: str
    text: str = Field(min_length=1, max_length=MAX_TEXT)
    ring: list[str] = Field(min_length=MIN_RING, max_length=MAX_FEEDBACK_RING)
    signature: str = Field(pattern=r"^0x[0-9a-fA-F]+$", max_length=2 + 64 * (2 + MAX_FEEDBACK_RING))

    @field_validator("category")
    @classmethod
    def _category(cls, v: str) -> str:
        if v not in CATEGORIES:
            raise ValueError(f"one of {', '.join(CATEGORIES)}")
        return v

    @field_validator("ring")
    @classmethod
    def _keys(cls, v: list[str]) -> list[str]:
        for k in v:
            if len(k) != 66 or not k.startswith("0x"):
                raise ValueError("ring keys are 0x-prefixed 32-byte hex")
            bytes.fromhex(k[2:])
        return [k.lower() for k in v]

    def ring_bytes(self) -> list[bytes]:
        return [bytes.fromhex(k[2:]) for k in self.ring]

    def signed_message(self) -> bytes:
        return message(self.dataset_id, self.version, self.category, text_hash(self.text))


def sign_anonymous(
    account_secret: bytes,
    dataset_id: str,
    version: int,
    category: str,
    text: str,
    ring_keys: list[bytes],
) -> AnonymousFeedback:
    """The consumer's side: sign for ``ring_keys`` (which must hold its own key)."""
    secret = ring_secret(account_secret)
    if ring.public_key(secret) not in ring_keys:
        raise InvalidInput(
            "this department is not among the dataset's active consumers with a feedback "
            "key: anonymous feedback needs a live grant on it"
        )
    if len(ring_keys) < MIN_RING:
        raise InvalidInput(
            f"the dataset has {len(ring_keys)} active consumer(s) with a feedback key; "
            f"anonymity needs a ring of at least {MIN_RING}: file it under your name instead"
        )
    msg = message(dataset_id, version, category, text_hash(text))
    sig = ring.sign(msg, ring_keys, secret)
    return AnonymousFeedback(
        dataset_id=dataset_id,
        version=version,
        category=category,
        text=text,
        ring=["0x" + k.hex() for k in ring.canonical_ring(ring_keys)],
        signature="0x" + sig.to_bytes().hex(),
    )


def check_anonymous(feedback: AnonymousFeedback, allowed: set[bytes]) -> tuple[bytes, bytes]:
    """The owner's side: the ring must be made of active consumers' keys and the signature
    must verify; (key image, ring document bytes) to anchor and store."""
    keys = feedback.ring_bytes()
    outsiders = [k for k in keys if k not in allowed]
    if outsiders:
        raise ring.RingSignatureError(
            f"{len(outsiders)} key(s) of the ring are not feedback keys of the dataset's "
            "active consumers"
        )
    sig = ring.RingSignature.from_bytes(bytes.fromhex(feedback.signature[2:]), len(keys))
    ring.verify(feedback.signed_message(), keys, sig)
    doc = canonical_json(
        {
            "ring": sorted(feedback.ring),
            "signature": feedback.signature.lower(),
            "message": feedback.signed_message().decode(),
        }
    )
    return sig.key_image, doc
