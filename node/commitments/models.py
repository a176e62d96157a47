"""What a node keeps of the columns it committed to."""

from __future__ import annotations

import time

from sqlalchemy import Float, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from node.db import Base


class CommittedColumn(Base):
    """One column committed to by this node, with its blinding factors sealed."""

    __tablename__ = "committed_column"

    set_id: Mapped[str] = mapped_column(String(66), primary_key=True)
    dataset_id: Mapped[str] = mapped_column(String(66), index=True)
    version: Mapped[int] = mapped_column(Integer)
    column: Mapped[str] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(64))
    packed: Mapped[bytes] = mapped_column(LargeBinary)
    #: the blinding factors, 32 bytes each, sealed to the node's own encryption key
    sealed_blindings: Mapped[bytes] = mapped_column(LargeBinary)
    anchored_tx: Mapped[str | None] = mapped_column(String(66), nullable=True)
    created_at: Mapped[float] = mapped_column(Float, default=time.time)
