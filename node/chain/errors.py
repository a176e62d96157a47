"""Errors of the chain layer (backends, contracts, indexer)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from node.errors import TanlianError

#: Plain words for a contract's custom errors, registered by the module that wraps the
#: contract (it knows the enums and units): error name → args → sentence, or None when the
#: arguments are not the ones it knows (two contracts may use one error name).
_PLAIN: dict[str, list[Callable[[dict[str, Any]], str | None]]] = {}


#: department names of the accounts this process has read from the registry, so refusals
#: can name a member ("member eco (0xAb…) is active") instead of showing a bare address
_NAMES: dict[str, str] = {}


def learn_name(account: str, name: str) -> None:
    """Remember that ``account`` is the member registered as ``name``."""
    if name:
        _NAMES[account.lower()] = name


def named(account: object) -> str:
    """``account`` as a person reads it: ``eco (0x…)`` when its name is known."""
    name = _NAMES.get(str(account).lower())
    return f"{name} ({account})" if name else str(account)


def explain_revert(error: str, words: Callable[[dict[str, Any]], str | None]) -> None:
    """Say ``error`` in the user's terms (names, ε, days) instead of raw numbers."""
    _PLAIN.setdefault(error, []).append(words)


def _plain(error: str, args: dict[str, Any]) -> str | None:
    for words in _PLAIN.get(error, ()):
        try:
            said = words(args)
        except (KeyError, ValueError, TypeError):
            said = None
        if said is not None:
            return said
    return None


class ChainError(TanlianError):
    """Anything that went wrong talking to the chain."""

    code = "chain_error"
    http_status = 502


class ChainUnavailable(ChainError):
    code = "chain_unavailable"
    http_status = 503


class ChainStoreError(ChainError):
    """The embedded chain's on-disk store is missing, unreadable, corrupted or locked."""

    code = "chain_store_invalid"
    http_status = 500


class ChainStoreLocked(ChainStoreError):
    code = "chain_store_locked"


class TransactionRejected(ChainError):
    """The chain refused a transaction before executing it (bad nonce, signature, gas...)."""

    code = "tx_rejected"
    http_status = 409


class WriteRefused(TransactionRejected):
    """A chain host turned a write away before executing it (rate or clock limit);
    ``reason`` says which, ``retry_after`` when to try again (seconds)."""

    code = "chain_write_limited"
    http_status = 429

    def __init__(self, message: str, *, reason: str, retry_after: float) -> None:
        self.reason = reason
        self.retry_after = retry_after
        super().__init__(message, detail={"reason": reason, "retry_after": retry_after})


class WriteNotPermitted(TransactionRejected):
    """A chain host does not admit this sender's transaction (account permissioning: not
    an active member, a deployment by a non-administrator...); ``reason`` says which."""

    code = "chain_write_not_permitted"
    http_status = 403

    def __init__(self, message: str, *, reason: str) -> None:
        self.reason = reason
        super().__init__(message, detail={"reason": reason})


class ContractReverted(ChainError):
    """A contract call or transaction reverted; ``error`` is the decoded custom error name."""

    code = "contract_reverted"
    http_status = 409

    def __init__(
        self,
        error: str,
        args: dict[str, Any] | None = None,
        *,
        tx_hash: str | None = None,
        raw: bytes = b"",
    ) -> None:
        self.error = error
        self.error_args = dict(args or {})
        self.tx_hash = tx_hash
        self.raw = raw
        shown = ", ".join(f"{k}={_jsonable(v)}" for k, v in self.error_args.items())
        plain = _plain(error, self.error_args)
        super().__init__(
            f"{plain} (contract error {error})"
            if plain
            else f"contract reverted with {error}({shown})",
            detail={"error": error, "args": _jsonable(self.error_args), "tx_hash": tx_hash},
        )


class UnknownContract(ChainError):
    code = "contract_unknown"
    http_status = 404


class ArtifactError(ChainError):
    code = "artifact_invalid"
    http_status = 500


class IndexerError(ChainError):
    code = "indexer_error"
    http_status = 500


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


class NotFoundOnChain(ChainError):
    code = "chain_not_found"
    http_status = 404
