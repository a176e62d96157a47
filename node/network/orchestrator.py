"""`tanlian network up | status | down` for a local network of department nodes.

Everything a network run creates lives under one root folder:

    ROOT/state.json            what `up` started (pids, ports, registry address)
    ROOT/network.json          the network's descriptor: chain URL and registry address
    ROOT/chain/                the chain host's home (durable embedded chain)
    ROOT/nodes/NAME/           each department's home (keystore.json, node.toml, node.db)
    ROOT/secrets/NAME.password the keystore password of each department (mode 0600)
    ROOT/logs/NAME.log         each process's output

`up` is idempotent: it reuses what is healthy, restarts what died and registers and
activates only the departments that are not active yet. `down` stops exactly the
processes recorded in state.json, after checking that each pid still runs our command.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from node.audit.contracts import deploy_audit
from node.chain.backend import open_backend
from node.chain.client import ChainClient
from node.chain.embedded.permissioning import PermissionSettings
from node.commitments.contracts import deploy_commitments
from node.errors import TanlianError
from node.home import DIR_MODE, make_private, open_private, write_private
from node.joint.contracts import deploy_joint
from node.network.config import Department, NetworkConfig
from node.registry.identity import init_node, update_config
from node.registry.keystore import KEYSTORE_FILE, read_public, unlock
from node.registry.registry import GenesisMember, Registry, Status, deploy_registry
from node.sharing.contracts import deploy_sharing

Say = Callable[[str], None]
#: what a department joining the network needs (chain URL, registry), for `tanlian init --network`
NETWORK_FILE = "network.json"


class NetworkError(TanlianError):
    code = "network_error"
    http_status = 500


@dataclass
class ProcessInfo:
    pid: int
    port: int


def _alive(pid: int, marker: str) -> bool:
    """Whether ``pid`` runs and is our process (its command line holds ``marker``)."""
    if _gone(pid):
        return False
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return False
    return marker in cmdline


def _gone(pid: int) -> bool:
    """Whether ``pid`` has exited: no process, or a zombie whose every thread has exited.

    A multi-threaded process's leader can show as a zombie while its other threads are
    still exiting and still hold its files (a chain store's lock among them), so the
    threads are checked too.
    """
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
        states = [_state(t / "stat") for t in tasks]
    except OSError:
        return True
    return all(s in ("Z", "X", None) for s in states)


def _state(stat: Path) -> str | None:
    """The state letter of a /proc stat file (None if it has gone meanwhile)."""
    try:
        return stat.read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None


def _healthy(url: str, timeout: float = 1.0) -> dict | None:
    try:
        r = httpx.get(url + "/healthz", timeout=timeout)
    except httpx.HTTPError:
        return None
    return r.json() if r.status_code == 200 else None


class LocalNetwork:
    def __init__(self, config: NetworkConfig, root: Path, say: Say = print) -> None:
        self.config = config
        self.root = Path(root).resolve()
        self.say = say
        self.state_path = self.root / "state.json"
        #: What this run did on chain, with transaction hashes (for summaries).
        self.events: list[dict[str, Any]] = []

    # -- paths and state -------------------------------------------------------------
    def home(self, dept: Department) -> Path:
        return self.root / "nodes" / dept.name

    def secret(self, dept: Department) -> Path:
        return self.root / "secrets" / f"{dept.name}.password"

    @property
    def chain_url(self) -> str:
        return f"http://127.0.0.1:{self.config.chain.port}"

    def load_state(self) -> dict[str, Any]:
        if not self.state_path.exists():
            return {"chain": None, "registry": None, "nodes": {}}
        try:
            return json.loads(self.state_path.read_text())
        except json.JSONDecodeError as exc:
            raise NetworkError(f"{self.state_path} is damaged: {exc}") from exc

    def save_state(self, state: dict[str, Any]) -> None:
        tmp = self.state_path.with_suffix(".tmp")
        write_private(tmp, json.dumps(state, indent=2))
        tmp.replace(self.state_path)

    def _spawn(self, args: list[str], log_name: str) -> int:
        log_dir = self.root / "logs"
        log_dir.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND
        with os.fdopen(open_private(log_dir / f"{log_name}.log", flags), "ab") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "cli.main", *args],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # survives the CLI that started it
                cwd=Path(__file__).resolve().parents[2],
            )
        return proc.pid

    def _wait_healthy(
        self, url: str, pid: int, marker: str, what: str, timeout: float = 60
    ) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            health = _healthy(url)
            if health is not None:
                return health
            if not _alive(pid, marker):
                raise NetworkError(f"{what} exited during start; see {self.root / 'logs'}")
            time.sleep(0.1)
        raise NetworkError(f"{what} did not become healthy in {timeout:.0f}s")

    # -- up --------------------------------------------------------------------------
    def up(self) -> dict[str, Any]:
        make_private(self.root)
        state = self.load_state()
        # identities first: the chain host admits the genesis regulators' deployments only
        self._ensure_identities()
        self._permit()
        self._ensure_chain(state)
        self._ensure_registry(state)
        self._ensure_nodes(state)
        self._ensure_members(state)
        self.save_state(state)
        return self.status()

    def _ensure_chain(self, state: dict[str, Any]) -> None:
        home = self.root / "chain"
        marker = str(home)
        info = state.get("chain")
        if info and _alive(info["pid"], marker) and _healthy(self.chain_url):
            self.say(f"chain host already running (pid {info['pid']})")
            return
        if _healthy(self.chain_url):
            raise NetworkError(
                f"port {self.config.chain.port} answers but is not this network's chain host"
            )
        pid = self._spawn(
            [
                "chain",
                "serve",
                "--home",
                str(home),
                "--port",
                str(self.config.chain.port),
                "--chain-id",
                str(self.config.network.chain_id),
            ],
            "chain",
        )
        self._wait_healthy(self.chain_url, pid, marker, "chain host")
        state["chain"] = {"pid": pid, "port": self.config.chain.port}
        self.save_state(state)
        self.say(f"chain host started (pid {pid}) at {self.chain_url}")

    def _permit(self, **deployed: Any) -> None:
        """Write the chain host's permissions: the genesis regulators administer the
        network until its registry exists; ``deployed``: registry= and contracts=."""
        admins = [
            read_public(self.home(d) / KEYSTORE_FILE)["address"]
            for d in self.config.genesis_regulators
        ]
        home = self.root / "chain"
        current = PermissionSettings.load(home) or PermissionSettings()
        updated = current.merged(admins, deployed.get("registry"), deployed.get("contracts", ()))
        if updated != current:
            updated.save(home)

    def _ensure_identities(self) -> None:
        for dept in self.config.departments:
            home = self.home(dept)
            if (home / KEYSTORE_FILE).exists():
                continue
            secret = self.secret(dept)
            secret.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(secret.parent, stat.S_IRWXU)
            if not secret.exists():
                fd = os.open(secret, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w") as fh:
                    fh.write(secrets.token_hex(24))
            info = init_node(
                home,
                name=dept.name,
                roles=list(dept.roles),
                endpoint=dept.endpoint,
                password=secret.read_text(),
                api_port=dept.port,
                chain={"backend": "rpc", "rpc_url": self.chain_url},
            )
            self.say(f"created identity of {dept.name}: {info['address']}")

    def _keys(self, dept: Department):
        return unlock(self.home(dept) / KEYSTORE_FILE, self.secret(dept).read_text())

    def department(self, name: str) -> Department:
        for dept in self.config.departments:
            if dept.name == name:
                return dept
        raise NetworkError(f"no department named {name!r} in this network")

    def session(self, name: str):
        """Department ``name``'s contracts and store, unlocked with its password file."""
        from node.runtime import NodeSession
        from node.settings import load_settings

        dept = self.department(name)
        return NodeSession(load_settings(self.home(dept)), self._keys(dept))

    def _ensure_registry(self, state: dict[str, Any]) -> None:
        backend = open_backend("rpc", url=self.chain_url)
        try:
            address = state.get("registry")
            if address and backend.get_code(address):
                self._ensure_sharing(state, backend)
                return
            genesis = []
            for dept in self.config.departments:
                if dept.genesis:
                    public = read_public(self.home(dept) / KEYSTORE_FILE)
                    genesis.append(
                        GenesisMember(
                            public["address"],
                            dept.name,
                            list(dept.roles),
                            bytes.fromhex(public["encryption_public_key"][2:]),
                            dept.endpoint,
                        )
                    )
            deployer = ChainClient(backend, self._keys(self.config.genesis_regulators[0]).account)
            contract, result = deploy_registry(
                deployer, genesis, self.config.network.approval_threshold
            )
            state["registry"] = contract.address
            state["registry_tx"] = result.tx_hash
            self.events.append(
                {
                    "step": "registry_deployed",
                    "address": contract.address,
                    "tx": result.tx_hash,
                    "genesis": [g.name for g in genesis],
                }
            )
            self.save_state(state)
            self.say(f"NodeRegistry deployed at {contract.address} (tx {result.tx_hash})")
            self._ensure_sharing(state, backend)
        finally:
            backend.close()

    def _ensure_sharing(self, state: dict[str, Any], backend) -> None:
        catalog, access = state.get("catalog"), state.get("access")
        if not (catalog and access and backend.get_code(catalog) and backend.get_code(access)):
            deployer = ChainClient(backend, self._keys(self.config.genesis_regulators[0]).account)
            cat, acc = deploy_sharing(deployer, state["registry"])
            state["catalog"], state["access"] = cat.address, acc.address
            self.save_state(state)
            self.events.append(
                {"step": "sharing_deployed", "catalog": cat.address, "access": acc.address}
            )
            self.say(f"DataCatalog at {cat.address}, AccessManager at {acc.address}")
        audit = state.get("audit")
        if not (audit and backend.get_code(audit)):
            deployer = ChainClient(backend, self._keys(self.config.genesis_regulators[0]).account)
            state["audit"] = deploy_audit(deployer, state["registry"]).address
            self.save_state(state)
            self.events.append({"step": "audit_log_deployed", "audit": state["audit"]})
            self.say(f"AuditLog at {state['audit']}")
        commitments = state.get("commitments")
        if not (commitments and backend.get_code(commitments)):
            deployer = ChainClient(backend, self._keys(self.config.genesis_regulators[0]).account)
            state["commitments"] = deploy_commitments(deployer, state["registry"]).address
            self.save_state(state)
            self.events.append(
                {"step": "commitments_deployed", "commitments": state["commitments"]}
            )
            self.say(f"ValueCommitments at {state['commitments']}")
        joint = state.get("joint")
        if not (joint and backend.get_code(joint)):
            deployer = ChainClient(backend, self._keys(self.config.genesis_regulators[0]).account)
            state["joint"] = deploy_joint(
                deployer,
                state["registry"],
                state["catalog"],
                state["access"],
                test_mode=self.config.network.joint_test_mode,
            ).address
            self.save_state(state)
            self.events.append({"step": "joint_deployed", "joint": state["joint"]})
            self.say(f"JointQuery at {state['joint']}")
        self._permit(
            registry=state["registry"],
            contracts=[
                state["catalog"],
                state["access"],
                state["audit"],
                state["commitments"],
                state["joint"],
            ],
        )
        self._name_network_contracts(state, backend)
        for dept in self.config.departments:
            update_config(
                self.home(dept),
                contracts={
                    "registry": state["registry"],
                    "catalog": state["catalog"],
                    "access": state["access"],
                    "audit": state["audit"],
                    "commitments": state["commitments"],
                    "joint": state["joint"],
                },
                audit={"anchor_interval_seconds": self.config.network.log_anchor_seconds},
            )

    def _name_network_contracts(self, state: dict[str, Any], backend) -> None:
        """Record the sharing and audit contracts in the registry, so that a department
        joining later configures its node from the registry address alone."""
        regulator = ChainClient(backend, self._keys(self.config.genesis_regulators[0]).account)
        registry = Registry(regulator, state["registry"])
        if registry.network_contracts() is None:
            registry.set_network_contracts(
                state["catalog"],
                state["access"],
                state["audit"],
                state["commitments"],
                state["joint"],
            )
            self.events.append({"step": "network_contracts_named"})
        descriptor = {
            "network": self.config.network.name,
            "chain_id": backend.chain_id,
            "rpc_url": self.chain_url,
            "registry": state["registry"],
        }
        path = self.root / NETWORK_FILE
        if not path.exists() or json.loads(path.read_text()) != descriptor:
            tmp = path.with_suffix(".tmp")
            write_private(tmp, json.dumps(descriptor, indent=2) + "\n")
            tmp.replace(path)

    def _ensure_nodes(self, state: dict[str, Any]) -> None:
        started = []
        for dept in self.config.departments:
            home = self.home(dept)
            info = state["nodes"].get(dept.name)
            if info and _alive(info["pid"], str(home)) and _healthy(dept.endpoint):
                continue
            if info and _alive(info["pid"], str(home)):
                os.kill(info["pid"], signal.SIGKILL)  # alive but not answering: replace it
            if _healthy(dept.endpoint):
                raise NetworkError(f"port {dept.port} answers but is not {dept.name}'s node")
            pid = self._spawn(
                ["node", "serve", "--home", str(home), "--password-file", str(self.secret(dept))],
                dept.name,
            )
            state["nodes"][dept.name] = {"pid": pid, "port": dept.port}
            started.append(dept)
            self.save_state(state)
        for dept in started:
            pid = state["nodes"][dept.name]["pid"]
            self._wait_healthy(dept.endpoint, pid, str(self.home(dept)), f"node {dept.name}")
            self.say(f"node {dept.name} started (pid {pid}) at {dept.endpoint}")

    def _ensure_members(self, state: dict[str, Any]) -> None:
        backend = open_backend("rpc", url=self.chain_url)
        try:
            reader = Registry(ChainClient(backend), state["registry"])
            regulators = [
                Registry(ChainClient(backend, self._keys(d).account), state["registry"])
                for d in self.config.genesis_regulators
            ]
            for dept in self.config.departments:
                address = read_public(self.home(dept) / KEYSTORE_FILE)["address"]
                member = reader.member(address)
                if member.status == Status.NONE:
                    keys = self._keys(dept)
                    mine = Registry(ChainClient(backend, keys.account), state["registry"])
                    r = mine.register(
                        dept.name, dept.roles, keys.encryption_public_key, dept.endpoint
                    )
                    self.events.append(
                        {
                            "step": "registered",
                            "department": dept.name,
                            "address": address,
                            "tx": r.tx_hash,
                        }
                    )
                    self.say(f"{dept.name} registered (pending)")
                    member = reader.member(address)
                for regulator in regulators:
                    if member.status != Status.PENDING:
                        break
                    if regulator.client.address == address or reader.client.call(
                        reader.contract, "hasApproved", address, regulator.client.address
                    ):
                        continue
                    r = regulator.approve(address)
                    self.events.append(
                        {
                            "step": "approved",
                            "department": dept.name,
                            "regulator": regulator.client.address,
                            "tx": r.tx_hash,
                        }
                    )
                    member = reader.member(address)
                if member.status == Status.ACTIVE:
                    self.say(f"{dept.name} active")
                else:
                    self.say(f"{dept.name} is {member.status.label}")
        finally:
            backend.close()

    # -- status / down -----------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        state = self.load_state()
        chain_info = state.get("chain") or {}
        chain_health = _healthy(self.chain_url)
        rows = []
        for dept in self.config.departments:
            info = state["nodes"].get(dept.name) or {}
            alive = bool(info) and _alive(info["pid"], str(self.home(dept)))
            health = _healthy(dept.endpoint) if alive else None
            rows.append(
                {
                    "name": dept.name,
                    "title": dept.title,
                    "roles": list(dept.roles),
                    "pid": info.get("pid"),
                    "process": "running" if alive else ("dead" if info else "not started"),
                    "health": health["status"] if health else "down",
                    "address": health["address"] if health else None,
                    "chain_head": health["chain_head"] if health else None,
                    "indexed_block": health["indexed_block"] if health else None,
                    "endpoint": dept.endpoint,
                }
            )
        registry_status: dict[str, str] = {}
        if chain_health and state.get("registry"):
            backend = open_backend("rpc", url=self.chain_url)
            try:
                reader = Registry(ChainClient(backend), state["registry"])
                for row, dept in zip(rows, self.config.departments, strict=True):
                    keystore = self.home(dept) / KEYSTORE_FILE
                    if keystore.exists():
                        address = read_public(keystore)["address"]
                        row["address"] = address
                        registry_status[dept.name] = reader.member(address).status.label
            finally:
                backend.close()
        for row in rows:
            row["registry_status"] = registry_status.get(row["name"], "unknown")
        return {
            "network": self.config.network.name,
            "root": str(self.root),
            "chain": {
                "url": self.chain_url,
                "pid": chain_info.get("pid"),
                "health": "ok" if chain_health else "down",
                "chain_id": chain_health["chain_id"] if chain_health else None,
                "head": chain_health["head"] if chain_health else None,
            },
            "registry": state.get("registry"),
            "departments": rows,
        }

    def stop_node(self, name: str) -> bool:
        """Stop one department's node (SIGTERM, as `down` does); `up` starts it again."""
        state = self.load_state()
        info = state.get("nodes", {}).get(name)
        if info is None:
            return False
        stopped = _terminate([(name, info["pid"], str(self.root / "nodes" / name))])
        del state["nodes"][name]
        self.save_state(state)
        return bool(stopped)

    def start_cockpit(self, dept: Department, port: int) -> str:
        """Serve ``dept``'s decision cockpit on 127.0.0.1:``port``; its URL. `down` stops it."""
        state = self.load_state()
        old = state.get("cockpit")
        if old:
            _terminate([("cockpit", old["pid"], old["home"])])
        home = str(self.home(dept))
        pid = self._spawn(
            ["cockpit", "serve", "--home", home, "--port", str(port)], f"{dept.name}-cockpit"
        )
        url = f"http://127.0.0.1:{port}"
        self._wait_healthy(url, pid, home, f"{dept.name}'s cockpit", timeout=60)
        state["cockpit"] = {"pid": pid, "home": home, "department": dept.name, "url": url}
        self.save_state(state)
        return url

    def down(self) -> list[str]:
        state = self.load_state()
        cockpit = state.get("cockpit")
        cockpit_stopped = (
            _terminate([("cockpit", cockpit["pid"], cockpit["home"])]) if cockpit else []
        )
        state["cockpit"] = None
        nodes = [
            (name, info["pid"], str(self.root / "nodes" / name))
            for name, info in state.get("nodes", {}).items()
        ]
        chain = (
            [("chain", state["chain"]["pid"], str(self.root / "chain"))]
            if state.get("chain")
            else []
        )
        # Nodes first: on SIGTERM each anchors its pending access log, which needs the chain.
        stopped = cockpit_stopped + _terminate(nodes) + _terminate(chain)
        state["nodes"] = {}
        state["chain"] = None
        if self.state_path.exists():
            self.save_state(state)
        return [name for name, _, _ in stopped]


def _terminate(targets: list[tuple[str, int, str]], grace: float = 15.0) -> list[tuple]:
    """SIGTERM every live target, wait up to ``grace`` seconds, SIGKILL what is left."""
    stopped = []
    for name, pid, marker in targets:
        if _alive(pid, marker):
            os.kill(pid, signal.SIGTERM)
            stopped.append((name, pid, marker))
    deadline = time.monotonic() + grace
    for _name, pid, _marker in stopped:
        while not _gone(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if not _gone(pid):
            os.kill(pid, signal.SIGKILL)
            while not _gone(pid):
                time.sleep(0.05)
    return stopped
