"""DataCatalog and AccessManager from Python.

Privacy budgets cross this boundary as :class:`~node.privacy.budget.Epsilon` (milli-ε, the
contract's ``epsilonMilli``) and :class:`~node.privacy.budget.Delta` (nano-δ, its
``deltaNano``): the integers go to the chain as they are, never through a float.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from eth_utils import keccak, to_checksum_address

from node.chain.artifacts import load_artifact
from node.chain.client import ChainClient, Contract, TxResult
from node.errors import InvalidInput
from node.privacy.budget import ZERO_EPSILON, Budget, Delta, Epsilon
from node.registry.registry import roles_to_mask

CATALOG = "DataCatalog"
ACCESS = "AccessManager"
CLASSIFICATIONS = ("public", "internal", "sensitive", "restricted")


class Mode(IntEnum):
    RAW = 0
    DP = 1


class State(IntEnum):
    NONE = 0
    PENDING = 1
    AUTHORIZED = 2
    REJECTED = 3
    RELEASED = 4
    REVOKED = 5

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Policy:
    auto_approve_roles: tuple[str, ...] = ()
    reviewer_approvals: int = 0
    raw_allowed: bool = True
    #: the largest ε one DP grant may hold (0: no DP grants)
    epsilon_ceiling: Epsilon = ZERO_EPSILON

    def as_abi(self) -> tuple:
        mask = roles_to_mask(self.auto_approve_roles) if self.auto_approve_roles else 0
        if not 0 <= self.reviewer_approvals <= 255:
            raise InvalidInput("reviewer approvals must be between 0 and 255")
        ceiling = _typed(self.epsilon_ceiling, Epsilon)
        return (mask, self.reviewer_approvals, self.raw_allowed, ceiling.milli)


@dataclass(frozen=True)
class Lineage:
    """A derived version's source, the hash of the profile applied and its k-anonymity."""

    source_dataset_id: bytes
    source_version: int
    profile_hash: bytes
    k_anonymity: int

    def as_abi(self) -> tuple:
        return (self.source_dataset_id, self.source_version, self.profile_hash, self.k_anonymity)

    def as_dict(self) -> dict[str, Any]:
        return {
            "source_dataset_id": "0x" + self.source_dataset_id.hex(),
            "source_version": self.source_version,
            "profile_hash": "0x" + self.profile_hash.hex(),
            "k_anonymity": self.k_anonymity,
        }


def _typed(value: object, kind: type) -> Any:
    """A budget must arrive as its exact type: a float here would have to be rounded."""
    if not isinstance(value, kind):
        raise TypeError(f"expected {kind.__name__}, got {type(value).__name__} {value!r}")
    return value


def classification_code(name: str) -> int:
    try:
        return CLASSIFICATIONS.index(name)
    except ValueError:
        raise InvalidInput(
            f"unknown classification {name!r}; use one of {', '.join(CLASSIFICATIONS)}"
        ) from None


def purpose_hash(purpose: str) -> bytes:
    return keccak(text=purpose)


def deploy_sharing(client: ChainClient, registry: str) -> tuple[Contract, Contract]:
    catalog, _ = client.deploy(load_artifact(CATALOG), registry)
    access, _ = client.deploy(load_artifact(ACCESS), registry, catalog.address)
    return catalog, access


@dataclass(frozen=True)
class RequestInfo:
    id: int
    dataset_id: bytes
    version: int
    consumer: str
    owner: str
    mode: Mode
    state: State
    epsilon: Epsilon
    duration: int
    created_at: int
    expires_at: int
    purpose_hash: bytes
    approvals: int
    owner_approved: bool


class Sharing:
    """One account's handle on the catalog and the access manager."""

    def __init__(self, client: ChainClient, catalog: str, access: str) -> None:
        self.client = client
        self.catalog = client.at(load_artifact(CATALOG), catalog)
        self.access = client.at(load_artifact(ACCESS), access)

    # -- catalog -----------------------------------------------------------------------
    def dataset_id(self, owner: str, name: str) -> bytes:
        return self.client.call(self.catalog, "datasetIdOf", to_checksum_address(owner), name)

    def dataset(self, dataset_id: bytes) -> dict[str, Any] | None:
        owner, name, cls, policy, versions = self.client.call(self.catalog, "dataset", dataset_id)
        if int(owner, 16) == 0:
            return None
        return {
            "owner": owner,
            "name": name,
            "classification": CLASSIFICATIONS[cls],
            "policy": policy,
            "versions": versions,
        }

    def create_dataset(self, name: str, classification: str, policy: Policy) -> TxResult:
        return self.client.transact(
            self.catalog,
            "createDataset",
            name,
            classification_code(classification),
            policy.as_abi(),
        )

    def publish_version(
        self,
        dataset_id: bytes,
        plaintext_hash: bytes,
        ciphertext_hash: bytes,
        schema_hash: bytes,
        size: int,
    ) -> TxResult:
        return self.client.transact(
            self.catalog,
            "publishVersion",
            dataset_id,
            plaintext_hash,
            ciphertext_hash,
            schema_hash,
            size,
        )

    def publish_derived_version(
        self,
        dataset_id: bytes,
        plaintext_hash: bytes,
        ciphertext_hash: bytes,
        schema_hash: bytes,
        size: int,
        lineage: Lineage,
    ) -> TxResult:
        return self.client.transact(
            self.catalog,
            "publishDerivedVersion",
            dataset_id,
            plaintext_hash,
            ciphertext_hash,
            schema_hash,
            size,
            lineage.as_abi(),
        )

    def lineage(self, dataset_id: bytes, version: int) -> Lineage | None:
        """Where version ``version`` was derived from, or None for an original version."""
        source, source_version, profile, k = self.client.call(
            self.catalog, "lineageOf", dataset_id, version
        )
        if source_version == 0:
            return None
        return Lineage(source, source_version, profile, k)

    def version(self, dataset_id: bytes, version: int) -> dict[str, Any]:
        plain, cipher, schema, size, published = self.client.call(
            self.catalog, "versionOf", dataset_id, version
        )
        return {
            "plaintext_hash": plain,
            "ciphertext_hash": cipher,
            "schema_hash": schema,
            "size": size,
            "published_at": published,
        }

    # -- access ------------------------------------------------------------------------
    def apply(
        self,
        dataset_id: bytes,
        version: int,
        purpose: str,
        mode: Mode,
        epsilon: Epsilon = ZERO_EPSILON,
        duration: int = 30 * 86400,
    ) -> TxResult:
        return self.client.transact(
            self.access,
            "applyFor",
            dataset_id,
            version,
            purpose_hash(purpose),
            int(mode),
            _typed(epsilon, Epsilon).milli,
            duration,
        )

    def approve(self, request_id: int) -> TxResult:
        return self.client.transact(self.access, "approve", request_id)

    def reject(self, request_id: int, reason: str) -> TxResult:
        return self.client.transact(self.access, "reject", request_id, keccak(text=reason))

    def release(self, request_id: int, wrapped_key: bytes, consumer_key: bytes) -> TxResult:
        return self.client.transact(self.access, "release", request_id, wrapped_key, consumer_key)

    def revoke(self, request_id: int, reason: str) -> TxResult:
        return self.client.transact(self.access, "revoke", request_id, keccak(text=reason))

    def spend(
        self,
        request_id: int,
        epsilon: Epsilon,
        delta: Delta,
        query_hash: bytes,
        result_hash: bytes,
    ) -> TxResult:
        """Pay for one DP answer on chain (owner only); reverts past the grant's ceiling."""
        return self.client.transact(
            self.access,
            "spend",
            request_id,
            _typed(epsilon, Epsilon).milli,
            _typed(delta, Delta).nano,
            query_hash,
            result_hash,
        )

    def budget(self, request_id: int) -> Budget:
        """Ceiling and spent ε of a DP grant, exactly as the chain holds them."""
        ceiling, spent = self.client.call(self.access, "budgetOf", request_id)
        return Budget(Epsilon(ceiling), Epsilon(spent))

    def request(self, request_id: int, block: int | str = "latest") -> RequestInfo:
        r = self.client.call(self.access, "request", request_id, block=block)
        return RequestInfo(
            request_id,
            r[0],
            r[1],
            r[2],
            r[3],
            Mode(r[4]),
            State(r[5]),
            Epsilon(r[6]),
            r[7],
            r[8],
            r[9],
            r[10],
            r[11],
            r[12],
        )

    def wrapped_key(self, request_id: int) -> tuple[bytes, bytes]:
        return self.client.call(self.access, "wrappedKey", request_id)

    def is_usable(self, request_id: int) -> bool:
        return self.client.call(self.access, "isUsable", request_id)
