"""Committed artifacts match their sources and the pinned compiler."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from node.chain.artifacts import load_artifact
from node.contracts import build
from node.contracts.toolchain import ARTIFACTS_DIR, SRC_DIR, pinned_versions, sources_digest


def _manifest() -> dict:
    return json.loads((ARTIFACTS_DIR / "manifest.json").read_text())


def test_artifacts_are_fresh_for_the_sources() -> None:
    """Fails when a .sol file, the compiler pin or the settings changed without `make contracts`."""
    manifest = _manifest()
    assert manifest["sourcesDigest"] == sources_digest(), "artifacts are stale: run make contracts"
    for name in manifest["contracts"]:
        assert load_artifact(name).sources_digest == manifest["sourcesDigest"]


def test_artifacts_record_compiler_and_library() -> None:
    manifest = _manifest()
    pins = pinned_versions()
    assert manifest["solc"].startswith(pins["solc"] + "+commit.")
    assert manifest["openzeppelin"] == pins["openzeppelin"]
    data = json.loads((ARTIFACTS_DIR / "ChainProbe.json").read_text())
    assert data["compiler"]["solc"] == manifest["solc"]
    assert data["compiler"]["settings"]["evmVersion"] == "cancun"


def test_digest_changes_with_any_source(tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(SRC_DIR, src)
    before = sources_digest(src)
    target = next(src.rglob("*.sol"))
    target.write_text(target.read_text() + "\n// touched\n")
    assert sources_digest(src) != before


def test_rebuild_reproduces_committed_bytecode(tmp_path: Path) -> None:
    if not (build.NODE_MODULES / ".bin" / "solcjs").exists():
        pytest.fail("solcjs missing: run npm ci (make test does)")
    written = build.build(out_dir=tmp_path)
    assert written
    for path in written:
        fresh = json.loads(path.read_text())
        committed = json.loads((ARTIFACTS_DIR / path.name).read_text())
        assert fresh["bytecode"] == committed["bytecode"], path.name
        assert fresh["deployedBytecode"] == committed["deployedBytecode"], path.name
        assert fresh["abi"] == committed["abi"], path.name


def test_build_reports_missing_import(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "Broken.sol").write_text(
        'pragma solidity 0.8.30;\nimport {Nope} from "@openzeppelin/contracts/Nope.sol";\n'
    )
    with pytest.raises(build.BuildError, match="cannot find import"):
        build.collect_sources(src)
