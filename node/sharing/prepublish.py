"""Every check a publish can fail, run before any byte is encrypted or stored.

Local checks (classification, roles, reviewers, ε ceiling, name) come first with messages in
the user's terms; then the catalog's own checks (provider role, ownership, policy) are run
by simulating the very transaction the publish will send (``eth_call``), so a publish that
would revert is refused while the store is still untouched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from node.chain.errors import ContractReverted
from node.errors import InvalidInput, TanlianError
from node.sharing.contracts import ZERO_HASH, Lineage, Policy, Sharing, classification_code

#: DataCatalog's limit on a dataset name, in UTF-8 bytes
MAX_NAME_BYTES = 128
#: placeholder hashes for the simulated anchoring (the catalog refuses zero hashes only)
_SOME_HASH = b"\x01" * 32


class PublishRefused(TanlianError):
    code = "publish_refused"
    http_status = 409


class SchemaChanged(PublishRefused):
    code = "schema_changed"


class PolicyNotApplied(PublishRefused):
    code = "policy_not_applied"


@dataclass(frozen=True)
class Plan:
    """What the publish will do: create the dataset (with this policy) or add a version."""

    dataset_id: bytes
    existing: dict[str, Any] | None
    policy: Policy | None


_REVERTS = {
    "NotProvider": "this department does not hold an active provider role in the registry",
    "NotOwner": "the dataset belongs to another department",
    "InvalidName": f"a dataset name has 1 to {MAX_NAME_BYTES} bytes",
    "InvalidPolicy": "the access policy is invalid (unknown roles, or DP-only without a ceiling)",
    "InvalidClassification": "unknown classification",
}


def check_publish(
    sharing: Sharing,
    owner: str,
    *,
    name: str,
    schema_hash: bytes,
    classification: str | None,
    policy: Policy | None,
    new_version: bool = False,
    lineage: Lineage | None = None,
) -> Plan:
    """Refuse now whatever the publish would fail on later; what it will do."""
    size = len(name.encode())
    if not name.strip() or size > MAX_NAME_BYTES:
        raise InvalidInput(f"dataset name {name!r}: 1 to {MAX_NAME_BYTES} bytes, not blank")
    if classification is not None:
        classification_code(classification)
    if policy is not None:
        policy.as_abi()  # unknown roles, reviewers out of range
        if not policy.raw_allowed and policy.epsilon_ceiling.milli == 0:
            raise InvalidInput(
                "--dp-only needs --epsilon-ceiling (the largest ε one DP grant may hold)"
            )
    dataset_id = sharing.dataset_id(owner, name)
    existing = sharing.dataset(dataset_id)
    if existing is None:
        if new_version:
            raise InvalidInput(f"there is no dataset {name!r} to add a version to")
        policy = policy or Policy()
        _simulate(
            lambda: sharing.client.call(
                sharing.catalog,
                "createDataset",
                name,
                classification_code(classification or "internal"),
                policy.as_abi(),
            )
        )
        return Plan(dataset_id, None, policy)
    if classification is not None and classification != existing["classification"]:
        raise PolicyNotApplied(
            f"dataset {name!r} is classified {existing['classification']}; a classification "
            "is set when a dataset is created and cannot change (publish under a new name)"
        )
    if policy is not None and tuple(policy.as_abi()) != tuple(existing["policy"]):
        raise PolicyNotApplied(
            f"dataset {name!r} exists with another access policy; change it explicitly with "
            f"`tanlian dataset policy {name} …`, then publish without policy options"
        )
    latest = sharing.version(dataset_id, existing["versions"]) if existing["versions"] else None
    if latest is not None and latest["schema_hash"] != schema_hash and not new_version:
        raise SchemaChanged(
            f"dataset {name!r} exists with other columns; publish this file under a new "
            f"name, or say --new-version-of {name} to make it the next version anyway"
        )
    # no DP metadata digest: the catalog checks none, and the gate checks it when answering
    args: tuple[Any, ...] = (dataset_id, _SOME_HASH, _SOME_HASH, schema_hash, 1, ZERO_HASH)
    if lineage is None:
        _simulate(lambda: sharing.client.call(sharing.catalog, "publishVersion", *args))
    else:
        _simulate(
            lambda: sharing.client.call(
                sharing.catalog, "publishDerivedVersion", *args, lineage.as_abi()
            )
        )
    return Plan(dataset_id, existing, None)


def _simulate(call) -> None:
    try:
        call()
    except ContractReverted as exc:
        reason = _REVERTS.get(exc.error)
        if reason is None:
            raise
        raise PublishRefused(f"publish refused before anything was stored: {reason}") from None
