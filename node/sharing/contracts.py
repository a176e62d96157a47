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
from node.chain.errors import explain_revert, named
from node.display import days, when
from node.errors import InvalidInput
from node.privacy.budget import ZERO_DELTA, ZERO_EPSILON, Budget, Delta, Epsilon, Ledger
from node.registry.registry import mask_to_roles, roles_to_mask

CATALOG = "DataCatalog"
ACCESS = "AccessManager"
CLASSIFICATIONS = ("public", "internal", "sensitive", "restricted")
ZERO_HASH = b"\x00" * 32


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


#: a lifetime ε ceiling left unset is this many grant ceilings: re-applying after a grant is
#: spent gets that many grants' worth in all, never a fresh budget each time
LIFETIME_GRANTS = 3


#: what a request in each state already is, for refusals ("request 7 is already released")
_STATE_WORDS = {
    State.NONE: "does not exist",
    State.PENDING: "is still pending (not yet authorized)",
    State.AUTHORIZED: "is already authorized",
    State.REJECTED: "was rejected",
    State.RELEASED: "is already released",
    State.REVOKED: "was revoked",
}


def _eps(milli: object) -> str:
    return f"ε {Epsilon(int(milli))}"


for _error, _words in {
    "WrongState": lambda a: f"request {a['requestId']} {_STATE_WORDS[State(a['actual'])]}",
    "InvalidEpsilon": lambda a: (
        f"{_eps(a['asked'])} is not allowed: give more than 0 and at most the dataset's "
        f"ceiling, {_eps(a['ceiling'])}"
    ),
    "InvalidDuration": lambda a: f"an access of {days(int(a['duration']))} is not allowed",
    "Expired": lambda a: f"request {a['requestId']} expired at {when(int(a['expiresAt']))}",
    "BudgetExceeded": lambda a: (
        f"request {a['requestId']}: {_eps(a['asked'])} asked, only {_eps(a['remaining'])} left"
    ),
    "NotEligible": lambda a: (
        f"{named(a['account'])} may not ask for {Mode(a['mode']).name.lower()} access "
        "to this dataset"
    ),
    "UnknownRequest": lambda a: f"request {a['requestId']} does not exist",
}.items():
    explain_revert(_error, _words)


@dataclass(frozen=True)
class Policy:
    auto_approve_roles: tuple[str, ...] = ()
    reviewer_approvals: int = 0
    raw_allowed: bool = True
    #: the largest ε one DP grant may hold (0: no DP grants)
    epsilon_ceiling: Epsilon = ZERO_EPSILON
    #: ε one consumer account may spend on the dataset over all its grants
    #: (None: LIFETIME_GRANTS × epsilon_ceiling)
    lifetime_epsilon: Epsilon | None = None
    #: δ one consumer account may spend over all its grants (every query kind is pure ε-DP)
    lifetime_delta: Delta = ZERO_DELTA
    #: ε all the accounts of one department may spend together (None: lifetime_epsilon, so a
    #: second account of a department gains nothing)
    department_epsilon: Epsilon | None = None
    #: δ all the accounts of one department may spend together (None: lifetime_delta)
    department_delta: Delta | None = None

    def lifetime(self) -> tuple[Epsilon, Delta, Epsilon, Delta]:
        """The lifetime ceilings with their defaults applied: per account ε and δ, per
        department ε and δ."""
        ceiling = _typed(self.epsilon_ceiling, Epsilon)
        account = (
            Epsilon(ceiling.milli * LIFETIME_GRANTS)
            if self.lifetime_epsilon is None
            else _typed(self.lifetime_epsilon, Epsilon)
        )
        account_delta = _typed(self.lifetime_delta, Delta)
        department = (
            account if self.department_epsilon is None else _typed(self.department_epsilon, Epsilon)
        )
        department_delta = (
            account_delta if self.department_delta is None else _typed(self.department_delta, Delta)
        )
        if account < ceiling:
            raise InvalidInput(
                f"the lifetime ε ceiling {account} is below the grant ceiling {ceiling}"
            )
        if department < account or department_delta < account_delta:
            raise InvalidInput(
                "a department's lifetime ceilings must not be below one account's "
                f"(ε {department} < {account} or δ {department_delta} < {account_delta})"
            )
        return account, account_delta, department, department_delta

    def as_abi(self) -> tuple:
        mask = roles_to_mask(self.auto_approve_roles) if self.auto_approve_roles else 0
        if not 0 <= self.reviewer_approvals <= 255:
            raise InvalidInput("reviewer approvals must be between 0 and 255")
        ceiling = _typed(self.epsilon_ceiling, Epsilon)
        account, account_delta, department, department_delta = self.lifetime()
        return (
            mask,
            self.reviewer_approvals,
            self.raw_allowed,
            ceiling.milli,
            account.milli,
            account_delta.nano,
            department.milli,
            department_delta.nano,
        )


def policy_dict(abi: tuple | list) -> dict[str, Any]:
    """A policy as the chain holds it (a ``Policy`` ABI tuple), budgets as exact decimals."""
    auto, reviewers, raw, eps, life, life_delta, dept, dept_delta = abi
    return {
        "auto_approve_roles": mask_to_roles(auto),
        "reviewer_approvals": reviewers,
        "raw_allowed": raw,
        "epsilon_ceiling": Epsilon(int(eps)).as_json(),
        "lifetime_epsilon": Epsilon(int(life)).as_json(),
        "lifetime_delta": Delta(int(life_delta)).as_json(),
        "department_epsilon": Epsilon(int(dept)).as_json(),
        "department_delta": Delta(int(dept_delta)).as_json(),
    }


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
class LifetimeBudget:
    """What a consumer account, and its department across all its accounts, may still spend
    on one dataset over all their grants (AccessManager.lifetimeBudgetOf)."""

    department: str
    account: Ledger
    department_ledger: Ledger

    @property
    def remaining(self) -> Epsilon:
        return min(self.account.remaining, self.department_ledger.remaining)

    def as_dict(self) -> dict[str, Any]:
        return {
            "department": self.department,
            "account": self.account.as_dict(),
            "department_total": self.department_ledger.as_dict(),
            "remaining": self.remaining.as_json(),
        }


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

    def set_policy(self, dataset_id: bytes, policy: Policy) -> TxResult:
        return self.client.transact(self.catalog, "setPolicy", dataset_id, policy.as_abi())

    def publish_version(
        self,
        dataset_id: bytes,
        plaintext_hash: bytes,
        ciphertext_hash: bytes,
        schema_hash: bytes,
        size: int,
        dp_metadata_hash: bytes = ZERO_HASH,
    ) -> TxResult:
        """Anchor a version; ``dp_metadata_hash`` is the digest of the DP metadata the gate
        may answer with (zero: the version takes no DP queries)."""
        return self.client.transact(
            self.catalog,
            "publishVersion",
            dataset_id,
            plaintext_hash,
            ciphertext_hash,
            schema_hash,
            size,
            dp_metadata_hash,
        )

    def publish_derived_version(
        self,
        dataset_id: bytes,
        plaintext_hash: bytes,
        ciphertext_hash: bytes,
        schema_hash: bytes,
        size: int,
        lineage: Lineage,
        dp_metadata_hash: bytes = ZERO_HASH,
    ) -> TxResult:
        return self.client.transact(
            self.catalog,
            "publishDerivedVersion",
            dataset_id,
            plaintext_hash,
            ciphertext_hash,
            schema_hash,
            size,
            dp_metadata_hash,
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
        plain, cipher, schema, size, published, dp_meta = self.client.call(
            self.catalog, "versionOf", dataset_id, version
        )
        return {
            "plaintext_hash": plain,
            "ciphertext_hash": cipher,
            "schema_hash": schema,
            "size": size,
            "published_at": published,
            "dp_metadata_hash": dp_meta,
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

    def lifetime_budget(self, consumer: str, dataset_id: bytes) -> LifetimeBudget:
        """The lifetime budgets of ``consumer`` and of its department on ``dataset_id``."""
        b = self.client.call(
            self.access, "lifetimeBudgetOf", to_checksum_address(consumer), dataset_id
        )
        return LifetimeBudget(
            b[0],
            Ledger(Epsilon(b[1]), Epsilon(b[2]), Delta(b[3]), Delta(b[4])),
            Ledger(Epsilon(b[5]), Epsilon(b[6]), Delta(b[7]), Delta(b[8])),
        )

    def remaining(self, request_id: int) -> tuple[Epsilon, Delta]:
        """What a DP grant may still spend now: the least its own ceiling, its consumer's
        lifetime budget and its department's leave."""
        eps, delta = self.client.call(self.access, "remainingOf", request_id)
        return Epsilon(eps), Delta(delta)

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

    def request_count(self) -> int:
        return self.client.call(self.access, "requestCount")

    def is_usable(self, request_id: int) -> bool:
        return self.client.call(self.access, "isUsable", request_id)
