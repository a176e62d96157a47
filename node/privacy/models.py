"""SQL tables of the owner's encrypted store and of served downloads."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Boolean, Float, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from node.db import Base


class StoredVersion(Base):
    """One encrypted dataset version in this node's blob store.

    ``state`` is 'stored' between the blob being written and the version being anchored on
    chain, then 'anchored'. Only anchored versions are ever listed or served.
    """

    __tablename__ = "stored_version"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), index=True)
    dataset_id: Mapped[str] = mapped_column(String(66), index=True)
    version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    format: Mapped[str] = mapped_column(String(16))
    plaintext_hash: Mapped[str] = mapped_column(String(66))
    ciphertext_hash: Mapped[str] = mapped_column(String(66), index=True)
    schema_hash: Mapped[str] = mapped_column(String(66))
    plaintext_size: Mapped[int] = mapped_column(BigInteger)
    ciphertext_size: Mapped[int] = mapped_column(BigInteger)
    # The data key, sealed to this node's own X25519 key: never stored in clear.
    sealed_data_key: Mapped[bytes] = mapped_column(LargeBinary)
    state: Mapped[str] = mapped_column(String(16))
    #: what the owner declares public for DP queries (bounds, public keys), if anything
    dp_metadata: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    anchor_tx: Mapped[str | None] = mapped_column(String(66), nullable=True)
    created_at: Mapped[float] = mapped_column(Float)
    #: the encoding the owner's file was saved in (the stored form is always UTF-8): a GBK
    #: spreadsheet from Excel says so here, for the owner and the auditor
    source_encoding: Mapped[str] = mapped_column(String(32), default="utf-8")


class DownloadLog(Base):
    """Every ciphertext download this node served (for the regulator's audit)."""

    __tablename__ = "download_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(BigInteger, index=True)
    consumer: Mapped[str] = mapped_column(String(42), index=True)
    dataset_id: Mapped[str] = mapped_column(String(66))
    version: Mapped[int] = mapped_column(Integer)
    ciphertext_hash: Mapped[str] = mapped_column(String(66))
    bytes_sent: Mapped[int] = mapped_column(BigInteger, default=0)
    started_at: Mapped[float] = mapped_column(Float)
    finished_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    completed: Mapped[bool] = mapped_column(Boolean, default=False)
    outcome: Mapped[str] = mapped_column(String(64), default="started")


class QueryArchive(Base):
    """Every DP answer this node gave: for its consumer, its owner and regulators."""

    __tablename__ = "dp_query_archive"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(BigInteger, index=True)
    consumer: Mapped[str] = mapped_column(String(42), index=True)
    dataset_id: Mapped[str] = mapped_column(String(66))
    version: Mapped[int] = mapped_column(Integer)
    spec: Mapped[dict] = mapped_column(JSON)
    epsilon: Mapped[float] = mapped_column(Float)
    result: Mapped[str] = mapped_column(Text)
    query_hash: Mapped[str] = mapped_column(String(66))
    result_hash: Mapped[str] = mapped_column(String(66))
    spend_tx: Mapped[str] = mapped_column(String(66))
    answered_at: Mapped[float] = mapped_column(Float)


class PendingAnswer(Base):
    """A DP answer computed and about to be paid for (node.sharing.spends).

    Written durably before the spend is sent, with the query and result hashes the spend
    carries, so that a node killed between the spend being mined and the answer being
    archived finds the spend on chain again when it restarts: 'pending' until then,
    'done' once archived and logged, 'abandoned' when its spend can no longer land.
    """

    __tablename__ = "dp_pending_answer"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: a random key, known to the process that is sending the spend before the row exists
    key: Mapped[str] = mapped_column(String(32), unique=True)
    state: Mapped[str] = mapped_column(String(16), index=True)
    request_id: Mapped[int] = mapped_column(BigInteger, index=True)
    consumer: Mapped[str] = mapped_column(String(42))
    dataset_id: Mapped[str] = mapped_column(String(66))
    version: Mapped[int] = mapped_column(Integer)
    spec: Mapped[dict] = mapped_column(JSON)
    #: as in QueryArchive: milli/1000 reads back as the same decimal, exactly
    epsilon: Mapped[float] = mapped_column(Float)
    result: Mapped[str] = mapped_column(Text)
    query_hash: Mapped[str] = mapped_column(String(66))
    result_hash: Mapped[str] = mapped_column(String(66))
    created_at: Mapped[float] = mapped_column(Float)
    spend_tx: Mapped[str | None] = mapped_column(String(66), nullable=True)
    settled_at: Mapped[float | None] = mapped_column(Float, nullable=True)
