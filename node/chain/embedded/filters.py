"""Polled filters (``eth_newFilter``, ``eth_newBlockFilter``, ``eth_getFilterChanges``) over
an embedded chain.

A filter remembers the last block it has reported; each poll answers the blocks (or the
logs of the blocks) mined since, and moves the mark. Filters live in the chain host's
memory only, as on any Ethereum client: a restart forgets them, and a client that asks for
an unknown id is told so. They are bounded: at most ``max_filters`` at a time, one not
polled for ``idle_seconds`` is dropped, a poll covers at most ``max_poll_blocks`` blocks
and a query of every matching log at most ``max_log_range``.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from node.chain.embedded.chain import EmbeddedChain
from node.chain.errors import ChainError

MAX_FILTERS = 1_000
IDLE_SECONDS = 300.0
# blocks one poll covers at most; the mark moves only as far, so the next poll resumes there
MAX_POLL_BLOCKS = 10_000


class FilterNotFound(ChainError):
    code = "filter_not_found"
    http_status = 404


class TooManyFilters(ChainError):
    code = "too_many_filters"
    http_status = 429


class RangeTooLarge(ChainError):
    code = "invalid_input"
    http_status = 400


@dataclass(frozen=True)
class LogCriteria:
    """What a log filter matches: a block range (numbers or tags, resolved at each poll)
    or one block by hash, addresses (any) and topic positions."""

    from_block: int | str = "latest"
    to_block: int | str = "latest"
    block_hash: bytes | None = None
    addresses: tuple[bytes, ...] = ()
    topics: tuple[tuple[bytes, ...] | None, ...] = ()


@dataclass
class _Filter:
    criteria: LogCriteria | None  # None: a block filter
    last_block: int
    polled_at: float


class Filters:
    """The installed filters of one chain host; thread-safe."""

    def __init__(
        self,
        chain: EmbeddedChain,
        *,
        max_filters: int = MAX_FILTERS,
        idle_seconds: float = IDLE_SECONDS,
        max_poll_blocks: int = MAX_POLL_BLOCKS,
        max_log_range: int = MAX_POLL_BLOCKS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.chain = chain
        self.max_filters = max_filters
        self.idle_seconds = idle_seconds
        self.max_poll_blocks = max_poll_blocks
        self.max_log_range = max_log_range
        self._clock = clock
        self._lock = threading.Lock()
        self._filters: dict[int, _Filter] = {}

    def __len__(self) -> int:
        with self._lock:
            self._expire()
            return len(self._filters)

    # -- install / uninstall ------------------------------------------------------------
    def new_block_filter(self) -> int:
        return self._install(None)

    def new_log_filter(self, criteria: LogCriteria) -> int:
        if criteria.block_hash is not None:
            self.chain.get_block(criteria.block_hash)  # an unknown block is an error now
        return self._install(criteria)

    def uninstall(self, filter_id: int) -> bool:
        with self._lock:
            self._expire()
            return self._filters.pop(filter_id, None) is not None

    def _install(self, criteria: LogCriteria | None) -> int:
        head = self.chain.block_number()
        with self._lock:
            self._expire()
            if len(self._filters) >= self.max_filters:
                raise TooManyFilters(
                    f"{self.max_filters} filters are installed; uninstall one or let one expire"
                )
            # a uint without leading zeros, unguessable so that clients cannot poll each other's
            filter_id = secrets.randbits(127) | (1 << 127)
            self._filters[filter_id] = _Filter(criteria, head, self._clock())
            return filter_id

    def _expire(self) -> None:
        cutoff = self._clock() - self.idle_seconds
        for gone in [k for k, f in self._filters.items() if f.polled_at < cutoff]:
            del self._filters[gone]

    def _get(self, filter_id: int) -> _Filter:
        self._expire()
        found = self._filters.get(filter_id)
        if found is None:
            raise FilterNotFound("filter not found")
        found.polled_at = self._clock()
        return found

    # -- polls ----------------------------------------------------------------------------
    def changes(self, filter_id: int) -> tuple[str, list]:
        """What is new since the previous poll: ("blocks", hashes) or ("logs", log dicts)."""
        with self._lock:
            flt = self._get(filter_id)
            start = flt.last_block + 1
            end = min(self.chain.block_number(), flt.last_block + self.max_poll_blocks)
            flt.last_block = max(flt.last_block, end)
            criteria = flt.criteria
        if criteria is None:
            return "blocks", self.chain.block_hashes(start, end)
        if criteria.block_hash is not None:
            return "logs", []  # its one block was mined before the filter was installed
        # a tag bound ("latest") follows the head: every new block is in the filter's range
        lo = criteria.from_block if isinstance(criteria.from_block, int) else start
        hi = criteria.to_block if isinstance(criteria.to_block, int) else end
        return "logs", self._logs(criteria, max(lo, start), min(hi, end))

    def criteria(self, filter_id: int) -> LogCriteria:
        """What a log filter matches (for ``eth_getFilterLogs``); the poll mark stays."""
        with self._lock:
            criteria = self._get(filter_id).criteria
        if criteria is None:
            raise FilterNotFound("filter not found: it is a block filter, not a log filter")
        return criteria

    def logs(self, filter_id: int) -> list[dict]:
        """Every log the filter matches now."""
        return self.matching(self.criteria(filter_id))

    def matching(self, criteria: LogCriteria) -> list[dict]:
        """The logs matching ``criteria`` on the chain as it is now (one query spans at
        most ``max_log_range`` blocks)."""
        if criteria.block_hash is not None:
            number = self.chain.get_block(criteria.block_hash)["number"]
            return self._logs(criteria, number, number)
        lo, hi = self._range(criteria)
        if hi - lo > self.max_log_range:
            raise RangeTooLarge(f"block range larger than {self.max_log_range}")
        return self._logs(criteria, lo, hi)

    def _range(self, criteria: LogCriteria) -> tuple[int, int]:
        head = self.chain.block_number()
        return _resolve(criteria.from_block, head), _resolve(criteria.to_block, head)

    def _logs(self, criteria: LogCriteria, start: int, end: int) -> list[dict]:
        if end < start:
            return []
        topics: Sequence[Sequence[bytes] | None] = criteria.topics
        return self.chain.get_logs(start, end, criteria.addresses, topics)


def _resolve(block: int | str, head: int) -> int:
    if isinstance(block, int):
        return block
    return 0 if block == "earliest" else head
