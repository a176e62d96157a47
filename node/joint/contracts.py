"""The JointQuery contract from Python."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

from eth_utils import to_checksum_address

from node.chain.artifacts import load_artifact
from node.chain.client import ChainClient, Contract, TxResult

JOINT_QUERY = "JointQuery"


class JointState(IntEnum):
    NONE = 0
    PROPOSED = 1
    ADMITTED = 2
    REJECTED = 3
    COMPLETED = 4


@dataclass(frozen=True)
class Participant:
    owner: str
    dataset_id: bytes
    version: int
    grant_id: int
    epsilon_milli: int
    admitted: bool
    acknowledged: bool
    #: keccak256 of the owner's packed input commitments (zero before its first join)
    input_digest: bytes


@dataclass(frozen=True)
class JointInfo:
    consumer: str
    query_hash: bytes
    state: JointState
    noiseless: bool
    attempt: int
    admitted_count: int
    proposed_at: int
    result_hash: bytes


def deploy_joint(
    client: ChainClient, registry: str, catalog: str, access: str, *, test_mode: bool = False
) -> Contract:
    contract, _ = client.deploy(load_artifact(JOINT_QUERY), registry, catalog, access, test_mode)
    return contract


class JointLedger:
    """One account's handle on JointQuery."""

    def __init__(self, client: ChainClient, address: str) -> None:
        self.client = client
        self.contract = client.at(load_artifact(JOINT_QUERY), address)

    @property
    def address(self) -> str:
        return self.contract.address

    def propose(
        self,
        query_hash: bytes,
        grants: Sequence[int],
        epsilon_milli: Sequence[int],
        noiseless: bool = False,
    ) -> TxResult:
        return self.client.transact(
            self.contract, "propose", query_hash, list(grants), list(epsilon_milli), noiseless
        )

    def admit(self, joint_id: int) -> TxResult:
        return self.client.transact(self.contract, "admit", joint_id)

    def reject(self, joint_id: int, reason_hash: bytes) -> TxResult:
        return self.client.transact(self.contract, "reject", joint_id, reason_hash)

    def join(
        self,
        joint_id: int,
        attempt: int,
        pid: int,
        cert_hash: bytes,
        endpoint: str,
        input_commitments: bytes = b"",
    ) -> TxResult:
        """Join run ``attempt``; an owner gives its packed input commitments (the same in
        every run), the consumer none."""
        return self.client.transact(
            self.contract, "join", joint_id, attempt, pid, cert_hash, endpoint, input_commitments
        )

    def fail(self, joint_id: int, attempt: int, reason_hash: bytes) -> TxResult:
        return self.client.transact(self.contract, "fail", joint_id, attempt, reason_hash)

    def complete(self, joint_id: int, attempt: int, result_hash: bytes) -> TxResult:
        return self.client.transact(self.contract, "complete", joint_id, attempt, result_hash)

    def acknowledge(self, joint_id: int, result_hash: bytes) -> TxResult:
        return self.client.transact(self.contract, "acknowledge", joint_id, result_hash)

    def joint(self, joint_id: int) -> JointInfo:
        c, q, state, noiseless, attempt, admitted, at, result = self.client.call(
            self.contract, "joint", joint_id
        )
        return JointInfo(
            to_checksum_address(c), q, JointState(state), noiseless, attempt, admitted, at, result
        )

    def participants(self, joint_id: int) -> list[Participant]:
        return [
            Participant(to_checksum_address(p[0]), *p[1:])
            for p in self.client.call(self.contract, "participants", joint_id)
        ]

    def cert_of(self, joint_id: int, attempt: int, pid: int) -> bytes:
        return self.client.call(self.contract, "certOf", joint_id, attempt, pid)

    def certs_of(self, joint_id: int, attempt: int) -> list[bytes]:
        return list(self.client.call(self.contract, "certsOf", joint_id, attempt))

    def count(self) -> int:
        return self.client.call(self.contract, "jointCount")

    def test_mode(self) -> bool:
        return self.client.call(self.contract, "testMode")
