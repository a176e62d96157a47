"""A department joining a running network: `tanlian init --registry` finds the network's
other contracts on chain, and a running node takes up contracts added to its node.toml (and
says when an edit is not in force) instead of silently releasing no keys."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import tomli_w

from node.chain.embedded.host import free_port
from node.network.orchestrator import LocalNetwork
from tests.network.running import running_network
from tests.sharing.test_sharing_cli import ok, tanlian

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNetwork]:
    with running_network(tmp_path_factory.mktemp("onboard")) as network:
        yield network


def cli(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "TANLIAN_PASSWORD"}
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
    )


def _init(net: LocalNetwork, home: Path, password: Path, port: int, *where: str):
    return cli(
        "init",
        "--home",
        str(home),
        "--name",
        home.name,
        "--roles",
        "provider",
        "--endpoint",
        f"http://127.0.0.1:{port}",
        "--password-file",
        str(password),
        *where,
    )


def test_init_with_the_registry_address_finds_the_other_contracts(
    net: LocalNetwork, tmp_path: Path
) -> None:
    state = net.load_state()
    password = tmp_path / "pw"
    password.write_text("a passphrase\n")
    home = tmp_path / "parks"
    proc = _init(
        net, home, password, free_port(), "--rpc", net.chain_url, "--registry", state["registry"]
    )
    assert proc.returncode == 0, proc.stderr
    contracts = tomllib.loads((home / "node.toml").read_text())["contracts"]
    assert contracts == {
        k: state[k] for k in ("registry", "catalog", "access", "audit", "commitments", "joint")
    }
    # a wrong address or a missing chain URL is one clear line, and writes nothing
    for where, fragment in [
        (["--rpc", net.chain_url, "--registry", "0x" + "11" * 20], "no contract at"),
        (["--registry", state["registry"]], "--registry needs --rpc"),
        (["--rpc", net.chain_url, "--registry", "0x1234"], "is not a 0x… contract address"),
    ]:
        other = tmp_path / "other"
        proc = _init(net, other, password, free_port(), *where)
        assert proc.returncode == 1 and fragment in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr and not other.exists()


def _healthy(url: str, pid: subprocess.Popen, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert pid.poll() is None, pid.stdout.read() if pid.stdout else ""
        try:
            return httpx.get(url + "/healthz", timeout=2).json()
        except httpx.HTTPError:
            time.sleep(0.3)
    raise AssertionError("node did not start")


def test_a_running_node_takes_up_contracts_added_to_node_toml(
    net: LocalNetwork, tmp_path: Path
) -> None:
    state = net.load_state()
    password = tmp_path / "pw"
    password.write_text("a passphrase\n")
    home = tmp_path / "parks2"
    port = free_port()
    assert (
        _init(net, home, password, port, "--network", str(net.root / "network.json")).returncode
        == 0
    )
    # as `init --registry` wrote it before: the registry only
    config = tomllib.loads((home / "node.toml").read_text())
    config["contracts"] = {"registry": state["registry"]}
    (home / "node.toml").write_text(tomli_w.dumps(config))
    mine = ["--home", str(home), "--password-file", str(password)]
    node = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "node", "serve", *mine],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _healthy(url, node)
        assert cli("registry", "register", *mine).returncode == 0
        assert ok(tanlian(net, "drc", "registry", "approve", "parks2", "--json"))
        # the officer adds the missing contracts by hand while the node runs
        config["contracts"] = {
            k: state[k] for k in ("registry", "catalog", "access", "audit", "commitments", "joint")
        }
        (home / "node.toml").write_text(tomli_w.dumps(config))
        data = tmp_path / "parks.csv"
        data.write_text("district,green_ha\n锦江区,1532.5\n")
        pub = cli(
            "dataset",
            "publish",
            str(data),
            "--name",
            "parks",
            "--auto-approve",
            "analyst",
            "--json",
            *mine,
        )
        assert pub.returncode == 0, pub.stderr
        rid = int(
            tanlian(
                net, "analyst", "access", "request", "parks2/parks", "--purpose", "index", "-q"
            ).stdout
        )
        # the running node releases the key without a restart
        pulled = tmp_path / "pulled.csv"
        got = tanlian(
            net, "analyst", "access", "pull", str(rid), "-o", str(pulled), "--wait", "30", "--json"
        )
        assert got.returncode == 0, got.stderr
        assert pulled.read_bytes() == data.read_bytes()
        # an edit the running node cannot apply is reported, not silently ignored
        config["api"]["max_clock_skew_seconds"] = 90
        (home / "node.toml").write_text(tomli_w.dumps(config))
        deadline = time.monotonic() + 10
        health = _healthy(url, node)
        while health.get("settings_error") is None and time.monotonic() < deadline:
            time.sleep(0.3)
            health = _healthy(url, node)
        assert health["status"] == "degraded"
        assert "node.toml changed (api)" in health["settings_error"]
        status = cli("node", "status", *mine)
        assert "restart it" in status.stdout, status.stdout + status.stderr
    finally:
        node.terminate()
        node.wait(30)
