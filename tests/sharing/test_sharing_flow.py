"""Publish → apply → authorize → release → pull → revoke on a running network of real nodes,
and the ways people try to get around it."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from node.chain.errors import ContractReverted
from node.errors import TanlianError
from node.network.orchestrator import LocalNetwork
from node.peer.client import NodeApiError, NodeClient
from node.peer.signing import sign_request
from node.privacy.budget import Epsilon
from node.privacy.crypto import IntegrityError
from node.runtime import NodeSession
from node.sharing.contracts import Mode, Policy, State
from node.sharing.service import GrantNotUsable, publish, publish_as, pull, recover
from tests.network.running import running_network

CSV = "district,year,gdp\r\n锦江区,2023,1342.5\r\n武侯区,2023,1428.0\r\n"


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNetwork]:
    with running_network(tmp_path_factory.mktemp("share"), full=True) as network:
        yield network


def session(net: LocalNetwork, name: str) -> NodeSession:
    return net.session(name)


def wait_state(s: NodeSession, rid: int, state: State, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while s.require_sharing().request(rid).state != state:
        if time.monotonic() > deadline:
            raise AssertionError(f"request {rid} never reached {state.label}")
        time.sleep(0.1)


@pytest.fixture(scope="module")
def panel(net: LocalNetwork, tmp_path_factory: pytest.TempPathFactory):
    path = tmp_path_factory.mktemp("data") / "panel.csv"
    path.write_bytes(CSV.encode())
    with session(net, "stats") as stats:
        pub = publish_as(
            stats,
            path,
            name="district-panel",
            classification="internal",
            policy=Policy(auto_approve_roles=("analyst",), raw_allowed=True),
        )
    return pub


def test_publish_is_anchored_and_listed_everywhere(net: LocalNetwork, panel) -> None:
    with session(net, "analyst") as analyst:
        v = analyst.require_sharing().version(panel.dataset_id, 1)
        assert v["ciphertext_hash"] == panel.ciphertext_hash
        assert v["plaintext_hash"] == panel.plaintext_hash
        eco = next(d for d in net.config.departments if d.name == "eco")
        with NodeClient(eco.endpoint, analyst.keys.account.key) as c:
            deadline = time.monotonic() + 10
            while True:
                listed = {d["name"]: d for d in c.get("/v1/datasets")["datasets"]}
                if listed.get("district-panel", {}).get("versions") or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
        assert listed["district-panel"]["versions"][0]["ciphertext_sha256"] == (
            "0x" + panel.ciphertext_hash.hex()
        )


def test_auto_authorized_raw_grant_is_released_and_pulled(
    net: LocalNetwork, panel, tmp_path: Path
) -> None:
    with session(net, "analyst") as analyst:
        sh = analyst.require_sharing()
        r = sh.apply(panel.dataset_id, 1, "green index 2023", Mode.RAW, duration=3600)
        rid = r.event("AccessRequested").args["requestId"]
        assert r.event("AccessAuthorized").args["automatic"] is True
        wait_state(analyst, rid, State.RELEASED)  # the stats node released the key itself
        out = tmp_path / "panel.csv"
        info = pull(sh, analyst.registry, analyst.keys, rid, out)
        assert info["verified"] is True
        # the canonical form: no BOM, LF line ends
        assert out.read_text(encoding="utf-8") == CSV.replace("\r\n", "\n")


def test_a_gbk_spreadsheet_is_published_as_utf8_and_pulled_intact(
    net: LocalNetwork, panel, tmp_path: Path
) -> None:
    # Excel on Chinese Windows saves CSV as GBK; the canonical form is the UTF-8 one
    path = tmp_path / "gbk.csv"
    path.write_bytes(CSV.encode("gbk"))
    with session(net, "stats") as stats:
        pub = publish_as(
            stats,
            path,
            name="district-panel-gbk",
            classification="internal",
            policy=Policy(auto_approve_roles=("analyst",), raw_allowed=True),
        )
        # recorded with the stored version, not only printed
        stored = stats.versions.find("0x" + pub.dataset_id.hex(), pub.version)
        assert stored is not None and stored.source_encoding == "gbk"
    assert pub.source_encoding == "gbk" and pub.as_dict()["source_encoding"] == "gbk"
    assert pub.plaintext_hash == panel.plaintext_hash  # the same bytes as the UTF-8 file's
    with session(net, "analyst") as analyst:
        sh = analyst.require_sharing()
        r = sh.apply(pub.dataset_id, 1, "green index 2023", Mode.RAW, duration=3600)
        rid = r.event("AccessRequested").args["requestId"]
        wait_state(analyst, rid, State.RELEASED)
        out = tmp_path / "pulled.csv"
        assert pull(sh, analyst.registry, analyst.keys, rid, out)["verified"] is True
        assert "锦江区" in out.read_text(encoding="utf-8")


def test_pending_request_needs_owner_and_reviewer(net: LocalNetwork, tmp_path: Path) -> None:
    data = tmp_path / "grid.csv"
    data.write_text("enterprise,month,kwh\nE1,2024-01,1200\n")
    with session(net, "eco") as eco:
        pub = publish_as(
            eco,
            data,
            name="stations",
            classification="sensitive",
            policy=Policy(reviewer_approvals=1, raw_allowed=True),
        )
    with session(net, "analyst") as analyst:
        r = analyst.require_sharing().apply(pub.dataset_id, 1, "audit", Mode.RAW, duration=3600)
        rid = r.event("AccessRequested").args["requestId"]
        assert [e.event for e in r.events] == ["AccessRequested"]
        with session(net, "eco") as eco, session(net, "grid") as grid:
            with pytest.raises(ContractReverted) as info:
                analyst.require_sharing().approve(rid)  # the consumer cannot approve itself
            assert info.value.error == "NotDecider"
            eco.require_sharing().approve(rid)
            assert analyst.require_sharing().request(rid).state == State.PENDING
            result = grid.require_sharing().approve(rid)
            assert [e.event for e in result.events] == ["AccessApproved", "AccessAuthorized"]
            with pytest.raises(ContractReverted) as twice:
                grid.require_sharing().approve(rid)
            assert twice.value.error == "WrongState"
        wait_state(analyst, rid, State.RELEASED)
        assert pull(
            analyst.require_sharing(), analyst.registry, analyst.keys, rid, tmp_path / "out.csv"
        )["verified"]


def test_revoked_grant_cannot_be_pulled(net: LocalNetwork, panel, tmp_path: Path) -> None:
    with session(net, "analyst") as analyst, session(net, "stats") as stats:
        sh = analyst.require_sharing()
        rid = (
            sh.apply(panel.dataset_id, 1, "x", Mode.RAW, duration=3600)
            .event("AccessRequested")
            .args["requestId"]
        )
        wait_state(analyst, rid, State.RELEASED)
        stats.require_sharing().revoke(rid, "purpose ended")
        out = tmp_path / "never.csv"
        with pytest.raises(GrantNotUsable):
            pull(sh, analyst.registry, analyst.keys, rid, out)
        assert not out.exists()
        # and the owner's node refuses the raw download too, even with the old key
        stats_dept = next(d for d in net.config.departments if d.name == "stats")
        path = f"/v1/datasets/0x{panel.dataset_id.hex()}/versions/1/blob"
        with (
            NodeClient(stats_dept.endpoint, analyst.keys.account.key) as c,
            pytest.raises(NodeApiError) as refused,
        ):
            list(c.stream("GET", path, params={"request": rid}))
        assert (refused.value.http_status, refused.value.code) == (403, "grant_not_usable")


def test_another_consumers_grant_and_replays_are_refused(net: LocalNetwork, panel) -> None:
    with session(net, "analyst") as analyst, session(net, "eco") as eco:
        rid = (
            analyst.require_sharing()
            .apply(panel.dataset_id, 1, "y", Mode.RAW, duration=3600)
            .event("AccessRequested")
            .args["requestId"]
        )
        wait_state(analyst, rid, State.RELEASED)
        stats_dept = next(d for d in net.config.departments if d.name == "stats")
        path = f"/v1/datasets/0x{panel.dataset_id.hex()}/versions/1/blob"
        with (
            NodeClient(stats_dept.endpoint, eco.keys.account.key) as c,
            pytest.raises(NodeApiError) as theft,
        ):
            list(c.stream("GET", path, params={"request": rid}))
        assert theft.value.code == "grant_not_yours"
        # a captured, valid download request replayed
        with NodeClient(stats_dept.endpoint) as anon:
            audience = anon.health()["address"]
        from eth_keys import keys as ek

        headers = sign_request(
            ek.PrivateKey(analyst.keys.account.key), "GET", path, f"request={rid}", b"", audience
        )
        import httpx

        first = httpx.get(stats_dept.endpoint + path, params={"request": rid}, headers=headers)
        assert first.status_code == 200
        again = httpx.get(stats_dept.endpoint + path, params={"request": rid}, headers=headers)
        assert (again.status_code, again.json()["code"]) == (401, "auth_replayed")


def test_flipped_byte_in_stored_blob_is_detected(net: LocalNetwork, tmp_path: Path) -> None:
    data = tmp_path / "t.csv"
    data.write_text("a,b\n" + "1,2\n" * 50_000)
    with session(net, "transport") as transport:
        pub = publish_as(
            transport,
            data,
            name="nev-share",
            classification="internal",
            policy=Policy(auto_approve_roles=("analyst",), raw_allowed=True),
        )
        blob = transport.blobs.path_for(pub.ciphertext_hash)
    raw = bytearray(blob.read_bytes())
    raw[len(raw) // 2] ^= 0x01
    blob.write_bytes(bytes(raw))
    with session(net, "analyst") as analyst:
        sh = analyst.require_sharing()
        rid = (
            sh.apply(pub.dataset_id, 1, "z", Mode.RAW, duration=3600)
            .event("AccessRequested")
            .args["requestId"]
        )
        wait_state(analyst, rid, State.RELEASED)
        out = tmp_path / "bad.csv"
        with pytest.raises(IntegrityError, match=r"does not match|failed authentication"):
            pull(sh, analyst.registry, analyst.keys, rid, out)
        assert not out.exists()
        assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tanlian-")]


def test_dp_only_dataset_refuses_raw_and_bounds_epsilon(net: LocalNetwork, tmp_path: Path) -> None:
    data = tmp_path / "elec.csv"
    data.write_text("enterprise,district,kwh\nE1,锦江区,100\n")
    with session(net, "grid") as grid:
        pub = publish_as(
            grid,
            data,
            name="enterprise-electricity",
            classification="restricted",
            policy=Policy(
                auto_approve_roles=("analyst",),
                raw_allowed=False,
                epsilon_ceiling=Epsilon.parse("2"),
            ),
        )
    with session(net, "analyst") as analyst:
        sh = analyst.require_sharing()
        with pytest.raises(ContractReverted) as raw:
            sh.apply(pub.dataset_id, 1, "raw please", Mode.RAW, duration=3600)
        assert raw.value.error == "RawNotAllowed"
        with pytest.raises(ContractReverted) as eps:
            sh.apply(
                pub.dataset_id, 1, "too much", Mode.DP, epsilon=Epsilon.parse("2.5"), duration=3600
            )
        assert (eps.value.error, eps.value.error_args) == (
            "InvalidEpsilon",
            {"asked": 2500, "ceiling": 2000},
        )
        # said in ε, as the analyst asked, not in the chain's milli-ε
        assert eps.value.message.startswith("ε 2.5 is not allowed: give more than 0 and at most")
        assert "ceiling, ε 2 (contract error InvalidEpsilon)" in eps.value.message
        ok = sh.apply(pub.dataset_id, 1, "dp", Mode.DP, epsilon=Epsilon.parse("1"), duration=3600)
        assert ok.event("AccessAuthorized").args["automatic"] is True


def test_key_rotation_requires_a_fresh_release(net: LocalNetwork, panel, tmp_path: Path) -> None:
    from dataclasses import replace

    from nacl.public import PrivateKey

    from node.privacy.crypto import open_key

    with session(net, "analyst") as analyst:
        sh = analyst.require_sharing()
        rid = (
            sh.apply(panel.dataset_id, 1, "rot", Mode.RAW, duration=3600)
            .event("AccessRequested")
            .args["requestId"]
        )
        wait_state(analyst, rid, State.RELEASED)
        old_sealed, sealed_for = sh.wrapped_key(rid)
        assert sealed_for == analyst.keys.encryption_public_key
        new_key = PrivateKey.generate()
        analyst.registry.rotate_encryption_key(bytes(new_key.public_key))
        # the old release cannot be opened with the new key
        with pytest.raises(IntegrityError):
            open_key(old_sealed, new_key)
        # the stats node notices the rotation and re-releases to the new key
        deadline = time.monotonic() + 15
        while sh.wrapped_key(rid)[1] != bytes(new_key.public_key):
            assert time.monotonic() < deadline, "the owner never re-released"
            time.sleep(0.1)
        rotated = replace(analyst.keys, encryption_key=new_key)
        assert pull(sh, analyst.registry, rotated, rid, tmp_path / "r.csv")["verified"]
        # and a consumer still holding only the old key is told why it cannot pull
        with pytest.raises(GrantNotUsable, match="older encryption key"):
            pull(sh, analyst.registry, analyst.keys, rid, tmp_path / "old.csv")
        analyst.registry.rotate_encryption_key(analyst.keys.encryption_public_key)  # restore


def test_download_log_records_who_what_when(net: LocalNetwork, panel, tmp_path: Path) -> None:
    with session(net, "analyst") as analyst:  # one pull of its own: tests may run in any order
        sh = analyst.require_sharing()
        r = sh.apply(panel.dataset_id, 1, "download log", Mode.RAW, duration=3600)
        rid = r.event("AccessRequested").args["requestId"]
        wait_state(analyst, rid, State.RELEASED)
        assert pull(sh, analyst.registry, analyst.keys, rid, tmp_path / "p.csv")["verified"]
    with session(net, "drc") as drc:
        stats_dept = next(d for d in net.config.departments if d.name == "stats")
        with NodeClient(stats_dept.endpoint, drc.keys.account.key) as c:
            log = c.get("/v1/downloads")["downloads"]
    # other tests in this module may publish and pull their own datasets on the same node
    done = [d for d in log if d["completed"] and d["dataset_id"] == "0x" + panel.dataset_id.hex()]
    assert done and all(d["bytes"] > 0 for d in done)
    assert {d["ciphertext_sha256"] for d in done} == {"0x" + panel.ciphertext_hash.hex()}
    with session(net, "eco") as eco:
        with (
            NodeClient(stats_dept.endpoint, eco.keys.account.key) as c,
            pytest.raises(NodeApiError) as info,
        ):
            c.get("/v1/downloads")
        assert info.value.code == "auth_forbidden"


def test_unusable_states_are_refused_on_chain(net: LocalNetwork, panel) -> None:
    with session(net, "analyst") as analyst:
        sh = analyst.require_sharing()
        with pytest.raises(ContractReverted) as short:
            sh.apply(panel.dataset_id, 1, "p", Mode.RAW, duration=10)
        assert short.value.error == "InvalidDuration"
        with pytest.raises(ContractReverted) as version:
            sh.apply(panel.dataset_id, 9, "p", Mode.RAW, duration=3600)
        assert version.value.error == "UnknownVersion"
    with session(net, "stats") as stats, pytest.raises(ContractReverted) as own:
        stats.require_sharing().apply(panel.dataset_id, 1, "p", Mode.RAW, duration=3600)
    assert own.value.error in ("NotEligible", "SelfRequest")


_PUBLISH_CHILD = r"""
import sys
from pathlib import Path
from node.registry.keystore import KEYSTORE_FILE, unlock
from node.runtime import NodeSession
from node.settings import load_settings
from node.sharing.contracts import Policy
from node.sharing.service import publish
import os, signal
from node.privacy.store import VersionStore
from node.sharing.contracts import Sharing
home, secret, data, name, crash_at = sys.argv[1:6]
keys = unlock(Path(home) / KEYSTORE_FILE, Path(secret).read_text())

def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

if crash_at == "before_anchor":      # blob and metadata row written, chain not told
    Sharing.publish_version = die
elif crash_at == "after_anchor":     # version anchored on chain, row not yet marked
    VersionStore.mark_anchored = die
with NodeSession(load_settings(home), keys) as s:
    print("start", flush=True)
    publish(s.blobs, s.versions, s.require_sharing(), keys, Path(data), name=name,
            policy=Policy(auto_approve_roles=("analyst",), raw_allowed=True))
    print("done", flush=True)
"""


def _big_csv(path: Path, rows: int) -> Path:
    with open(path, "w") as fh:
        fh.write("enterprise,month,kwh\n")
        for i in range(rows):
            fh.write(f"E{i:07d},2024-{i % 12 + 1:02d},{i * 7 % 100000}\n")
    return path


@pytest.mark.parametrize(
    ("crash_at", "expect"),
    [("encrypting", "nothing"), ("before_anchor", "nothing"), ("after_anchor", "anchored")],
)
def test_kill9_during_publish_leaves_nothing_half_made(
    net: LocalNetwork, tmp_path: Path, crash_at: str, expect: str
) -> None:
    import hashlib
    import os
    import signal
    import subprocess
    import sys

    dept = next(d for d in net.config.departments if d.name == "transport")
    data = _big_csv(tmp_path / "big.csv", 2_000_000 if crash_at == "encrypting" else 1000)
    name = f"kill-{crash_at}"
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            _PUBLISH_CHILD,
            str(net.home(dept)),
            str(net.secret(dept)),
            str(data),
            name,
            crash_at,
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert child.stdout.readline().strip() == "start"
    if crash_at == "encrypting":
        time.sleep(0.05)  # well inside the ~50 MB encryption
        os.kill(child.pid, signal.SIGKILL)
    assert child.wait(60) == -signal.SIGKILL
    with session(net, "transport") as s:
        sh = s.require_sharing()
        outcome = recover(s.blobs, s.versions, sh)
        assert not list(s.blobs.tmp.iterdir())  # no temporary file survives recovery
        dataset_id = sh.dataset_id(s.keys.address, name)
        ds = sh.dataset(dataset_id)
        rows = [r for r in s.versions.anchored() if r.name == name]
        assert not s.versions.unanchored()
        if ds is None or ds["versions"] == 0:
            assert rows == []  # nothing visible anywhere
        else:
            # a complete, verifiable version: chain, metadata and blob agree
            (row,) = rows
            anchored = sh.version(dataset_id, 1)
            assert row.ciphertext_hash == "0x" + anchored["ciphertext_hash"].hex()
            blob = s.blobs.path_for(anchored["ciphertext_hash"])
            assert hashlib.sha256(blob.read_bytes()).digest() == anchored["ciphertext_hash"]
        referenced = {r.ciphertext_hash[2:] for r in s.versions.anchored()}
        on_disk = {
            p.name for sub in s.blobs.root.iterdir() if sub != s.blobs.tmp for p in sub.iterdir()
        }
        assert on_disk == referenced, outcome
        assert ("anchored" if rows else "nothing") == expect, outcome
    # and publishing the same name again works after the crash
    with session(net, "transport") as s:
        again = publish_as(
            s,
            _big_csv(tmp_path / "small.csv", 10),
            name=name,
            policy=Policy(auto_approve_roles=("analyst",), raw_allowed=True),
        )
        assert again.version >= 1


def test_kill9_of_owner_node_during_download_then_retry(net: LocalNetwork, tmp_path: Path) -> None:
    import os
    import signal
    import threading

    data = _big_csv(tmp_path / "dl.csv", 2_000_000)  # ~50 MB
    with session(net, "stats") as stats:
        pub = publish_as(
            stats,
            data,
            name="big-download",
            policy=Policy(auto_approve_roles=("analyst",), raw_allowed=True),
        )
    stats_pid = net.load_state()["nodes"]["stats"]["pid"]
    out = tmp_path / "got.csv"
    with session(net, "analyst") as analyst:
        sh = analyst.require_sharing()
        rid = (
            sh.apply(pub.dataset_id, 1, "dl", Mode.RAW, duration=3600)
            .event("AccessRequested")
            .args["requestId"]
        )
        wait_state(analyst, rid, State.RELEASED)
        killed = threading.Event()

        def progress(done: int, total: int) -> None:
            if done > 4 << 20 and not killed.is_set():
                killed.set()
                os.kill(stats_pid, signal.SIGKILL)  # the owner's node dies mid-transfer

        with pytest.raises(Exception):  # noqa: B017 - transport error or integrity error
            pull(sh, analyst.registry, analyst.keys, rid, out, progress=progress)
        assert killed.is_set()
        assert not out.exists()
        assert not [p for p in tmp_path.iterdir() if p.name.startswith(".tanlian-")]
        net.up()  # restarts the stats node
        info = pull(sh, analyst.registry, analyst.keys, rid, out)
        assert info["verified"] and out.read_bytes() == data.read_bytes()


def test_grant_expiring_during_a_download_stops_it(net: LocalNetwork, tmp_path: Path) -> None:
    import threading

    data = _big_csv(tmp_path / "exp.csv", 2_500_000)  # ~60 MiB: about 60 frames
    with session(net, "stats") as stats:
        pub = publish_as(
            stats,
            data,
            name="expiring",
            policy=Policy(auto_approve_roles=("analyst",), raw_allowed=True),
        )
    out = tmp_path / "exp-out.csv"
    with session(net, "analyst") as analyst:
        sh = analyst.require_sharing()
        rid = (
            sh.apply(pub.dataset_id, 1, "short", Mode.RAW, duration=60)
            .event("AccessRequested")
            .args["requestId"]
        )
        wait_state(analyst, rid, State.RELEASED)
        advanced = threading.Event()

        def slow_consumer(done: int, total: int) -> None:
            if done > 2 << 20 and not advanced.is_set():
                advanced.set()
                # One block per transaction, each at least a second after the last: 70 quick
                # transactions move the chain's clock past the grant's end mid-transfer.
                for _ in range(70):
                    analyst.registry.set_endpoint(
                        next(d for d in net.config.departments if d.name == "analyst").endpoint
                    )
            time.sleep(0.02)

        with pytest.raises(TanlianError):
            pull(sh, analyst.registry, analyst.keys, rid, out, progress=slow_consumer)
        assert advanced.is_set() and not sh.is_usable(rid)
        assert not out.exists()
    with session(net, "drc") as drc:
        stats_dept = next(d for d in net.config.departments if d.name == "stats")
        with NodeClient(stats_dept.endpoint, drc.keys.account.key) as c:
            deadline = time.monotonic() + 5
            while True:
                entries = [d for d in c.get("/v1/downloads")["downloads"] if d["request_id"] == rid]
                if (entries and entries[0]["finished_at"]) or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
    assert entries[0]["outcome"] == "grant ended during transfer"
    assert 0 < entries[0]["bytes"] < pub.plaintext_size


DP_META = {
    "columns": {
        "enterprise": {},
        "district": {"keys": ["锦江区", "青羊区"]},
        "kwh": {"lower": 0, "upper": 10_000},
    }
}


def test_dp_gate_spends_on_chain_and_refuses_past_the_budget(
    net: LocalNetwork, tmp_path: Path
) -> None:
    data = tmp_path / "kwh.csv"
    rows = ["enterprise,district,kwh"] + [
        f"E{i},{'锦江区' if i % 2 else '青羊区'},{1000 + i % 500}" for i in range(2000)
    ]
    data.write_text("\n".join(rows) + "\n")
    with session(net, "grid") as grid:
        pub = publish_as(
            grid,
            data,
            name="kwh-dp",
            classification="restricted",
            policy=Policy(
                auto_approve_roles=("analyst",),
                raw_allowed=False,
                epsilon_ceiling=Epsilon.parse("1"),
            ),
            dp_metadata=DP_META,
        )
    grid_dept = next(d for d in net.config.departments if d.name == "grid")
    with session(net, "analyst") as analyst:
        rid = (
            analyst.require_sharing()
            .apply(pub.dataset_id, 1, "dp", Mode.DP, epsilon=Epsilon.parse("1"), duration=3600)
            .event("AccessRequested")
            .args["requestId"]
        )
        spec = {"kind": "mean", "column": "kwh", "epsilon": 0.4, "group_by": "district"}
        with NodeClient(grid_dept.endpoint, analyst.keys.account.key) as c:
            est = c.post("/v1/query", {"request": rid, "spec": spec, "mode": "estimate"})
            assert est == {
                "request": rid,
                "epsilon": 0.4,
                "remaining": 1.0,
                "fits": True,
                "queries_of_this_kind_left": 2,
            }
            dummy = c.post("/v1/query", {"request": rid, "spec": spec, "mode": "dummy"})
            assert set(dummy["answer"]["groups"]) == {"锦江区", "青羊区"}
            first = c.post("/v1/query", {"request": rid, "spec": spec})
            # plumbing, not accuracy (seeded accuracy tests live in tests/privacy): the mean of
            # 1,000 values bounded by 10,000 at ε 0.4 has Laplace noise of scale ~50, so a
            # 10-scale bound fails about once in 20,000 runs
            assert abs(first["answer"]["groups"]["锦江区"] - 1249.5) < 500
            assert first["epsilon_spent"] == 0.4 and first["remaining"] == 0.6
            assert analyst.require_sharing().budget(rid) == (
                Epsilon.parse("1"),
                Epsilon.parse("0.4"),
            )  # paid on chain
            c.post("/v1/query", {"request": rid, "spec": spec})
            with pytest.raises(NodeApiError) as over:
                c.post("/v1/query", {"request": rid, "spec": spec})
            assert (over.value.http_status, over.value.code) == (409, "dp_budget_exhausted")
            assert analyst.require_sharing().budget(rid) == (
                Epsilon.parse("1"),
                Epsilon.parse("0.8"),
            )
            with pytest.raises(NodeApiError) as no_bounds:
                c.post(
                    "/v1/query",
                    {
                        "request": rid,
                        "spec": {"kind": "sum", "column": "enterprise", "epsilon": 0.1},
                    },
                )
            assert no_bounds.value.code == "dp_query_refused"
            archive = c.get("/v1/query/archive", params={"request": rid})
            assert [a["epsilon"] for a in archive["answers"]] == [0.4, 0.4]
            assert archive["budget"] == {"ceiling": 1.0, "spent": 0.8}
    with session(net, "eco") as eco, NodeClient(grid_dept.endpoint, eco.keys.account.key) as c:
        with pytest.raises(NodeApiError) as theft:
            c.post("/v1/query", {"request": rid, "spec": spec})
        assert theft.value.code == "grant_not_yours"


def test_an_empty_cell_is_answered_and_paid_like_any_other(
    net: LocalNetwork, tmp_path: Path
) -> None:
    """A mean or variance over a group with no rows used to fail inside the computation,
    before the spend: HTTP 500 for an empty cell, an answer (and a charge) for a full one, so
    emptiness was learned for free. Now both are answered after the spend, alike."""
    data = tmp_path / "cells.csv"
    data.write_text(
        "enterprise,district,kwh\n"
        + "".join(f"E{i},{'锦江区' if i % 2 else '青羊区'},{1000 + i}\n" for i in range(300))
    )
    meta = {
        "columns": {
            "enterprise": {},
            "district": {"keys": ["锦江区", "青羊区", "武侯区"]},  # 武侯区: no rows
            "kwh": {"lower": 0, "upper": 10_000},
        }
    }
    with session(net, "grid") as grid:
        pub = publish_as(
            grid,
            data,
            name="kwh-cells",
            classification="restricted",
            policy=Policy(
                auto_approve_roles=("analyst",),
                raw_allowed=False,
                epsilon_ceiling=Epsilon.parse("2"),
            ),
            dp_metadata=meta,
        )
    grid_dept = next(d for d in net.config.departments if d.name == "grid")
    with session(net, "analyst") as analyst:
        sh = analyst.require_sharing()
        rid = (
            sh.apply(pub.dataset_id, 1, "cells", Mode.DP, Epsilon.parse("2"), duration=3600)
            .event("AccessRequested")
            .args["requestId"]
        )
        spent = Epsilon(0)
        with NodeClient(grid_dept.endpoint, analyst.keys.account.key) as c:
            for kind in ("mean", "variance"):
                grouped = {"kind": kind, "column": "kwh", "epsilon": 0.1, "group_by": "district"}
                got = c.post("/v1/query", {"request": rid, "spec": grouped})
                assert set(got["answer"]["groups"]) == {"锦江区", "青羊区", "武侯区"}
                assert all(isinstance(v, float) for v in got["answer"]["groups"].values())
                spent += Epsilon.parse("0.1")
                assert got["epsilon_spent"] == 0.1 and sh.budget(rid).spent == spent
                # one cell alone, empty or full: the same response, the same charge
                shapes = set()
                for district in ("武侯区", "锦江区"):
                    alone = {
                        "kind": kind,
                        "column": "kwh",
                        "epsilon": 0.1,
                        "filters": [{"column": "district", "values": [district]}],
                    }
                    got = c.post("/v1/query", {"request": rid, "spec": alone})
                    spent += Epsilon.parse("0.1")
                    assert sh.budget(rid).spent == spent
                    shapes.add(
                        (tuple(sorted(got)), tuple(got["answer"]), type(got["answer"]["value"]))
                    )
                assert len(shapes) == 1
            # the archive holds all six answers, each paid on chain
            archive = c.get("/v1/query/archive", params={"request": rid})
            assert len({a["spend_tx"] for a in archive["answers"]}) == 6
            assert archive["budget"] == {"ceiling": 2.0, "spent": 0.6}


def test_an_epsilon_finer_than_the_chain_charges_is_refused(
    net: LocalNetwork, tmp_path: Path
) -> None:
    """ε 0.00149 used to run its mechanism at 0.00149 and be charged round(1.49) = 1 milli-ε:
    49 % more privacy loss than the chain recorded. It is refused, and nothing is charged."""
    pub = _dp_dataset(net, tmp_path, "kwh-fine", raw=False, ceiling=1.0)
    grid_dept = next(d for d in net.config.departments if d.name == "grid")
    with session(net, "analyst") as analyst:
        sh = analyst.require_sharing()
        rid = (
            sh.apply(pub.dataset_id, 1, "fine", Mode.DP, Epsilon.parse("1"), duration=3600)
            .event("AccessRequested")
            .args["requestId"]
        )
        with NodeClient(grid_dept.endpoint, analyst.keys.account.key) as c:
            for eps in (0.00149, "0.00149"):
                with pytest.raises(NodeApiError) as fine:
                    c.post("/v1/query", {"request": rid, "spec": {"kind": "count", "epsilon": eps}})
                assert (fine.value.http_status, fine.value.code) == (400, "budget_too_fine")
            assert sh.budget(rid).spent == Epsilon(0)
            for eps, code in ((10.5, "budget_too_large"), (-0.1, "budget_not_positive")):
                with pytest.raises(NodeApiError) as bad:
                    c.post("/v1/query", {"request": rid, "spec": {"kind": "count", "epsilon": eps}})
                assert (bad.value.http_status, bad.value.code) == (400, code)
            # the nearest value the chain charges exactly is answered and charged exactly
            paid = c.post(
                "/v1/query", {"request": rid, "spec": {"kind": "count", "epsilon": 0.002}}
            )
            assert paid["epsilon_spent"] == 0.002 and paid["remaining"] == 0.998
            assert sh.budget(rid).spent == Epsilon(2)


def _dp_dataset(net: LocalNetwork, tmp_path: Path, name: str, *, raw: bool, ceiling: float):
    data = tmp_path / f"{name}.csv"
    rows = ["enterprise,district,kwh"] + [
        f"E{i},{'锦江区' if i % 2 else '青羊区'},{1000 + i % 500}" for i in range(400)
    ]
    data.write_text("\n".join(rows) + "\n")
    with session(net, "grid") as grid:
        return publish_as(
            grid,
            data,
            name=name,
            classification="restricted",
            policy=Policy(
                auto_approve_roles=("analyst",),
                raw_allowed=raw,
                epsilon_ceiling=Epsilon.parse(ceiling),
            ),
            dp_metadata=DP_META,
        )


def test_fifty_concurrent_queries_at_the_budget_boundary_never_overspend(
    net: LocalNetwork, tmp_path: Path
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    pub = _dp_dataset(net, tmp_path, "kwh-race", raw=False, ceiling=1.0)
    grid_dept = next(d for d in net.config.departments if d.name == "grid")
    with session(net, "analyst") as analyst:
        sh = analyst.require_sharing()
        rid = (
            sh.apply(pub.dataset_id, 1, "race", Mode.DP, epsilon=Epsilon.parse("1"), duration=3600)
            .event("AccessRequested")
            .args["requestId"]
        )
        key = analyst.keys.account.key
    spec = {"kind": "count", "epsilon": 0.1, "group_by": "district"}
    # half name the grant, half the dataset: both paths share the (consumer, dataset) lock
    targets = [{"request": rid}, {"dataset": "0x" + pub.dataset_id.hex()}]

    def ask(i: int) -> str:
        with NodeClient(grid_dept.endpoint, key) as c:
            try:
                c.post("/v1/query", {**targets[i % 2], "spec": spec})
                return "answered"
            except NodeApiError as exc:
                return exc.code

    with ThreadPoolExecutor(max_workers=50) as pool:
        outcomes = list(pool.map(ask, range(50)))
    assert outcomes.count("answered") == 10  # 10 × 0.1 = the ceiling, exactly
    assert set(outcomes) == {"answered", "dp_budget_exhausted"}
    with session(net, "analyst") as analyst:
        assert analyst.require_sharing().budget(rid) == (Epsilon.parse("1"), Epsilon.parse("1"))
        with NodeClient(grid_dept.endpoint, analyst.keys.account.key) as c:
            archive = c.get("/v1/query/archive", params={"request": rid})
    assert len(archive["answers"]) == 10
    assert round(sum(a["epsilon"] for a in archive["answers"]), 9) == 1.0
    assert len({a["spend_tx"] for a in archive["answers"]}) == 10  # each paid on chain


def test_raw_and_dp_grants_cannot_stand_in_for_each_other(
    net: LocalNetwork, tmp_path: Path
) -> None:
    pub = _dp_dataset(net, tmp_path, "kwh-both", raw=True, ceiling=1.0)
    grid_dept = next(d for d in net.config.departments if d.name == "grid")
    spec = {"kind": "count", "epsilon": 0.1}
    blob = f"/v1/datasets/0x{pub.dataset_id.hex()}/versions/1/blob"
    with session(net, "analyst") as analyst:
        sh = analyst.require_sharing()
        raw = sh.apply(pub.dataset_id, 1, "raw", Mode.RAW, duration=3600)
        raw_id = raw.event("AccessRequested").args["requestId"]
        dp = sh.apply(pub.dataset_id, 1, "dp", Mode.DP, epsilon=Epsilon.parse("0.5"), duration=3600)
        dp_id = dp.event("AccessRequested").args["requestId"]
        wait_state(analyst, raw_id, State.RELEASED)
        with NodeClient(grid_dept.endpoint, analyst.keys.account.key) as c:
            with pytest.raises(NodeApiError) as raw_for_dp:
                c.post("/v1/query", {"request": raw_id, "spec": spec})
            assert (raw_for_dp.value.http_status, raw_for_dp.value.code) == (403, "grant_mismatch")
            with pytest.raises(NodeApiError) as dp_for_raw:
                b"".join(c.stream("GET", blob, params={"request": dp_id}))
            assert (dp_for_raw.value.http_status, dp_for_raw.value.code) == (403, "grant_mismatch")
            # the RAW grant downloads, the DP grant answers: each on its own path
            assert b"".join(c.stream("GET", blob, params={"request": raw_id}))
            assert c.post("/v1/query", {"request": dp_id, "spec": spec})["epsilon_spent"] == 0.1
        assert sh.budget(raw_id) == (Epsilon(0), Epsilon(0))  # nothing was charged to the RAW grant
    with session(net, "grid") as grid:
        grid.require_sharing().revoke(dp_id, "study cancelled")
    with NodeClient(grid_dept.endpoint, analyst.keys.account.key) as c:
        with pytest.raises(NodeApiError) as revoked:
            c.post("/v1/query", {"request": dp_id, "spec": spec})
        assert (revoked.value.http_status, revoked.value.code) == (403, "grant_not_usable")
        with pytest.raises(NodeApiError) as by_dataset:
            c.post("/v1/query", {"dataset": "0x" + pub.dataset_id.hex(), "spec": spec})
        assert by_dataset.value.code == "grant_not_usable"


def test_an_expired_dp_grant_is_refused(net: LocalNetwork, tmp_path: Path) -> None:
    pub = _dp_dataset(net, tmp_path, "kwh-expiring", raw=False, ceiling=1.0)
    grid_dept = next(d for d in net.config.departments if d.name == "grid")
    analyst_dept = next(d for d in net.config.departments if d.name == "analyst")
    with session(net, "analyst") as analyst:
        sh = analyst.require_sharing()
        rid = (
            sh.apply(pub.dataset_id, 1, "short", Mode.DP, epsilon=Epsilon.parse("0.5"), duration=60)
            .event("AccessRequested")
            .args["requestId"]
        )
        # one block per transaction, each at least a second after the last
        while sh.is_usable(rid):
            analyst.registry.set_endpoint(analyst_dept.endpoint)
        with (
            NodeClient(grid_dept.endpoint, analyst.keys.account.key) as c,
            pytest.raises(NodeApiError) as expired,
        ):
            c.post("/v1/query", {"request": rid, "spec": {"kind": "count", "epsilon": 0.1}})
        assert expired.value.code == "grant_not_usable"
        assert sh.budget(rid) == (Epsilon.parse("0.5"), Epsilon(0))


STATIONS = "station_id,street,pm25,note\n" + "".join(
    f"S{i:03d},{'A街道' if i % 2 else 'B街道'},{30 + i},inspected by {i}\n" for i in range(12)
)
PROFILE = {
    "columns": {
        "station_id": {"pseudonymize": True},
        "street": {"map": {"A街道": "锦江区", "B街道": "青羊区"}},
        "pm25": {"keep": True},
        "note": {"suppress": True},
    },
    "quasi_identifiers": ["street"],
    "min_k": 3,
}


def test_desensitized_release_keeps_lineage_and_stable_pseudonyms(
    net: LocalNetwork, tmp_path: Path
) -> None:
    from node.privacy.desensitize import KAnonymityTooLow, load_profile, profile_hash
    from node.sharing.service import derive_desensitized

    src = tmp_path / "stations.csv"
    src.write_text(STATIONS)
    profile = load_profile(PROFILE)
    with session(net, "eco") as eco:
        sh = eco.require_sharing()
        args = (eco.blobs, eco.versions, sh, eco.keys)
        publish(*args, src, name="stations-raw", policy=Policy(reviewer_approvals=2))
        release = dict(
            source="stations-raw",
            name="stations-open",
            work_dir=tmp_path / "work",
            policy=Policy(auto_approve_roles=("analyst",), raw_allowed=True),
        )
        first, report = derive_desensitized(*args, profile=profile, **release)
        assert report["k_anonymity"] == 6 and report["columns"] == ["station_id", "street", "pm25"]
        source_id = sh.dataset_id(eco.keys.address, "stations-raw")
        assert sh.lineage(first.dataset_id, 1).as_dict() == {
            "source_dataset_id": "0x" + source_id.hex(),
            "source_version": 1,
            "profile_hash": "0x" + profile_hash(profile).hex(),
            "k_anonymity": 6,
        }
        # a second source version with the same stations: the same pseudonyms
        src.write_text(STATIONS.replace(",30,", ",31,"))
        publish(*args, src, name="stations-raw")
        second, _ = derive_desensitized(*args, profile=profile, **release)
        assert second.version == 2 and sh.lineage(second.dataset_id, 2).source_version == 2
        # under the owner's minimum k: refused, nothing stored or anchored
        stored = len(eco.versions.anchored())
        blobs = sorted(p.name for p in eco.blobs.root.rglob("*") if p.is_file())
        strict = load_profile({**PROFILE, "min_k": 7})
        with pytest.raises(KAnonymityTooLow) as low:
            derive_desensitized(*args, profile=strict, **release)
        assert low.value.detail == {"k": 6, "min_k": 7, "groups": 2}
        assert sh.dataset(first.dataset_id)["versions"] == 2
        assert len(eco.versions.anchored()) == stored
        assert sorted(p.name for p in eco.blobs.root.rglob("*") if p.is_file()) == blobs
        assert not any((tmp_path / "work").iterdir())  # no plaintext left behind
    pulled = []
    with session(net, "analyst") as analyst:
        ash = analyst.require_sharing()
        for version in (1, 2):
            rid = (
                ash.apply(first.dataset_id, version, "air", Mode.RAW, duration=3600)
                .event("AccessRequested")
                .args["requestId"]
            )
            wait_state(analyst, rid, State.RELEASED)
            out = tmp_path / f"open-{version}.csv"
            pull(ash, analyst.registry, analyst.keys, rid, out)
            pulled.append(out.read_text(encoding="utf-8").splitlines())
    v1, v2 = pulled
    assert v1[0] == "station_id,street,pm25"
    ids1, ids2 = [r.split(",")[0] for r in v1[1:]], [r.split(",")[0] for r in v2[1:]]
    assert ids1 == ids2 and len(set(ids1)) == 12  # stable, and still one per station
    assert not any("S0" in r or "inspected" in r or "街道" in r for r in v1 + v2)
    assert v1[1:] != v2[1:]  # the readings changed, the pseudonyms did not


def test_a_tampered_source_is_not_released(net: LocalNetwork, tmp_path: Path) -> None:
    from node.privacy.desensitize import load_profile
    from node.sharing.service import derive_desensitized

    src = tmp_path / "stations.csv"
    src.write_text(STATIONS)
    with session(net, "eco") as eco:
        args = (eco.blobs, eco.versions, eco.require_sharing(), eco.keys)
        pub = publish(*args, src, name="stations-tamper", policy=Policy(reviewer_approvals=2))
        blob = eco.blobs.path_for(pub.ciphertext_hash)
        original = blob.read_bytes()
        flipped = bytearray(original)
        flipped[len(flipped) // 2] ^= 0x01
        blob.write_bytes(bytes(flipped))
        try:
            with pytest.raises(IntegrityError):
                derive_desensitized(
                    *args,
                    profile=load_profile(PROFILE),
                    source="stations-tamper",
                    name="stations-tamper-open",
                    work_dir=tmp_path / "work",
                    policy=Policy(raw_allowed=True),
                )
        finally:
            blob.write_bytes(original)
        assert (
            eco.require_sharing().dataset(
                eco.require_sharing().dataset_id(eco.keys.address, "stations-tamper-open")
            )
            is None
        )
