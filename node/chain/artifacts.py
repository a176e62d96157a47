"""Committed contract artifacts (ABI and bytecode), loaded without any compiler."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache

from node.chain.abi import ContractABI
from node.chain.errors import ArtifactError
from node.contracts.toolchain import ARTIFACTS_DIR


@dataclass(frozen=True)
class Artifact:
    name: str
    abi: ContractABI
    bytecode: bytes
    deployed_bytecode: bytes
    sources_digest: str


@cache
def load_artifact(name: str) -> Artifact:
    path = ARTIFACTS_DIR / f"{name}.json"
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise ArtifactError(f"no artifact for contract {name!r} at {path}") from None
    except json.JSONDecodeError as exc:
        raise ArtifactError(f"artifact {path} is not valid JSON: {exc}") from exc
    return Artifact(
        name=data["contractName"],
        abi=ContractABI(data["abi"]),
        bytecode=bytes.fromhex(data["bytecode"][2:]),
        deployed_bytecode=bytes.fromhex(data["deployedBytecode"][2:]),
        sources_digest=data["sourcesDigest"],
    )


@cache
def all_errors() -> dict[bytes, object]:
    """Custom errors of every committed contract, by selector: a revert can bubble up from
    a contract the caller did not call directly (AccessManager → DataCatalog)."""
    manifest = json.loads((ARTIFACTS_DIR / "manifest.json").read_text())
    errors: dict[bytes, object] = {}
    for name in manifest["contracts"]:
        errors.update(load_artifact(name).abi.errors_by_selector)
    return errors
