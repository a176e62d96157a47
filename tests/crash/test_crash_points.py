"""kill -9 at the exact points the crash trials found defects at, deterministically.

Each test runs the operation in a child process that SIGKILLs itself right after the
critical step (a monkeypatch in the child: no hook in the product), on the real local
network of :class:`tests.crash.trials.CrashLab`, and checks what the restarted node and
the regulator's audit make of it:

* a pull killed during the download leaves no plaintext in the output folder, nor anywhere
  else; a stale ``.tanlian-*`` file of an older version is removed by the next pull, which
  says so;
* a DP spend mined just before the kill is archived and logged by the restarted node;
* a key release mined just before the kill is logged by the restarted node, and the audit
  finds a release its owner did not log;
* an owner killed mid-stream leaves the download's intent in its access log, and the audit
  finds a download whose entries were deleted before they were anchored;
* a node restarted between a publish's createDataset and publishVersion leaves that publish
  (another process) its blob, and a publish whose blob is gone anchors nothing.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from node.audit.log import AccessLog
from node.audit.models import AccessLogEntry
from node.audit.verify import Auditor
from node.chain.indexer.indexer import EventIndexer
from node.db import make_engine
from node.peer.client import NodeClient, NodeUnreachable
from node.privacy.budget import Delta, Epsilon
from node.privacy.downloads import DownloadLogStore
from node.settings import load_settings
from node.sharing.contracts import State
from node.sharing.download import INTERRUPTED
from node.sharing.service import PULL_TMP_PREFIX, pull
from node.sharing.spends import LAND_SECONDS, SpendJournal
from tests.cli_run import tanlian
from tests.crash.trials import DP_SPEC, ROOT, CrashLab, payload


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CrashLab]:
    lab = CrashLab(tmp_path_factory.mktemp("points"))
    try:
        lab.start()
        yield lab
    finally:
        lab.stop()


_CHILD_PRELUDE = (
    "import os, signal, sys\n"
    "from pathlib import Path\n"
    "from node.registry.keystore import KEYSTORE_FILE, unlock\n"
    "from node.settings import load_settings\n"
    "home, secret = sys.argv[1:3]\n"
    "keys = unlock(Path(home) / KEYSTORE_FILE, Path(secret).read_text())\n"
    "settings = load_settings(home)\n"
    "def die(*_a, **_k):\n"
    "    os.kill(os.getpid(), signal.SIGKILL)\n"
)


def _child(
    lab: CrashLab, dept: str, script: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """Run ``script`` as department ``dept`` (its home and unlocked keys); ``env`` is added
    to this process's environment."""
    d = lab.dept(dept)
    return subprocess.run(
        [
            sys.executable,
            "-c",
            _CHILD_PRELUDE + script,
            str(lab.net.home(d)),
            str(lab.net.secret(d)),
            *args,
        ],
        cwd=ROOT,
        capture_output=True,
        timeout=180,
        env=None if env is None else {**os.environ, **env},
    )


# -- pull ------------------------------------------------------------------------------------

_PULL_KILLED = """
import node.sharing.service as service
from node.runtime import NodeSession
if sys.argv[5] == "no_tmpfile":  # a file system without O_TMPFILE: the named fallback
    del os.O_TMPFILE
real = service.decrypt_stream
def decrypt_then_die(blocks, key, write):
    frames = []
    def write_some(data):
        write(data)
        frames.append(len(data))
        if len(frames) == 2:  # two decrypted frames written, the download in flight
            die()
    return real(blocks, key, write_some)
service.decrypt_stream = decrypt_then_die
with NodeSession(settings, keys) as s:
    service.pull(s.require_sharing(), s.registry, keys, int(sys.argv[3]), Path(sys.argv[4]))
"""


def test_a_pull_killed_during_the_download_leaves_no_plaintext(
    lab: CrashLab, tmp_path: Path
) -> None:
    out = tmp_path / "pulled" / "base.zip"
    out.parent.mkdir()
    child = _child(lab, "analyst", _PULL_KILLED, str(lab.pull_request), str(out), "tmpfile")
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()[-2000:]
    # nothing in the folder: neither OUT nor a partly decrypted, unverified temporary file
    assert sorted(p.name for p in out.parent.iterdir()) == []
    with lab.net.session("analyst") as a:
        got = pull(a.require_sharing(), a.registry, a.keys, lab.pull_request, out)
    assert got["plaintext_sha256"] == "0x" + lab.base.plaintext_hash.hex()
    assert sorted(p.name for p in out.parent.iterdir()) == ["base.zip"]


def _holding(folders: list[Path], sample: bytes) -> list[Path]:
    """The files under ``folders`` whose bytes contain ``sample``."""
    found = []
    for folder in folders:
        for f in folder.rglob("*"):
            if not f.is_file():
                continue
            tail = b""
            with open(f, "rb") as fh:
                while block := fh.read(1 << 20):
                    if sample in tail + block:
                        found.append(f)
                        break
                    tail = block[-len(sample) :]
    return found


def test_a_killed_pull_leaves_its_plaintext_nowhere(lab: CrashLab, tmp_path: Path) -> None:
    """Not in OUT's folder, nor in the temporary directory, nor in the consumer's home."""
    plain = (lab.root / "data" / "base.zip").read_bytes()
    out = tmp_path / "pulled" / "base.zip"
    out.parent.mkdir()
    scratch = tmp_path / "tmpdir"
    scratch.mkdir()
    child = _child(
        lab,
        "analyst",
        _PULL_KILLED,
        str(lab.pull_request),
        str(out),
        "tmpfile",
        env={"TMPDIR": str(scratch)},
    )
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()[-2000:]
    home = lab.net.home(lab.dept("analyst"))
    # samples from the first frame (decrypted and written before the kill) and the second
    for at in (4096, (1 << 20) + 4096):
        sample = plain[at : at + 256]
        assert _holding([tmp_path, home], sample) == []
        assert _holding([lab.root / "data"], sample) == [lab.root / "data" / "base.zip"]


def test_the_next_pull_removes_a_file_an_older_version_left_and_says_so(
    lab: CrashLab, tmp_path: Path
) -> None:
    """Pulls before O_TMPFILE decrypted into an unlocked ``.tanlian-*`` file that a kill left
    with plaintext in it: `tanlian access pull` into that folder removes it and says so."""
    stale = tmp_path / f"{PULL_TMP_PREFIX}k3j4h5v6"  # tempfile.mkstemp's name, as they wrote
    stale.write_bytes((lab.root / "data" / "base.zip").read_bytes()[: 3 << 20])
    analyst = lab.dept("analyst")
    out = tmp_path / "base.zip"
    got = tanlian(
        "access", "pull", str(lab.pull_request), "-o", str(out),
        "--home", str(lab.net.home(analyst)), "--password-file", str(lab.net.secret(analyst)),
        "--json",
    )  # fmt: skip
    assert got.returncode == 0, got.stderr[-2000:]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["base.zip"]
    assert f"removed 1 temporary file(s) killed pulls left in {tmp_path}" in got.stderr


def test_without_o_tmpfile_the_next_pull_removes_what_a_killed_one_left(
    lab: CrashLab, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out = tmp_path / "base.zip"
    child = _child(lab, "analyst", _PULL_KILLED, str(lab.pull_request), str(out), "no_tmpfile")
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()[-2000:]
    (left,) = tmp_path.iterdir()  # the named fallback file is what a kill leaves
    assert left.name.startswith(PULL_TMP_PREFIX)
    assert left.stat().st_size > 0
    with lab.net.session("analyst") as a, caplog.at_level(logging.WARNING):
        pull(a.require_sharing(), a.registry, a.keys, lab.pull_request, out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["base.zip"]
    said = [r.getMessage() for r in caplog.records if "killed pulls left" in r.getMessage()]
    assert said == [f"removed 1 temporary file(s) killed pulls left in {tmp_path}"]


# -- DP spend --------------------------------------------------------------------------------

_QUERY_KILLED = """
import json
from node.api.main import create_app
from node.privacy.dp_queries import parse_spec
from node.runtime import NodeRuntime
from node.sharing.contracts import Sharing
real = Sharing.spend
def spend_then_die(self, *args, **kwargs):
    real(self, *args, **kwargs)
    die()  # the spend is mined; nothing after it ran
if sys.argv[5] == "after_spend":
    Sharing.spend = spend_then_die
else:  # before the spend was sent
    Sharing.spend = die
runtime = NodeRuntime(settings, keys)
runtime.indexer.sync()
gate = create_app(runtime).state.gate
gate.query(int(sys.argv[3]), parse_spec(json.loads(sys.argv[4])), sys.argv[6])
"""


def _log(lab: CrashLab) -> list[dict[str, Any]]:
    with lab.client("drc", "stats") as c:
        return c.get("/v1/audit/log")["entries"]


def _findings_on(lab: CrashLab, rid: int) -> set[str]:
    """Kinds of the audit's findings above info about request ``rid``."""
    about = re.compile(rf"\brequest {rid}\b")
    return {kind for kind, _dept, message in lab.audit() if about.search(message)}


def _archive(lab: CrashLab, rid: int) -> list[dict[str, Any]]:
    with lab.client("analyst", "stats") as c:
        return c.get("/v1/query/archive", {"request": rid})["answers"]


def _kill_query(lab: CrashLab, rid: int, when: str) -> None:
    """The owner's node answers ``rid`` in a child process killed ``when``, while the
    owner's real node is down (as after a kill -9 of the node)."""
    lab.kill_node("stats")
    child = _child(
        lab,
        "stats",
        _QUERY_KILLED,
        str(rid),
        json.dumps(DP_SPEC),
        when,
        lab.keys["analyst"].address,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()[-2000:]


def test_a_spend_mined_before_the_kill_is_archived_and_logged_after_restart(
    lab: CrashLab,
) -> None:
    rid = lab._dp_grant(10.0)
    _kill_query(lab, rid, "after_spend")
    assert lab.reader().budget(rid).spent.milli == 1000  # ε 1 paid on chain
    lab.restart()
    (answer,) = _archive(lab, rid)  # the consumer fetches the answer it never received
    assert answer["epsilon"] == 1.0
    assert answer["consumer"] == lab.keys["analyst"].address
    logged = [e for e in _log(lab) if e["kind"] == "dp_answer" and e["request_id"] == rid]
    assert [e["detail"]["spend_tx"] for e in logged] == [answer["spend_tx"]]
    assert logged[0]["detail"]["result_sha256"] == answer["result_sha256"]
    assert _findings_on(lab, rid) == set()


def test_a_spend_never_sent_is_abandoned_and_paid_for_by_no_one(lab: CrashLab) -> None:
    rid = lab._dp_grant(10.0)
    _kill_query(lab, rid, "before_spend")
    lab.restart()
    settings = load_settings(lab.net.home(lab.dept("stats")))
    engine = make_engine(settings.db_url)
    try:
        journal = SpendJournal(engine, AccessLog(engine))
        (row,) = [r for r in journal.pending() if r.request_id == rid]  # not yet given up
        assert row.state == "pending" and row.spend_tx is None
        index = EventIndexer(lab.backend, engine)  # the node's own index
        later = time.time() + LAND_SECONDS + 1
        assert journal.reconcile(index, lab.reader().access.address, now=later)["abandoned"] >= 1
        assert [r for r in journal.pending() if r.request_id == rid] == []
    finally:
        engine.dispose()
    assert lab.reader().budget(rid).spent.milli == 0
    assert _archive(lab, rid) == []
    assert not [e for e in _log(lab) if e["kind"] == "dp_answer" and e["request_id"] == rid]
    assert _findings_on(lab, rid) == set()


def test_the_audit_still_finds_a_spend_with_no_logged_answer(lab: CrashLab) -> None:
    """A spend the owner's node did not make through its gate (so no answer is archived or
    logged, and none is pending) stays an unlogged answer."""
    rid = lab._dp_grant(10.0)
    with lab.net.session("stats") as s:
        s.require_sharing().spend(rid, Epsilon(1000), Delta(0), b"\1" * 32, b"\2" * 32)
    time.sleep(1.0)  # a few index syncs of the running node: nothing to reconcile
    assert _findings_on(lab, rid) == {"unlogged_answer"}


# -- key release -----------------------------------------------------------------------------

_RELEASE_KILLED = """
from sqlalchemy.orm import Session

from node.audit.log import AccessLog
from node.audit.models import AccessLogEntry
from node.runtime import NodeRuntime
real = AccessLog.append
def append_or_die(self, kind, **fields):
    if kind == "key_release":
        die()  # the release is mined; its log entry is next
    return real(self, kind, **fields)
AccessLog.append = append_or_die
runtime = NodeRuntime(settings, keys)
runtime.sync()
print("no release happened", flush=True)
"""


class _WithoutReleaseEntries(NodeClient):
    """The owner's log as a node that lost its key_release entries would serve it."""

    def stream(self, method: str, path: str, *args: Any, **kwargs: Any) -> Iterator[bytes]:
        chunks = super().stream(method, path, *args, **kwargs)
        if path != "/v1/audit/log":
            yield from chunks
            return
        got = json.loads(b"".join(chunks))
        got["entries"] = [e for e in got["entries"] if e["kind"] != "key_release"]
        yield json.dumps(got).encode()


def test_a_release_mined_before_the_kill_is_logged_after_restart(lab: CrashLab) -> None:
    lab.kill_node("stats")
    rid = lab._raw_grant(wait=False)  # authorized by policy: the owner releases it
    child = _child(lab, "stats", _RELEASE_KILLED)
    assert child.returncode == -signal.SIGKILL, (child.stdout + child.stderr).decode()[-2000:]
    assert lab.consumer.request(rid).state == State.RELEASED
    access = lab.reader().access
    decoded = [
        access.abi.decode_log(e)
        for e in lab.backend.get_logs(0, lab.backend.block_number(), [access.address])
    ]
    (release,) = [
        e
        for e in decoded
        if e is not None and e.event == "KeyReleased" and e.args["requestId"] == rid
    ]
    tx = "0x" + release.tx_hash.hex()
    lab.restart()

    def entries() -> list[dict[str, Any]]:
        return [e for e in _log(lab) if e["kind"] == "key_release" and e["request_id"] == rid]

    assert lab.wait_for(lambda: bool(entries())), "the restarted node never logged the release"
    time.sleep(1.0)  # more syncs add no second entry
    assert [e["detail"]["tx"] for e in entries()] == [tx]
    assert [e["detail"]["block"] for e in entries()] == [release.block_number]
    assert _findings_on(lab, rid) == set()


def test_the_audit_finds_a_release_its_owner_did_not_log(lab: CrashLab) -> None:
    rid = lab._raw_grant()
    assert lab.wait_for(
        lambda: any(e["kind"] == "key_release" and e["request_id"] == rid for e in _log(lab))
    )
    state = lab.net.load_state()
    contracts = {k: state[k] for k in ("registry", "catalog", "access", "audit")}
    assert lab.backend is not None
    honest = Auditor(lab.backend, contracts, lab.keys["drc"].account.key).run()
    assert not [f for f in honest.findings if f.kind == "unlogged_key_release"]
    lossy = Auditor(
        lab.backend, contracts, lab.keys["drc"].account.key, client_factory=_WithoutReleaseEntries
    ).run()
    missing = [f for f in lossy.findings if f.kind == "unlogged_key_release"]
    # every release on chain is one of stats' datasets: each one is found, this one too
    assert {f.evidence["request"] for f in missing} >= {rid}
    assert {f.department for f in missing} == {"stats"}
    assert all(f.severity == "medium" for f in missing)
    released = {r for r in lab.raw_requests if lab.reader().request(r).state == State.RELEASED}
    assert {f.evidence["request"] for f in missing} == released


# -- download logging ------------------------------------------------------------------------


def _owner_engine(lab: CrashLab):
    return make_engine(load_settings(lab.net.home(lab.dept("stats"))).db_url)


def _download_entries(lab: CrashLab, download: int) -> list[dict[str, Any]]:
    """The owner's access-log entries of download ``download``, read from its database."""
    engine = _owner_engine(lab)
    try:
        return [e for e in AccessLog(engine).entries() if e["detail"].get("download") == download]
    finally:
        engine.dispose()


def _auditor(lab: CrashLab) -> Auditor:
    """The regulator's audit, without anchoring anything first (unlike ``lab.audit``)."""
    state = lab.net.load_state()
    contracts = {k: state[k] for k in ("registry", "catalog", "access", "audit")}
    assert lab.backend is not None
    return Auditor(lab.backend, contracts, lab.keys["drc"].account.key)


def test_an_owner_killed_mid_stream_leaves_the_download_intent(lab: CrashLab) -> None:
    """kill -9 of the owner's node while it streams a download: the access log holds the
    download's intent (written before the first byte), the restarted node logs its outcome
    as interrupted, and the audit matches both with the download log."""
    rid = lab.pull_request
    path = f"/v1/datasets/0x{lab.base.dataset_id.hex()}/versions/1/blob"
    before = {d["id"] for d in _downloads(lab)}
    with lab.client("analyst", "stats") as c:
        stream = c.stream("GET", path, params={"request": rid}, chunk=1 << 20)
        first = next(stream)  # the node is mid-stream: 1 MiB here, 15 MiB to go
        assert len(first) == 1 << 20
        lab.kill_node("stats")
        with pytest.raises(NodeUnreachable):
            for _ in stream:
                pass
    engine = _owner_engine(lab)
    try:
        (row,) = [d for d in DownloadLogStore(engine).all() if d["id"] not in before]
    finally:
        engine.dispose()
    assert (row["request_id"], row["outcome"]) == (rid, "started")  # the node died mid-way
    (intent,) = _download_entries(lab, row["id"])
    assert (intent["kind"], intent["request_id"]) == ("download_intent", rid)
    assert intent["consumer"] == lab.keys["analyst"].address
    assert intent["batch"] is None  # logged, not yet anchored
    lab.restart()  # the restarted node gives the download its outcome
    intent, outcome = _download_entries(lab, row["id"])
    assert outcome["kind"] == "download"
    assert (outcome["detail"]["outcome"], outcome["detail"]["intent"]) == (
        INTERRUPTED,
        intent["seq"],
    )
    (after,) = [d for d in _downloads(lab) if d["id"] == row["id"]]
    assert after["outcome"] == INTERRUPTED
    result = _auditor(lab).run()
    about = [f for f in result.findings if f.evidence.get("download") == row["id"]]
    assert about == []
    assert result.checks["downloads_logged"]["items"] >= 1


def _downloads(lab: CrashLab) -> list[dict[str, Any]]:
    with lab.client("drc", "stats") as c:
        return c.get("/v1/downloads")["downloads"]


def test_the_audit_finds_a_download_whose_unanchored_entry_was_deleted(
    lab: CrashLab, tmp_path: Path
) -> None:
    rid = lab.pull_request
    before = {d["id"] for d in _downloads(lab)}
    with lab.net.session("analyst") as a:
        pull(a.require_sharing(), a.registry, a.keys, rid, tmp_path / "base.zip")
    (row,) = [d for d in _downloads(lab) if d["id"] not in before]
    intent, outcome = _download_entries(lab, row["id"])
    assert [intent["kind"], outcome["kind"]] == ["download_intent", "download"]
    assert intent["batch"] is None and outcome["batch"] is None  # not anchored yet
    honest = _auditor(lab).run()
    assert [f for f in honest.findings if f.evidence.get("download") == row["id"]] == []
    # what a node's operator could do after a crash, before the next anchoring: delete the
    # entries that show the download, leaving the download log as it is
    engine = _owner_engine(lab)
    saved = []
    try:
        with Session(engine) as s, s.begin():
            for e in (intent, outcome):
                entry = s.get(AccessLogEntry, e["seq"])
                assert entry is not None
                saved.append({c.name: getattr(entry, c.name) for c in AccessLogEntry.__table__.c})
                s.delete(entry)
        result = _auditor(lab).run()
    finally:
        with Session(engine) as s, s.begin():  # put them back for the tests that follow
            s.add_all([AccessLogEntry(**values) for values in saved])
        engine.dispose()
    (found,) = [f for f in result.findings if f.evidence.get("download") == row["id"]]
    assert (found.kind, found.severity, found.department) == ("unlogged_download", "high", "stats")
    assert (found.evidence["request"], found.evidence["bytes"]) == (rid, row["bytes"])
    stored = lab.versions().find("0x" + lab.base.dataset_id.hex(), 1)
    assert stored is not None and row["bytes"] == stored.ciphertext_size


# -- publish while the node restarts ---------------------------------------------------------

_PUBLISH_PAUSED = """
import json
from node.runtime import NodeSession
from node.sharing.contracts import Policy, Sharing
from node.sharing.service import publish
real = Sharing.create_dataset
def create_then_pause(self, *args, **kwargs):
    created = real(self, *args, **kwargs)
    # the dataset is created on chain, its version not yet published: the test acts here
    print("between", flush=True)
    sys.stdin.readline()
    return created
Sharing.create_dataset = create_then_pause
with NodeSession(settings, keys) as s:
    done = publish(s.blobs, s.versions, s.require_sharing(), keys, Path(sys.argv[3]),
                   name=sys.argv[4], policy=Policy(auto_approve_roles=("analyst",)))
print(json.dumps(done.as_dict()), flush=True)
"""


def _paused_publish(lab: CrashLab, tmp_path: Path, name: str) -> subprocess.Popen:
    d = lab.dept("stats")
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            _CHILD_PRELUDE + _PUBLISH_PAUSED,
            str(lab.net.home(d)),
            str(lab.net.secret(d)),
            str(payload(tmp_path / f"{name}.zip", 1)),
            name,
        ],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "between", child.stderr.read()[-2000:]
    lab.names.append(name)
    return child


def test_a_node_restarted_between_create_and_publish_keeps_the_publish(
    lab: CrashLab, tmp_path: Path
) -> None:
    """`dataset publish` runs in its own process: the node's start-up recovery, run while
    that publish waits between createDataset and publishVersion, must leave its blob and
    row alone, and the version it then anchors is served."""
    child = _paused_publish(lab, tmp_path, "restarted-between")
    lab.kill_node("stats")
    lab.restart()  # recovery runs before the node serves again
    out, err = child.communicate("go\n", timeout=120)
    assert child.returncode == 0, err[-2000:]
    done = json.loads(out.splitlines()[-1])
    assert lab.chain_versions_unserved() == []
    row = lab.versions().find(done["dataset_id"], done["version"])
    assert row is not None and row.ciphertext_hash == done["ciphertext_sha256"]
    assert lab.store_problems() == []
    findings = _auditor(lab).run().findings
    assert not [f for f in findings if f.kind == "blob_missing"]


def test_a_publish_whose_blob_was_removed_anchors_nothing(lab: CrashLab, tmp_path: Path) -> None:
    """A blob removed under a running publish by something that ignores its lease (a node
    of an older version, an operator): the publish stops before anchoring, with a clear
    error, and leaves no row."""
    child = _paused_publish(lab, tmp_path, "removed-between")
    with lab.net.session("stats") as s:
        (row,) = [r for r in s.versions.unanchored() if r.name == "removed-between"]
        s.blobs.path_for(bytes.fromhex(row.ciphertext_hash[2:])).unlink()
        sharing = s.require_sharing()
        dataset_id = sharing.dataset_id(s.keys.address, "removed-between")
    _, err = child.communicate("go\n", timeout=120)
    assert child.returncode != 0
    assert "PublishInterrupted" in err and "nothing was anchored" in err
    assert lab.reader().dataset(dataset_id)["versions"] == 0
    with lab.net.session("stats") as s:
        assert [r for r in s.versions.unanchored() if r.name == "removed-between"] == []
    assert lab.chain_versions_unserved() == []
