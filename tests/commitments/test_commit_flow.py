"""Commitments on a running network: the owner commits to a published column from the
command line, records totals by district that the contract checks, any member re-checks
them from the chain alone; the blindings never sit in plain form; bad input is one line."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from node.commitments.models import CommittedColumn
from node.commitments.pedersen import total_matches, unpack
from node.commitments.service import _events, check_totals
from node.network.orchestrator import LocalNetwork
from node.sharing.contracts import Policy
from node.sharing.service import publish_as
from tests.cli_run import one_line_error, tanlian
from tests.network.running import running_network

# each enterprise's monthly emissions in kg CO2e; 9_876_543_210_123 is a planted marker
ROWS = [
    ("E1", "510104", 1200),
    ("E2", "510105", 350),
    ("E3", "510104", 9_876_543_210_123),
    ("E4", "510107", 0),
    ("E5", "510105", 77),
]
CSV = "enterprise,district,emission_kg\n" + "".join(f"{e},{d},{v}\n" for e, d, v in ROWS)


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNetwork]:
    root = tmp_path_factory.mktemp("commit")
    with running_network(root) as network:
        path = root / "emissions.csv"
        path.write_text(CSV, encoding="utf-8")
        with network.session("stats") as s:
            publish_as(s, path, name="emissions", policy=Policy(raw_allowed=True))
            s.require_commitments()  # the network deployed the contract and named it
        yield network


def cli(net: LocalNetwork, dept: str, *args: str):
    d = net.department(dept)
    return tanlian(
        "commit", *args, "--home", str(net.home(d)), "--password-file", str(net.secret(d))
    )


@pytest.fixture(scope="module")
def committed(net: LocalNetwork) -> tuple[dict, list[dict]]:
    """stats commits to emission_kg and records the totals by district (a fixture: under
    xdist any test of this module may be the first its worker runs)."""
    first = cli(
        net,
        "stats",
        "anchor",
        "stats/emissions",
        "--column",
        "emission_kg",
        "--unit",
        "kgCO2e",
        "--json",
    )
    assert first.returncode == 0, first.stderr
    totals = cli(
        net,
        "stats",
        "totals",
        "stats/emissions",
        "--column",
        "emission_kg",
        "--group-by",
        "district",
        "--json",
    )
    assert totals.returncode == 0, totals.stderr
    return json.loads(first.stdout), json.loads(totals.stdout)


def test_commit_record_and_verify_from_the_command_line(net: LocalNetwork, committed) -> None:
    anchored, recorded = committed
    assert anchored["rows"] == 5 and anchored["unit"] == "kgCO2e" and not anchored["already"]
    again = json.loads(
        cli(
            net,
            "stats",
            "anchor",
            "stats/emissions",
            "--column",
            "emission_kg",
            "--unit",
            "kgCO2e",
            "--json",
        ).stdout
    )
    assert again["already"] and again["set_id"] == anchored["set_id"]
    by_group = {t["group"]: (t["total"], t["rows"]) for t in recorded}
    assert by_group == {
        "district=510104": (1200 + 9_876_543_210_123, 2),
        "district=510105": (427, 2),
        "district=510107": (0, 1),
    }
    # any member re-checks them from the chain's events alone
    checked = cli(net, "eco", "verify", "stats/emissions", "--column", "emission_kg", "--json")
    assert checked.returncode == 0, checked.stderr
    out = json.loads(checked.stdout)
    assert out["set_id"] == anchored["set_id"] and out["rows"] == 5 and out["unit"] == "kgCO2e"
    assert {t["group"]: (t["total"], t["opens"]) for t in out["totals"]} == {
        g: (total, True) for g, (total, _) in by_group.items()
    }
    # recording again records nothing new
    twice = json.loads(
        cli(
            net,
            "stats",
            "totals",
            "stats/emissions",
            "--column",
            "emission_kg",
            "--group-by",
            "district",
            "--json",
        ).stdout
    )
    assert {t["tx"] for t in twice} == {"recorded before"}


def test_the_blindings_are_sealed_and_the_values_not_stored(net: LocalNetwork, committed) -> None:
    d = net.department("stats")
    with net.session("stats") as s:
        with Session(s.engine) as db:
            row = db.scalar(select(CommittedColumn))
        assert row is not None
        points = unpack(row.packed)
    marker = str(9_876_543_210_123).encode()
    for f in Path(net.home(d)).rglob("*"):
        if f.is_file() and f.suffix in (".db", ".db-wal", ".toml", ".json", ".log"):
            assert marker not in f.read_bytes(), f
    # without the owner's key the sealed blindings do not open: a total with a guessed
    # blinding does not match
    assert not total_matches(points, [0, 2], 1200 + 9_876_543_210_123, 1)


def test_the_check_from_the_events_is_not_vacuous(net: LocalNetwork, committed) -> None:
    with net.session("eco") as s:
        ledger = s.require_commitments()
        owner = next(m for m in s.registry.members() if m.name == "stats").address
        dataset_id = s.require_sharing().dataset_id(owner, "emissions")
        _, checked = check_totals(ledger, owner, dataset_id, 1, "emission_kg")
        set_id = ledger.set_id(owner, dataset_id, 1, "emission_kg")
        events = _events(ledger, set_id, ledger.commitment_set(set_id).anchored_block)
    assert len(checked) == 3 and all(c.ok for c in checked)
    points = unpack(next(e for e in events if e.event == "CommitmentsAnchored").args["commitments"])
    recorded = [e.args for e in events if e.event == "TotalRecorded"]
    assert len(recorded) == 3
    for a in recorded:
        rows = list(a["indexes"])
        assert total_matches(points, rows, a["total"], a["blinding"])
        assert not total_matches(points, rows, a["total"] + 1, a["blinding"])
        others = [i for i in range(len(points)) if i not in rows]
        assert not total_matches(points, others, a["total"], a["blinding"])


@pytest.mark.parametrize(
    ("dept", "args", "fragment"),
    [
        (
            "stats",
            ["anchor", "stats/emissions", "--column", "enterprise", "--unit", "kg"],
            "row 2, column enterprise: 'E1' is not a whole number of kg",
        ),
        (
            "stats",
            ["anchor", "stats/emissions", "--column", "nope", "--unit", "kg"],
            "no column 'nope'",
        ),
        ("stats", ["anchor", "stats/emissions", "--column", "emission_kg", "--unit", " "], "unit"),
        (
            "eco",
            ["anchor", "stats/emissions", "--column", "emission_kg", "--unit", "kg"],
            "only its owner",
        ),
        (
            "stats",
            ["totals", "stats/emissions", "--column", "emission_kg", "--group-by", "x"],
            "no column 'x'",
        ),
        (
            "stats",
            ["totals", "stats/emissions", "--column", "enterprise", "--group-by", "district"],
            "is not committed to yet",
        ),
        ("eco", ["verify", "stats/emissions", "--column", "district"], "UnknownSet"),
        ("eco", ["verify", "stats/nothing", "--column", "district"], "no dataset"),
    ],
)
def test_bad_input_is_one_line(
    net: LocalNetwork, committed, dept: str, args: list[str], fragment: str
) -> None:
    one_line_error(cli(net, dept, *args), fragment)
