"""Lifetime privacy budgets (issue 19): every DP grant of a consumer on a dataset draws on the
consumer's lifetime budget and on its department's (all the department's accounts together),
set by the owner's policy, so applying again never starts from zero. Exact custom errors and
event arguments; departments assigned by regulators in the NodeRegistry."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from node.chain.client import ChainClient, new_account
from node.chain.errors import ContractReverted
from node.errors import InvalidInput
from node.privacy.budget import Delta, Epsilon, Ledger
from node.registry.registry import Registry
from node.sharing.contracts import LIFETIME_GRANTS, Mode, Policy, Sharing
from tests.contracts.test_access_manager import World, build

Q, R = b"\x0a" * 32, b"\x0b" * 32
E = Epsilon.parse

POLICY = Policy(
    auto_approve_roles=("analyst", "consumer"),
    raw_allowed=False,
    epsilon_ceiling=E("1"),
    lifetime_epsilon=E("1.5"),
    lifetime_delta=Delta.parse("1e-6"),
    department_epsilon=E("2"),
    department_delta=Delta.parse("1.5e-6"),
)


@pytest.fixture()
def world(tmp_path: Path) -> Iterator[World]:
    w = build(tmp_path / "chain", POLICY)
    yield w
    w.backend.close()


def grant(sh: Sharing, w: World, eps: str = "1") -> int:
    r = sh.apply(w.dataset, 1, "dp", Mode.DP, epsilon=E(eps), duration=3600)
    return r.event("AccessRequested").args["requestId"]


def sibling_of(w: World, head: str) -> tuple[Sharing, str]:
    """A second account registered by the department of ``head``: pending, assigned to
    ``head``'s department by the regulator, then approved."""
    client = ChainClient(w.backend, new_account())
    mine = Registry(client, w.registry.address)
    mine.register(f"{head}-2", ["analyst"], b"\x77" * 32, "http://x")
    assigned = w.registry.assign_department(client.address, w.addr(head))
    assert assigned.event("DepartmentAssigned").args == {
        "account": client.address,
        "department": w.addr(head),
        "regulator": w.addr("regulator"),
    }
    w.registry.approve(client.address)
    return Sharing(client, w.sharing[head].catalog.address, w.sharing[head].access.address), (
        client.address
    )


def test_a_new_grant_draws_on_what_is_left(world: World) -> None:
    w, owner, analyst = world, world.sharing["owner"], world.sharing["other"]
    first = grant(analyst, w)
    owner.spend(first, E("1"), Delta(0), Q, R)
    with pytest.raises(ContractReverted) as spent:
        owner.spend(first, E("0.001"), Delta(0), Q, R)
    assert spent.value.error == "BudgetExceeded"
    # applying again is authorized by the preset policy, but the grant starts from 0.5 left
    second = grant(analyst, w)
    assert owner.budget(second).remaining == E("1")
    assert owner.remaining(second) == (E("0.5"), Delta.parse("1e-6"))
    life = owner.lifetime_budget(w.addr("other"), w.dataset)
    assert life.department == w.addr("other")  # a member is its own department
    assert life.account == Ledger(E("1.5"), E("1"), Delta.parse("1e-6"), Delta(0))
    assert life.department_ledger == Ledger(E("2"), E("1"), Delta.parse("1.5e-6"), Delta(0))
    with pytest.raises(ContractReverted) as over:
        owner.spend(second, E("0.6"), Delta(0), Q, R)
    assert (over.value.error, over.value.error_args) == (
        "LifetimeBudgetExceeded",
        {
            "account": w.addr("other"),
            "datasetId": w.dataset,
            "askedMilli": 600,
            "remainingMilli": 500,
            "askedNano": 0,
            "remainingNano": 1000,
        },
    )
    paid = owner.spend(second, E("0.5"), Delta.parse("1e-6"), Q, R)
    # the grant's own event is unchanged: its total, not the lifetime one
    assert paid.event("BudgetSpent").args["spentMilli"] == 500
    third = grant(analyst, w)
    assert owner.remaining(third) == (Epsilon(0), Delta(0))
    with pytest.raises(ContractReverted) as none_left:
        owner.spend(third, E("0.001"), Delta(0), Q, R)
    assert none_left.value.error == "LifetimeBudgetExceeded"
    assert none_left.value.error_args["remainingMilli"] == 0
    # another consumer's lifetime budget is its own
    other = grant(w.sharing["consumer"], w)
    assert owner.remaining(other) == (E("1"), Delta.parse("1e-6"))


def test_delta_is_charged_against_the_lifetime_budget(world: World) -> None:
    w, owner = world, world.sharing["owner"]
    rid = grant(w.sharing["other"], w)
    owner.spend(rid, E("0.1"), Delta.parse("9e-7"), Q, R)
    with pytest.raises(ContractReverted) as over:
        owner.spend(rid, E("0.1"), Delta.parse("2e-7"), Q, R)
    assert (over.value.error, over.value.error_args) == (
        "LifetimeBudgetExceeded",
        {
            "account": w.addr("other"),
            "datasetId": w.dataset,
            "askedMilli": 100,
            "remainingMilli": 1400,
            "askedNano": 200,
            "remainingNano": 100,
        },
    )


def test_a_departments_accounts_share_its_budget(world: World) -> None:
    w, owner = world, world.sharing["owner"]
    sibling, address = sibling_of(w, "other")
    assert w.registry.department_of(address) == w.addr("other")
    owner.spend(grant(w.sharing["other"], w), E("1"), Delta(0), Q, R)
    owner.spend(grant(w.sharing["other"], w), E("0.5"), Delta(0), Q, R)
    # the sibling's own lifetime budget is untouched, its department's has 0.5 left
    rid = grant(sibling, w)
    life = owner.lifetime_budget(address, w.dataset)
    assert life.department == w.addr("other")
    assert life.account.spent == Epsilon(0) and life.department_ledger.spent == E("1.5")
    assert owner.remaining(rid) == (E("0.5"), Delta.parse("1e-6"))
    with pytest.raises(ContractReverted) as over:
        owner.spend(rid, E("0.7"), Delta(0), Q, R)
    assert (over.value.error, over.value.error_args) == (
        "DepartmentBudgetExceeded",
        {
            "department": w.addr("other"),
            "datasetId": w.dataset,
            "askedMilli": 700,
            "remainingMilli": 500,
            "askedNano": 0,
            "remainingNano": 1500,
        },
    )
    owner.spend(rid, E("0.5"), Delta(0), Q, R)
    assert owner.lifetime_budget(w.addr("other"), w.dataset).department_ledger.spent == E("2")


def test_departments_are_assigned_by_regulators_once_before_activation(world: World) -> None:
    w = world
    _, sibling = sibling_of(w, "other")
    pending = ChainClient(w.backend, new_account())
    Registry(pending, w.registry.address).register("late", ["analyst"], b"\x78" * 32, "http://x")

    def refused(call) -> tuple[str, dict]:
        with pytest.raises(ContractReverted) as info:
            call()
        return info.value.error, info.value.error_args

    # an active account keeps its own department (it may have spent already)
    assert refused(lambda: w.registry.assign_department(w.addr("consumer"), w.addr("other"))) == (
        "WrongStatus",
        {"account": w.addr("consumer"), "expected": 1, "actual": 2},
    )
    # the department must be active, and not itself an account of another department
    assert refused(lambda: w.registry.assign_department(pending.address, w.addr("suspended"))) == (
        "WrongStatus",
        {"account": w.addr("suspended"), "expected": 2, "actual": 3},
    )
    assert refused(lambda: w.registry.assign_department(pending.address, sibling)) == (
        "InvalidDepartment",
        {"account": pending.address, "department": sibling},
    )
    # only regulators
    other = Registry(w.sharing["other"].client, w.registry.address)
    assert refused(lambda: other.assign_department(pending.address, w.addr("other")))[0] == (
        "AccessControlUnauthorizedAccount"
    )
    w.registry.assign_department(pending.address, w.addr("consumer"))
    # for good: no second assignment
    assert refused(lambda: w.registry.assign_department(pending.address, w.addr("other"))) == (
        "InvalidDepartment",
        {"account": pending.address, "department": w.addr("other")},
    )
    assert w.registry.department_of(pending.address) == w.addr("consumer")


def test_lifetime_ceilings_default_and_are_checked(world: World) -> None:
    assert Policy(epsilon_ceiling=E("2")).lifetime() == (
        Epsilon(2000 * LIFETIME_GRANTS),
        Delta(0),
        Epsilon(2000 * LIFETIME_GRANTS),
        Delta(0),
    )
    with pytest.raises(InvalidInput):
        Policy(epsilon_ceiling=E("2"), lifetime_epsilon=E("1")).as_abi()
    with pytest.raises(InvalidInput):
        Policy(epsilon_ceiling=E("1"), department_epsilon=E("2"), lifetime_epsilon=E("3")).as_abi()
    # the contract refuses such policies too, whoever builds them
    owner = world.sharing["owner"]
    for lifetime, department in ((999, 5000), (3000, 2999)):
        abi = (4, 0, False, 1000, lifetime, 0, department, 0)
        with pytest.raises(ContractReverted) as info:
            owner.client.transact(owner.catalog, "setPolicy", world.dataset, abi)
        assert info.value.error == "InvalidPolicy"
    changed = owner.client.transact(
        owner.catalog, "setPolicy", world.dataset, (4, 0, False, 1000, 1000, 5, 3000, 7)
    )
    assert changed.event("PolicyChanged").args["policy"] == (4, 0, False, 1000, 1000, 5, 3000, 7)
