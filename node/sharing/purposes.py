"""Applicants' purposes: the text stays at the applicant's node, only its hash goes on chain.

The applicant's command records the text in its own node's database before it applies; the
applicant's node serves it to the request's owner, its possible reviewers and regulators
(``GET /v1/access/{id}/purpose``), who check it against the purpose hash on chain.
"""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Engine, Float, String, Text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from node.db import Base
from node.errors import InvalidInput, TanlianError
from node.sharing.contracts import purpose_hash

#: long enough for a paragraph, short enough for a table cell and a 1 KiB-bounded node
MAX_PURPOSE_CHARS = 2000


class Purpose(Base):
    """A purpose this node's department applied with, by its hash (keccak-256 of the text)."""

    __tablename__ = "access_purpose"

    hash: Mapped[str] = mapped_column(String(66), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[float] = mapped_column(Float)


class PurposeMismatch(TanlianError):
    code = "purpose_mismatch"
    http_status = 502


def checked_purpose(text: str) -> str:
    """The purpose as it will be hashed; an empty or overlong one is refused."""
    if not text.strip():
        raise InvalidInput('give the purpose of the request (--purpose "…"): it may not be empty')
    if len(text) > MAX_PURPOSE_CHARS:
        raise InvalidInput(f"the purpose has {len(text)} characters; at most {MAX_PURPOSE_CHARS}")
    return text


def record(engine: Engine, text: str) -> str:
    """Keep ``text`` (before the application that carries its hash is sent); its hash."""
    digest = "0x" + purpose_hash(checked_purpose(text)).hex()
    row = {"hash": digest, "text": text, "recorded_at": time.time()}
    insert = pg_insert if engine.dialect.name == "postgresql" else sqlite_insert
    with Session(engine) as s, s.begin():
        s.execute(insert(Purpose).values(**row).on_conflict_do_nothing(index_elements=["hash"]))
    return digest


def find(engine: Engine, digest: str) -> str | None:
    with Session(engine) as s:
        row = s.get(Purpose, digest.lower())
        return None if row is None else row.text


def verified(answer: dict[str, Any], expected_hash: str) -> str:
    """The purpose text another node served, if it hashes to the one on chain."""
    text = answer.get("purpose")
    if not isinstance(text, str) or "0x" + purpose_hash(text).hex() != expected_hash.lower():
        raise PurposeMismatch("the applicant's node served a purpose that is not the one on chain")
    return text


def fetch(key: bytes, applicant: dict[str, Any], request_id: int, expected_hash: str) -> str:
    """The purpose of request ``request_id``, asked of the applicant's node (``applicant``:
    its registry entry, address and endpoint) in a request signed with ``key``, and checked
    against ``expected_hash`` from the chain."""
    from node.peer.client import NodeClient

    with NodeClient(applicant["endpoint"], key, audience=applicant["address"], timeout=10) as c:
        return verified(c.get(f"/v1/access/{request_id}/purpose"), expected_hash)
