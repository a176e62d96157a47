"""The ``embedded`` backend: an in-process durable py-evm chain (see ``chain.py``)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eth._utils.address import generate_contract_address
from eth_utils import to_canonical_address, to_checksum_address

from node.chain.abi import checksum
from node.chain.backend import (
    BlockInfo,
    CallResult,
    ChainBackend,
    RawLog,
    Receipt,
    register_backend,
)
from node.chain.embedded.chain import EmbeddedChain, GenesisSpec, Mined
from node.chain.errors import ChainUnavailable
from node.chain.raw import RawBlock

# The embedded chain mines one transaction per block and charges nothing for gas, so
# every transaction gets a fixed allowance instead of a costly binary-search estimate.
EMBEDDED_TX_GAS = 15_000_000


def receipt_from_tester(r: dict) -> Receipt:
    return Receipt(
        tx_hash=bytes(r["transaction_hash"]),
        block_number=r["block_number"],
        block_hash=bytes(r["block_hash"]),
        status=r["status"],
        gas_used=r["gas_used"],
        contract_address=to_checksum_address(r["contract_address"])
        if r["contract_address"]
        else None,
        logs=tuple(_log_from_tester(entry) for entry in r["logs"]),
    )


def _log_from_tester(entry: dict) -> RawLog:
    return RawLog(
        address=checksum(entry["address"]),
        topics=tuple(bytes(t) for t in entry["topics"]),
        data=bytes(entry["data"]),
        block_number=entry["block_number"],
        block_hash=bytes(entry["block_hash"]),
        tx_hash=bytes(entry["transaction_hash"]),
        tx_index=entry["transaction_index"],
        log_index=entry["log_index"],
    )


def _receipt_from_mined(mined: Mined) -> Receipt:
    header, tx, receipt = mined.header, mined.tx, mined.receipt
    created = None
    if not tx.to:
        created = to_checksum_address(generate_contract_address(tx.sender, tx.nonce))
    return Receipt(
        tx_hash=mined.tx_hash,
        block_number=header.block_number,
        block_hash=header.hash,
        status=1 if receipt.state_root == b"\x01" else 0,
        gas_used=receipt.gas_used,  # cumulative == own: a block of its own
        contract_address=created,
        logs=tuple(
            RawLog(
                address=checksum(log.address),
                topics=tuple(t.to_bytes(32, "big") for t in log.topics),
                data=log.data,
                block_number=header.block_number,
                block_hash=header.hash,
                tx_hash=mined.tx_hash,
                tx_index=0,
                log_index=i,
            )
            for i, log in enumerate(receipt.logs)
        ),
    )


@register_backend("embedded")
class EmbeddedBackend(ChainBackend):
    persistent = True

    def __init__(
        self,
        home: str | Path,
        *,
        create: bool = True,
        genesis: GenesisSpec | None = None,
        fsync: bool = False,
    ) -> None:
        self.chain = EmbeddedChain(
            Path(home), genesis=(genesis or GenesisSpec()) if create else None, fsync=fsync
        )
        self.chain_id = self.chain.chain_id
        self._recent: dict[bytes, Receipt] = {}
        self._recent_lock = threading.Lock()

    def block_number(self) -> int:
        return self.chain.block_number()

    def get_block(self, block: int | str = "latest") -> BlockInfo:
        b = self.chain.get_block(block)
        return BlockInfo(b["number"], bytes(b["hash"]), bytes(b["parent_hash"]), b["timestamp"])

    def raw_headers(self, start: int, end: int) -> list[bytes] | None:
        return self.chain.raw_headers(start, end)

    def raw_blocks(self, start: int, end: int) -> list[RawBlock] | None:
        return self.chain.raw_blocks(start, end)

    def get_nonce(self, address: str) -> int:
        return self.chain.get_nonce(to_canonical_address(address))

    def get_code(self, address: str) -> bytes:
        return self.chain.get_code(to_canonical_address(address))

    def send_raw_transaction(self, raw: bytes) -> bytes:
        mined = self.chain.submit(raw)
        if not isinstance(mined, Mined):
            return mined.tx_hash  # queued in the pending block: wait_for_receipt waits
        with self._recent_lock:
            self._recent[mined.tx_hash] = _receipt_from_mined(mined)
            while len(self._recent) > 1_000:
                self._recent.pop(next(iter(self._recent)))
        return mined.tx_hash

    def wait_for_receipt(self, tx_hash: bytes, timeout: float = 30.0) -> Receipt:
        # Mined and committed before send_raw_transaction returned; a receipt built from
        # the mining result saves reading the block back.
        with self._recent_lock:
            recent = self._recent.pop(tx_hash, None)
        if recent is not None:
            return recent
        if not self.chain.wait_mined(tx_hash, timeout):
            raise ChainUnavailable(f"no receipt for 0x{tx_hash.hex()} after {timeout:.0f}s")
        return receipt_from_tester(self.chain.get_receipt(tx_hash))

    def call(
        self, to: str | None, data: bytes, sender: str | None = None, block: int | str = "latest"
    ) -> CallResult:
        tx: dict[str, Any] = {"data": data}
        if to:
            tx["to"] = to_canonical_address(to)
        if sender:
            tx["from"] = to_canonical_address(sender)
        ok, out, _ = self.chain.call(tx, block)
        return CallResult(ok, out)

    def get_logs(
        self,
        from_block: int,
        to_block: int,
        addresses: Sequence[str] = (),
        topics: Sequence[Sequence[bytes] | None] = (),
    ) -> list[RawLog]:
        entries = self.chain.get_logs(
            from_block, to_block, [to_canonical_address(a) for a in addresses], topics
        )
        return [
            RawLog(
                address=checksum(e["address"]),
                topics=tuple(e["topics"]),
                data=e["data"],
                block_number=e["block_number"],
                block_hash=e["block_hash"],
                tx_hash=e["transaction_hash"],
                tx_index=e["transaction_index"],
                log_index=e["log_index"],
            )
            for e in entries
        ]

    def fee_fields(self) -> dict[str, int]:
        base = self.chain.base_fee()
        return {"maxFeePerGas": 2 * base, "maxPriorityFeePerGas": 0}

    def gas_limit_for(self, tx: dict[str, Any]) -> tuple[int, CallResult | None]:
        return min(EMBEDDED_TX_GAS, self.chain.head().gas_limit), None

    def close(self) -> None:
        self.chain.close()
