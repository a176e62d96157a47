"""`tanlian network up/status/down` with real processes: the whole pilot on one machine."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from node.chain.backend import open_backend
from node.chain.client import ChainClient
from node.chain.embedded.host import free_port
from node.network.config import load_network_config
from node.network.orchestrator import LocalNetwork
from node.peer.client import NodeApiError, NodeClient
from node.registry.keystore import KEYSTORE_FILE, generate_keys, unlock
from node.registry.registry import Registry, Status

DEPARTMENTS = [
    ("drc", ["regulator"], True),
    ("stats", ["provider"], False),
    ("eco", ["provider", "consumer"], False),
    ("analyst", ["consumer", "analyst"], False),
]


#: pilot departments only the joint statistics use: left out of the pilot networks of tests
#: that do not need them (a node process costs seconds of CPU to start and keeps polling)
JOINT_ONLY = ("gas",)


def _config(
    path: Path,
    *,
    full: bool = False,
    log_anchor_seconds: float | None = None,
    joint: bool = False,
) -> Path:
    """A network definition on free ports: a small one, or the pilot (full=True; with the
    departments only joint statistics use when joint=True)."""
    departments = DEPARTMENTS
    if full:
        local = Path(__file__).resolve().parents[2] / "network-config" / "local.toml"
        departments = [
            (d.name, list(d.roles), d.genesis)
            for d in load_network_config(local).departments
            if joint or d.name not in JOINT_ONLY
        ]
    lines = [
        "[network]",
        'name = "test-net"',
        "approval_threshold = 1",
        *([f"log_anchor_seconds = {log_anchor_seconds}"] if log_anchor_seconds else []),
        "",
        "[chain]",
        f"port = {free_port()}",
        "",
    ]
    for name, roles, genesis in departments:
        lines += [
            "[[departments]]",
            f'name = "{name}"',
            f'title = "{name} bureau"',
            f"roles = {roles!r}".replace("'", '"'),
            f"port = {free_port()}",
            f"genesis = {'true' if genesis else 'false'}",
            "",
        ]
    path.write_text("\n".join(lines))
    return path


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNetwork]:
    root = tmp_path_factory.mktemp("net")
    config = load_network_config(_config(root / "net.toml"))
    net = LocalNetwork(config, root / "state", say=lambda _: None)
    try:
        net.up()
        yield net
    finally:
        net.down()


def _dept(net: LocalNetwork, name: str):
    return next(d for d in net.config.departments if d.name == name)


def _client(net: LocalNetwork, signer: str, target: str) -> NodeClient:
    keys = unlock(
        net.home(_dept(net, signer)) / KEYSTORE_FILE, net.secret(_dept(net, signer)).read_text()
    )
    return NodeClient(_dept(net, target).endpoint, keys.account.key)


def _regulator(net: LocalNetwork, backend) -> Registry:
    drc = _dept(net, "drc")
    keys = unlock(net.home(drc) / KEYSTORE_FILE, net.secret(drc).read_text())
    return Registry(ChainClient(backend, keys.account), net.load_state()["registry"])


def _wait(predicate, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.1)


def test_up_activates_every_department(network: LocalNetwork) -> None:
    status = network.status()
    assert status["chain"]["health"] == "ok"
    rows = {r["name"]: r for r in status["departments"]}
    assert set(rows) == {d[0] for d in DEPARTMENTS}
    for row in rows.values():
        assert (row["process"], row["health"], row["registry_status"]) == (
            "running",
            "ok",
            "active",
        )
        assert row["chain_head"] == status["chain"]["head"]
    with _client(network, "analyst", "stats") as c:
        listing = c.get("/v1/nodes")
    assert {m["name"]: m["status"] for m in listing["members"]} == {
        name: "active" for name, _, _ in DEPARTMENTS
    }


def test_suspended_department_is_refused_by_every_other_node(network: LocalNetwork) -> None:
    backend = open_backend("rpc", url=network.chain_url)
    regulator = _regulator(network, backend)
    eco_address = unlock(
        network.home(_dept(network, "eco")) / KEYSTORE_FILE,
        network.secret(_dept(network, "eco")).read_text(),
    ).address
    head = regulator.suspend(eco_address, "integration test").receipt.block_number
    try:
        for target in ("drc", "stats", "analyst"):
            with NodeClient(_dept(network, target).endpoint) as anon:
                _wait(lambda anon=anon: anon.health()["indexed_block"] >= head)
            with _client(network, "eco", target) as c:
                with pytest.raises(NodeApiError) as info:
                    c.get("/v1/nodes/me")
                assert (info.value.http_status, info.value.code) == (403, "auth_not_active")
    finally:
        regulator.reinstate(eco_address)
    with NodeClient(_dept(network, "stats").endpoint) as anon:
        _wait(lambda: anon.health()["indexed_block"] >= head + 1)
    with _client(network, "eco", "stats") as c:
        assert c.get("/v1/nodes/me")["status"] == "active"
    backend.close()


def test_node_killed_during_a_registration_catches_up(network: LocalNetwork) -> None:
    state = network.load_state()
    stats_pid = state["nodes"]["stats"]["pid"]
    backend = open_backend("rpc", url=network.chain_url)
    newcomer = generate_keys()
    registry = Registry(ChainClient(backend, newcomer.account), state["registry"])
    # kill -9 the stats node while a registration and its approval are being mined
    killer = threading.Timer(0.01, os.kill, (stats_pid, signal.SIGKILL))
    killer.start()
    registry.register("newcomer", ["consumer"], newcomer.encryption_public_key, "http://x")
    _regulator(network, backend).approve(newcomer.address)
    killer.join()
    assert network.status()["departments"][1]["process"] == "dead"
    network.up()  # repairs the half-running network
    after = network.load_state()
    assert after["nodes"]["stats"]["pid"] != stats_pid
    assert {k: v["pid"] for k, v in after["nodes"].items() if k != "stats"} == {
        k: v["pid"] for k, v in state["nodes"].items() if k != "stats"
    }
    # the restarted node's view equals the chain's
    chain_view = {
        m.address: (m.name, m.status.label, m.approvals)
        for m in Registry(ChainClient(backend), state["registry"]).members()
    }
    assert chain_view[newcomer.address] == ("newcomer", Status.ACTIVE.label, 1)
    with _client(network, "drc", "stats") as c:
        _wait(lambda: c.get("/v1/nodes")["as_of_block"] >= backend.block_number())
        listing = c.get("/v1/nodes")
    node_view = {m["address"]: (m["name"], m["status"], m["approvals"]) for m in listing["members"]}
    assert node_view == chain_view
    backend.close()


def test_down_stops_exactly_what_up_started(network: LocalNetwork) -> None:
    pids = [v["pid"] for v in network.load_state()["nodes"].values()]
    pids.append(network.load_state()["chain"]["pid"])
    stopped = network.down()
    assert set(stopped) == {d[0] for d in DEPARTMENTS} | {"chain"}
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            _reap_or_check(pid)
    status = network.status()
    assert status["chain"]["health"] == "down"
    assert all(r["process"] == "not started" for r in status["departments"])
    # and up again brings back the same chain and registry without re-registering anyone
    registry = network.load_state()["registry"]
    network.up()
    assert network.load_state()["registry"] == registry
    assert all(r["registry_status"] == "active" for r in network.status()["departments"])


def _reap_or_check(pid: int) -> None:
    """Raise ProcessLookupError once ``pid`` is gone (reaping it if it is our child)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            done, _ = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            break  # not our child (or already reaped): ask the kernel below
        if done:
            break
        time.sleep(0.05)  # exiting but not yet a zombie
    os.kill(pid, 0)
