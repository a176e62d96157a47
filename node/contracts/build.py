"""Compile ``src/**/*.sol`` with the pinned solc (npm ``solc``) into committed artifacts.

Run with ``make contracts`` (or ``python -m node.contracts.build``). Every source, the
project's and OpenZeppelin's, is handed to the compiler as content under a stable unit
name (``@openzeppelin/contracts/...``), so the bytecode, including its metadata hash, does
not depend on where node_modules lies. Running the product never needs a compiler.
"""

from __future__ import annotations

import argparse
import json
import posixpath
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from node.contracts.toolchain import (
    ARTIFACTS_DIR,
    COMPILER_SETTINGS,
    SRC_DIR,
    pinned_versions,
    source_files,
    sources_digest,
)

ROOT = SRC_DIR.parent.parent.parent
NODE_MODULES = ROOT / "node_modules"
_IMPORT = re.compile(r"""^\s*import\s+(?:[^;]*?\bfrom\s+)?["']([^"']+)["']""", re.M)
OZ_PREFIX = "@openzeppelin/contracts/"


class BuildError(Exception):
    pass


def _resolve(unit: str, target: str) -> str:
    if target.startswith("."):
        return posixpath.normpath(posixpath.join(posixpath.dirname(unit), target))
    return target


def _read_unit(unit: str, src_dir: Path) -> str:
    path = NODE_MODULES / unit if unit.startswith("@") else src_dir / unit
    if not path.is_file():
        raise BuildError(f"cannot find import {unit} (looked at {path}); run npm ci")
    return path.read_text()


def collect_sources(src_dir: Path = SRC_DIR) -> dict[str, str]:
    """All units reachable from the project's sources, by unit name."""
    todo = [p.relative_to(src_dir).as_posix() for p in source_files(src_dir)]
    sources: dict[str, str] = {}
    while todo:
        unit = todo.pop()
        if unit in sources:
            continue
        text = _read_unit(unit, src_dir)
        sources[unit] = text
        todo.extend(_resolve(unit, t) for t in _IMPORT.findall(text))
    return sources


def compile_sources(sources: dict[str, str], own_units: set[str] | None = None) -> dict:
    solc_pkg = NODE_MODULES / "solc"
    if not solc_pkg.exists():
        raise BuildError("solc is not installed; run `npm ci` (make contracts does)")
    targets = own_units or set(sources)
    std_input = {
        "language": "Solidity",
        "sources": {name: {"content": text} for name, text in sorted(sources.items())},
        "settings": {
            **COMPILER_SETTINGS,
            "outputSelection": {
                unit: {"*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"]}
                for unit in sorted(targets)
            },
        },
    }
    with tempfile.TemporaryDirectory() as tmp:
        out_path = Path(tmp) / "out.json"
        proc = subprocess.run(
            [
                "node",
                str(Path(__file__).with_name("solc_compile.cjs")),
                str(solc_pkg),
                str(out_path),
            ],
            input=json.dumps(std_input),
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0 or not out_path.exists():
            raise BuildError(f"solc failed: {proc.stderr.strip() or proc.stdout.strip()}")
        output = json.loads(out_path.read_text())
    errors = [e for e in output.get("errors", []) if e.get("severity") == "error"]
    if errors:
        raise BuildError("\n".join(e.get("formattedMessage", e["message"]) for e in errors))
    return output


def solc_version() -> str:
    out = subprocess.run(
        ["node", "-e", f"console.log(require({str(NODE_MODULES / 'solc')!r}).version())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return out.strip().splitlines()[-1]


def build(src_dir: Path = SRC_DIR, out_dir: Path = ARTIFACTS_DIR) -> list[Path]:
    sources = collect_sources(src_dir)
    own = {p.relative_to(src_dir).as_posix() for p in source_files(src_dir)}
    output = compile_sources(sources, own)
    digest = sources_digest(src_dir)
    versions = pinned_versions()
    compiler = solc_version()
    out_dir.mkdir(parents=True, exist_ok=True)
    own_units = {p.relative_to(src_dir).as_posix() for p in source_files(src_dir)}
    written = []
    for unit in sorted(own_units):
        for name, data in sorted(output["contracts"].get(unit, {}).items()):
            bytecode = data["evm"]["bytecode"]["object"]
            if not bytecode:
                continue  # interfaces and abstract contracts have no artifact
            artifact = {
                "contractName": name,
                "sourceName": unit,
                "abi": data["abi"],
                "bytecode": "0x" + bytecode,
                "deployedBytecode": "0x" + data["evm"]["deployedBytecode"]["object"],
                "compiler": {"solc": compiler, "settings": COMPILER_SETTINGS},
                "openzeppelin": versions["openzeppelin"],
                "sourcesDigest": digest,
            }
            path = out_dir / f"{name}.json"
            path.write_text(json.dumps(artifact, indent=1, sort_keys=True) + "\n")
            written.append(path)
    manifest = {
        "sourcesDigest": digest,
        "solc": compiler,
        "openzeppelin": versions["openzeppelin"],
        "contracts": sorted(p.stem for p in written),
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ARTIFACTS_DIR, help="artifact folder")
    args = parser.parse_args(argv)
    try:
        written = build(out_dir=args.out)
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for path in written:
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
