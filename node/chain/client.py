"""Contract-level chain access shared by every backend: sign, send, call, decode.

The department key signs locally; the backend only ever sees raw signed transactions.
Nonces are handed out under a lock per sender so that concurrent senders in one process
never collide, and re-read from the chain after any rejection.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import rlp
from eth_keys import keys
from eth_utils import keccak, to_canonical_address, to_checksum_address

from node.chain.abi import ContractABI, DecodedEvent
from node.chain.accounts import KeyAccount
from node.chain.artifacts import Artifact
from node.chain.backend import CallResult, ChainBackend, Receipt
from node.chain.errors import ContractReverted, TransactionRejected, WriteRefused

logger = logging.getLogger(__name__)


class TxResult:
    """A mined transaction; its events are decoded on first use."""

    def __init__(self, receipt: Receipt, abi: ContractABI) -> None:
        self.receipt = receipt
        self._abi = abi

    @cached_property
    def events(self) -> tuple[DecodedEvent, ...]:
        return ChainClient.decode_events(self._abi, self.receipt)

    @property
    def tx_hash(self) -> str:
        return "0x" + self.receipt.tx_hash.hex()

    def event(self, name: str) -> DecodedEvent:
        for ev in self.events:
            if ev.event == name:
                return ev
        raise KeyError(name)


@dataclass(frozen=True)
class Contract:
    """A deployed contract: its address and ABI."""

    name: str
    address: str
    abi: ContractABI


class NonceManager:
    """Next nonce per sender, serialized; resynchronized from the chain when in doubt."""

    def __init__(self, backend: ChainBackend) -> None:
        self._backend = backend
        self._next: dict[str, int] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def lock_for(self, address: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(address, threading.Lock())

    def take(self, address: str) -> int:
        """Caller must hold ``lock_for(address)``."""
        if address not in self._next:
            self._next[address] = self._backend.get_nonce(address)
        nonce = self._next[address]
        self._next[address] = nonce + 1
        return nonce

    def forget(self, address: str) -> None:
        self._next.pop(address, None)


class ChainClient:
    """Deploy, transact and call contracts through any ``ChainBackend``."""

    def __init__(self, backend: ChainBackend, account: KeyAccount | None = None) -> None:
        self.backend = backend
        self.account = account
        self._key = keys.PrivateKey(account.key) if account is not None else None
        self.nonces = NonceManager(backend)

    @property
    def address(self) -> str:
        if self.account is None:
            raise TransactionRejected("this client has no signing account")
        return self.account.address

    # -- writes ----------------------------------------------------------------------
    def deploy(self, artifact: Artifact, *args: Any) -> tuple[Contract, TxResult]:
        data = artifact.bytecode + artifact.abi.encode_constructor(args)
        result = self._send(None, data, artifact.abi)
        address = result.receipt.contract_address
        assert address is not None
        return Contract(artifact.name, address, artifact.abi), result

    def transact(self, contract: Contract, fn: str, *args: Any, timeout: float = 60.0) -> TxResult:
        data = contract.abi.encode_call(fn, args)
        return self._send(contract.address, data, contract.abi, timeout=timeout)

    def _send(
        self, to: str | None, data: bytes, abi: ContractABI, timeout: float = 60.0
    ) -> TxResult:
        account = self.account
        if account is None:
            raise TransactionRejected("this client has no signing account")
        tx: dict[str, Any] = {"from": account.address, "to": to or "", "data": data}
        gas, revert = self.backend.gas_limit_for(tx)
        if revert is not None:
            self._raise_revert(abi, revert.data, None)
        fees = self.backend.fee_fields()
        lock = self.nonces.lock_for(account.address)
        deadline = time.monotonic() + timeout
        with lock:
            attempt = 0
            while True:
                nonce = self.nonces.take(account.address)
                raw = sign_transaction(self._key, self.backend.chain_id, nonce, gas, fees, to, data)
                try:
                    tx_hash = self.backend.send_raw_transaction(raw)
                    break
                except WriteRefused as exc:
                    # Turned away before execution (a host's rate limit, or a full pending
                    # block): the nonce is still free; send again when told, within timeout.
                    self.nonces.forget(account.address)
                    if time.monotonic() + exc.retry_after > deadline:
                        raise
                    logger.info(
                        "write refused (%s); retrying in %.2f s", exc.reason, exc.retry_after
                    )
                    time.sleep(exc.retry_after)
                except TransactionRejected as exc:
                    self.nonces.forget(account.address)
                    attempt += 1
                    # Another process signing with the same account moved the nonce on:
                    # re-read it from the chain and try once more.
                    if attempt == 2 or "nonce" not in exc.message.lower():
                        raise
        receipt = self.backend.wait_for_receipt(tx_hash, timeout=timeout)
        if not receipt.ok:
            # Replay at the parent block to learn why it reverted: the state it ran against
            # unless writes before it in the same block (a chain host past its clock
            # bound gathers them) changed what it read.
            replay = self.backend.call(
                to, data, sender=account.address, block=max(receipt.block_number - 1, 0)
            )
            self._raise_revert(abi, replay.data if not replay.ok else b"", receipt.tx_hash)
        return TxResult(receipt, abi)

    @staticmethod
    def decode_events(abi: ContractABI, receipt: Receipt) -> tuple[DecodedEvent, ...]:
        out = []
        for log in receipt.logs:
            decoded = abi.decode_log(log)
            if decoded is not None:
                out.append(decoded)
        return tuple(out)

    @staticmethod
    def _raise_revert(abi: ContractABI, data: bytes, tx_hash: bytes | None) -> None:
        name, args = abi.decode_revert(data)
        raise ContractReverted(
            name, args, tx_hash=("0x" + tx_hash.hex()) if tx_hash else None, raw=data
        )

    # -- reads -------------------------------------------------------------------------
    def call(self, contract: Contract, fn: str, *args: Any, block: int | str = "latest") -> Any:
        data = contract.abi.encode_call(fn, args)
        sender = self.account.address if self.account else None
        result: CallResult = self.backend.call(contract.address, data, sender=sender, block=block)
        if not result.ok:
            self._raise_revert(contract.abi, result.data, None)
        return contract.abi.decode_output(fn, result.data)

    def at(self, artifact: Artifact, address: str) -> Contract:
        return Contract(artifact.name, to_checksum_address(address), artifact.abi)


def sign_transaction(
    key: keys.PrivateKey,
    chain_id: int,
    nonce: int,
    gas: int,
    fees: dict[str, int],
    to: str | None,
    data: bytes,
) -> bytes:
    """Sign a contract call or creation; returns the raw transaction: EIP-1559 (type 2), or
    legacy with EIP-155 replay protection when ``fees`` names a ``gasPrice``.

    RLP with pyrlp and the signature with eth-keys (coincurve): the encoding py-evm's
    transaction builder makes (tests/chain/test_signing.py holds them equal), without
    importing py-evm, which would cost every command half a second.
    """
    to_bytes = to_canonical_address(to) if to else b""
    if "gasPrice" in fees:  # legacy, EIP-155 (zero-gas permissioned chains)
        fields = [nonce, fees["gasPrice"], gas, to_bytes, 0, data]
        signature = key.sign_msg_hash(keccak(rlp.encode([*fields, chain_id, 0, 0])))
        v = signature.v + 35 + 2 * chain_id
        return rlp.encode([*fields, v, signature.r, signature.s])
    fields = [
        chain_id,
        nonce,
        fees["maxPriorityFeePerGas"],
        fees["maxFeePerGas"],
        gas,
        to_bytes,
        0,
        data,
        [],  # access list
    ]
    signature = key.sign_msg_hash(keccak(b"\x02" + rlp.encode(fields)))
    return b"\x02" + rlp.encode([*fields, signature.v, signature.r, signature.s])


def new_account() -> KeyAccount:
    """A fresh random secp256k1 account (the keystore decides where it is kept)."""
    return KeyAccount.create()
