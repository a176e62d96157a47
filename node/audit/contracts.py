"""The AuditLog contract from Python."""

from __future__ import annotations

from dataclasses import dataclass

from eth_utils import to_checksum_address

from node.chain.artifacts import load_artifact
from node.chain.client import ChainClient, Contract, TxResult

AUDIT = "AuditLog"


def deploy_audit(client: ChainClient, registry: str) -> Contract:
    contract, _ = client.deploy(load_artifact(AUDIT), registry)
    return contract


@dataclass(frozen=True)
class AnchoredBatch:
    root: bytes
    count: int
    first_at: int
    last_at: int
    anchored_at: int


class AuditAnchors:
    """One account's handle on AuditLog."""

    def __init__(self, client: ChainClient, address: str) -> None:
        self.client = client
        self.contract = client.at(load_artifact(AUDIT), address)

    @property
    def address(self) -> str:
        return self.contract.address

    def anchor(self, seq: int, root: bytes, count: int, first_at: int, last_at: int) -> TxResult:
        return self.client.transact(
            self.contract, "anchorBatch", seq, root, count, first_at, last_at
        )

    def batch_count(self, node: str) -> int:
        return self.client.call(self.contract, "batchCount", to_checksum_address(node))

    def batch(self, node: str, seq: int) -> AnchoredBatch:
        return AnchoredBatch(
            *self.client.call(self.contract, "batchOf", to_checksum_address(node), seq)
        )
