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
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from node.sharing.contracts import RequestInfo, Sharing, State

logger = logging.getLogger(__name__)

#: bytes of ciphertext read (and sent) between two checks of the grant
FRAME = 1 << 20
#: the grant is asked about at least this often even while the chain head stays put
RECHECK_SECONDS = 1.0

COMPLETED = "completed"
ABORTED = "aborted"
REVOKED = "grant revoked during transfer"
ENDED = "grant ended during transfer"


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
