"""What a chain host accepts from its clients: calls' gas and time, and writes' rate.

Anyone who can reach a chain host can call it, so one client must not be able to hold the
chain (a call that loops) or take all its time (writes, limited per sender account). The
chain's clock is kept within a bound of the wall clock by the chain itself: each block is at
least one second after its parent, so past the bound writes are gathered into one block a
second instead of running the chain's time ahead, where every grant would expire early
(EmbeddedChain.submit). An in-process chain, which only its own node writes to, runs
without these limits.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from node.chain.errors import ChainError, WriteRefused

#: geth's default ``--rpc.gascap``: no eth_call or eth_estimateGas gets more gas.
CALL_GAS_CAP = 50_000_000
#: Wall time one eth_call (or a whole eth_estimateGas) may run while it holds the chain.
CALL_SECONDS = 2.0
#: How far the next block's timestamp may be ahead of the host's wall clock: a burst of
#: writes gets a block each up to this lead; past it, writes share one block a second.
MAX_CLOCK_AHEAD_SECONDS = 600
#: Writes (eth_sendRawTransaction) per sender account: sustained rate and burst. A node
#: spends one transaction per DP answer, so its account writes as fast as it answers.
WRITES_PER_SECOND = 50.0
WRITE_BURST = 500


@dataclass(frozen=True)
class ChainLimits:
    """The limits of a served chain; ``None`` switches one off."""

    call_gas_cap: int | None = CALL_GAS_CAP
    call_seconds: float | None = CALL_SECONDS
    max_clock_ahead_seconds: int | None = MAX_CLOCK_AHEAD_SECONDS
    writes_per_second: float | None = WRITES_PER_SECOND
    write_burst: int = WRITE_BURST

    def __post_init__(self) -> None:
        for name in ("call_gas_cap", "call_seconds", "max_clock_ahead_seconds"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise ValueError(f"{name} must be positive (or None for no limit)")
        if self.writes_per_second is not None and self.writes_per_second <= 0:
            raise ValueError("writes_per_second must be positive (or None for no limit)")
        if self.write_burst < 1:
            raise ValueError("write_burst must be at least 1")


#: An in-process chain: no limits (its node is its only client).
UNLIMITED = ChainLimits(
    call_gas_cap=None, call_seconds=None, max_clock_ahead_seconds=None, writes_per_second=None
)


class CallTimedOut(ChainError):
    """A call ran past its time limit and was stopped (the chain is unchanged)."""

    code = "chain_call_timeout"
    http_status = 504


class DeadlinePassed(Exception):
    """Raised inside the EVM to unwind a call; not a VMError, so no frame swallows it."""


# Every long computation jumps back or calls on (code without jumps is at most 24 KiB):
# checking the clock at these opcodes stops any of them.
_CHECKED_OPCODES = (0x56, 0x57, 0xF0, 0xF1, 0xF2, 0xF4, 0xF5, 0xFA)
_deadline = threading.local()


@contextmanager
def deadline_at(deadline: float | None) -> Iterator[None]:
    """Computations of timed_computation classes run in this thread until ``deadline``
    (time.monotonic; None: no limit) raise DeadlinePassed past it."""
    _deadline.at = deadline
    try:
        yield
    finally:
        _deadline.at = None


@functools.cache
def timed_computation(base: type) -> type:
    """A subclass of the EVM computation class ``base`` that stops at this thread's
    deadline_at; its child calls run as the same class."""

    def checked(fn: Callable[..., Any]) -> Callable[..., Any]:
        def run(computation: Any) -> None:
            at = getattr(_deadline, "at", None)
            if at is not None and time.monotonic() > at:
                raise DeadlinePassed
            fn(computation=computation)

        return run

    opcodes = dict(base.opcodes)
    for op in _CHECKED_OPCODES:
        if op in opcodes:
            opcodes[op] = checked(opcodes[op])
    return type(f"Timed{base.__name__}", (base,), {"opcodes": opcodes})


class WriteAdmission:
    """Per-account token buckets, checked before a write executes (under the chain's lock)."""

    #: Idle buckets are dropped past this many accounts (they are full again anyway).
    MAX_TRACKED = 10_000

    def __init__(self, limits: ChainLimits) -> None:
        self.limits = limits
        self._buckets: dict[bytes, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, sender: bytes, who: str | None = None) -> None:
        """Spend one write of ``sender``'s bucket, or refuse (``who`` names the bucket's
        owner in the refusal: the account by default)."""
        rate = self.limits.writes_per_second
        if rate is None:
            return
        burst = float(self.limits.write_burst)
        with self._lock:
            now = time.monotonic()
            tokens, at = self._buckets.get(sender, (burst, now))
            tokens = min(burst, tokens + (now - at) * rate)
            if tokens < 1.0:
                wait = (1.0 - tokens) / rate
                raise WriteRefused(
                    f"{who or f'account 0x{sender.hex()}'}: more than {rate:g} "
                    "transactions a second "
                    f"(burst {self.limits.write_burst}); retry in {wait:.1f} s",
                    reason="rate_limited",
                    retry_after=round(wait, 3),
                )
            self._buckets[sender] = (tokens - 1.0, now)
            if len(self._buckets) > self.MAX_TRACKED:
                self._forget_idle(now, burst, rate)

    def _forget_idle(self, now: float, burst: float, rate: float) -> None:
        full = [a for a, (t, at) in self._buckets.items() if t + (now - at) * rate >= burst]
        for address in full:
            del self._buckets[address]
