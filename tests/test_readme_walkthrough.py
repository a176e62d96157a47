"""The README's walkthrough, run as written: a new department joins a running pilot network
from nothing, publishes, and the analyst applies, is approved, pulls; the owner revokes.

The commands are read from README.md's code blocks (so the README and this test cannot
drift). The network is the pilot's departments on free ports under ``out/demo/network`` of a
temporary folder; the only rewrite is the new node's port (8610 in the README).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from node.chain.embedded.host import free_port
from node.network.config import load_network_config
from node.network.orchestrator import LocalNetwork
from tests.network.test_local_network import _config

ROOT = Path(__file__).resolve().parent.parent
SECTION = "## A new department's first week (walkthrough)"
PURPOSE = "Green space per district for the 2024 green low-carbon index"


def walkthrough_blocks(readme: str) -> list[str]:
    """The ```sh blocks of the walkthrough section, in order."""
    start = readme.index(SECTION)
    end = readme.index("\n## ", start + len(SECTION))
    return re.findall(r"```sh\n(.*?)```", readme[start:end], flags=re.S)


def test_readme_walkthrough_runs_as_written(tmp_path: Path) -> None:
    blocks = walkthrough_blocks((ROOT / "README.md").read_text())
    assert len(blocks) >= 5 and any("tanlian init" in b for b in blocks)
    network = LocalNetwork(
        load_network_config(_config(tmp_path / "net.toml", full=True)),
        tmp_path / "out" / "demo" / "network",
        say=lambda _: None,
    )
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    wrapper = bin_dir / "tanlian"
    wrapper.write_text(f'#!/bin/sh\nexec {sys.executable} -m cli.main "$@"\n')
    wrapper.chmod(0o755)
    port = free_port()
    script = "\n".join(
        [
            # the node the walkthrough starts in the background stops with the script
            "trap 'kill $(jobs -p) 2>/dev/null; wait' EXIT",
            *(b.replace("127.0.0.1:8610", f"127.0.0.1:{port}") for b in blocks),
        ]
    )
    env = {k: v for k, v in os.environ.items() if k != "TANLIAN_PASSWORD"}
    env["PATH"] = f"{bin_dir}:{env['PATH']}"
    env["PYTHONPATH"] = str(ROOT)
    try:
        network.up()
        proc = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            stdin=subprocess.DEVNULL,
        )
    finally:
        network.down()
    log = tmp_path / "out" / "parks" / "node.log"
    node_log = log.read_text()[-2000:] if log.exists() else ""
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:] + node_log
    out = tmp_path / "out" / "parks"
    assert (out / "pulled" / "green_space.csv").read_bytes() == (
        out / "green_space.csv"
    ).read_bytes()
    # the owner saw the request with names, the purpose and dates, not bare 0x and unix times
    flat = re.sub(r"[\s│┃]+", " ", proc.stdout)
    assert "parks/green-space v1" in flat and "analyst" in flat
    assert "Green space per district" in flat and "+08:00" in flat
    assert "AccessRevoked" in proc.stdout
