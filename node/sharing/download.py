"""Serving a RAW download while its grant holds: checked again before every 1 MiB.

Before each read of :data:`FRAME` bytes of ciphertext the owner's node reads the chain head
(``eth_blockNumber``); when it has moved since the last check, or :data:`RECHECK_SECONDS`
have passed, it asks the chain whether the grant is still usable (``AccessManager.isUsable``:
not revoked, not expired, both parties active). A revocation or a suspension is a
transaction, so it moves the head; expiry is also checked against the wall clock at every
frame. The API asks for the next frame only once the socket has taken the previous one. So
once the block with a revocation is mined, at most one more frame (1 MiB, checked just
before) leaves the node; bytes written to the socket before that may still be in the
kernel's buffers on their way to the consumer. Reading the head instead of calling the
contract at every frame keeps the check's cost to one cheap call per MiB.

Every download is logged twice in the access log: its intent (``download_intent``, written
and synced to disk together with its download-log row before the first byte is sent) and
its outcome (``download``: bytes sent, completed or cut). A node killed mid-stream thus
leaves the intent; its next start logs the outcome as :data:`INTERRUPTED`. The regulator's
audit matches both against the download log (``node.audit.verify``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from node.db import durable_session
from node.privacy.downloads import (
    ABORTED,
    COMPLETED,
    ENDED,
    INTERRUPTED,
    REVOKED,
    STARTED,
    DownloadLogStore,
)
from node.privacy.models import DownloadLog, StoredVersion
from node.sharing.contracts import RequestInfo, Sharing, State

if TYPE_CHECKING:  # the audit package reads the sharing contracts; no import back at load
    from node.audit.log import AccessLog

logger = logging.getLogger(__name__)

#: bytes of ciphertext read (and sent) between two checks of the grant
FRAME = 1 << 20
#: the grant is asked about at least this often even while the chain head stays put
RECHECK_SECONDS = 1.0


@dataclass
class Served:
    """How a download ended: bytes sent, the outcome, and for a cut the chain head at it."""

    sent: int = 0
    outcome: str = ABORTED
    cut_block: int | None = None


def stream_while_usable(
    frames: Iterable[bytes],
    sharing: Sharing,
    grant: RequestInfo,
    head: Callable[[], int],
    on_end: Callable[[Served], None],
) -> Iterator[bytes]:
    """``frames`` (each at most :data:`FRAME` bytes) for as long as ``grant`` is usable;
    ``on_end`` gets the outcome however the stream ends (done, cut, or the client gone)."""
    served = Served()
    usable, checked_head, checked_at = True, -1, 0.0
    try:
        for frame in frames:
            now_head = head()
            if now_head != checked_head or time.monotonic() - checked_at >= RECHECK_SECONDS:
                usable = sharing.is_usable(grant.id)
                checked_head, checked_at = now_head, time.monotonic()
            if not usable or time.time() >= grant.expires_at:
                revoked = sharing.request(grant.id).state == State.REVOKED
                served.outcome = REVOKED if revoked else ENDED
                served.cut_block = head()
                logger.warning(
                    "download of request %s cut after %s bytes at block %s: %s",
                    grant.id,
                    served.sent,
                    served.cut_block,
                    served.outcome,
                )
                return
            yield frame
            served.sent += len(frame)
        served.outcome = COMPLETED
    finally:
        on_end(served)


@dataclass(frozen=True)
class Intent:
    """A download logged before its first byte: its download-log row and access-log entry."""

    log_id: int
    #: None for a download whose intent entry is gone (the audit reports it)
    seq: int | None
    started_at: float
    block: int | None


def _intent_ref(log_id: int) -> str:
    return f"download-intent:{log_id}"


def log_intent(
    access_log: AccessLog,
    downloads: DownloadLogStore,
    *,
    request_id: int,
    consumer: str,
    row: StoredVersion,
    block: int,
) -> Intent:
    """Record a download about to be served: the download-log row and the access-log intent
    entry in one transaction, on disk before this returns (so before any byte leaves)."""
    with durable_session(downloads.engine) as s:
        log_id = downloads.start(
            request_id, consumer, row.dataset_id, row.version or 0, row.ciphertext_hash, session=s
        )
        started = s.get(DownloadLog, log_id)
        assert started is not None  # just added
        seq = access_log.append(
            "download_intent",
            request_id=request_id,
            consumer=consumer,
            dataset_id=row.dataset_id,
            version=row.version,
            block=block,
            ref=_intent_ref(log_id),
            session=s,
            download=log_id,
            ciphertext_sha256=row.ciphertext_hash,
        )
        assert seq is not None  # a new row id: its ref is new too
        return Intent(log_id, seq, started.started_at, block)


def log_outcome(
    access_log: AccessLog, downloads: DownloadLogStore, intent: Intent, served: Served
) -> None:
    """Record how a download ended, in the download log and as its access-log entry."""
    cut = {} if served.cut_block is None else {"cut_block": served.cut_block}
    with Session(downloads.engine) as s, s.begin():
        d = s.get(DownloadLog, intent.log_id)
        if d is None or d.outcome != STARTED:
            return  # closed already (by a restart's recovery), or its row is gone
        d.bytes_sent, d.finished_at = served.sent, time.time()
        d.completed, d.outcome = served.outcome == COMPLETED, served.outcome
        access_log.append(
            "download",
            request_id=d.request_id,
            consumer=d.consumer,
            dataset_id=d.dataset_id,
            version=d.version,
            block=intent.block,
            ref=f"download:{d.id}",
            session=s,
            started_at=round(d.started_at, 6),
            bytes=served.sent,
            outcome=served.outcome,
            ciphertext_sha256=d.ciphertext_hash,
            download=d.id,
            intent=intent.seq,
            **cut,
        )


def close_interrupted(access_log: AccessLog, downloads: DownloadLogStore) -> int:
    """At start-up, before serving: log the outcome of every download a stop of the node
    cut off (:data:`INTERRUPTED`, bytes sent unknown); how many. Its intent entry stays."""
    closed = 0
    for d in downloads.unfinished():
        entry = access_log.by_ref(_intent_ref(d.id))
        block = entry["detail"].get("block") if entry else None
        intent = Intent(d.id, entry["seq"] if entry else None, d.started_at, block)
        log_outcome(access_log, downloads, intent, Served(sent=0, outcome=INTERRUPTED))
        logger.warning(
            "download %s of request %s was cut off by a stop of this node: logged as %r",
            d.id,
            d.request_id,
            INTERRUPTED,
        )
        closed += 1
    return closed
