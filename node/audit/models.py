"""The node's access log and its anchored batches (SQL)."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Float, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from node.db import Base


class AccessLogEntry(Base):
    """One thing this node did with its data: a download served, a DP answer given or
    refused, a decision taken. Its hash goes into a Merkle batch anchored on chain."""

    __tablename__ = "access_log"
    # the anchoring query: the oldest unanchored entries, in order
    __table_args__ = (Index("ix_access_log_batch_seq", "batch", "seq"),)

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[float] = mapped_column(Float)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    request_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True, index=True)
    consumer: Mapped[str | None] = mapped_column(String(42), nullable=True)
    dataset_id: Mapped[str | None] = mapped_column(String(66), nullable=True)
    version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    detail: Mapped[dict] = mapped_column(JSON)
    #: what makes a logged event unique (a transaction hash): replays of it are not logged
    ref: Mapped[str | None] = mapped_column(String(80), nullable=True, index=True)
    entry_hash: Mapped[str] = mapped_column(String(66))
    batch: Mapped[int | None] = mapped_column(Integer, nullable=True)
    leaf: Mapped[int | None] = mapped_column(Integer, nullable=True)


class LogBatch(Base):
    __tablename__ = "access_log_batch"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    root: Mapped[str] = mapped_column(String(66))
    count: Mapped[int] = mapped_column(Integer)
    first_at: Mapped[int] = mapped_column(BigInteger)
    last_at: Mapped[int] = mapped_column(BigInteger)
    tx: Mapped[str] = mapped_column(String(66))
    anchored_at: Mapped[float] = mapped_column(Float)
