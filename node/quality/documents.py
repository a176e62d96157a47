"""The owner node's quality documents, stored by their SHA-256.

Table Schemas, validation and review reports, catalog metadata, feedback texts and answers,
and the rings and signatures of anonymous feedback: what the chain anchors by hash and any
member may fetch and check against it. A document is written (durably) before the
transaction that anchors its hash, so an anchored hash always has its document; writing
the same bytes twice is a no-op.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import orjson
from sqlalchemy import Float, LargeBinary, String, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, Session, mapped_column

from node.db import Base, durable_session
from node.errors import NotFound

#: what a document may be
KINDS = (
    "table-schema",
    "validation-report",
    "review-report",
    "metadata",
    "feedback",
    "answer",
    "ring",
    # read from another member's node and checked against its hash
    "fetched",
)


class QualityDocument(Base):
    __tablename__ = "quality_document"

    sha256: Mapped[str] = mapped_column(String(66), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    stored_at: Mapped[float] = mapped_column(Float)


def canonical_json(doc: Any) -> bytes:
    """The bytes a JSON document is hashed as: sorted keys, no spaces, UTF-8."""
    return orjson.dumps(doc, option=orjson.OPT_SORT_KEYS)


def digest(body: bytes) -> bytes:
    return hashlib.sha256(body).digest()


class DocumentStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def put(self, kind: str, body: bytes) -> bytes:
        """Store ``body`` durably (before its hash goes on chain); its SHA-256."""
        assert kind in KINDS, kind
        sha = digest(body)
        key = "0x" + sha.hex()
        with durable_session(self.engine) as s:
            if s.get(QualityDocument, key) is None:
                s.add(QualityDocument(sha256=key, kind=kind, body=body, stored_at=time.time()))
        return sha

    def put_json(self, kind: str, doc: Any) -> bytes:
        return self.put(kind, canonical_json(doc))

    def get(self, sha256: str) -> tuple[str, bytes]:
        with Session(self.engine) as s:
            row = s.scalar(select(QualityDocument).where(QualityDocument.sha256 == sha256.lower()))
        if row is None:
            raise NotFound(f"this node holds no document {sha256}")
        return row.kind, row.body

    def get_json(self, sha256: str) -> Any:
        return orjson.loads(self.get(sha256)[1])
