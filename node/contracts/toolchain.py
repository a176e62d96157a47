"""What identifies a contract build: the pinned compiler, library, settings and sources.

The digest is computed the same way by the build and by the staleness test, so a test can
tell that committed artifacts no longer match the sources without running a compiler.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

CONTRACTS_DIR = Path(__file__).resolve().parent
SRC_DIR = CONTRACTS_DIR / "src"
ARTIFACTS_DIR = CONTRACTS_DIR / "artifacts"
PACKAGE_JSON = CONTRACTS_DIR.parent.parent / "package.json"

# evmVersion cancun runs on py-evm's Prague VM, anvil and Besu alike.
COMPILER_SETTINGS: dict = {
    "optimizer": {"enabled": True, "runs": 200},
    "evmVersion": "cancun",
    "viaIR": False,
    "metadata": {"bytecodeHash": "ipfs"},
}


def pinned_versions(package_json: Path = PACKAGE_JSON) -> dict[str, str]:
    deps = json.loads(package_json.read_text())["devDependencies"]
    return {"solc": deps["solc"], "openzeppelin": deps["@openzeppelin/contracts"]}


def source_files(src_dir: Path = SRC_DIR) -> list[Path]:
    return sorted(p for p in src_dir.rglob("*.sol") if p.is_file())


def sources_digest(src_dir: Path = SRC_DIR, package_json: Path = PACKAGE_JSON) -> str:
    """SHA-256 over every source file, the pinned versions and the compiler settings."""
    h = hashlib.sha256()
    h.update(json.dumps(pinned_versions(package_json), sort_keys=True).encode())
    h.update(json.dumps(COMPILER_SETTINGS, sort_keys=True).encode())
    for path in source_files(src_dir):
        rel = path.relative_to(src_dir).as_posix()
        h.update(rel.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()
