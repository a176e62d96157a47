"""The regulator's audit on a running pilot network: clean gives no findings; each kind of
tampering or violation, injected one at a time, is found with its evidence."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import hashlib
import io
import json
import socketserver
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from node.audit import merkle
from node.audit.blob_frames import FrameReader
from node.audit.log import AccessLog
from node.audit.models import AccessLogEntry, LogBatch
from node.audit.report import write_report
from node.audit.trail import trail
from node.audit.verify import Auditor, AuditResult
from node.chain.client import ChainClient, new_account
from node.chain.errors import ContractReverted
from node.chain.indexer.models import ChainEvent
from node.commitments.service import commit_column, record_totals
from node.network.config import load_network_config
from node.network.orchestrator import LocalNetwork
from node.peer.client import NodeApiError, NodeClient
from node.privacy.budget import Epsilon
from node.quality.tabular import load_schema
from node.registry.registry import Registry
from node.sharing.contracts import Mode, Policy, State
from node.sharing.service import GrantNotUsable, publish_as, pull
from tests.network.test_local_network import _config

ROOT = Path(__file__).resolve().parents[2]
DP_META = {
    "columns": {
        "enterprise": {},
        "district": {"keys": ["锦江区", "青羊区"]},
        "kwh": {"lower": 0, "upper": 10_000},
    }
}


class Pilot:
    def __init__(self, net: LocalNetwork, tmp: Path) -> None:
        self.net = net
        self.tmp = tmp
        self.ids: dict[str, int] = {}

    def dept(self, name: str):
        return next(d for d in self.net.config.departments if d.name == name)

    def anchor(self, name: str) -> list[int]:
        """Anchor ``name``'s unanchored log now; the batches written."""
        with (
            self.net.session(name) as s,
            NodeClient(self.dept(name).endpoint, s.keys.account.key) as c,
        ):
            return c.post("/v1/audit/anchor", {})["anchored_batches"]

    def anchor_all(self) -> None:
        for d in self.net.config.departments:
            self.anchor(d.name)

    def audit(self, **options) -> AuditResult:
        with self.net.session("drc") as drc:
            c = drc.settings.contracts
            return Auditor(
                drc.backend,
                c.model_dump(),
                drc.keys.account.key,
                **options,
            ).run()

    def inject(self, node: str, kind: str, **fields) -> int:
        """What a node that broke the rules would log (honestly) for what it did."""
        with self.net.session(node) as s:
            fields.setdefault("block", s.backend.block_number())
            seq = AccessLog(s.engine).append(kind, **fields)
        assert seq is not None
        return seq

    def inject_download(self, rid: int, consumer: str, **fields) -> int:
        """A download of the stats panel logged by the stats node for request ``rid``."""
        return self.inject(
            "stats",
            "download",
            request_id=rid,
            consumer=consumer,
            dataset_id="0x" + self.ids["panel"].hex(),
            version=1,
            **{"bytes": 100, "outcome": "completed", **fields},
        )

    def engine_of(self, node: str):
        return self.net.session(node).engine

    def wait_state(self, s, rid: int, state: State) -> None:
        deadline = time.monotonic() + 15
        while s.require_sharing().request(rid).state != state:
            assert time.monotonic() < deadline, f"request {rid} never reached {state}"
            time.sleep(0.1)

    def raw_grant(self, duration: int = 3600) -> int:
        with self.net.session("analyst") as a:
            sh = a.require_sharing()
            rid = (
                sh.apply(self.ids["panel"], 1, "audit test", Mode.RAW, duration=duration)
                .event("AccessRequested")
                .args["requestId"]
            )
            self.wait_state(a, rid, State.RELEASED)
        return rid


def found(result: AuditResult, kind: str, **evidence) -> list:
    return [
        f
        for f in result.findings
        if f.kind == kind and all(f.evidence.get(k) == v for k, v in evidence.items())
    ]


@pytest.fixture(scope="module")
def pilot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pilot]:
    root = tmp_path_factory.mktemp("audit")
    # nodes anchor only when told to here, so that "late" and "unanchored" are deterministic
    config = load_network_config(_config(root / "net.toml", full=True, log_anchor_seconds=3600))
    net = LocalNetwork(config, root / "state", say=lambda _: None)
    try:
        net.up()
        p = Pilot(net, root)
        _activity(p)
        yield p
    finally:
        net.down()


def _activity(p: Pilot) -> None:
    panel = p.tmp / "panel.csv"
    panel.write_text("district,year,gdp\n锦江区,2023,1342.5\n武侯区,2023,1428.0\n")
    kwh = p.tmp / "kwh.csv"
    kwh.write_text(
        "enterprise,district,kwh\n"
        + "".join(f"E{i},{'锦江区' if i % 2 else '青羊区'},{1000 + i}\n" for i in range(300))
    )
    with p.net.session("stats") as s:
        pub = publish_as(
            s,
            panel,
            name="panel",
            policy=Policy(auto_approve_roles=("analyst",), raw_allowed=True),
            # a declared schema anchors a quality document, for the quality_documents check
            table_schema=load_schema(
                {
                    "fields": [
                        {"name": "district", "type": "string"},
                        {"name": "year", "type": "integer"},
                        {"name": "gdp", "type": "number"},
                    ]
                }
            ),
        )
        p.ids["panel"] = pub.dataset_id
        p.ids["panel_blob"] = pub.ciphertext_hash
    with p.net.session("grid") as s:
        pub = publish_as(
            s,
            kwh,
            name="kwh",
            policy=Policy(
                auto_approve_roles=("analyst",),
                raw_allowed=False,
                epsilon_ceiling=Epsilon.parse("1"),
            ),
            dp_metadata=DP_META,
        )
        p.ids["kwh"] = pub.dataset_id
        # grid commits to its enterprises' kWh and records totals by district, for the
        # commitment_totals check
        commit_column(s, pub.dataset_id, "kwh", "kWh")
        record_totals(s, pub.dataset_id, "kwh", "district")
    with p.net.session("eco") as s:
        pub = publish_as(
            s,
            panel,
            name="reviewed",
            policy=Policy(reviewer_approvals=1, raw_allowed=True),
        )
        p.ids["reviewed"] = pub.dataset_id
    p.ids["raw"] = p.raw_grant()
    with p.net.session("analyst") as a:
        sh = a.require_sharing()
        pull(sh, a.registry, a.keys, p.ids["raw"], p.tmp / "pulled.csv")
        dp = sh.apply(p.ids["kwh"], 1, "dp", Mode.DP, epsilon=Epsilon.parse("1"), duration=3600)
        p.ids["dp"] = dp.event("AccessRequested").args["requestId"]
        reviewed = sh.apply(p.ids["reviewed"], 1, "review", Mode.RAW, duration=3600)
        p.ids["reviewed_req"] = reviewed.event("AccessRequested").args["requestId"]
        spec = {"kind": "count", "epsilon": 0.4, "group_by": "district"}
        with NodeClient(p.dept("grid").endpoint, a.keys.account.key) as c:
            c.post("/v1/query", {"request": p.ids["dp"], "spec": spec})
            c.post("/v1/query", {"request": p.ids["dp"], "spec": spec})
            with pytest.raises(NodeApiError):
                c.post("/v1/query", {"request": p.ids["dp"], "spec": spec})
    for approver in ("eco", "grid"):
        with p.net.session(approver) as s:
            s.require_sharing().approve(p.ids["reviewed_req"])
    # the nodes log their own approvals from their index: wait until both have
    for node in ("eco", "grid"):
        deadline = time.monotonic() + 15
        while True:
            with Session(p.engine_of(node)) as db:
                if db.scalar(select(AccessLogEntry.seq).where(AccessLogEntry.kind == "approval")):
                    break
            assert time.monotonic() < deadline
            time.sleep(0.1)
    p.anchor_all()


# -- clean ------------------------------------------------------------------------------
def test_a_clean_network_gives_no_findings(pilot: Pilot, tmp_path: Path) -> None:
    result = pilot.audit()
    assert result.problems == []
    # the one refused query is kept for the record, as information only
    assert [(f.kind, f.severity, f.department) for f in result.findings] == [
        ("budget_overrun_attempt", "info", "analyst")
    ]
    # every check saw something, but joint runs: this pilot runs none (tests/joint's does)
    assert all(c["items"] > 0 for k, c in result.checks.items() if k != "joint_runs")
    assert result.checks["joint_runs"]["items"] == 0
    # grid, a provider, reviewed eco's request: a permitted reviewer, no finding
    with pilot.net.session("grid") as grid:
        reviewer = grid.keys.address
    assert [
        e.args["approver"]
        for e in result.facts.approvals
        if e.args["requestId"] == pilot.ids["reviewed_req"] and not e.args["isOwner"]
    ] == [reviewer]
    # blocks as stored, from the chain host: every one's roots recomputed by the regulator
    assert result.checks["chain"]["roots_checked"] == result.head + 1
    kinds = sorted(e["kind"] for entries in result.logs.values() for e in entries)
    assert kinds.count("download") == 1 and kinds.count("dp_answer") == 2
    assert kinds.count("approval") == 2 and kinds.count("dp_refused") == 1
    html, js = write_report(result, tmp_path / "report.html")
    assert "No problems found" in html.read_text() and js.exists()
    story = trail(result, dataset="0x" + pilot.ids["kwh"].hex())
    assert [r["what"] for r in story].count("DP answer given") == 2


def tanlian(pilot: Pilot, dept: str, *args: str) -> subprocess.CompletedProcess:
    d = pilot.dept(dept)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "cli.main",
            *args,
            "--home",
            str(pilot.net.home(d)),
            "--password-file",
            str(pilot.net.secret(d)),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
    )


def test_the_audit_from_the_command_line(pilot: Pilot, tmp_path: Path) -> None:
    verify = tanlian(pilot, "drc", "audit", "verify")
    assert verify.returncode == 0, verify.stderr
    assert "clean: no findings (1 notice(s))" in verify.stdout
    options = ("--json", "--node-timeout", "30", "--max-log-delay", "60")
    as_json = json.loads(tanlian(pilot, "drc", "audit", "verify", *options).stdout)
    assert as_json["clean"] is True and as_json["findings_by_severity"]["info"] == 1
    rows = list(
        csv.DictReader(
            io.StringIO(
                tanlian(pilot, "drc", "audit", "trail", "--dataset", "grid/kwh", "--csv").stdout
            )
        )
    )
    whats = [r["what"] for r in rows]
    assert whats.index("dataset created") < whats.index("access requested")
    excel = tanlian(pilot, "drc", "audit", "trail", "--dataset", "grid/kwh", "--excel").stdout
    assert excel.startswith("\ufeff")
    again = list(csv.DictReader(io.StringIO(excel.removeprefix("\ufeff"))))
    assert again[: len(rows)] == rows  # the same CSV, after the mark
    assert whats.count("DP budget spent") == 2 and whats.count("DP answer given") == 2
    by_dept = json.loads(
        tanlian(pilot, "drc", "audit", "trail", "--department", "stats", "--json").stdout
    )
    assert any(e["what"] == "download served" for e in by_dept["events"])
    # --to a date includes that day (Beijing time unless --tz says otherwise)
    today = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()
    span = ("--from", str(today - dt.timedelta(days=1)), "--to", str(today))
    dated = json.loads(
        tanlian(pilot, "drc", "audit", "trail", "--department", "stats", *span, "--json").stdout
    )
    assert dated["events"] == by_dept["events"]
    assert by_dept["events"][0]["when"].endswith("+08:00")
    report = tanlian(pilot, "drc", "audit", "report", "-o", str(tmp_path / "r.html"))
    assert report.returncode == 0 and (tmp_path / "r.json").exists()
    assert "Tanlian audit report" in (tmp_path / "r.html").read_text()
    for dept, args, code in [
        ("stats", ["audit", "verify"], "invalid_input"),  # not a regulator
        ("drc", ["audit", "trail", "--dataset", "grid/kwh", "--department", "x"], "invalid_input"),
        ("drc", ["audit", "trail", "--department", "stats", "--from", "soon"], "invalid_input"),
        ("drc", ["audit", "trail", "--consumer", "nobody"], "not_found"),
        ("drc", ["audit", "trail", "--dataset", "0x" + "cd" * 32], "not_found"),
        ("drc", ["audit", "verify", "--node-timeout", "0"], "invalid_input"),
        ("drc", ["audit", "report", "-o", "r.html", "--max-log-delay", "-1"], "invalid_input"),
    ]:
        bad = tanlian(pilot, dept, *args)
        assert bad.returncode == 1 and "Traceback" not in bad.stderr
        assert bad.stderr.strip().splitlines()[-1].startswith(f"tanlian: error [{code}]")


def test_any_log_entry_is_proved_against_the_root_on_chain(pilot: Pilot) -> None:
    with pilot.net.session("drc") as drc:
        stats = pilot.dept("stats")
        with NodeClient(stats.endpoint, drc.keys.account.key) as c:
            log = c.get("/v1/audit/log")
            download = next(e for e in log["entries"] if e["kind"] == "download")
            got = c.get("/v1/audit/proof", params={"seq": download["seq"]})
        from node.audit.contracts import AuditAnchors
        from node.audit.log import entry_hash

        anchored = AuditAnchors(drc.client, drc.settings.contracts.audit).batch(
            log["node"], got["batch"]
        )
    leaf = merkle.leaf_hash(entry_hash(got["entry"]))
    path = [bytes.fromhex(h[2:]) for h in got["proof"]]
    assert got["size"] == anchored.count
    assert merkle.verify(leaf, got["entry"]["leaf"], anchored.count, path, anchored.root)
    forged = dict(got["entry"], detail={**got["entry"]["detail"], "bytes": 1})
    assert not merkle.verify(
        merkle.leaf_hash(entry_hash(forged)),
        got["entry"]["leaf"],
        anchored.count,
        path,
        anchored.root,
    )


# -- stores ---------------------------------------------------------------------------------
def test_an_edited_blob_is_a_hash_mismatch(pilot: Pilot) -> None:
    with pilot.net.session("stats") as s:
        blob = s.blobs.path_for(pilot.ids["panel_blob"])
    original = blob.read_bytes()
    blob.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))
    try:
        result = pilot.audit()
    finally:
        blob.write_bytes(original)
    [f] = found(result, "hash_mismatch", dataset_id="0x" + pilot.ids["panel"].hex())
    assert (f.severity, f.department) == ("critical", "stats")
    assert f.evidence["anchor_tx"].startswith("0x")


def test_a_missing_or_resized_blob_is_found_and_the_others_still_check(pilot: Pilot) -> None:
    with pilot.net.session("stats") as s:
        blob = s.blobs.path_for(pilot.ids["panel_blob"])
    original = blob.read_bytes()
    panel = "0x" + pilot.ids["panel"].hex()
    blob.unlink()
    try:
        result = pilot.audit()
    finally:
        blob.write_bytes(original)
    [f] = found(result, "blob_missing", dataset_id=panel)
    assert (f.severity, f.department) == ("high", "stats") and "not_found" in f.message
    assert [x.kind for x in result.problems] == ["blob_missing"]
    # a ciphertext that grew: its hash fails, and the frames after it still line up
    blob.write_bytes(original + b"\x00" * 70_000)
    try:
        result = pilot.audit()
    finally:
        blob.write_bytes(original)
    [f] = found(result, "hash_mismatch", dataset_id=panel)
    assert [x.kind for x in result.problems] == ["hash_mismatch"]


def test_the_batch_blob_route_serves_regulators_only_and_checks_its_input(pilot: Pilot) -> None:
    panel = "0x" + pilot.ids["panel"].hex()
    stats = pilot.dept("stats").endpoint
    asked = {"versions": [{"dataset_id": panel, "version": 2}, {"dataset_id": panel, "version": 1}]}
    with pilot.net.session("drc") as drc, NodeClient(stats, drc.keys.account.key) as c:
        frames = FrameReader(c.stream("POST", "/v1/audit/blobs", body=asked))
        found_first, size = frames.header()
        assert not found_first and frames.error(size)[0] == "not_found"
        found_second, size = frames.header()
        assert (
            found_second
            and hashlib.sha256(b"".join(frames.pieces(size))).digest() == (pilot.ids["panel_blob"])
        )
        frames.end()
        for body in (
            {"versions": []},
            {"versions": [{"dataset_id": "0x12", "version": 1}]},
            {"versions": [{"dataset_id": panel, "version": 0}]},
            {"versions": [{"dataset_id": panel, "version": 1}] * 1001},
            {"versions": [{"dataset_id": panel, "version": 1}], "extra": 1},
        ):
            with pytest.raises(NodeApiError) as bad:
                list(c.stream("POST", "/v1/audit/blobs", body=body))
            assert (bad.value.http_status, bad.value.code) == (400, "invalid_input")
    with pilot.net.session("analyst") as a, NodeClient(stats, a.keys.account.key) as c:
        with pytest.raises(NodeApiError) as refused:
            list(c.stream("POST", "/v1/audit/blobs", body=asked))
        assert refused.value.http_status == 403


def test_an_edited_index_is_found(pilot: Pilot) -> None:
    engine = pilot.engine_of("eco")
    with Session(engine) as db, db.begin():
        row = db.scalars(select(ChainEvent).order_by(ChainEvent.id.desc()).limit(1)).one()
        saved = {c.name: getattr(row, c.name) for c in ChainEvent.__table__.columns}
        db.delete(row)
    try:
        result = pilot.audit()
    finally:
        with Session(engine) as db, db.begin():
            db.add(ChainEvent(**saved))
    [f] = found(result, "index_mismatch")
    assert f.department == "eco"


# -- logs -----------------------------------------------------------------------------------
def _rows(engine, **where) -> list[AccessLogEntry]:
    with Session(engine) as db:
        q = select(AccessLogEntry)
        for k, v in where.items():
            q = q.where(getattr(AccessLogEntry, k) == v)
        return list(db.scalars(q.order_by(AccessLogEntry.seq)))


def test_an_edited_log_entry_is_found(pilot: Pilot) -> None:
    engine = pilot.engine_of("stats")
    [entry] = _rows(engine, kind="download")
    detail = dict(entry.detail)
    with Session(engine) as db, db.begin():
        db.execute(
            update(AccessLogEntry)
            .where(AccessLogEntry.seq == entry.seq)
            .values(detail={**detail, "bytes": 0})  # "nothing was downloaded"
        )
    try:
        result = pilot.audit()
    finally:
        with Session(engine) as db, db.begin():
            db.execute(
                update(AccessLogEntry).where(AccessLogEntry.seq == entry.seq).values(detail=detail)
            )
    [f] = found(result, "log_tampered", batch=entry.batch)
    assert f.department == "stats" and f.evidence["edited_entries"] == [entry.seq]
    assert pilot.audit().problems == []  # restored: the root matches again


def test_reordered_log_entries_are_found(pilot: Pilot) -> None:
    engine = pilot.engine_of("grid")
    a, b = _rows(engine, kind="dp_answer")
    with Session(engine) as db, db.begin():
        db.execute(update(AccessLogEntry).where(AccessLogEntry.seq == a.seq).values(leaf=b.leaf))
        db.execute(update(AccessLogEntry).where(AccessLogEntry.seq == b.seq).values(leaf=a.leaf))
    try:
        result = pilot.audit()
    finally:
        with Session(engine) as db, db.begin():
            db.execute(
                update(AccessLogEntry).where(AccessLogEntry.seq == a.seq).values(leaf=a.leaf)
            )
            db.execute(
                update(AccessLogEntry).where(AccessLogEntry.seq == b.seq).values(leaf=b.leaf)
            )
    [f] = found(result, "log_tampered", batch=a.batch)
    assert f.department == "grid" and f.evidence["edited_entries"] == []


def test_a_dropped_log_batch_is_found(pilot: Pilot) -> None:
    engine = pilot.engine_of("grid")
    entries = _rows(engine)
    batch = entries[0].batch
    kept = [{c.name: getattr(e, c.name) for c in AccessLogEntry.__table__.columns} for e in entries]
    with Session(engine) as db, db.begin():
        row = db.get(LogBatch, batch)
        saved = {c.name: getattr(row, c.name) for c in LogBatch.__table__.columns}
        db.execute(delete(AccessLogEntry).where(AccessLogEntry.batch == batch))
        db.execute(delete(LogBatch).where(LogBatch.seq == batch))
    try:
        result = pilot.audit()
    finally:
        with Session(engine) as db, db.begin():
            db.add(LogBatch(**saved))
            for k in kept:
                if k["batch"] == batch:
                    db.add(AccessLogEntry(**k))
    [f] = found(result, "log_batch_missing", batch=batch)
    assert (f.severity, f.department) == ("critical", "grid")
    # the DP answers it held are gone from the log while their ε was paid on chain
    assert found(result, "unlogged_answer", request=pilot.ids["dp"])


def test_unanchored_then_late_log_entries_are_found(pilot: Pilot) -> None:
    # a node whose anchoring stalled: an entry it wrote an hour ago (before any block of
    # this chain, so it names none)
    hour_ago = time.time() - 3600
    seq = pilot.inject("transport", "download", at=hour_ago, logged_at=hour_ago, block=None)
    [f] = found(pilot.audit(), "unanchored_log", seq=seq)
    assert (f.severity, f.department) == ("medium", "transport")
    [batch] = pilot.anchor("transport")
    result = pilot.audit()
    assert not found(result, "unanchored_log", seq=seq)
    [late] = found(result, "late_log_batch", batch=batch)
    assert (late.severity, late.department, late.evidence["seq"]) == ("low", "transport", seq)
    # block times are whole seconds: the anchoring block may be stamped up to 1 s before
    # the wall-clock moment an hour after the entry
    assert late.evidence["delay"] >= 3599


#: seconds without a block (the demo network down, then up), the audit's limit, and a
#: stalled anchoring; scaled down from minutes
QUIET, LIMIT, LATE = 10, 4, 8


def test_after_a_quiet_period_a_prompt_anchor_is_not_late_and_a_stalled_one_is(
    pilot: Pilot,
) -> None:
    with pilot.net.session("analyst") as a:
        head = a.backend.get_block("latest")
        wait = head.timestamp + QUIET - time.time()
        assert wait < 120, "the chain's clock runs far ahead of the wall clock"
        time.sleep(max(0.0, wait))  # no block for QUIET s of wall-clock time
        # pull once: the owner logs the download against the old head block
        pull(a.require_sharing(), a.registry, a.keys, pilot.ids["raw"], pilot.tmp / "q1.csv")
        # a record of an act of the quiet chain's past, written now (a decision found late)
        old_act = pilot.inject(
            "stats",
            "key_release",
            request_id=pilot.ids["raw"],
            at=head.timestamp,
            block=head.number,
        )
        [prompt] = pilot.anchor("stats")
        pull(a.require_sharing(), a.registry, a.keys, pilot.ids["raw"], pilot.tmp / "q2.csv")
        time.sleep(LATE)  # this batch's anchoring stalls
        [stalled] = pilot.anchor("stats")
    engine = pilot.engine_of("stats")
    # each download: its intent (before the first byte) and its outcome
    [first, served] = [e for e in _rows(engine, batch=prompt) if e.kind.startswith("download")]
    [second, _] = [e for e in _rows(engine, batch=stalled) if e.kind.startswith("download")]
    assert (first.kind, second.kind) == ("download_intent", "download_intent")
    assert [e.seq for e in _rows(engine, batch=prompt)] == [first.seq, served.seq, old_act]
    result = pilot.audit(max_log_delay=LIMIT)
    facts = result.facts
    with pilot.net.session("stats") as s:
        anchored = facts.batches[s.keys.address][prompt]["anchored_at"]
    # the download acted on a block older than the limit, by the chain's own clock: the
    # rule that timed anchoring from that block called this prompt anchor late
    assert anchored - facts.times[first.detail["block"]] > LIMIT
    assert not found(result, "late_log_batch", batch=prompt)
    assert not [f for f in found(result, "unanchored_log") if f.department == "stats"]
    [late] = found(result, "late_log_batch", batch=stalled)
    assert (late.department, late.evidence["seq"]) == ("stats", second.seq)
    # and nothing else about these batches (the entries hash as they were anchored)
    assert [
        f.kind
        for f in result.findings
        if f.department == "stats" and f.evidence.get("batch") in (prompt, stalled)
    ] == ["late_log_batch"]
    assert late.evidence["delay"] >= LATE - 1


# -- rules ----------------------------------------------------------------------------------
def test_a_download_after_revocation_is_found(pilot: Pilot) -> None:
    rid = pilot.raw_grant()
    with pilot.net.session("stats") as s:
        s.require_sharing().revoke(rid, "audit test")
    with pilot.net.session("analyst") as a, pytest.raises(GrantNotUsable):
        # the honest node refuses the replayed pull ...
        pull(a.require_sharing(), a.registry, a.keys, rid, pilot.tmp / "late.csv")
    assert not [f for f in pilot.audit().problems if f.evidence.get("request") == rid]
    # ... a node that served it anyway shows in its own anchored log
    with pilot.net.session("analyst") as a:
        consumer = a.keys.address
    seq = pilot.inject_download(rid, consumer)
    pilot.anchor_all()
    [f] = found(pilot.audit(), "access_after_revocation", seq=seq)
    assert (f.severity, f.department) == ("high", "stats")


def test_access_without_a_grant_is_found(pilot: Pilot) -> None:
    with pilot.net.session("analyst") as a:
        consumer = a.keys.address
    common = {"consumer": consumer, "dataset_id": "0x" + pilot.ids["panel"].hex(), "version": 1}
    unknown = pilot.inject("stats", "download", request_id=9999, bytes=10, **common)
    # a DP grant on another node's data is no licence for a raw download here
    wrong = pilot.inject("stats", "download", request_id=pilot.ids["dp"], bytes=10, **common)
    pilot.anchor_all()
    result = pilot.audit()
    for seq in (unknown, wrong):
        [f] = found(result, "access_without_grant", seq=seq)
        assert (f.severity, f.department) == ("critical", "stats")


def test_a_download_after_expiry_is_found(pilot: Pilot) -> None:
    rid = pilot.raw_grant(duration=60)
    with pilot.net.session("analyst") as a:
        consumer = a.keys.address
        expires = a.require_sharing().request(rid).expires_at
        # one block per transaction, each at least a second after the last, until the chain's
        # latest block is past the grant's end
        while a.backend.get_block("latest").timestamp <= expires:
            a.registry.set_endpoint(pilot.dept("analyst").endpoint)
        assert not a.require_sharing().is_usable(rid)
    seq = pilot.inject_download(rid, consumer)
    pilot.anchor_all()
    [f] = found(pilot.audit(), "access_after_expiry", seq=seq)
    assert f.department == "stats"


def test_an_answer_without_its_spend_is_found(pilot: Pilot) -> None:
    with pilot.net.session("analyst") as a:
        consumer = a.keys.address
    pilot.inject(
        "grid",
        "dp_answer",
        request_id=pilot.ids["dp"],
        consumer=consumer,
        dataset_id="0x" + pilot.ids["kwh"].hex(),
        version=1,
        epsilon=0.2,
    )
    pilot.anchor_all()
    result = pilot.audit()
    [f] = found(result, "answer_without_spend", request=pilot.ids["dp"])
    assert (f.severity, f.department) == ("critical", "grid")
    [attempt] = found(result, "budget_overrun_attempt", request=pilot.ids["dp"])
    assert attempt.department == "analyst"


def test_approvals_by_non_reviewers(pilot: Pilot) -> None:
    with pilot.net.session("analyst") as a:
        rid = (
            a.require_sharing()
            .apply(pilot.ids["reviewed"], 1, "again", Mode.RAW, duration=3600)
            .event("AccessRequested")
            .args["requestId"]
        )
        with pytest.raises(ContractReverted) as refused:
            a.require_sharing().approve(rid)  # the contract stops it at the source
    assert refused.value.error == "NotDecider"
    # a regulator is not a reviewer either (it audits the approvals)
    with pilot.net.session("drc") as drc, pytest.raises(ContractReverted) as regulator:
        drc.require_sharing().approve(rid)
    assert (regulator.value.error, regulator.value.error_args) == (
        "NotDecider",
        {"requestId": rid, "account": drc.keys.address},
    )
    seq = pilot.inject("transport", "approval", request_id=rid, tx="0x" + "ab" * 32)
    pilot.anchor_all()
    [f] = found(pilot.audit(), "non_reviewer_approval", seq=seq)
    assert f.department == "transport"


def test_activity_of_a_suspended_node_is_found(pilot: Pilot) -> None:
    rid = pilot.raw_grant()
    with pilot.net.session("analyst") as a:
        consumer = a.keys.address
    with pilot.net.session("drc") as drc:
        drc.registry.suspend(consumer, "audit test")
    try:
        seq = pilot.inject_download(rid, consumer)
        pilot.anchor("stats")  # (the suspended analyst's own node could not anchor now)
        result = pilot.audit()
    finally:
        with pilot.net.session("drc") as drc:
            drc.registry.reinstate(consumer)
    [f] = found(result, "suspended_node_activity", seq=seq)
    assert (f.severity, f.department) == ("high", "analyst")


# -- the regulator's requests go only where the registry says -------------------------------
class FakeNode(socketserver.ThreadingTCPServer):
    """An outsider's endpoint: records every request; answers as told.

    ``lying``: /healthz claims another department's address, everything else is HTML;
    ``garbled``: JSON of the wrong shape; ``silent``: accepts the request and never answers;
    ``trickle``: promises a body and sends one byte every 0.2 s."""

    daemon_threads = True

    def __init__(self, claims: str) -> None:
        super().__init__(("127.0.0.1", 0), _FakeHandler)
        self.claims = claims
        self.mode = "lying"
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.stopping = threading.Event()
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def stop(self) -> None:
        self.stopping.set()
        self.shutdown()
        self.server_close()


class _FakeHandler(socketserver.StreamRequestHandler):
    server: FakeNode

    def handle(self) -> None:
        line = self.rfile.readline(65536).decode("latin-1").split()
        if len(line) != 3:
            return
        headers: dict[str, str] = {}
        while h := self.rfile.readline(65536).strip():
            name, _, value = h.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        self.rfile.read(int(headers.get("content-length", 0)))
        fake = self.server
        fake.requests.append((line[0], line[1], headers))
        with contextlib.suppress(OSError):  # the auditor hung up: what a timeout does
            if fake.mode == "silent":
                fake.stopping.wait(600)
            elif fake.mode == "trickle":
                self.wfile.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\n")
                while not fake.stopping.wait(0.2):
                    self.wfile.write(b" ")
                    self.wfile.flush()
            else:
                if line[1] == "/healthz":
                    body = json.dumps({"status": "ok", "address": fake.claims}).encode()
                elif fake.mode == "garbled":
                    entry = {"seq": 1, "at": 1.0, "kind": "download", "detail": {"block": [1]}}
                    body = json.dumps({"digest": 7, "entries": [entry]}).encode()
                else:
                    body = b"<html>not a node</html>"
                self.wfile.write(
                    b"HTTP/1.1 200 OK\r\ncontent-type: text/html\r\n"
                    + f"content-length: {len(body)}\r\nconnection: close\r\n\r\n".encode()
                    + body
                )


def test_a_pending_outsider_receives_nothing_and_an_active_member_only_its_own_requests(
    pilot: Pilot,
) -> None:
    with pilot.net.session("stats") as s:
        stats = s.keys.address
    fake = FakeNode(claims=stats)
    try:
        with pilot.net.session("drc") as drc:
            outsider = Registry(ChainClient(drc.backend, new_account()), drc.registry.address)
            with pytest.raises(ContractReverted) as taken:  # names are unique
                outsider.register("stats", ["consumer"], b"\x05" * 32, fake.url)
            assert (taken.value.error, taken.value.error_args) == (
                "NameTaken",
                {"name": "stats", "holder": stats},
            )
            # anyone who reaches the chain host can file a registration (pending, no gas)
            outsider.register("outsider", ["consumer"], b"\x05" * 32, fake.url)
            me = outsider.client.address
            result = pilot.audit()
            assert fake.requests == []  # not even /healthz
            assert not [f for f in result.findings if f.department == "outsider"]

            drc.registry.approve(me)  # now an active member whose node lies about who it is
            started = time.monotonic()
            result = pilot.audit(node_timeout=5)
            assert time.monotonic() - started < 120
            signed = [(m, t, h) for m, t, h in fake.requests if "x-tanlian-signature" in h]
            assert signed and len(signed) == len(fake.requests)
            assert {t.split("?")[0] for _, t, _ in signed} == {
                "/v1/audit/index",
                "/v1/audit/log",
                "/v1/downloads",
            }
            # every request is addressed to the outsider's own registry address ...
            assert {h["x-tanlian-audience"] for _, _, h in signed} == {me}
            # ... so relaying one to another department gets it refused there
            method, target, headers = next(r for r in signed if r[1] == "/v1/audit/log")
            relayed = httpx.request(
                method,
                pilot.dept("stats").endpoint + target,
                headers={k: v for k, v in headers.items() if k.startswith("x-tanlian-")},
            )
            assert (relayed.status_code, relayed.json()["code"]) == (401, "auth_wrong_audience")
            # its HTML answers are findings, not a crash
            bad = [f for f in result.problems if f.department == "outsider"]
            assert sorted(f.kind for f in bad) == ["node_unreachable", "node_unreachable"]
            assert all("not JSON" in f.message for f in bad)

            # answers of the wrong shape, a tarpit that is silent, then one that trickles:
            # each a finding within a bounded time
            for mode, index_why, log_why in (
                ("garbled", "not {digest, events}", "field 'request_id' is missing"),
                ("silent", "timed out", "timed out"),
                ("trickle", "time allowed", "time allowed"),
            ):
                fake.mode = mode
                started = time.monotonic()
                result = pilot.audit(node_timeout=3)
                assert time.monotonic() - started < 120, mode
                bad = {
                    f.message.split(":")[0]: f.message
                    for f in result.problems
                    if f.department == "outsider" and f.kind == "node_unreachable"
                }
                assert index_why in bad["index not readable"], bad
                assert log_why in bad["log not readable"], bad
                assert len([f for f in result.problems if f.department == "outsider"]) == 2

            # a suspended member is not contacted either: a notice, not a problem
            drc.registry.suspend(me, "audit test")
            fake.requests.clear()
            result = pilot.audit()
            assert fake.requests == []
            [notice] = found(result, "member_not_contacted")
            assert (notice.severity, notice.department) == ("info", "outsider")
            assert not [f for f in result.problems if f.department == "outsider"]
    finally:
        fake.stop()
