"""Serving a RAW download while its grant holds: checked again before every 1 MiB.

Before each read of :data:`FRAME` bytes of ciphertext the owner's node asks the chain
whether the grant is still usable (``AccessManager.isUsable``: not revoked, not expired,
both parties active), and the API asks for the next frame only once the socket has taken
the previous one. So once the block with a revocation is mined, at most one more frame
(1 MiB, checked just before) leaves the node; bytes written to the socket before that may
still be in the kernel's buffers on their way to the consumer.
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
    try:
        for frame in frames:
            if time.time() >= grant.expires_at or not sharing.is_usable(grant.id):
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
