"""The audit holds the lifetime privacy ledgers the access contract keeps (per consumer account
and per department, issue 19) against the BudgetSpent events of every grant on chain."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from node.audit.verify import Auditor
from node.privacy.budget import Delta
from tests.contracts.test_access_manager import World, build
from tests.contracts.test_lifetime_budget import POLICY, E, Q, R, grant, sibling_of


@pytest.fixture()
def world(tmp_path: Path) -> Iterator[World]:
    w = build(tmp_path / "chain", POLICY)
    yield w
    w.backend.close()


def auditor(w: World) -> Auditor:
    owner = w.sharing["owner"]
    contracts = {
        "registry": w.registry.address,
        "catalog": owner.catalog.address,
        "access": owner.access.address,
    }
    key = w.sharing["regulator"].client.account.key
    # the members' endpoints are placeholders: their nodes are out of this test's reach
    return Auditor(w.backend, contracts, bytes(key), roots=False, node_timeout=0.5)


def lifetime_findings(a: Auditor) -> list:
    return [f for f in a.findings if f.kind == "lifetime_ledger_mismatch"]


def test_the_lifetime_ledgers_match_the_spends_and_a_difference_is_found(world: World) -> None:
    w, owner = world, world.sharing["owner"]
    analyst = w.sharing["other"]
    sibling, sibling_address = sibling_of(w, "other")
    # two grants of one account and one of its department's second account
    owner.spend(grant(analyst, w), E("0.75"), Delta.parse("1e-7"), Q, R)
    second = grant(analyst, w)
    owner.spend(second, E("0.25"), Delta(0), Q, R)
    owner.spend(grant(sibling, w), E("0.5"), Delta.parse("2e-7"), Q, R)

    a = auditor(w)
    result = a.run()
    assert lifetime_findings(a) == []
    # two accounts on the dataset, one department between them
    assert result.checks["lifetime_budgets"]["items"] == 3
    assert a.facts.departments == {sibling_address: w.addr("other")}

    # a ledger that charged less than the grants spent would let new grants reset the budget:
    # the same chain read with one spend of 0.25 ε more than the contract's ledgers hold
    a.facts.grants[second].spent_milli += 250
    a.findings.clear()
    a._check_lifetime(result.head)
    found = lifetime_findings(a)
    assert [(f.severity, f.evidence["ledger"], f.evidence["spends"]) for f in found] == [
        ("critical", [1000, 100], [1250, 100]),
        ("critical", [1500, 300], [1750, 300]),
    ]
    assert "department lifetime budget" in found[1].message
