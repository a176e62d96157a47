"""The one small interface every chain backend implements, and the backend registry.

A backend moves raw, already-signed transactions and answers reads; it knows nothing of
contracts or keys. ``node.chain.client.ChainClient`` adds ABI encoding, signing, nonces
and revert decoding on top, identically for every backend.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple

from node.chain.raw import RawBlock
from node.errors import ConfigError

if TYPE_CHECKING:
    from node.settings import NodeSettings


class RawLog(NamedTuple):
    """One log as the chain reports it (a tuple: an index rebuild makes 10^5 of them, and a
    frozen dataclass costs several times as much to build)."""

    address: str  # checksummed
    topics: tuple[bytes, ...]
    data: bytes
    block_number: int
    block_hash: bytes
    tx_hash: bytes
    tx_index: int
    log_index: int


@dataclass(frozen=True)
class Receipt:
    tx_hash: bytes
    block_number: int
    block_hash: bytes
    status: int
    gas_used: int
    contract_address: str | None
    logs: tuple[RawLog, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return self.status == 1


@dataclass(frozen=True)
class BlockInfo:
    number: int
    hash: bytes
    parent_hash: bytes
    timestamp: int


@dataclass(frozen=True)
class CallResult:
    ok: bool
    data: bytes  # return data, or revert data when not ok


class ChainBackend(ABC):
    """Raw access to one chain."""

    name: ClassVar[str]
    #: Whether the chain survives a restart of this process (the conformance suite checks).
    persistent: ClassVar[bool] = True

    chain_id: int

    @abstractmethod
    def block_number(self) -> int: ...

    @abstractmethod
    def get_block(self, block: int | str = "latest") -> BlockInfo: ...

    def get_blocks(self, start: int, end: int) -> list[BlockInfo]:
        """Blocks ``start``..``end`` inclusive (backends may fetch them in one round trip)."""
        return [self.get_block(n) for n in range(start, end + 1)]

    def raw_headers(self, start: int, end: int) -> list[bytes] | None:
        """The RLP of headers ``start``..``end``, or None where the backend does not expose
        them (then a reader falls back to :meth:`get_blocks`)."""
        return None

    def raw_blocks(self, start: int, end: int) -> list[RawBlock] | None:
        """Blocks ``start``..``end`` as stored (each header's RLP, its trie-encoded
        transactions and receipts), or None where the backend does not expose them."""
        return None

    @abstractmethod
    def get_nonce(self, address: str) -> int:
        """Next nonce of ``address`` including pending transactions."""

    @abstractmethod
    def get_code(self, address: str) -> bytes: ...

    @abstractmethod
    def send_raw_transaction(self, raw: bytes) -> bytes:
        """Submit a signed transaction; returns its hash."""

    @abstractmethod
    def wait_for_receipt(self, tx_hash: bytes, timeout: float = 30.0) -> Receipt: ...

    @abstractmethod
    def call(
        self, to: str | None, data: bytes, sender: str | None = None, block: int | str = "latest"
    ) -> CallResult: ...

    @abstractmethod
    def get_logs(
        self,
        from_block: int,
        to_block: int,
        addresses: Sequence[str] = (),
        topics: Sequence[Sequence[bytes] | None] = (),
    ) -> list[RawLog]: ...

    @abstractmethod
    def fee_fields(self) -> dict[str, int]:
        """Gas-price fields for a new transaction (zero on gas-free chains)."""

    @abstractmethod
    def gas_limit_for(self, tx: dict[str, Any]) -> tuple[int, CallResult | None]:
        """Gas limit for ``tx``; may also return a revert found while estimating."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release files, sockets and processes."""


_REGISTRY: dict[str, Callable[..., ChainBackend]] = {}


def register_backend(name: str) -> Callable[[type[ChainBackend]], type[ChainBackend]]:
    def deco(cls: type[ChainBackend]) -> type[ChainBackend]:
        cls.name = name
        _REGISTRY[name] = cls
        return cls

    return deco


def backend_names() -> list[str]:
    _load_builtin()
    return sorted(_REGISTRY)


def open_backend(name: str, **options: Any) -> ChainBackend:
    """Instantiate the backend registered under ``name`` with its options."""
    _load_builtin(name)
    try:
        factory = _REGISTRY[name]
    except KeyError:
        raise ConfigError(
            f"unknown chain backend {name!r}; known: {', '.join(sorted(_REGISTRY))}"
        ) from None
    return factory(**options)


def _load_builtin(name: str | None = None) -> None:
    # Imported for their registration side effect, lazily: a node on an rpc chain never
    # loads the embedded chain's store and server.
    if name in (None, "rpc"):
        from node.chain import rpc_backend  # noqa: F401
    if name in (None, "embedded"):
        from node.chain.embedded import backend  # noqa: F401


def backend_from_settings(settings: NodeSettings) -> ChainBackend:
    """The backend a node's settings ask for."""
    chain = settings.chain
    if chain.backend == "embedded":
        from node.chain.embedded.chain import GenesisSpec

        return open_backend(
            "embedded",
            home=settings.chain_store,
            genesis=GenesisSpec(chain_id=chain.chain_id),
            fsync=chain.fsync,
        )
    return open_backend("rpc", url=chain.rpc_url, gas_price=chain.gas_price, poa=chain.poa)
