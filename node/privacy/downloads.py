"""The log of served downloads (who, which version, when, bytes, hash, outcome)."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from node.privacy.models import DownloadLog

#: the outcome of a download row until its stream ends
STARTED = "started"
COMPLETED = "completed"
ABORTED = "aborted"
REVOKED = "grant revoked during transfer"
ENDED = "grant ended during transfer"
#: the outcome a restarted node gives a download its stop cut off (bytes sent unknown)
INTERRUPTED = "interrupted: the node stopped mid-stream"


class DownloadLogStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def start(
        self,
        request_id: int,
        consumer: str,
        dataset_id: str,
        version: int,
        ciphertext_hash: str,
        *,
        session: Session,
    ) -> int:
        """Record a download about to start, within ``session``'s transaction (the caller
        commits it together with the access log's intent entry)."""
        row = DownloadLog(
            request_id=request_id,
            consumer=consumer,
            dataset_id=dataset_id,
            version=version,
            ciphertext_hash=ciphertext_hash,
            started_at=time.time(),
            bytes_sent=0,
            completed=False,
            outcome=STARTED,
        )
        session.add(row)
        session.flush()
        return row.id

    def finish(self, log_id: int, sent: int, outcome: str) -> None:
        with Session(self.engine) as s, s.begin():
            row = s.get(DownloadLog, log_id)
            if row is not None:
                row.bytes_sent, row.finished_at = sent, time.time()
                row.completed, row.outcome = outcome == "completed", outcome

    def unfinished(self) -> list[DownloadLog]:
        """Downloads with no outcome yet: in flight, or cut off by a stop of the node."""
        with Session(self.engine) as s:
            return list(s.scalars(select(DownloadLog).where(DownloadLog.outcome == STARTED)))

    def all(self) -> list[dict[str, Any]]:
        with Session(self.engine) as s:
            return [
                {
                    "id": r.id,
                    "request_id": r.request_id,
                    "consumer": r.consumer,
                    "dataset_id": r.dataset_id,
                    "version": r.version,
                    "ciphertext_sha256": r.ciphertext_hash,
                    "bytes": r.bytes_sent,
                    "started_at": r.started_at,
                    "finished_at": r.finished_at,
                    "completed": r.completed,
                    "outcome": r.outcome,
                }
                for r in s.scalars(select(DownloadLog).order_by(DownloadLog.id))
            ]
