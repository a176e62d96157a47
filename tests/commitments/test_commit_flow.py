"""Commitments on a running network, as one walkthrough (one test: one network per run
under xdist): the owner commits to a published column from the command line, records
totals by district that the contract checks, any member re-checks them from the chain
alone; the blindings never sit in plain form; bad input is refused before anything is
stored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from node.chain.errors import ContractReverted
from node.commitments.errors import InvalidValue
from node.commitments.models import CommittedColumn
from node.commitments.pedersen import total_matches, unpack
from node.commitments.service import (
    NotCommitted,
    _events,
    check_totals,
    commit_column,
    record_totals,
)
from node.errors import InvalidInput
from node.network.orchestrator import LocalNetwork
from node.sharing.contracts import Policy
from node.sharing.service import publish_as
from tests.cli_run import one_line_error, tanlian
from tests.network.running import running_network

# each enterprise's monthly emissions in kg CO2e; 9_876_543_210_123 is a planted marker
MARKER = 9_876_543_210_123
ROWS = [
    ("E1", "510104", 1200),
    ("E2", "510105", 350),
    ("E3", "510104", MARKER),
    ("E4", "510107", 0),
    ("E5", "510105", 77),
]
CSV = "enterprise,district,emission_kg\n" + "".join(f"{e},{d},{v}\n" for e, d, v in ROWS)


def cli(net: LocalNetwork, dept: str, *args: str):
    d = net.department(dept)
    return tanlian(
        "commit", *args, "--home", str(net.home(d)), "--password-file", str(net.secret(d))
    )


def _json(proc) -> object:
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _stored(net: LocalNetwork) -> int:
    with net.session("stats") as s, Session(s.engine) as db:
        return db.scalar(select(func.count()).select_from(CommittedColumn))


def test_commit_record_verify_and_refuse(tmp_path_factory: pytest.TempPathFactory) -> None:
    root = tmp_path_factory.mktemp("commit")
    with running_network(root) as net:
        path = root / "emissions.csv"
        path.write_text(CSV, encoding="utf-8")
        with net.session("stats") as s:
            pub = publish_as(s, path, name="emissions", policy=Policy(raw_allowed=True))
        ds = pub.dataset_id

        # bad input first: refused before anything is stored
        with net.session("stats") as s:
            for column, unit, error, words in [
                ("enterprise", "kg", InvalidValue, "row 2, column enterprise: 'E1' is not a whole"),
                ("nope", "kg", InvalidInput, "no column 'nope'"),
                ("emission_kg", " ", InvalidInput, "unit"),
            ]:
                with pytest.raises(error, match=words):
                    commit_column(s, ds, column, unit)
            with pytest.raises(NotCommitted, match="not committed to yet"):
                record_totals(s, ds, "emission_kg", "district")
        with net.session("eco") as s, pytest.raises(InvalidInput, match="only its owner"):
            commit_column(s, ds, "emission_kg", "kgCO2e")
        assert _stored(net) == 0
        one_line_error(
            cli(
                net, "stats", "anchor", "stats/emissions", "--column", "enterprise", "--unit", "kg"
            ),
            "'E1' is not a whole number of kg",
        )

        # the owner commits and records totals by district from the command line
        args = ("stats/emissions", "--column", "emission_kg")
        anchored = _json(cli(net, "stats", "anchor", *args, "--unit", "kgCO2e", "--json"))
        assert anchored["rows"] == 5 and anchored["unit"] == "kgCO2e" and not anchored["already"]
        again = _json(cli(net, "stats", "anchor", *args, "--unit", "kgCO2e", "--json"))
        assert again["already"] and again["set_id"] == anchored["set_id"]
        recorded = _json(cli(net, "stats", "totals", *args, "--group-by", "district", "--json"))
        by_group = {t["group"]: (t["total"], t["rows"]) for t in recorded}
        assert by_group == {
            "district=510104": (1200 + MARKER, 2),
            "district=510105": (427, 2),
            "district=510107": (0, 1),
        }
        with net.session("stats") as s:
            twice = record_totals(s, ds, "emission_kg", "district")
            assert {t.tx for t in twice} == {None}  # recorded before: nothing sent again
            with pytest.raises(InvalidInput, match="no column 'x'"):
                record_totals(s, ds, "emission_kg", "x")

        # any member re-checks them from the chain's events alone
        out = _json(cli(net, "eco", "verify", *args, "--json"))
        assert out["set_id"] == anchored["set_id"] and out["rows"] == 5 and out["unit"] == "kgCO2e"
        assert {t["group"]: (t["total"], t["opens"]) for t in out["totals"]} == {
            g: (total, True) for g, (total, _) in by_group.items()
        }
        one_line_error(
            cli(net, "eco", "verify", "stats/emissions", "--column", "district"), "UnknownSet"
        )
        with net.session("eco") as s:
            ledger = s.require_commitments()
            owner = s.require_sharing().dataset(ds)["owner"]
            _, checked = check_totals(ledger, owner, ds, 1, "emission_kg")
            set_id = ledger.set_id(owner, ds, 1, "emission_kg")
            events = _events(ledger, set_id, ledger.commitment_set(set_id).anchored_block)
            with pytest.raises(ContractReverted, match="UnknownSet"):
                check_totals(ledger, owner, ds, 1, "district")
        assert len(checked) == 3 and all(c.ok for c in checked)
        # the check is not vacuous: another total or other rows do not open
        points = unpack(
            next(e for e in events if e.event == "CommitmentsAnchored").args["commitments"]
        )
        for a in (e.args for e in events if e.event == "TotalRecorded"):
            rows = list(a["indexes"])
            assert total_matches(points, rows, a["total"], a["blinding"])
            assert not total_matches(points, rows, a["total"] + 1, a["blinding"])
            others = [i for i in range(len(points)) if i not in rows]
            assert not total_matches(points, others, a["total"], a["blinding"])

        # the blindings are sealed and no value sits in the node's files outside its blobs
        home = Path(net.home(net.department("stats")))
        for f in home.rglob("*"):
            if f.is_file() and "blobs" not in f.parts:
                assert str(MARKER).encode() not in f.read_bytes(), f
        assert not total_matches(points, [0, 2], 1200 + MARKER, 1)  # a guessed blinding fails
