"""The ValueCommitments contract from Python."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from eth_utils import keccak, to_checksum_address

from node.chain.artifacts import load_artifact
from node.chain.client import ChainClient, Contract, TxResult
from node.chain.errors import ContractReverted
from node.commitments.errors import InvalidValue
from node.commitments.pedersen import CommitmentSet

VALUE_COMMITMENTS = "ValueCommitments"
#: what the contract takes at most in one set
MAX_COMMITMENTS = 4096


def deploy_commitments(client: ChainClient, registry: str) -> Contract:
    contract, _ = client.deploy(load_artifact(VALUE_COMMITMENTS), registry)
    return contract


def group_hash(label: str) -> bytes:
    """The on-chain name of a group of rows, e.g. ``group_hash("district=510104")``."""
    return keccak(label.encode("utf-8"))


@dataclass(frozen=True)
class AnchoredSet:
    digest: bytes
    count: int
    owner: str
    anchored_at: int
    anchored_block: int


class CommitmentLedger:
    """One account's handle on ValueCommitments."""

    def __init__(self, client: ChainClient, address: str) -> None:
        self.client = client
        self.contract = client.at(load_artifact(VALUE_COMMITMENTS), address)

    @property
    def address(self) -> str:
        return self.contract.address

    def set_id(self, owner: str, dataset_id: bytes, version: int, column: str) -> bytes:
        return self.client.call(
            self.contract, "setIdOf", to_checksum_address(owner), dataset_id, version, column
        )

    def anchor(
        self, dataset_id: bytes, version: int, column: str, unit: str, commitments: CommitmentSet
    ) -> TxResult:
        rows = len(commitments.commitments)
        if not 1 <= rows <= MAX_COMMITMENTS:
            raise InvalidValue(f"a commitment set has 1 to {MAX_COMMITMENTS} rows, not {rows}")
        return self.client.transact(
            self.contract,
            "anchorCommitments",
            dataset_id,
            version,
            column,
            unit,
            commitments.packed,
        )

    def record_total(
        self,
        set_id: bytes,
        packed: bytes,
        indexes: Sequence[int],
        total: int,
        blinding: int,
        group: str,
    ) -> TxResult:
        return self.client.transact(
            self.contract, "recordTotal", set_id, packed, list(indexes), total, blinding, group
        )

    def check_total(
        self, set_id: bytes, packed: bytes, indexes: Sequence[int], total: int, blinding: int
    ) -> bool:
        return self.client.call(
            self.contract, "checkTotal", set_id, packed, list(indexes), total, blinding
        )

    def find_set(self, set_id: bytes) -> AnchoredSet | None:
        """The anchored set, or None if nobody anchored ``set_id``."""
        try:
            return self.commitment_set(set_id)
        except ContractReverted as exc:
            if exc.error == "UnknownSet":
                return None
            raise

    def exists(self, set_id: bytes) -> bool:
        return self.find_set(set_id) is not None

    def commitment_set(self, set_id: bytes) -> AnchoredSet:
        digest, count, owner, at, block = self.client.call(self.contract, "commitmentSet", set_id)
        return AnchoredSet(digest, count, to_checksum_address(owner), at, block)

    def recorded_total(self, set_id: bytes, group: str) -> int | None:
        found, total = self.client.call(self.contract, "recordedTotal", set_id, group_hash(group))
        return total if found else None

    def generators(self) -> tuple[tuple[int, int], tuple[int, int]]:
        g, h = self.client.call(self.contract, "generators")
        return (g[0], g[1]), (h[0], h[1])
