"""The NodeRegistry contract from Python: deploy, register, approve, suspend, read."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum

from eth_utils import is_address, keccak, to_checksum_address

from node.chain.artifacts import load_artifact
from node.chain.client import ChainClient, Contract, TxResult
from node.chain.errors import explain_revert, learn_name, named
from node.errors import InvalidInput

ARTIFACT = "NodeRegistry"
ROLE_BITS = {"provider": 1, "consumer": 2, "analyst": 4, "regulator": 8}


class Status(IntEnum):
    NONE = 0
    PENDING = 1
    ACTIVE = 2
    SUSPENDED = 3

    @property
    def label(self) -> str:
        return self.name.lower()


explain_revert(
    "WrongStatus",
    lambda a: (
        f"member {named(a['account'])} is {Status(a['actual']).label}; this needs it "
        f"{Status(a['expected']).label}"
        if Status(a["actual"]) != Status.NONE
        else f"{named(a['account'])} is not registered"
    ),
)
explain_revert("NotRegistered", lambda a: f"{named(a['account'])} is not registered")
explain_revert(
    "AlreadyApproved",
    lambda a: (
        f"regulator {named(a['regulator'])} already approved {named(a['account'])}"
        if "regulator" in a
        else None
    ),
)


def roles_to_mask(roles: Iterable[str]) -> int:
    mask = 0
    for role in roles:
        try:
            mask |= ROLE_BITS[role.strip().lower()]
        except KeyError:
            raise InvalidInput(f"unknown role {role!r}; roles are {', '.join(ROLE_BITS)}") from None
    if mask == 0:
        raise InvalidInput("at least one role is needed")
    return mask


def mask_to_roles(mask: int) -> list[str]:
    return [name for name, bit in ROLE_BITS.items() if mask & bit]


def reason_hash(reason: str) -> bytes:
    return keccak(text=reason)


@dataclass(frozen=True)
class GenesisMember:
    account: str
    name: str
    roles: Sequence[str]
    encryption_key: bytes
    endpoint: str

    def as_abi(self) -> tuple:
        return (
            to_checksum_address(self.account),
            self.name,
            roles_to_mask(self.roles),
            self.encryption_key,
            self.endpoint,
        )


@dataclass(frozen=True)
class MemberInfo:
    address: str
    name: str
    roles: list[str]
    encryption_key: bytes
    endpoint: str
    status: Status
    approvals: int
    registered_at: int


def deploy_registry(
    client: ChainClient, genesis: Sequence[GenesisMember], threshold: int
) -> tuple[Contract, TxResult]:
    return client.deploy(load_artifact(ARTIFACT), [g.as_abi() for g in genesis], threshold)


class Registry:
    """One account's handle on a deployed NodeRegistry."""

    def __init__(self, client: ChainClient, address: str) -> None:
        self.client = client
        self.contract = client.at(load_artifact(ARTIFACT), address)

    @property
    def address(self) -> str:
        return self.contract.address

    def register(
        self, name: str, roles: Iterable[str], encryption_key: bytes, endpoint: str
    ) -> TxResult:
        return self.client.transact(
            self.contract, "register", name, roles_to_mask(roles), encryption_key, endpoint
        )

    def resolve(self, who: str) -> str:
        """The checksum address of ``who``: an address (0x and 40 hex digits) or the name a
        department registered under. Anything else is :class:`InvalidInput`."""
        who = who.strip()
        if who.lower().startswith("0x"):
            if not is_address(who):
                raise InvalidInput(f"{who!r} is not an account address (0x and 40 hex digits)")
            return to_checksum_address(who)
        account = self.account_of(who) if who else None
        if account is None:
            raise InvalidInput(f"no department named {who!r} in the registry")
        learn_name(account, who)
        return account

    def approve(self, account: str) -> TxResult:
        return self.client.transact(self.contract, "approve", to_checksum_address(account))

    def suspend(self, account: str, reason: str) -> TxResult:
        return self.client.transact(
            self.contract, "suspend", to_checksum_address(account), reason_hash(reason)
        )

    def reinstate(self, account: str) -> TxResult:
        return self.client.transact(self.contract, "reinstate", to_checksum_address(account))

    def assign_department(self, account: str, department: str) -> TxResult:
        """Make the pending ``account`` one more account of the active member ``department``
        (regulators; permanent): per-department budgets are then shared."""
        return self.client.transact(
            self.contract,
            "assignDepartment",
            to_checksum_address(account),
            to_checksum_address(department),
        )

    def department_of(self, account: str) -> str:
        """The department ``account`` belongs to (itself unless assigned)."""
        return self.client.call(self.contract, "departmentOf", to_checksum_address(account))

    def rotate_encryption_key(self, key: bytes) -> TxResult:
        return self.client.transact(self.contract, "rotateEncryptionKey", key)

    def set_endpoint(self, endpoint: str) -> TxResult:
        return self.client.transact(self.contract, "setEndpoint", endpoint)

    def member(self, account: str) -> MemberInfo:
        name, roles, key, endpoint, status, approvals, registered = self.client.call(
            self.contract, "member", to_checksum_address(account)
        )
        learn_name(to_checksum_address(account), name)
        return MemberInfo(
            to_checksum_address(account),
            name,
            mask_to_roles(roles),
            key,
            endpoint,
            Status(status),
            approvals,
            registered,
        )

    def account_of(self, name: str) -> str | None:
        """The member holding ``name`` (names are unique in the registry), or None."""
        account = self.client.call(self.contract, "accountOf", name)
        return None if int(account, 16) == 0 else to_checksum_address(account)

    def threshold(self) -> int:
        return self.client.call(self.contract, "threshold")

    def set_network_contracts(
        self, catalog: str, access: str, audit: str, commitments: str, joint: str
    ) -> TxResult:
        return self.client.transact(
            self.contract,
            "setNetworkContracts",
            *(to_checksum_address(a) for a in (catalog, access, audit, commitments, joint)),
        )

    def network_contracts(self) -> dict[str, str] | None:
        """The catalog, access manager, audit log, value commitments and joint query
        contracts a regulator named, or None."""
        catalog, access, audit, commitments, joint = self.client.call(
            self.contract, "networkContracts"
        )
        if int(catalog, 16) == 0:
            return None
        return {
            "catalog": to_checksum_address(catalog),
            "access": to_checksum_address(access),
            "audit": to_checksum_address(audit),
            "commitments": to_checksum_address(commitments),
            "joint": to_checksum_address(joint),
        }

    def members(self) -> list[MemberInfo]:
        count = self.client.call(self.contract, "memberCount")
        return [self.member(self.client.call(self.contract, "memberAt", i)) for i in range(count)]
