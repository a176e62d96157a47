"""The node's access log: append entries, anchor them in Merkle batches, prove any entry.

Anchoring takes the oldest unanchored entries in order, sends their root to AuditLog, and
only then marks them with their batch and leaf in one database transaction. A crash between
the two leaves a batch on chain that the database does not know; the next run recomputes
the root over the same entries and adopts the batch when it matches.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from typing import Any

import orjson
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from node.audit import merkle
from node.audit.contracts import AuditAnchors
from node.audit.models import AccessLogEntry, LogBatch

logger = logging.getLogger(__name__)
MAX_BATCH = 10_000
HASHED_FIELDS = ("at", "kind", "request_id", "consumer", "dataset_id", "version", "detail")


def entry_hash(entry: dict[str, Any]) -> bytes:
    """SHA-256 of an entry's canonical JSON (its content, not its position)."""
    body = {k: entry[k] for k in HASHED_FIELDS}
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).digest()


ENTRY_FIELDS = (
    "seq",
    "at",
    "kind",
    "request_id",
    "consumer",
    "dataset_id",
    "version",
    "detail",
    "entry_hash",
    "batch",
    "leaf",
)


def as_dict(row: AccessLogEntry) -> dict[str, Any]:
    return {k: getattr(row, k) for k in ENTRY_FIELDS}


class AccessLog:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._anchoring = threading.Lock()

    def append(
        self,
        kind: str,
        *,
        request_id: int | None = None,
        consumer: str | None = None,
        dataset_id: str | None = None,
        version: int | None = None,
        at: float | None = None,
        block: int | None = None,
        ref: str | None = None,
        session: Session | None = None,
        **detail: Any,
    ) -> int | None:
        """Log one entry; None when an entry with the same ``ref`` exists already.

        ``block`` is the chain head the node acted on: the auditor judges the grant as it
        stood at that block (chain time can run ahead of wall-clock time; after a quiet
        period the head can be minutes old). ``at`` is when the act happened, now unless
        given: an entry written after its act (an approval found in the index after a
        restart) also carries ``logged_at``, the wall-clock time it was written, because
        the auditor times anchoring from when the node could first have anchored it.
        ``session``: write within that open transaction (committed by its owner) instead of
        one of its own, so that the entry lands together with the act's other rows."""
        if block is not None:
            detail["block"] = block
        now = time.time()
        if at is not None:
            detail.setdefault("logged_at", round(now, 6))
        entry = {
            # a float always: the hash is over the value as the database gives it back
            "at": round(float(now if at is None else at), 6),
            "kind": kind,
            "request_id": request_id,
            "consumer": consumer,
            "dataset_id": dataset_id,
            "version": version,
            "detail": detail,
        }
        if session is not None:
            return self._insert(session, entry, ref)
        with Session(self.engine) as s, s.begin():
            return self._insert(s, entry, ref)

    @staticmethod
    def _insert(s: Session, entry: dict[str, Any], ref: str | None) -> int | None:
        if ref is not None and s.scalar(
            select(AccessLogEntry.seq).where(AccessLogEntry.ref == ref)
        ):
            return None
        row = AccessLogEntry(**entry, ref=ref, entry_hash="0x" + entry_hash(entry).hex())
        s.add(row)
        s.flush()
        return row.seq

    # -- anchoring -------------------------------------------------------------------------
    def anchor(self, anchors: AuditAnchors, me: str, *, limit: int | None = None) -> list[int]:
        """Anchor every unanchored entry (in batches of at most MAX_BATCH); the batch seqs.
        ``limit`` anchors one batch of at most that many entries and stops."""
        done: list[int] = []
        with self._anchoring:
            while True:
                with Session(self.engine) as s:
                    pending = list(
                        s.scalars(
                            select(AccessLogEntry)
                            .where(AccessLogEntry.batch.is_(None))
                            .order_by(AccessLogEntry.seq)
                            .limit(min(MAX_BATCH, limit or MAX_BATCH))
                        )
                    )
                    known = s.scalar(select(func.count()).select_from(LogBatch)) or 0
                if not pending:
                    return done
                on_chain = anchors.batch_count(me)
                if on_chain > known:
                    self._adopt(anchors, me, known, pending)
                    continue
                leaves = [merkle.leaf_hash(bytes.fromhex(e.entry_hash[2:])) for e in pending]
                root = merkle.root(leaves)
                first = int(min(e.at for e in pending))
                last = int(max(e.at for e in pending))
                tx = anchors.anchor(known, root, len(pending), first, last)
                self._mark(known, pending, root, first, last, tx.tx_hash)
                done.append(known)
                if limit is not None:
                    return done

    def _adopt(
        self, anchors: AuditAnchors, me: str, seq: int, pending: list[AccessLogEntry]
    ) -> None:
        batch = anchors.batch(me, seq)
        entries = pending[: batch.count]
        leaves = [merkle.leaf_hash(bytes.fromhex(e.entry_hash[2:])) for e in entries]
        if len(entries) != batch.count or merkle.root(leaves) != batch.root:
            raise RuntimeError(
                f"batch {seq} on chain does not match this node's unanchored entries: "
                "the log was changed after anchoring"
            )
        self._mark(seq, entries, batch.root, batch.first_at, batch.last_at, "recovered")
        logger.info("adopted log batch %s anchored before a restart", seq)

    def _mark(
        self,
        seq: int,
        entries: list[AccessLogEntry],
        root: bytes,
        first: int,
        last: int,
        tx: str,
    ) -> None:
        with Session(self.engine) as s, s.begin():
            s.add(
                LogBatch(
                    seq=seq,
                    root="0x" + root.hex(),
                    count=len(entries),
                    first_at=first,
                    last_at=last,
                    tx=tx,
                    anchored_at=time.time(),
                )
            )
            for leaf, e in enumerate(entries):
                row = s.get(AccessLogEntry, e.seq)
                assert row is not None
                row.batch, row.leaf = seq, leaf

    # -- reading ---------------------------------------------------------------------------
    def entries(self) -> list[dict[str, Any]]:
        # plain rows, not ORM objects: an audit reads 10^5 entries at a time
        columns = [getattr(AccessLogEntry, c) for c in ENTRY_FIELDS]
        with self.engine.connect() as conn:
            rows = conn.execute(select(*columns).order_by(AccessLogEntry.seq))
            return [dict(zip(ENTRY_FIELDS, r, strict=True)) for r in rows]

    def by_ref(self, ref: str) -> dict[str, Any] | None:
        """The entry logged under ``ref``, if any."""
        with Session(self.engine) as s:
            row = s.scalar(select(AccessLogEntry).where(AccessLogEntry.ref == ref))
            return None if row is None else as_dict(row)

    def batches(self) -> list[dict[str, Any]]:
        # plain rows too: a node anchoring at every access has one batch per entry
        fields = ("seq", "root", "count", "first_at", "last_at", "tx")
        columns = [getattr(LogBatch, c) for c in fields]
        with self.engine.connect() as conn:
            rows = conn.execute(select(*columns).order_by(LogBatch.seq))
            return [dict(zip(fields, r, strict=True)) for r in rows]

    def proof(self, seq: int) -> dict[str, Any] | None:
        """An entry with the inclusion proof of its leaf in its anchored batch."""
        with Session(self.engine) as s:
            row = s.get(AccessLogEntry, seq)
            if row is None:
                return None
            if row.batch is None:
                return {"entry": as_dict(row), "batch": None, "proof": []}
            batch = list(
                s.scalars(
                    select(AccessLogEntry)
                    .where(AccessLogEntry.batch == row.batch)
                    .order_by(AccessLogEntry.leaf)
                )
            )
        leaves = [merkle.leaf_hash(bytes.fromhex(e.entry_hash[2:])) for e in batch]
        assert row.leaf is not None
        return {
            "entry": as_dict(row),
            "batch": row.batch,
            "size": len(leaves),
            "proof": ["0x" + p.hex() for p in merkle.proof(leaves, row.leaf)],
        }
