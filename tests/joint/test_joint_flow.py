"""A joint query on a running network, as one walkthrough (one network per run under
xdist): three owners' nodes compute district × year totals for the analyst with MPC; the
noiseless result (allowed by the test network's JointQuery) equals pandas on the three source
files, a noised one lies within its stated bound; each owner spent its ε on chain with the
query's hash, committed to its input before it joined, and acknowledged the result hash; a
planted value of one owner appears in no other party's logs or stored files; a
non-participant and a non-consumer are refused."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from eth_utils import keccak
from sqlalchemy.orm import Session

from node.audit.verify import Auditor
from node.chain.embedded.host import free_port
from node.commitments.models import CommittedColumn
from node.joint.compute import noise_bounds
from node.joint.contracts import JointLedger, JointState
from node.joint.service import input_key, resolve_draft
from node.joint.spec import parse_spec
from node.network.config import load_network_config
from node.network.orchestrator import LocalNetwork
from node.peer.client import NodeApiError, NodeClient
from node.privacy.budget import Epsilon
from node.sharing.contracts import Mode, Policy
from node.sharing.service import publish_as
from tests.cli_run import tanlian

OWNERS = ("stats", "eco", "grid")
DISTRICTS = ["510104", "510105", "510106", "510107"]
YEARS = [2023, 2024]
#: stats' value for 510105 in 2024: planted, so that it can be looked for elsewhere
MARKER = "7391.847"


def _config(path: Path) -> Path:
    lines = [
        "[network]",
        'name = "joint-net"',
        "joint_test_mode = true",
        "",
        "[chain]",
        f"port = {free_port()}",
        "",
    ]
    for name, roles, genesis in [
        ("drc", ["regulator"], True),
        ("stats", ["provider"], False),
        ("eco", ["provider"], False),
        ("grid", ["provider"], False),
        ("analyst", ["consumer", "analyst"], False),
    ]:
        lines += [
            "[[departments]]",
            f'name = "{name}"',
            f'title = "{name} bureau"',
            f"roles = {json.dumps(roles)}",
            f"port = {free_port()}",
            f"genesis = {'true' if genesis else 'false'}",
            "",
        ]
    path.write_text("\n".join(lines))
    return path


def _csv(owner: int) -> str:
    rows = ["district,year,energy_tce"]
    for d_i, d in enumerate(DISTRICTS):
        for y in YEARS:
            for part in range(2):  # two rows per key: the owner sums them itself
                value = f"{100 * (owner + 1) + 10 * d_i + (y - 2023) + part * 0.5:.3f}"
                if owner == 0 and d == "510105" and y == 2024 and part == 0:
                    value = MARKER
                rows.append(f"{d},{y},{value}")
    return "\n".join(rows) + "\n"


def _cli(net: LocalNetwork, dept: str, *args: str):
    d = net.department(dept)
    return tanlian(
        "joint", *args, "--home", str(net.home(d)), "--password-file", str(net.secret(d)), "--json"
    )


def _spec(noise: bool, nonce: int) -> dict:
    return {
        "op": "sum",
        "key": ["district", "year"],
        "domain": {"district": DISTRICTS, "year": YEARS},
        "inputs": [
            {
                "dataset": f"{o}/energy",
                "column": "energy_tce",
                "lo": 0,
                "hi": 10000,
                "epsilon": "0.5",
            }
            for o in OWNERS
        ],
        "purpose": "district energy totals",
        "noise": noise,
        "nonce": nonce,
    }


def test_joint_sum_on_a_running_network(tmp_path_factory: pytest.TempPathFactory) -> None:
    root = tmp_path_factory.mktemp("joint")
    net = LocalNetwork(
        load_network_config(_config(root / "net.toml")), root / "state", say=lambda _: None
    )
    try:
        net.up()
        frames = []
        for n, owner in enumerate(OWNERS):
            path = root / f"{owner}.csv"
            path.write_text(_csv(n))
            frames.append(pd.read_csv(path, dtype={"district": str}))
            with net.session(owner) as s:
                publish_as(
                    s,
                    path,
                    name="energy",
                    policy=Policy(
                        auto_approve_roles=("consumer",),
                        raw_allowed=False,
                        epsilon_ceiling=Epsilon.parse("5"),
                    ),
                )
                ds = s.require_sharing().dataset_id(s.keys.address, "energy")
            with net.session("analyst") as a:
                a.require_sharing().apply(
                    ds, 1, "joint totals", Mode.DP, Epsilon.parse("5"), duration=3600
                )

        # noiseless (the test network's JointQuery allows it): exactly pandas' totals
        spec_file = root / "spec.json"
        spec_file.write_text(json.dumps(_spec(False, 1)))
        proc = _cli(net, "analyst", "propose", "--spec", str(spec_file))
        assert proc.returncode == 0, proc.stderr
        out = json.loads(proc.stdout)
        assert out["admitted"] and out["acknowledged"] == 3
        truth = pd.concat(frames).groupby(["district", "year"])["energy_tce"].sum()
        got = {(c["key"][0], int(c["key"][1])): Decimal(c["sum"]) for c in out["result"]["cells"]}
        assert len(got) == len(DISTRICTS) * len(YEARS)
        for key, value in got.items():
            assert value == Decimal(str(round(truth[key], 3))), key

        joint_id = out["joint"]
        with net.session("drc") as r:
            ledger = JointLedger(r.client, r.settings.contracts.joint)
            info = ledger.joint(joint_id)
            parts = ledger.participants(joint_id)
            assert info.state == JointState.COMPLETED
            assert "0x" + info.result_hash.hex() == out["result_sha256"]
            assert all(p.admitted and p.acknowledged and p.epsilon_milli == 500 for p in parts)
            sharing = r.require_sharing()
            for p in parts:
                assert sharing.budget(p.grant_id).spent == Epsilon.parse("0.5")
            joint_address = r.settings.contracts.joint
        # each owner committed to its input at its join (one point per cell): the digest the
        # contract keeps is the hash of the commitments the owner's node stored
        for owner, p in zip(OWNERS, parts, strict=True):
            with net.session(owner) as s, Session(s.engine) as db:
                stored = db.get(CommittedColumn, input_key(joint_address, joint_id))
                assert stored.column == f"joint:{joint_id}"
                assert len(stored.packed) == 64 * len(DISTRICTS) * len(YEARS)
                assert keccak(stored.packed) == p.input_digest

        status = json.loads(_cli(net, "analyst", "status", str(joint_id)).stdout)
        assert status["state"] == "completed"
        shown = json.loads(_cli(net, "analyst", "result", str(joint_id)).stdout)
        assert shown["result"] == out["result"]

        # noised: within the stated bound of the noiseless totals
        spec_file.write_text(json.dumps(_spec(True, 2)))
        noised = json.loads(_cli(net, "analyst", "propose", "--spec", str(spec_file)).stdout)
        with net.session("analyst") as a:
            bound = Decimal(noise_bounds(resolve_draft(a, _spec(True, 2)))["cell"])
        deltas = [
            abs(Decimal(c["sum"]) - got[(c["key"][0], int(c["key"][1]))])
            for c in noised["result"]["cells"]
        ]
        assert max(deltas) <= bound and any(deltas)

        # nobody but stats holds its planted value: not in the other nodes' files or logs
        assert MARKER.encode() in (root / "stats.csv").read_bytes()  # the search can find it
        for dept in ("eco", "grid", "analyst", "drc"):
            home = net.home(net.department(dept))
            for f in home.rglob("*"):
                if f.is_file() and f.stat().st_size < 50 << 20:
                    assert MARKER.encode() not in f.read_bytes(), f
        for f in (root / "state").glob("*.log"):
            if "stats" not in f.name:
                assert MARKER.encode() not in f.read_bytes(), f

        # refusals: a node that is not a participant, and a caller that is not the consumer
        with net.session("analyst") as a:
            two = resolve_draft(a, {**_spec(False, 3), "inputs": _spec(False, 3)["inputs"][:2]})
            jl = JointLedger(a.client, a.settings.contracts.joint)
            jid2 = (
                jl.propose(
                    two.digest(),
                    [i.grant for i in two.inputs],
                    [i.epsilon.milli for i in two.inputs],
                    True,
                )
                .event("JointProposed")
                .args["jointId"]
            )
            body = {"attempt": 0, "spec": two.model_dump(mode="json")}
            grid = net.department("grid")
            with NodeClient(grid.endpoint, a.keys.account.key) as c:
                with pytest.raises(NodeApiError) as exc:
                    c.post(f"/v1/joint/{jid2}/prepare", body)
                assert (exc.value.http_status, exc.value.code) == (403, "joint_not_participant")
        with (
            net.session("eco") as e,
            NodeClient(net.department("stats").endpoint, e.keys.account.key) as c,
        ):
            with pytest.raises(NodeApiError) as exc:
                c.post(f"/v1/joint/{jid2}/prepare", body)
            assert (exc.value.http_status, exc.value.code) == (403, "joint_not_participant")
        assert parse_spec(two.canonical()).digest() == two.digest()

        # the regulator's audit: every joint run admitted, ε spent before joining, results
        # acknowledged and logged by every owner; budgets count the joint spends
        for d in net.config.departments:
            with net.session(d.name) as s, NodeClient(d.endpoint, s.keys.account.key) as c:
                c.post("/v1/audit/anchor", {})
        with net.session("drc") as drc:
            audit = Auditor(
                drc.backend, drc.settings.contracts.model_dump(), drc.keys.account.key
            ).run()
        assert audit.checks["joint_runs"]["items"] == 3
        assert [f for f in audit.problems if f.kind != "unanchored_log"] == []
    finally:
        net.down()
