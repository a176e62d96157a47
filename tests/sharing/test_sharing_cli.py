"""The sharing CLI as a department admin and a consumer would use it, on real nodes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from node.network.orchestrator import LocalNetwork
from tests.network.running import running_network

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNetwork]:
    with running_network(tmp_path_factory.mktemp("cli"), full=True) as network:
        yield network


def tanlian(net: LocalNetwork, dept: str, *args: str) -> subprocess.CompletedProcess:
    d = next(x for x in net.config.departments if x.name == dept)
    env = {k: v for k, v in os.environ.items() if k != "TANLIAN_PASSWORD"}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "cli.main",
            *args,
            "--home",
            str(net.home(d)),
            "--password-file",
            str(net.secret(d)),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
    )


def ok(proc: subprocess.CompletedProcess) -> dict:
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_publish_request_pull_revoke_from_the_command_line(
    net: LocalNetwork, tmp_path: Path
) -> None:
    data = tmp_path / "panel.csv"
    text = "district,year,pm25\n锦江区,2024,31.5\n"
    data.write_bytes(text.encode("gbk"))  # as Excel on Chinese Windows saves it
    pub = ok(
        tanlian(
            net,
            "eco",
            "dataset",
            "publish",
            str(data),
            "--name",
            "air",
            "--classification",
            "internal",
            "--auto-approve",
            "analyst",
            "--json",
        )
    )
    assert pub["version"] == 1 and pub["publish_tx"].startswith("0x")
    assert pub["source_encoding"] == "gbk"
    req = ok(
        tanlian(
            net,
            "analyst",
            "access",
            "request",
            "eco/air",
            "--purpose",
            "index",
            "--days",
            "1",
            "--json",
        )
    )
    assert req["state"] == "authorized"
    out = tmp_path / "got.csv"
    deadline = time.monotonic() + 20
    while True:
        pulled = tanlian(
            net, "analyst", "access", "pull", str(req["request"]), "-o", str(out), "--json"
        )
        if pulled.returncode == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.3)  # until the eco node has released the key
    info = ok(pulled)
    assert info["verified"] and out.read_text(encoding="utf-8") == text  # 锦江区 intact
    # the pull is in the analyst's holdings, with the transaction that authorized the grant
    from node.cockpit.holdings import Holdings
    from node.db import make_engine
    from node.settings import load_settings

    engine = make_engine(load_settings(net.home(net.department("analyst"))).db_url)
    held = {h.id: h for h in Holdings(engine).all()}[info["holding"]]
    engine.dispose()
    assert (held.role, held.dataset_name, held.owner, held.version) == ("pulled", "air", "eco", 1)
    assert held.request_id == req["request"] and held.grant_tx == req["tx"]
    assert held.sha256 == info["plaintext_sha256"] and held.path == out.resolve()
    for_excel = tmp_path / "excel.csv"
    excel = ok(
        tanlian(
            net, "analyst", "access", "pull", str(req["request"]), "-o", str(for_excel),
            "--excel", "--json",
        )
    )  # fmt: skip
    assert excel["excel"] is True
    assert for_excel.read_bytes() == b"\xef\xbb\xbf" + text.encode("utf-8")
    mine = ok(tanlian(net, "analyst", "access", "list", "--mine", "--json"))
    assert [r["request_id"] for r in mine["requests"]] == [req["request"]]
    listed = ok(tanlian(net, "analyst", "dataset", "list", "--json"))
    assert [d["name"] for d in listed["datasets"]] == ["air"]
    revoked = ok(
        tanlian(net, "eco", "access", "revoke", str(req["request"]), "--reason", "done", "--json")
    )
    assert revoked["events"] == ["AccessRevoked"]
    # refusals name the state, not its number: WrongState(actual=5) is "was revoked"
    twice = tanlian(net, "eco", "access", "revoke", str(req["request"]), "--reason", "again")
    assert twice.returncode == 1 and "Traceback" not in twice.stderr
    assert twice.stderr.strip().splitlines()[-1] == (
        f"tanlian: error [contract_reverted]: request {req['request']} was revoked "
        "(contract error WrongState)"
    )
    # a department by its name; an active member cannot be approved again
    approved = tanlian(net, "drc", "registry", "approve", "eco")
    assert (
        approved.stderr.strip()
        .splitlines()[-1]
        .endswith("is active; this needs it pending (contract error WrongStatus)")
    )
    assert "member eco (0x" in approved.stderr  # named, not a bare address
    # a raw grant has no ε budget to show
    raw_budget = tanlian(net, "analyst", "budget", "show", str(req["request"]))
    assert raw_budget.stderr.strip().splitlines()[-1].startswith("tanlian: error [grant_mismatch]")
    again = tanlian(
        net, "analyst", "access", "pull", str(req["request"]), "-o", str(tmp_path / "no.csv")
    )
    assert again.returncode == 1 and "Traceback" not in again.stderr
    assert again.stderr.strip().splitlines()[-1].startswith("tanlian: error [grant_not_usable]")
    assert not (tmp_path / "no.csv").exists()


def _status_of(net: LocalNetwork, name: str, want: str) -> str:
    deadline = time.monotonic() + 20
    while True:  # the drc node's registry view follows the chain a moment later
        members = ok(tanlian(net, "drc", "registry", "list", "--json"))["members"]
        status = next(m["status"] for m in members if m["name"] == name)
        if status == want or time.monotonic() > deadline:
            return status
        time.sleep(0.3)


def test_a_department_is_suspended_and_reinstated_by_its_name(net: LocalNetwork) -> None:
    suspended = ok(
        tanlian(net, "drc", "registry", "suspend", "transport", "--reason", "audit", "--json")
    )
    assert suspended["events"] == ["MemberSuspended"] and suspended["account"].startswith("0x")
    assert _status_of(net, "transport", "suspended") == "suspended"
    twice = tanlian(net, "drc", "registry", "suspend", "transport", "--reason", "again")
    assert twice.returncode == 1 and "Traceback" not in twice.stderr
    assert twice.stderr.strip().splitlines()[-1] == (
        f"tanlian: error [contract_reverted]: member transport ({suspended['account']}) is "
        "suspended; this needs it active (contract error WrongStatus)"
    )
    reinstated = ok(tanlian(net, "drc", "registry", "reinstate", "transport", "--json"))
    assert reinstated["events"] == ["MemberReinstated"]
    assert _status_of(net, "transport", "active") == "active"


def test_a_request_is_rejected_from_the_command_line_with_its_reason(
    net: LocalNetwork, tmp_path: Path
) -> None:
    data = tmp_path / "trips.csv"
    data.write_text("district,year,trips\n锦江区,2024,12\n", encoding="utf-8")
    ok(tanlian(net, "eco", "dataset", "publish", str(data), "--name", "trips", "--json"))
    req = ok(
        tanlian(net, "analyst", "access", "request", "eco/trips", "--purpose", "a study", "--json")
    )
    assert req["state"] == "pending"  # no preset policy: the owner decides
    no_reason = tanlian(net, "eco", "access", "reject", str(req["request"]))
    assert no_reason.returncode != 0 and "--reason" in no_reason.stderr
    rejected = ok(
        tanlian(
            net, "eco", "access", "reject", str(req["request"]), "--reason", "not yet", "--json"
        )
    )
    assert rejected["events"] == ["AccessRejected"]
    deadline = time.monotonic() + 20
    while True:  # the analyst node's view follows the chain a moment later
        mine = ok(tanlian(net, "analyst", "access", "list", "--mine", "--json"))
        state = next(r["state"] for r in mine["requests"] if r["request_id"] == req["request"])
        if state == "rejected" or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert state == "rejected"


@pytest.mark.parametrize(
    ("dept", "args", "code"),
    [
        ("analyst", ["access", "request", "nobody/x", "--purpose", "p"], "invalid_input"),
        ("analyst", ["access", "request", "0xzz", "--purpose", "p"], "invalid_input"),
        (
            "analyst",
            ["access", "request", "eco/air", "--purpose", "p", "--mode", "x"],
            "invalid_input",
        ),
        ("stats", ["dataset", "publish", "/etc/hostname", "--name", "x"], "invalid_input"),
        (
            "analyst",
            ["dataset", "publish", str(ROOT / "README.md"), "--name", "x"],
            "invalid_input",
        ),
        # budgets are read exactly, before anything touches the chain
        (
            "analyst",
            [
                "access",
                "request",
                "eco/air",
                "--purpose",
                "p",
                "--mode",
                "dp",
                "--epsilon",
                "1.5e-3",
            ],
            "budget_too_fine",
        ),
        (
            "analyst",
            ["access", "request", "eco/air", "--purpose", "p", "--mode", "dp", "--epsilon", "nan"],
            "budget_not_finite",
        ),
        (
            "stats",
            [
                "dataset",
                "publish",
                str(ROOT / "README.md"),
                "--name",
                "x",
                "--epsilon-ceiling",
                "-1",
            ],
            "budget_not_positive",
        ),
        ("analyst", ["budget", "show", "1", "--per-query", "0.0005"], "budget_too_fine"),
        ("analyst", ["access", "approve", "999"], "contract_reverted"),
        ("analyst", ["access", "pull", "999", "-o", "/tmp/x"], "not_found"),
        # no traceback, ever: each of these once ended in one
        ("analyst", ["access", "pull", "999", "-o", "/tmp"], "invalid_input"),
        ("analyst", ["access", "pull", "1", "-o", "/tmp/x", "--cockpit", "x"], "invalid_input"),
        ("drc", ["registry", "approve", "0x1234"], "invalid_input"),
        ("drc", ["registry", "suspend", "nobody", "--reason", "x"], "invalid_input"),
        ("analyst", ["budget", "show", "999"], "not_found"),
        (
            "analyst",
            ["access", "request", "eco/air", "--purpose", "p", "--days", "nan"],
            "invalid_input",
        ),
    ],
)
def test_bad_input_gets_one_readable_line(
    net: LocalNetwork, dept: str, args: list[str], code: str
) -> None:
    proc = tanlian(net, dept, *args)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith(f"tanlian: error [{code}]")


def test_dp_query_and_budget_from_the_command_line(net: LocalNetwork, tmp_path: Path) -> None:
    data = tmp_path / "kwh.csv"
    data.write_text(
        "enterprise,district,kwh\n"
        + "".join(f"E{i},{'锦江区' if i % 2 else '青羊区'},{100 + i % 50}\n" for i in range(500))
    )
    meta = tmp_path / "meta.json"
    meta.write_text(
        json.dumps(
            {
                "columns": {
                    "enterprise": {},
                    "district": {"keys": ["锦江区", "青羊区"]},
                    "kwh": {"lower": 0, "upper": 1000},
                }
            }
        )
    )
    ok(
        tanlian(
            net,
            "grid",
            "dataset",
            "publish",
            str(data),
            "--name",
            "kwh",
            "--dp-only",
            "--epsilon-ceiling",
            "1",
            "--auto-approve",
            "analyst",
            "--dp-metadata",
            str(meta),
            "--json",
        )
    )
    req = ok(
        tanlian(
            net,
            "analyst",
            "access",
            "request",
            "grid/kwh",
            "--purpose",
            "dp",
            "--mode",
            "dp",
            "--epsilon",
            "0.5",
            "--json",
        )
    )
    spec = tmp_path / "q.json"
    spec.write_text(json.dumps({"kind": "count", "epsilon": 0.2, "group_by": "district"}))
    rid = str(req["request"])
    # by dataset: the owner's node finds the analyst's DP grant on it
    est = ok(
        tanlian(net, "analyst", "query", "grid/kwh", "--spec", str(spec), "--estimate", "--json")
    )
    assert est["queries_of_this_kind_left"] == 2 and est["request"] == int(rid)
    dummy = ok(
        tanlian(net, "analyst", "query", "grid/kwh", "--spec", str(spec), "--dummy", "--json")
    )
    assert dummy["dummy"] is True and dummy["epsilon_spent"] == 0.0
    got = ok(tanlian(net, "analyst", "query", "grid/kwh", "--spec", str(spec), "--json"))
    assert set(got["answer"]["groups"]) == {"锦江区", "青羊区"} and got["remaining"] == 0.3
    budget = ok(tanlian(net, "analyst", "budget", "show", rid, "--spec", str(spec), "--json"))
    assert budget == {
        "request": int(rid),
        "ceiling": 0.5,
        "spent": 0.2,
        "grant_remaining": 0.3,
        # the default lifetime ceilings: 3 grant ceilings, shared by the department
        "lifetime_ceiling": 3.0,
        "lifetime_spent": 0.2,
        "lifetime_remaining": 2.8,
        "department_ceiling": 3.0,
        "department_spent": 0.2,
        "department_remaining": 2.8,
        "remaining": 0.3,
        "more_queries_of_that_cost": 1,
    }
    ok(tanlian(net, "analyst", "query", rid, "--spec", str(spec), "--json"))
    refused = tanlian(net, "analyst", "query", rid, "--spec", str(spec))
    assert refused.returncode == 1
    assert (
        refused.stderr.strip().splitlines()[-1].startswith("tanlian: error [dp_budget_exhausted]")
    )
    # the grant id works too, and the other departments hold no DP grant on it
    none = tanlian(net, "eco", "query", "grid/kwh", "--spec", str(spec))
    assert none.stderr.strip().splitlines()[-1].startswith("tanlian: error [grant_not_usable]")


def test_desensitized_release_from_the_command_line(net: LocalNetwork, tmp_path: Path) -> None:
    data = tmp_path / "people.csv"
    data.write_text(
        "resident_id,age,street,comment\n"
        + "".join(
            f"R{i:04d},{20 + i % 50},{'A街道' if i % 2 else 'B街道'},note {i}\n" for i in range(60)
        )
    )
    ok(
        tanlian(
            net,
            "eco",
            "dataset",
            "publish",
            str(data),
            "--name",
            "residents",
            "--classification",
            "restricted",
            "--reviewers",
            "2",
            "--json",
        )
    )
    profile = tmp_path / "profile.yaml"
    profile.write_text(
        "columns:\n"
        "  resident_id: {pseudonymize: true}\n"
        "  age: {bin: [20, 40, 70]}\n"
        "  street: {map: {A街道: 锦江区, B街道: 锦江区}}\n"
        "  comment: {suppress: true}\n"
        "quasi_identifiers: [age, street]\n"
        "min_k: 10\n"
    )
    out = ok(
        tanlian(
            net,
            "eco",
            "dataset",
            "desensitize",
            "residents",
            "--profile",
            str(profile),
            "--as",
            "residents-public",
            "--auto-approve",
            "analyst",
            "--json",
        )
    )
    assert out["k_anonymity"] == 30 and out["rows"] == 60
    assert out["columns"] == ["resident_id", "age", "street"]
    assert out["lineage"]["source_version"] == 1
    shown = ok(tanlian(net, "analyst", "dataset", "show", out["dataset_id"], "--json"))
    deadline = time.monotonic() + 10
    while not shown["versions"] and time.monotonic() < deadline:
        time.sleep(0.2)
        shown = ok(tanlian(net, "analyst", "dataset", "show", out["dataset_id"], "--json"))
    assert shown["versions"][0]["derived_from"]["version"] == 1
    assert shown["versions"][0]["derived_from"]["k_anonymity"] == 30
    profile.write_text(profile.read_text().replace("min_k: 10", "min_k: 31"))
    refused = tanlian(
        net, "eco", "dataset", "desensitize", "residents", "--profile", str(profile), "--as", "x"
    )
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert (
        refused.stderr.strip().splitlines()[-1].startswith("tanlian: error [k_anonymity_too_low]")
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text("columns: {resident_id: {hash: true}}\n")
    wrong = tanlian(
        net, "eco", "dataset", "desensitize", "residents", "--profile", str(bad), "--as", "x"
    )
    assert wrong.stderr.strip().splitlines()[-1].startswith("tanlian: error [invalid_input]")


def _dp_dataset(net: LocalNetwork, tmp_path: Path, name: str, *policy: str) -> Path:
    """A DP-only dataset of grid's with public keys on district only; returns a count spec
    of ε 0.2 grouped by district."""
    data = tmp_path / f"{name}.csv"
    data.write_text(
        "enterprise_id,district,kwh\n"
        + "".join(f"E{i},{'锦江区' if i % 2 else '青羊区'},{i * 10}\n" for i in range(20))
    )
    meta = tmp_path / f"{name}-meta.json"
    meta.write_text(
        json.dumps(
            {
                "columns": {
                    "enterprise_id": {},
                    "district": {"keys": ["锦江区", "青羊区"]},
                    "kwh": {"lower": 0, "upper": 1000},
                }
            }
        )
    )
    ok(
        tanlian(
            net, "grid", "dataset", "publish", str(data), "--name", name, "--dp-only",
            "--auto-approve", "analyst", "--dp-metadata", str(meta), *policy, "--json",
        )
    )  # fmt: skip
    spec = tmp_path / f"{name}-q.json"
    spec.write_text(json.dumps({"kind": "count", "epsilon": 0.2, "group_by": "district"}))
    return spec


def _dp_request(net: LocalNetwork, dataset: str, epsilon: str) -> dict:
    return ok(
        tanlian(
            net, "analyst", "access", "request", dataset, "--purpose", "dp", "--mode", "dp",
            "--epsilon", epsilon, "--json",
        )
    )  # fmt: skip


def _error_code(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 1, proc.stdout
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("tanlian: error ["), proc.stderr
    return last.split("[", 1)[1].split("]", 1)[0]


def test_reapplying_does_not_reset_the_budget(net: LocalNetwork, tmp_path: Path) -> None:
    """Issue 19: an exhausted DP grant, a new application authorized by the preset policy,
    and the next query refused because the lifetime budget is spent."""
    spec = _dp_dataset(
        net, tmp_path, "kwh-life", "--epsilon-ceiling", "0.4", "--lifetime-epsilon", "0.4"
    )
    first = _dp_request(net, "grid/kwh-life", "0.4")
    for _ in range(2):
        ok(tanlian(net, "analyst", "query", "grid/kwh-life", "--spec", str(spec), "--json"))
    spent = tanlian(net, "analyst", "query", "grid/kwh-life", "--spec", str(spec))
    assert _error_code(spent) == "dp_budget_exhausted"
    second = _dp_request(net, "grid/kwh-life", "0.4")
    assert second["request"] != first["request"] and second["state"] == "authorized"
    budget = ok(tanlian(net, "analyst", "budget", "show", str(second["request"]), "--json"))
    assert (budget["grant_remaining"], budget["lifetime_remaining"], budget["remaining"]) == (
        0.4,
        0.0,
        0.0,
    )
    refused = tanlian(net, "analyst", "query", "grid/kwh-life", "--spec", str(spec))
    assert _error_code(refused) == "dp_lifetime_budget_exhausted"
    refused = tanlian(net, "analyst", "query", str(second["request"]), "--spec", str(spec))
    assert _error_code(refused) == "dp_lifetime_budget_exhausted"
    # a policy whose lifetime ceiling is below the grant ceiling is refused before publishing
    bad = tanlian(
        net, "grid", "dataset", "publish", str(spec), "--name", "kwh-bad", "--dp-only",
        "--epsilon-ceiling", "1", "--lifetime-epsilon", "0.5",
    )  # fmt: skip
    assert _error_code(bad) == "invalid_input"


def test_dp_metadata_changed_off_chain_is_refused_and_audited(
    net: LocalNetwork, tmp_path: Path
) -> None:
    """Issue 19 (T9): enterprise_id added as a public key in the node's SQL does not let a
    per-enterprise group-by answer, and `audit verify` reports the change."""
    import sqlalchemy as sa

    spec = _dp_dataset(net, tmp_path, "kwh-meta", "--epsilon-ceiling", "1")
    req = _dp_request(net, "grid/kwh-meta", "1")
    by_enterprise = tmp_path / "by-enterprise.json"
    by_enterprise.write_text(
        json.dumps({"kind": "count", "epsilon": 0.1, "group_by": "enterprise_id"})
    )
    # as declared: enterprise_id is no public key
    declared = tanlian(net, "analyst", "query", "grid/kwh-meta", "--spec", str(by_enterprise))
    assert _error_code(declared) == "dp_query_refused"
    ok(tanlian(net, "analyst", "query", "grid/kwh-meta", "--spec", str(spec), "--json"))
    grid = next(d for d in net.config.departments if d.name == "grid")
    engine = sa.create_engine(f"sqlite:///{net.home(grid) / 'node.db'}")
    dataset_id = req["dataset_id"]
    with engine.begin() as c:
        row = c.execute(
            sa.text("SELECT id, dp_metadata FROM stored_version WHERE dataset_id = :d"),
            {"d": dataset_id},
        ).one()
        meta = json.loads(row.dp_metadata) if isinstance(row.dp_metadata, str) else row.dp_metadata
        meta["columns"]["enterprise_id"] = {"keys": [f"E{i}" for i in range(20)]}
        c.execute(
            sa.text("UPDATE stored_version SET dp_metadata = :m WHERE id = :i"),
            {"m": json.dumps(meta), "i": row.id},
        )
    engine.dispose()
    for query in (by_enterprise, spec):  # nothing is answered with the changed metadata
        refused = tanlian(net, "analyst", "query", "grid/kwh-meta", "--spec", str(query))
        assert _error_code(refused) == "dp_metadata_not_anchored"
    audit = tanlian(net, "drc", "audit", "verify", "--json")
    assert audit.returncode == 2, audit.stderr
    found = [f for f in json.loads(audit.stdout)["findings"] if f["kind"] == "dp_metadata_mismatch"]
    # the untouched DP versions (grid/kwh, kwh-life) pass: only this one is reported
    assert [
        (f["severity"], f["evidence"]["dataset_id"], f["evidence"]["version"]) for f in found
    ] == [("high", dataset_id, 1)]
