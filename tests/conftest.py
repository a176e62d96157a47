"""Shared fixtures: real chains (embedded, served, anvil) and real databases."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
import requests

from node.chain.backend import ChainBackend, open_backend
from node.chain.embedded.host import ChainHost, free_port, start_chain_host

ROOT = Path(__file__).resolve().parent.parent
NODE_BIN = ROOT / "node_modules" / ".bin"
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/postgres"


# -- databases ---------------------------------------------------------------------------
@pytest.fixture(scope="session")
def pg_admin_url() -> str:
    url = os.environ.get("TANLIAN_TEST_PG_URL")
    required = url is not None
    url = url or DEFAULT_PG
    try:
        psycopg.connect(url, connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        if required:
            pytest.fail(f"TANLIAN_TEST_PG_URL={url} is unreachable: {exc}")
        pytest.skip(f"PostgreSQL not reachable at {url} (set TANLIAN_TEST_PG_URL)")
    return url


@pytest.fixture
def pg_url(pg_admin_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test, dropped afterwards."""
    name = f"tanlian_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = pg_admin_url.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'index.db'}"
    return request.getfixturevalue("pg_url")


# -- chains --------------------------------------------------------------------------------
def _tool(name: str) -> str:
    path = NODE_BIN / name
    if path.exists():
        return str(path)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed; run `npm ci` (make test does)")
    return found


@dataclass
class Anvil:
    url: str
    process: subprocess.Popen

    def fund(self, address: str, wei: int = 10**21) -> None:
        requests.post(
            self.url,
            json={
                "jsonrpc": "2.0",
                "id": 1,
                "method": "anvil_setBalance",
                "params": [address, hex(wei)],
            },
            timeout=5,
        ).raise_for_status()


def start_anvil(*args: str) -> Anvil:
    """An anvil process on a free loopback port, answering, started with ``args``."""
    port = free_port()
    proc = subprocess.Popen(
        [_tool("anvil"), "--host", "127.0.0.1", "--port", str(port), "--silent", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            r = requests.post(
                url,
                json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
                timeout=1,
            )
            if r.ok:
                return Anvil(url, proc)
        except requests.RequestException:
            time.sleep(0.1)
    proc.kill()
    pytest.fail(f"anvil {' '.join(args)} did not start")


def stop_anvil(node: Anvil) -> None:
    node.process.terminate()
    node.process.wait(10)


@pytest.fixture(scope="session")
def anvil() -> Iterator[Anvil]:
    node = start_anvil("--chain-id", "31337")
    yield node
    stop_anvil(node)


@pytest.fixture
def chain_host(tmp_path: Path) -> Iterator[ChainHost]:
    host = start_chain_host(tmp_path / "host")
    yield host
    host.stop()


@dataclass
class BackendUnderTest:
    """A backend plus what the conformance suite needs to drive it."""

    kind: str
    backend: ChainBackend
    fund: Callable[[str], None]
    restart: Callable[[], ChainBackend] | None


@pytest.fixture(params=["embedded", "served", "anvil"])
def any_backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BackendUnderTest]:
    kind = request.param
    opened: list[ChainBackend] = []
    hosts: list[ChainHost] = []
    if kind == "embedded":
        home = tmp_path / "chain"

        def restart() -> ChainBackend:
            opened[-1].close()
            b = open_backend("embedded", home=home, create=False)
            opened.append(b)
            return b

        opened.append(open_backend("embedded", home=home))
        yield BackendUnderTest(kind, opened[0], lambda a: None, restart)
    elif kind == "served":
        hosts.append(start_chain_host(tmp_path / "host"))

        def restart_host() -> ChainBackend:
            opened[-1].close()
            hosts[-1].stop()
            hosts.append(start_chain_host(tmp_path / "host", port=hosts[-1].port))
            b = open_backend("rpc", url=hosts[-1].url)
            opened.append(b)
            return b

        opened.append(open_backend("rpc", url=hosts[0].url))
        yield BackendUnderTest(kind, opened[0], lambda a: None, restart_host)
    else:
        node = request.getfixturevalue("anvil")
        opened.append(open_backend("rpc", url=node.url))
        yield BackendUnderTest(kind, opened[0], node.fund, None)
    for b in opened:
        b.close()
    for h in hosts:
        h.stop()


#: modules whose tests run real networks of node processes (a minute or more each under
#: load), longest first: started first, so that the two xdist workers end together instead
#: of one running the last walkthroughs alone while the other idles
LONG_FIRST = (
    "tests/test_readme_walkthrough.py",
    "tests/test_demo.py",
    "tests/audit/test_audit_network.py",
    "tests/sharing/test_sharing_cli.py",
    "tests/crash/test_crash_trials.py",
    "tests/commitments/test_commit_flow.py",
    "tests/joint/test_joint_flow.py",
    "tests/registry/test_onboarding.py",
    "tests/quality/test_catalog_flow.py",
    "tests/sharing/test_first_week.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {path: n for n, path in enumerate(LONG_FIRST)}
    root = Path(__file__).resolve().parent.parent

    def key(item: pytest.Item) -> int:
        path = Path(str(item.fspath)).resolve().relative_to(root).as_posix()
        return rank.get(path, len(LONG_FIRST))

    items.sort(key=key)  # stable: the order within a module and among the rest is kept


# -- the pilot demo, once per run ----------------------------------------------------------
@dataclass
class PilotDemo:
    root: Path
    summary: dict
    lines: list[str]
    config: Path

    @property
    def cockpit_url(self) -> str:
        return self.summary["cockpit"]["url"]

    @property
    def viewer_password(self) -> str:
        line = next(x for x in self.lines if "log in as demo-viewer with password" in x)
        return line.split("with password ")[1].split()[0]

    def summary_step(self, name: str) -> dict:
        return next(s for s in self.summary["steps"] if s["step"] == name)

    @property
    def analyst_home(self) -> Path:
        return self.root / "demo" / "network" / "nodes" / "analyst"


@pytest.fixture(scope="session")
def pilot_demo(tmp_path_factory) -> Iterator[PilotDemo]:
    """`make demo`'s scenario on free ports, left running (cockpit included) for the tests
    that read its results; its tests share one xdist group, so it runs once."""
    from node.network.config import load_network_config
    from node.network.orchestrator import LocalNetwork
    from node.pilot.demo import run_demo
    from tests.network.test_local_network import _config

    root = tmp_path_factory.mktemp("pilot-demo")
    config = _config(root / "net.toml", full=True, joint=True)
    lines: list[str] = []
    try:
        summary = run_demo(root / "demo", config, say=lines.append, cockpit_port=free_port())
        yield PilotDemo(root, summary, lines, config)
    finally:
        LocalNetwork(load_network_config(config), root / "demo" / "network").down()


#: test files that share the ``pilot_demo`` fixture: one worker runs them all, so that the
#: demo's network comes up once
PILOT_DEMO_FILES = ("tests/test_demo.py", "tests/cockpit/test_browser.py")


def pytest_xdist_make_scheduler(config, log):
    """``--dist loadgroup``, grouping by file for the pilot-demo tests.

    xdist 3.8 groups ``xdist_group`` marks by suffixing node ids, which pytest 9.2 no
    longer lets it do (pytest-xdist issue 1386): the marks are silently ignored. The group
    is derived from the node id's file instead; every other test is its own unit, as with
    ``--dist load``."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class PilotDemoScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            if nodeid.split("::", 1)[0] in PILOT_DEMO_FILES:
                return "pilot_demo"
            return nodeid

    return PilotDemoScheduling(config, log)
