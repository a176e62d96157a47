"""Crash trials: kill -9 at a random point of an operation on a real local network, let the
network recover, and check what survived.

One :class:`CrashLab` is a small pilot (a regulator ``drc``, a provider ``stats``, a consumer
``analyst``) of real processes: `tanlian chain serve` and one `tanlian node serve` per
department, started by :class:`~node.network.orchestrator.LocalNetwork` on free loopback ports.
Each trial starts one operation and kills a process with SIGKILL after a random delay:

* ``publish``     `tanlian dataset publish` (the CLI process, which writes the owner's store
                  and anchors on chain); the crash takes the owner's node down with it (both
                  run on the owner's machine and share its store);
* ``pull``        `tanlian access pull` (the consumer's CLI process);
* ``key_release`` the owner's node while it releases the key of a grant just authorized;
* ``dp_spend``    the owner's node while it answers a DP query (compute, spend, archive);
* ``log_anchor``  the owner's node while it anchors its access log on chain;
* ``download``    the owner's node while it streams a RAW download to the consumer;
* ``publish_restart`` the owner's node (killed and restarted) while `tanlian dataset publish`
                  runs beside it in its own process, which carries on.

Then `LocalNetwork.up()` restarts what died and the trial checks: every acknowledged write
(what the operation reported done before the kill) is on chain and in the node's store; no
half-state (a version on chain its node does not serve, a stored row or blob without its
version, a temporary file, a key released without its log entry, a spend without its
archived answer, a log batch on chain the node does not know, a download served without
its intent logged before it or without its outcome after the restart); and the regulator's
audit
(`tanlian audit verify`, :class:`node.audit.verify.Auditor`) has no new finding above info.

`tests/crash/test_crash_trials.py` runs one trial per operation in `make test`;
`benchmarks/crash_trials.py` runs many and prints the table. The machinery lives here, in the
test package, because it is a test (its checks are assertions over real state); the benchmark
imports it from the checkout.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from node.audit.contracts import AuditAnchors
from node.audit.verify import Auditor
from node.chain.backend import ChainBackend, open_backend
from node.chain.client import ChainClient
from node.chain.embedded.host import free_port
from node.db import make_engine
from node.network.config import Department, load_network_config
from node.network.orchestrator import LocalNetwork, _gone
from node.peer.client import NodeClient
from node.privacy.budget import Epsilon
from node.privacy.store import VersionStore
from node.registry.keystore import KEYSTORE_FILE, NodeKeys, unlock
from node.settings import load_settings
from node.sharing.contracts import Mode, Policy, Sharing, State
from node.sharing.download import INTERRUPTED
from node.sharing.service import publish_as, pull

ROOT = Path(__file__).resolve().parents[2]
OPERATIONS = (
    "publish",
    "pull",
    "key_release",
    "dp_spend",
    "log_anchor",
    "download",
    "publish_restart",
)
#: Seconds over which the kill delay is drawn when no calibration run measured the
#: operation: for publish from its first file write, for pull from the first file it opens
#: in the output folder (the CLI's imports and keystore unlock come before), for the others
#: from the request that starts them.
DEFAULT_WINDOWS = {
    "publish": 1.5,
    "pull": 0.4,
    "key_release": 0.3,
    "dp_spend": 0.15,
    "log_anchor": 0.1,
    "download": 0.3,
    "publish_restart": 1.5,
}
DEPARTMENTS = (("drc", ["regulator"], True), ("stats", ["provider"], False))
CONSUMER = ("analyst", ["consumer", "analyst"], False)
DP_META = {
    "columns": {
        "enterprise": {},
        "district": {"keys": ["锦江区", "青羊区"]},
        "kwh": {"lower": 0, "upper": 10_000},
    }
}
DP_SPEC = {"kind": "count", "epsilon": 1.0, "group_by": "district"}
PAYLOAD_MIB = 16
SETTLE_SECONDS = 20.0

Say = Callable[[str], None]


@dataclass
class TrialResult:
    op: str
    delay: float
    #: the kill landed before the operation had finished (else it hit a finished one)
    in_flight: bool
    lost: list[str] = field(default_factory=list)
    half: list[str] = field(default_factory=list)
    findings: list[str] = field(default_factory=list)
    recovery: float = 0.0
    #: what the crash left that is consistent but worth saying (not counted as a failure)
    notes: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.lost or self.half or self.findings)

    def describe(self) -> str:
        when = "in flight" if self.in_flight else "after it finished"
        parts = [f"{self.op} killed at {self.delay:.3f} s ({when})"]
        for label, items in (
            ("note", self.notes),
            ("lost", self.lost),
            ("half-state", self.half),
            ("audit", self.findings),
        ):
            parts += [f"  {label}: {i}" for i in items]
        return "\n".join(parts)


def write_config(path: Path, log_anchor_seconds: float) -> Path:
    """A three-department network definition on free loopback ports."""
    lines = [
        "[network]",
        'name = "crash-trials"',
        "approval_threshold = 1",
        f"log_anchor_seconds = {log_anchor_seconds}",
        "",
        "[chain]",
        f"port = {free_port()}",
        "",
    ]
    for name, roles, genesis in (*DEPARTMENTS, CONSUMER):
        lines += [
            "[[departments]]",
            f'name = "{name}"',
            f'title = "{name} bureau"',
            "roles = [" + ", ".join(f'"{r}"' for r in roles) + "]",
            f"port = {free_port()}",
            f"genesis = {'true' if genesis else 'false'}",
            "",
        ]
    path.write_text("\n".join(lines))
    return path


def payload(path: Path, mib: int = PAYLOAD_MIB) -> Path:
    """A stored zip of random bytes (its canonical form is the file itself)."""
    with (
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as z,
        z.open("payload.bin", "w") as member,
    ):
        member.write(os.urandom(mib << 20))
    return path


def writing_in(pid: int, folder: Path) -> bool:
    """Whether process ``pid`` has a file open in ``folder``: also an anonymous O_TMPFILE
    (a pull's plaintext before it is verified), which has no name there."""
    prefix = str(folder) + "/"
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:
        return False
    for fd in fds:
        with contextlib.suppress(OSError):
            if os.readlink(fd).startswith(prefix):
                return True
    return False


def _epsilon(value: float) -> Epsilon:
    """An exact ε from a JSON number (the lab's grants go past a user's 1000 ε maximum)."""
    return Epsilon.parse(value, maximum=Epsilon(100_000 * 1000))


def _sha256(path: Path) -> bytes:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return h.digest()


class CrashLab:
    """A running three-department network and the trials run on it."""

    def __init__(self, root: Path, say: Say = lambda _: None) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        # Nodes anchor their logs only when asked, so that the anchoring trial decides when.
        config = load_network_config(write_config(self.root / "net.toml", 3600))
        self.net = LocalNetwork(config, self.root / "net", say=lambda _: None)
        self.say = say
        self.windows = dict(DEFAULT_WINDOWS)
        self.backend: ChainBackend | None = None
        self.keys: dict[str, NodeKeys] = {}
        self.names: list[str] = []  # the owner's datasets
        self.raw_requests: list[int] = []
        self.known_findings: set[tuple[str, str, str]] = set()
        self.known_problems: set[str] = set()
        self._count = 0

    # -- set-up ------------------------------------------------------------------------
    def dept(self, name: str) -> Department:
        return self.net.department(name)

    def start(self) -> None:
        t = time.monotonic()
        self.net.up()
        for d in self.net.config.departments:
            self.keys[d.name] = unlock(
                self.net.home(d) / KEYSTORE_FILE, self.net.secret(d).read_text()
            )
        state = self.net.load_state()
        self.backend = open_backend("rpc", url=self.net.chain_url)
        self.consumer = Sharing(
            ChainClient(self.backend, self.keys["analyst"].account),
            state["catalog"],
            state["access"],
        )
        self.anchors = AuditAnchors(ChainClient(self.backend), state["audit"])
        data = self.root / "data"
        data.mkdir(exist_ok=True)
        kwh = data / "kwh.csv"
        kwh.write_text(
            "enterprise,district,kwh\n"
            + "".join(f"E{i},{'锦江区' if i % 2 else '青羊区'},{1000 + i}\n" for i in range(300))
        )
        with self.net.session("stats") as s:
            base = publish_as(
                s,
                payload(data / "base.zip"),
                name="base",
                policy=Policy(auto_approve_roles=("analyst",), raw_allowed=True),
            )
            dp = publish_as(
                s,
                kwh,
                name="kwh",
                policy=Policy(
                    auto_approve_roles=("analyst",),
                    raw_allowed=False,
                    epsilon_ceiling=_epsilon(10_000),
                ),
                dp_metadata=DP_META,
            )
        self.names += ["base", "kwh"]
        self.base = base
        self.dp_dataset = dp.dataset_id
        self.pull_request = self._raw_grant()
        self.dp_request = self._dp_grant(5_000.0)
        self.say(f"network up with two datasets in {time.monotonic() - t:.1f} s")
        baseline = self.audit()
        if baseline:
            raise RuntimeError(f"the fresh network does not audit clean: {sorted(baseline)}")

    def stop(self) -> None:
        if self.backend is not None:
            self.backend.close()
        self.net.down()

    def _raw_grant(self, wait: bool = True) -> int:
        r = self.consumer.apply(self.base.dataset_id, 1, "crash trial", Mode.RAW, duration=86_400)
        rid = r.event("AccessRequested").args["requestId"]
        self.raw_requests.append(rid)
        if wait and not self.wait_for(lambda: self.consumer.request(rid).state == State.RELEASED):
            raise RuntimeError(f"the key of request {rid} was not released")
        return rid

    def _dp_grant(self, epsilon: float) -> int:
        r = self.consumer.apply(
            self.dp_dataset, 1, "crash trial", Mode.DP, epsilon=_epsilon(epsilon), duration=86_400
        )
        return r.event("AccessRequested").args["requestId"]

    @staticmethod
    def wait_for(predicate: Callable[[], bool], timeout: float = SETTLE_SECONDS) -> bool:
        """Whether ``predicate()`` came true within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            # a restarting node or a busy chain raises: ask again until the deadline
            with contextlib.suppress(Exception):
                if predicate():
                    return True
            if time.monotonic() > deadline:
                return False
            time.sleep(0.05)

    @staticmethod
    def _settled(problems: Callable[[], list[str]], timeout: float) -> list[str]:
        """``problems()`` once it is empty, or as it stands after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while (found := problems()) and time.monotonic() < deadline:
            time.sleep(0.1)
        return found

    # -- processes ---------------------------------------------------------------------
    def node_pid(self, name: str) -> int:
        return self.net.load_state()["nodes"][name]["pid"]

    def kill_node(self, name: str) -> None:
        pid = self.node_pid(name)
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            return
        while not _gone(pid):
            time.sleep(0.01)
        with contextlib.suppress(ChildProcessError):  # started from this process: reap it
            os.waitpid(pid, 0)

    def restart(self) -> None:
        """What an operator runs after a crash: `tanlian network up` (restarts the dead)."""
        self.net.up()

    def client(self, signer: str, target: str) -> NodeClient:
        return NodeClient(self.dept(target).endpoint, self.keys[signer].account.key, timeout=60)

    def _cli(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "cli.main", *args]

    def _run_killed(
        self, cmd: list[str], delay: float | None, started: Callable[[int], bool]
    ) -> tuple[bool, dict | None, float]:
        """Run ``cmd``, wait until ``started(pid)`` (its first write), then SIGKILL it after
        ``delay`` s (never with None). Returns (killed before it answered, its JSON answer,
        the time of the kill; without a kill, the seconds from ``started`` to the answer)."""
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, text=True
        )
        answered: list[float] = []
        out: list[str] = []

        def read() -> None:  # the command prints its JSON answer when the operation is done
            assert proc.stdout is not None
            while chunk := proc.stdout.read(1):
                answered.append(time.monotonic())
                out.append(chunk + proc.stdout.read())

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        while proc.poll() is None and not started(proc.pid):
            time.sleep(0.002)
        mark = time.monotonic()
        killed = False
        try:
            proc.wait(timeout=600 if delay is None else delay)
        except subprocess.TimeoutExpired:
            proc.kill()
            killed = True
            proc.wait()
        at = time.monotonic()
        reader.join()
        err = proc.stderr.read() if proc.stderr is not None else ""
        if delay is None and proc.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd[3:5])} failed without a kill: {err.strip()[-500:]}")
        try:
            ack = json.loads("".join(out))
        except json.JSONDecodeError:
            ack = None
        if delay is None:
            return False, ack, answered[0] - mark
        return killed and (not answered or answered[0] >= at), ack, at

    def _kill_node_after(self, name: str, delay: float) -> tuple[threading.Thread, list[float]]:
        at: list[float] = []

        def run() -> None:
            time.sleep(delay)
            self.kill_node(name)
            at.append(time.monotonic())

        t = threading.Thread(target=run, name="killer", daemon=True)
        t.start()
        return t, at

    # -- trials ------------------------------------------------------------------------
    def trial(self, op: str, rng: random.Random) -> TrialResult:
        delay = rng.uniform(0.0, self.windows[op])
        result: TrialResult = getattr(self, f"_trial_{op}")(delay)
        result.half += self.new_store_problems()
        result.findings += self.new_findings()
        return result

    def calibrate(self) -> dict[str, float]:
        """Time each operation once without a kill (checked like a trial); the kills of
        later trials are drawn up to 1.2 x that time."""
        for op in OPERATIONS:
            result: TrialResult = getattr(self, f"_trial_{op}")(None)
            result.half += self.new_store_problems()
            result.findings += self.new_findings()
            if not result.clean:
                raise RuntimeError("a run without a kill is not clean:\n" + result.describe())
            self.windows[op] = 1.2 * result.recovery
        return self.windows

    def _publish_command(self, prefix: str) -> tuple[str, Path, list[str], Path]:
        """A new dataset's name and file, the CLI that publishes it as stats, and the
        folder where its publish stages the blob."""
        self._count += 1
        name = f"{prefix}-{self._count}"
        self.names.append(name)
        file = payload(self.root / "data" / f"{name}.zip")
        stats = self.dept("stats")
        cmd = self._cli(
            "dataset", "publish", str(file), "--home", str(self.net.home(stats)),
            "--name", name, "--auto-approve", "analyst",
            "--password-file", str(self.net.secret(stats)), "--json",
        )  # fmt: skip
        tmp = self.net.home(stats) / "blobs" / "tmp"
        return name, file, cmd, tmp

    def _trial_publish(self, delay: float | None) -> TrialResult:
        name, file, cmd, tmp = self._publish_command("crash")
        in_flight, ack, at = self._run_killed(cmd, delay, lambda _pid: any(os.scandir(tmp)))
        if delay is None:  # calibration: the operation's own duration
            file.unlink()
            return TrialResult("publish", 0.0, False, recovery=at)
        result = TrialResult("publish", delay, in_flight)
        # the node runs on: every version on chain must be served by it within a few seconds
        live = self._settled(self.chain_versions_unserved, 5.0)
        result.half += [f"while its node ran on: {p}" for p in live]
        # ... and the crash takes the node down too: restart both
        self.kill_node("stats")
        self.restart()
        result.recovery = time.monotonic() - at
        if ack is not None:
            sharing = self.reader()
            ds = bytes.fromhex(ack["dataset_id"][2:])
            try:
                anchored = sharing.version(ds, ack["version"])
            except Exception:
                anchored = None
            if (
                anchored is None
                or "0x" + anchored["ciphertext_hash"].hex() != ack["ciphertext_sha256"]
            ):
                result.lost.append(f"acknowledged {name} v{ack['version']} is not on chain")
            row = self.versions().find(ack["dataset_id"], ack["version"])
            if row is None or row.ciphertext_hash != ack["ciphertext_sha256"]:
                result.lost.append(f"acknowledged {name} v{ack['version']} is not in the store")
        created = self.reader().dataset(self.reader().dataset_id(self.keys["stats"].address, name))
        if created is not None and created["versions"] == 0:
            result.notes.append(
                f"dataset {name} created on chain with no version yet (publishing it again "
                "adds version 1)"
            )
        file.unlink()
        return result

    def _trial_pull(self, delay: float | None) -> TrialResult:
        self._count += 1
        out_dir = self.root / "pulls" / str(self._count)
        out_dir.mkdir(parents=True)
        out = out_dir / "base.zip"
        analyst = self.dept("analyst")
        cmd = self._cli(
            "access", "pull", str(self.pull_request), "--home", str(self.net.home(analyst)),
            "-o", str(out), "--password-file", str(self.net.secret(analyst)), "--json",
        )  # fmt: skip
        in_flight, ack, at = self._run_killed(
            cmd, delay, lambda pid: writing_in(pid, out_dir) or any(os.scandir(out_dir))
        )
        result = TrialResult("pull", delay or 0.0, in_flight)
        left = sorted(p.name for p in out_dir.iterdir() if p != out)
        result.half += [f"file left in the output folder: {n}" for n in left]
        if out.exists() and _sha256(out) != self.base.plaintext_hash:
            result.half.append(f"{out.name} exists but is not the anchored plaintext")
        if ack is not None and not (out.exists() and ack.get("verified")):
            result.lost.append(f"acknowledged pull of request {self.pull_request} left no file")
        if delay is not None:
            # recovery: the consumer pulls again, and it works
            with self.net.session("analyst") as a:
                pull(a.require_sharing(), a.registry, a.keys, self.pull_request, out)
            if _sha256(out) != self.base.plaintext_hash:
                result.half.append("the pull after the crash does not give the anchored plaintext")
        result.recovery = at if delay is None else time.monotonic() - at
        shutil.rmtree(out_dir)
        return result

    def _trial_key_release(self, delay: float | None) -> TrialResult:
        t0 = time.monotonic()
        killer = None
        if delay is not None:
            killer, at = self._kill_node_after("stats", delay)
        rid = self._raw_grant(wait=False)
        if killer is None:
            ok = self.wait_for(lambda: self.consumer.request(rid).state == State.RELEASED)
            result = TrialResult("key_release", 0.0, False, recovery=time.monotonic() - t0)
            if not ok:
                result.lost.append(f"request {rid} was never released")
            return result
        killer.join()
        released_before = self.consumer.request(rid).state == State.RELEASED
        result = TrialResult("key_release", delay, not released_before)
        self.restart()
        if not self.wait_for(lambda: self.consumer.request(rid).state == State.RELEASED):
            result.lost.append(f"request {rid} authorized but its key never released after restart")
        result.recovery = time.monotonic() - at[0]
        if released_before or self.consumer.request(rid).state == State.RELEASED:
            # the released key opens the data: a pull of the grant verifies both hashes
            out = self.root / "pulls" / f"release-{rid}.zip"
            with self.net.session("analyst") as a:
                pull(a.require_sharing(), a.registry, a.keys, rid, out)
            out.unlink()
        return result

    def _node_op(
        self, request: Callable[[], dict], delay: float | None
    ) -> tuple[dict | None, bool, float]:
        """Send ``request`` to the owner's node; with a ``delay``, kill the node that long
        after the start and restart it. (its answer or None, killed before it answered,
        seconds from the kill to the node serving again, or without a kill the request's)."""
        answers: list[Any] = []

        def ask() -> None:
            try:
                answers.append(request())
            except Exception as exc:  # the node died under the request
                answers.append(exc)

        asker = threading.Thread(target=ask, daemon=True)
        t0 = time.monotonic()
        if delay is None:
            asker.start()
            asker.join()
            if not (answers and isinstance(answers[0], dict)):
                raise RuntimeError(f"a request failed without a kill: {answers}")
            return answers[0], False, time.monotonic() - t0
        killer, at = self._kill_node_after("stats", delay)
        asker.start()
        killer.join()
        asker.join(60)
        answer = answers[0] if answers and isinstance(answers[0], dict) else None
        self.restart()
        return answer, answer is None, time.monotonic() - at[0]

    def _trial_dp_spend(self, delay: float | None) -> TrialResult:
        rid = self._dp_grant(10.0)

        def query() -> dict:
            with self.client("analyst", "stats") as c:
                return c.post("/v1/query", {"request": rid, "spec": DP_SPEC})

        ack, in_flight, took = self._node_op(query, delay)
        result = TrialResult("dp_spend", delay or 0.0, in_flight, recovery=took)
        _, spent = self.reader().budget(rid)
        with self.client("analyst", "stats") as c:
            archive = c.get("/v1/query/archive", {"request": rid})["answers"]
        archived = sum((_epsilon(a["epsilon"]) for a in archive), Epsilon(0))
        if ack is not None and ack["spend_tx"] not in {a["spend_tx"] for a in archive}:
            result.lost.append(
                f"acknowledged answer on request {rid} ({ack['spend_tx']}) not archived"
            )
        if ack is not None and spent < _epsilon(ack["epsilon_spent"]):
            result.lost.append(f"acknowledged spend on request {rid} not on chain")
        if spent != archived:
            result.half.append(
                f"request {rid}: ε {spent} spent on chain, answers worth ε {archived} archived"
            )
        return result

    def _trial_log_anchor(self, delay: float | None) -> TrialResult:
        # entries to anchor: one DP answer on the lab's long grant
        with self.client("analyst", "stats") as c:
            c.post("/v1/query", {"request": self.dp_request, "spec": DP_SPEC})

        def anchor() -> dict:
            with self.client("drc", "stats") as c:
                return c.post("/v1/audit/anchor", {})

        ack, in_flight, took = self._node_op(anchor, delay)
        result = TrialResult("log_anchor", delay or 0.0, in_flight, recovery=took)
        if delay is not None:
            with self.client("drc", "stats") as c:  # the restarted node anchors what is pending
                c.post("/v1/audit/anchor", {})
        with self.client("drc", "stats") as c:
            log = c.get("/v1/audit/log")
        mine = {b["seq"] for b in log["batches"]}
        on_chain = self.anchors.batch_count(self.keys["stats"].address)
        if ack is not None:
            for seq in ack["anchored_batches"]:
                if seq >= on_chain or seq not in mine:
                    result.lost.append(f"acknowledged log batch {seq} missing (chain or node)")
        if on_chain != len(mine):
            result.half.append(f"{on_chain} log batches on chain, the node knows {len(mine)}")
        pending = [e["seq"] for e in log["entries"] if e["batch"] is None]
        if pending:
            result.half.append(f"log entries {pending} not anchored after the restart")
        return result

    def _trial_download(self, delay: float | None) -> TrialResult:
        path = f"/v1/datasets/0x{self.base.dataset_id.hex()}/versions/1/blob"
        before = {d["id"] for d in self.downloads()}
        received = [0]

        def download() -> dict:
            with self.client("analyst", "stats") as c:
                for block in c.stream("GET", path, {"request": self.pull_request}, 1 << 20):
                    received[0] += len(block)
            return {"bytes": received[0]}

        ack, in_flight, took = self._node_op(download, delay)
        result = TrialResult("download", delay or 0.0, in_flight, recovery=took)
        rows = [d for d in self.downloads() if d["id"] not in before]
        entries: dict[int, list[str]] = {}
        with self.client("drc", "stats") as c:
            for e in c.get("/v1/audit/log")["entries"]:
                if e["detail"].get("download") in {d["id"] for d in rows}:
                    entries.setdefault(e["detail"]["download"], []).append(e["kind"])
        if received[0] and not rows:
            result.lost.append(f"{received[0]} bytes received, no download in the owner's log")
        for d in rows:
            kinds = entries.get(d["id"], [])
            if "download_intent" not in kinds:
                result.lost.append(f"download {d['id']} served without its intent logged")
            if d["outcome"] == "started" or "download" not in kinds:
                result.half.append(f"download {d['id']} has no outcome after the restart")
        outcomes = {d["outcome"] for d in rows}
        if ack is not None and INTERRUPTED in outcomes:
            result.notes.append(
                f"a download the consumer received whole ({ack['bytes']} bytes) is logged as "
                "interrupted: the kill came between its last byte and its outcome"
            )
        elif ack is not None and not any(
            d["outcome"] == "completed" and d["bytes"] == ack["bytes"] for d in rows
        ):
            result.lost.append(f"a completed download of {ack['bytes']} bytes is not logged so")
        return result

    def _trial_publish_restart(self, delay: float | None) -> TrialResult:
        name, file, cmd, tmp = self._publish_command("restart")
        proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT, text=True
        )
        while proc.poll() is None and not any(os.scandir(tmp)):
            time.sleep(0.002)
        start = time.monotonic()
        if delay is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=delay)
            in_flight = proc.poll() is None
            self.kill_node("stats")  # the publish carries on while its node restarts
            self.restart()
        out, err = proc.communicate(timeout=600)
        took = time.monotonic() - start
        file.unlink()
        result = TrialResult(
            "publish_restart", delay or 0.0, delay is not None and in_flight, recovery=took
        )
        try:
            ack = json.loads(out)
        except json.JSONDecodeError:
            ack = None
        if proc.returncode != 0 or ack is None:
            last = (err.strip().splitlines() or ["no output"])[-1]
            result.lost.append(f"publish of {name} failed while its node restarted: {last}")
            return result
        row = self.versions().find(ack["dataset_id"], ack["version"])
        if row is None or row.ciphertext_hash != ack["ciphertext_sha256"]:
            result.lost.append(f"acknowledged {name} v{ack['version']} is not in the store")
        return result

    # -- checks ------------------------------------------------------------------------
    def downloads(self) -> list[dict[str, Any]]:
        """The owner's download log."""
        with self.client("drc", "stats") as c:
            return c.get("/v1/downloads")["downloads"]

    def reader(self) -> Sharing:
        state = self.net.load_state()
        assert self.backend is not None
        return Sharing(ChainClient(self.backend), state["catalog"], state["access"])

    def versions(self) -> VersionStore:
        return VersionStore(make_engine(load_settings(self.net.home(self.dept("stats"))).db_url))

    def chain_versions_unserved(self) -> list[str]:
        """Versions on chain of the owner's datasets that its node cannot serve."""
        sharing = self.reader()
        store = self.versions()
        blobs = self.net.home(self.dept("stats")) / "blobs"
        problems = []
        for name in self.names:
            ds = sharing.dataset_id(self.keys["stats"].address, name)
            info = sharing.dataset(ds)
            for v in range(1, (info or {"versions": 0})["versions"] + 1):
                want = "0x" + sharing.version(ds, v)["ciphertext_hash"].hex()
                row = store.find("0x" + ds.hex(), v)
                if row is None or row.ciphertext_hash != want:
                    problems.append(f"{name} v{v} is on chain but not anchored in the store")
                elif not (blobs / want[2:4] / want[2:]).exists():
                    problems.append(f"{name} v{v} is on chain but its blob is missing")
        store.engine.dispose()
        return problems

    def store_problems(self) -> list[str]:
        """Half-states in the owner's store and in the key releases, after recovery."""
        problems = self.chain_versions_unserved()
        store = self.versions()
        blobs = self.net.home(self.dept("stats")) / "blobs"
        problems += [f"stored row {r.id} ({r.name}) never anchored" for r in store.unanchored()]
        problems += [f"temporary blob {p.name} left" for p in (blobs / "tmp").iterdir()]
        rows = {r.ciphertext_hash[2:]: r for r in store.anchored()}
        for sub in blobs.iterdir():
            if sub.name == "tmp":
                continue
            problems += [
                f"blob {b.name[:12]}… has no row" for b in sub.iterdir() if b.name not in rows
            ]
        for h, r in rows.items():
            blob = blobs / h[:2] / h
            if not blob.exists() or blob.stat().st_size != r.ciphertext_size:
                problems.append(f"{r.name} v{r.version}: blob missing or of the wrong size")
        store.engine.dispose()
        # every key released is logged by the node that released it
        with self.client("drc", "stats") as c:
            logged = {
                e["request_id"]
                for e in c.get("/v1/audit/log")["entries"]
                if e["kind"] == "key_release"
            }
        sharing = self.reader()
        for rid in self.raw_requests:
            if sharing.request(rid).state == State.RELEASED and rid not in logged:
                problems.append(f"key of request {rid} released on chain, not in the owner's log")
        return problems

    def audit(self) -> set[tuple[str, str, str]]:
        """Findings above info of the regulator's audit, after every node anchored its log."""
        for d in self.net.config.departments:
            with self.client("drc", d.name) as c:
                c.post("/v1/audit/anchor", {})
        state = self.net.load_state()
        assert self.backend is not None
        result = Auditor(
            self.backend,
            {k: state[k] for k in ("registry", "catalog", "access", "audit")},
            self.keys["drc"].account.key,
        ).run()
        return {
            (f.kind, f.department or "", f.message) for f in result.findings if f.severity != "info"
        }

    def new_store_problems(self) -> list[str]:
        """Half-states not seen after an earlier trial (one left behind stays counted once)."""
        found = self.store_problems()
        new = [p for p in found if p not in self.known_problems]
        self.known_problems |= set(found)
        return new

    def new_findings(self) -> list[str]:
        found = self.audit()
        new = found - self.known_findings
        self.known_findings |= found
        return [f"{kind} ({dept}): {message}" for kind, dept, message in sorted(new)]


def table(results: list[TrialResult]) -> str:
    """operation, trials, lost writes, half-states, audit findings, median recovery."""
    head = (
        f"{'operation':<15} {'trials':>6} {'in flight':>9} {'lost writes':>11} "
        f"{'half-states':>11} {'audit findings':>14} {'median recovery':>16}"
    )
    lines = [head]
    for op in OPERATIONS:
        rs = [r for r in results if r.op == op]
        if not rs:
            continue
        lines.append(
            f"{op:<15} {len(rs):>6} {sum(r.in_flight for r in rs):>9} "
            f"{sum(len(r.lost) for r in rs):>11} {sum(len(r.half) for r in rs):>11} "
            f"{sum(len(r.findings) for r in rs):>14} "
            f"{statistics.median(r.recovery for r in rs):>14.2f} s"
        )
    return "\n".join(lines)
