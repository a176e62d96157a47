"""The cockpit's tables in the node's database: holdings, users, sessions."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from node.db import Base


class Holding(Base):
    """A file this node holds legitimately: pulled under a grant (verified against the
    hashes on chain), or derived from such files by analytics, with its provenance."""

    __tablename__ = "holdings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    #: what it is to the cockpit (e.g. ``building_energy``, ``stats_panel``, ``index_results``)
    role: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # pulled | derived | dp_answer
    path: Mapped[str] = mapped_column(String(1024))
    sha256: Mapped[str] = mapped_column(String(66))
    size: Mapped[int] = mapped_column(BigInteger)
    recorded_at: Mapped[float] = mapped_column(Float)
    request_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    dataset_id: Mapped[str | None] = mapped_column(String(66), nullable=True)
    dataset_name: Mapped[str | None] = mapped_column(String(256), nullable=True)
    version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    grant_tx: Mapped[str | None] = mapped_column(String(66), nullable=True)
    grant_block: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    #: inputs (holding ids), method, synthetic flag, epsilon_milli for DP answers
    note: Mapped[dict] = mapped_column(JSON, default=dict)


class CockpitUser(Base):
    __tablename__ = "cockpit_users"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[float] = mapped_column(Float)


class CockpitSession(Base):
    """A logged-in browser: the cookie holds a random token, the table only its hash."""

    __tablename__ = "cockpit_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user: Mapped[str] = mapped_column(String(64), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[float] = mapped_column(Float)
    last_seen: Mapped[float] = mapped_column(Float)
