"""SQL tables of the event index."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from node.db import Base

MAX_INDEXED_ARGS = 3  # the EVM allows three indexed arguments per event


class IndexCursor(Base):
    """How far an index has read a chain, and which chain it was."""

    __tablename__ = "index_cursor"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    chain_id: Mapped[int] = mapped_column(BigInteger)
    genesis_hash: Mapped[str] = mapped_column(String(66))
    block_number: Mapped[int] = mapped_column(BigInteger)
    block_hash: Mapped[str] = mapped_column(String(66))


class WatchedContract(Base):
    """A contract whose events are indexed, with the artifact that decodes them."""

    __tablename__ = "index_contract"

    address: Mapped[str] = mapped_column(String(42), primary_key=True)
    artifact: Mapped[str] = mapped_column(String(128))
    from_block: Mapped[int] = mapped_column(BigInteger, default=0)


class ChainEvent(Base):
    """One decoded contract event. ``arg0..arg2`` hold the indexed arguments as text."""

    __tablename__ = "chain_event"
    __table_args__ = (
        UniqueConstraint("block_number", "log_index", name="uq_event_position"),
        # Each argument index also carries the result order, so that a lookup by
        # argument never falls back to scanning the contract's events in order.
        Index("ix_event_arg0", "address", "event", "arg0", "block_number", "log_index"),
        Index("ix_event_arg1", "address", "event", "arg1", "block_number", "log_index"),
        Index("ix_event_arg2", "address", "event", "arg2", "block_number", "log_index"),
        Index("ix_event_block", "address", "event", "block_number", "log_index"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    block_number: Mapped[int] = mapped_column(BigInteger)
    block_hash: Mapped[str] = mapped_column(String(66))
    tx_hash: Mapped[str] = mapped_column(String(66), index=True)
    tx_index: Mapped[int] = mapped_column(Integer)
    log_index: Mapped[int] = mapped_column(Integer)
    address: Mapped[str] = mapped_column(String(42))
    contract: Mapped[str] = mapped_column(String(128))
    event: Mapped[str] = mapped_column(String(128))
    args: Mapped[dict[str, Any]] = mapped_column(JSON)
    arg0: Mapped[str | None] = mapped_column(String(80), nullable=True)
    arg1: Mapped[str | None] = mapped_column(String(80), nullable=True)
    arg2: Mapped[str | None] = mapped_column(String(80), nullable=True)
