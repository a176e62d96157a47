"""AccessManager and DataCatalog: the role × action × state matrix, exact errors and events,
expiry, and a Hypothesis state machine showing that no call sequence lets an unauthorized
account reach a released key or an approval count twice."""

from __future__ import annotations

import itertools
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from node.chain.backend import open_backend
from node.chain.client import ChainClient, new_account
from node.chain.errors import ContractReverted
from node.privacy.budget import Delta, Epsilon
from node.registry.registry import GenesisMember, Registry, deploy_registry
from node.sharing.contracts import Mode, Policy, Sharing, State, deploy_sharing

KEY = b"\x11" * 32
SEALED = b"\x22" * 80
ACTORS = ("owner", "reviewer", "consumer", "other", "regulator", "stranger", "suspended")


@dataclass
class World:
    backend: object
    sharing: dict[str, Sharing]
    registry: Registry
    keys: dict[str, bytes]
    dataset: bytes

    def addr(self, who: str) -> str:
        return self.sharing[who].client.address


def build(home: Path, policy: Policy) -> World:
    backend = open_backend("embedded", home=home)
    clients = {a: ChainClient(backend, new_account()) for a in ACTORS}
    roles = {
        "owner": ["provider"],
        "reviewer": ["provider"],
        "consumer": ["consumer"],
        "other": ["consumer", "analyst"],
        "regulator": ["regulator"],
        "suspended": ["consumer"],
    }
    keys = {a: bytes([i + 1]) * 32 for i, a in enumerate(ACTORS)}
    genesis = [
        GenesisMember(clients[a].address, a, r, keys[a], "http://x") for a, r in roles.items()
    ]
    reg_contract, _ = deploy_registry(clients["regulator"], genesis, 1)
    catalog, access = deploy_sharing(clients["regulator"], reg_contract.address)
    sharing = {a: Sharing(c, catalog.address, access.address) for a, c in clients.items()}
    registry = Registry(clients["regulator"], reg_contract.address)
    registry.suspend(clients["suspended"].address, "test")
    sharing["owner"].create_dataset("panel", "internal", policy)
    dataset = sharing["owner"].dataset_id(clients["owner"].address, "panel")
    sharing["owner"].publish_version(dataset, b"\x01" * 32, b"\x02" * 32, b"\x03" * 32, 10)
    return World(backend, sharing, registry, keys, dataset)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    w = build(
        tmp_path_factory.mktemp("am") / "chain",
        Policy(reviewer_approvals=1, raw_allowed=True, epsilon_ceiling=Epsilon.parse("2")),
    )
    yield w
    w.backend.close()


def new_request(w: World, state: State) -> int:
    """A RAW request of `consumer`, driven to `state`."""
    r = w.sharing["consumer"].apply(w.dataset, 1, "p", Mode.RAW, duration=3600)
    rid = r.event("AccessRequested").args["requestId"]
    if state in (State.AUTHORIZED, State.RELEASED, State.REVOKED):
        w.sharing["owner"].approve(rid)
        w.sharing["reviewer"].approve(rid)
    if state == State.RELEASED:
        w.sharing["owner"].release(rid, SEALED, w.keys["consumer"])
    if state == State.REJECTED:
        w.sharing["owner"].reject(rid, "no")
    if state == State.REVOKED:
        w.sharing["owner"].revoke(rid, "no")
    assert w.sharing["consumer"].request(rid).state == state
    return rid


def allowed(action: str, actor: str, state: State) -> bool:
    """The rules, written once in Python: who may do what in which state."""
    if action == "approve":
        # reviewers: active providers other than the owner and the consumer (not regulators)
        return state == State.PENDING and actor in ("owner", "reviewer")
    if action == "reject":
        return state == State.PENDING and actor == "owner"
    if action == "release":
        return state in (State.AUTHORIZED, State.RELEASED) and actor == "owner"
    if action == "revoke":
        return state in (State.PENDING, State.AUTHORIZED, State.RELEASED) and actor in (
            "owner",
            "regulator",
        )
    raise AssertionError(action)


def attempt(w: World, action: str, actor: str, rid: int):
    sh = w.sharing[actor]
    if action == "approve":
        return sh.approve(rid)
    if action == "reject":
        return sh.reject(rid, "r")
    if action == "release":
        return sh.release(rid, SEALED, w.keys["consumer"])
    return sh.revoke(rid, "r")


def set_policy(w: World, actor: str, policy: Policy):
    sh = w.sharing[actor]
    return sh.client.transact(sh.catalog, "setPolicy", w.dataset, policy.as_abi())


STATES = [State.PENDING, State.AUTHORIZED, State.RELEASED, State.REJECTED, State.REVOKED]


@pytest.mark.parametrize(
    ("action", "state"), list(itertools.product(["approve", "reject", "release", "revoke"], STATES))
)
def test_matrix_role_action_state(world: World, action: str, state: State) -> None:
    for actor in ACTORS:
        rid = new_request(world, state)
        before = world.sharing["consumer"].request(rid)
        if allowed(action, actor, state):
            attempt(world, action, actor, rid)
        else:
            with pytest.raises(ContractReverted) as info:
                attempt(world, action, actor, rid)
            assert info.value.error in ("NotDecider", "WrongState"), (actor, info.value.error)
            assert world.sharing["consumer"].request(rid) == before  # nothing changed
        # only the consumer's registered key ever holds a released key
        sealed, sealed_for = world.sharing["consumer"].wrapped_key(rid)
        if sealed:
            assert sealed_for == world.keys["consumer"]


@pytest.mark.parametrize("actor", ["regulator", "consumer", "other", "stranger", "suspended"])
def test_only_the_owner_and_providers_review(world: World, actor: str) -> None:
    """The one reviewer rule (README, AccessManager's NatSpec, the audit's
    non_reviewer_approval): an active provider other than the owner and the consumer."""
    rid = new_request(world, State.PENDING)
    with pytest.raises(ContractReverted) as info:
        world.sharing[actor].approve(rid)
    assert (info.value.error, info.value.error_args) == (
        "NotDecider",
        {"requestId": rid, "account": world.addr(actor)},
    )
    sh = world.sharing["consumer"]
    assert not sh.client.call(sh.access, "hasApproved", rid, world.addr(actor))
    done = world.sharing["reviewer"].approve(rid)
    assert done.event("AccessApproved").args == {
        "requestId": rid,
        "approver": world.addr("reviewer"),
        "isOwner": False,
        "approvals": 1,
    }


@pytest.mark.parametrize(
    ("actor", "mode", "epsilon", "error"),
    [
        ("stranger", Mode.RAW, 0.0, "NotEligible"),
        ("suspended", Mode.RAW, 0.0, "NotEligible"),
        ("reviewer", Mode.RAW, 0.0, "NotEligible"),  # a provider without CONSUMER
        ("regulator", Mode.DP, 1.0, "NotEligible"),
        ("consumer", Mode.RAW, 0.5, "InvalidEpsilon"),
        ("consumer", Mode.DP, 0.0, "InvalidEpsilon"),
        ("other", Mode.DP, 2.5, "InvalidEpsilon"),
    ],
)
def test_apply_refusals(world: World, actor: str, mode: Mode, epsilon: float, error: str) -> None:
    with pytest.raises(ContractReverted) as info:
        world.sharing[actor].apply(
            world.dataset,
            1,
            "p",
            mode,
            epsilon=Epsilon.parse(epsilon, allow_zero=True),
            duration=3600,
        )
    assert info.value.error == error


def test_events_and_exact_arguments(world: World) -> None:
    c = world.sharing["consumer"]
    r = c.apply(world.dataset, 1, "why", Mode.RAW, duration=3600)
    req = r.event("AccessRequested").args
    rid = req["requestId"]
    assert {k: v for k, v in req.items() if k != "purposeHash"} == {
        "requestId": rid,
        "datasetId": world.dataset,
        "consumer": world.addr("consumer"),
        "version": 1,
        "mode": 0,
        "epsilonMilli": 0,
        "duration": 3600,
    }
    owner = world.sharing["owner"].approve(rid)
    assert owner.event("AccessApproved").args == {
        "requestId": rid,
        "approver": world.addr("owner"),
        "isOwner": True,
        "approvals": 0,
    }
    done = world.sharing["reviewer"].approve(rid)
    assert [e.event for e in done.events] == ["AccessApproved", "AccessAuthorized"]
    rel = world.sharing["owner"].release(rid, SEALED, world.keys["consumer"])
    assert rel.event("KeyReleased").args == {
        "requestId": rid,
        "consumerKey": world.keys["consumer"],
        "wrappedKey": SEALED,
    }
    with pytest.raises(ContractReverted) as stale:
        world.sharing["owner"].release(rid, SEALED, world.keys["other"])
    assert stale.value.error_args == {
        "used": world.keys["other"],
        "registered": world.keys["consumer"],
    }
    with pytest.raises(ContractReverted) as short:
        world.sharing["owner"].release(rid, b"\x00" * 79, world.keys["consumer"])
    assert short.value.error_args == {"length": 79}
    assert c.is_usable(rid)


def test_grants_expire(tmp_path: Path) -> None:
    w = build(tmp_path / "chain", Policy(auto_approve_roles=("consumer",), raw_allowed=True))
    try:
        rid = (
            w.sharing["consumer"]
            .apply(w.dataset, 1, "p", Mode.RAW, duration=60)
            .event("AccessRequested")
            .args["requestId"]
        )
        w.sharing["owner"].release(rid, SEALED, w.keys["consumer"])
        assert w.sharing["consumer"].is_usable(rid)
        # one block per transaction, at least one second apart: 61 quick ones pass a minute
        for _ in range(61):
            w.registry.client.transact(w.registry.contract, "setEndpoint", "http://y")
        assert not w.sharing["consumer"].is_usable(rid)
        with pytest.raises(ContractReverted) as info:
            w.sharing["owner"].release(rid, SEALED, w.keys["consumer"])
        assert info.value.error == "Expired"
    finally:
        w.backend.close()


def test_a_suspended_owner_decides_nothing(tmp_path: Path) -> None:
    """A suspended member does nothing: its datasets' pending requests wait, its grants and
    its policies stay as they are until a regulator reinstates it (a regulator may still
    revoke)."""
    start = Policy(reviewer_approvals=1, raw_allowed=True, epsilon_ceiling=Epsilon.parse("2"))
    w = build(tmp_path / "chain", start)
    try:
        owner, me = w.sharing["owner"], w.addr("owner")
        pending = new_request(w, State.PENDING)
        granted = new_request(w, State.AUTHORIZED)
        w.registry.suspend(me, "test")
        for call in (
            lambda: owner.approve(pending),
            lambda: owner.reject(pending, "r"),
            lambda: owner.revoke(granted, "r"),
        ):
            with pytest.raises(ContractReverted) as info:
                call()
            assert (info.value.error, info.value.error_args) == (
                "NotActiveMember",
                {"account": me},
            )
        looser = Policy(auto_approve_roles=("consumer",), raw_allowed=True)
        with pytest.raises(ContractReverted) as policy:
            set_policy(w, "owner", looser)
        assert (policy.value.error, policy.value.error_args) == ("NotProvider", {"account": me})
        assert owner.client.call(owner.catalog, "ownerAndPolicy", w.dataset)[1] == start.as_abi()
        assert owner.request(pending).state == State.PENDING
        assert not owner.request(pending).owner_approved
        assert owner.request(granted).state == State.AUTHORIZED
        w.sharing["regulator"].revoke(granted, "regulator")  # the regulator still can

        w.registry.reinstate(me)
        done = owner.approve(pending)
        assert done.event("AccessApproved").args == {
            "requestId": pending,
            "approver": me,
            "isOwner": True,
            "approvals": 0,
        }
        changed = set_policy(w, "owner", looser)
        assert changed.event("PolicyChanged").args == {
            "datasetId": w.dataset,
            "policy": looser.as_abi(),
        }
    finally:
        w.backend.close()


#: the machine's lifetime ceilings in milli-ε: per account, and per department (other and
#: sibling, a second account of other's department, share it)
LIFETIME, DEPARTMENT = 3000, 4000


class AccessMachine(RuleBasedStateMachine):
    """Random applications, decisions and DP spends by random actors against a Python model:
    no grant and no lifetime budget (of an account, or of a department over its accounts)
    is ever overspent, however often a consumer applies again."""

    @initialize()
    def setup(self) -> None:
        self.tmp = tempfile.TemporaryDirectory()
        self.w = build(
            Path(self.tmp.name) / "chain",
            Policy(
                auto_approve_roles=("analyst",),
                reviewer_approvals=1,
                raw_allowed=True,
                epsilon_ceiling=Epsilon.parse("2"),
                lifetime_epsilon=Epsilon(LIFETIME),
                department_epsilon=Epsilon(DEPARTMENT),
            ),
        )
        client = ChainClient(self.w.backend, new_account())
        Registry(client, self.w.registry.address).register(
            "sibling", ["analyst"], b"\x55" * 32, "http://x"
        )
        self.w.registry.assign_department(client.address, self.w.addr("other"))
        self.w.registry.approve(client.address)
        owner = self.w.sharing["owner"]
        self.w.sharing["sibling"] = Sharing(client, owner.catalog.address, owner.access.address)
        self.w.keys["sibling"] = b"\x55" * 32
        self.model: dict[int, dict] = {}
        self.owner_active = True
        self.reviewers_needed = 1
        #: milli-ε spent per consumer account, and per department
        self.account_spent: dict[str, int] = {}
        self.department_spent: dict[str, int] = {}

    def teardown(self) -> None:
        if hasattr(self, "w"):
            self.w.backend.close()
            self.tmp.cleanup()

    @rule(
        actor=st.sampled_from(["consumer", "other", "sibling", "stranger", "owner"]),
        dp=st.booleans(),
    )
    def apply(self, actor: str, dp: bool) -> None:
        sh = self.w.sharing[actor]
        # sibling is an analyst only: DP, not RAW
        eligible = actor in ("consumer", "other") or (actor == "sibling" and dp)
        try:
            r = sh.apply(
                self.w.dataset,
                1,
                "p",
                Mode.DP if dp else Mode.RAW,
                epsilon=Epsilon.parse("1") if dp else Epsilon(0),
                duration=3600,
            )
        except ContractReverted:
            assert not eligible
            return
        assert eligible
        rid = r.event("AccessRequested").args["requestId"]
        auto = actor in ("other", "sibling")  # the analyst role is auto-approved
        self.model[rid] = {
            "consumer": actor,
            "dp": dp,
            "spent": 0,
            "owner_ok": False,
            "reviewers": set(),
            "state": State.AUTHORIZED if auto else State.PENDING,
        }

    @rule(active=st.booleans())
    def suspend_or_reinstate_owner(self, active: bool) -> None:
        if active == self.owner_active:
            return
        owner = self.w.addr("owner")
        if active:
            self.w.registry.reinstate(owner)
        else:
            self.w.registry.suspend(owner, "machine")
        self.owner_active = active

    @rule(actor=st.sampled_from(ACTORS), reviewers=st.integers(0, 2))
    def set_policy(self, actor: str, reviewers: int) -> None:
        policy = Policy(
            auto_approve_roles=("analyst",),
            reviewer_approvals=reviewers,
            raw_allowed=True,
            epsilon_ceiling=Epsilon.parse("2"),
        )
        if actor != "owner" or not self.owner_active:  # a suspended owner changes nothing
            with pytest.raises(ContractReverted) as info:
                set_policy(self.w, actor, policy)
            assert info.value.error == ("NotProvider" if actor == "owner" else "NotOwner")
            return
        set_policy(self.w, actor, policy)
        self.reviewers_needed = reviewers

    @rule(
        actor=st.sampled_from(ACTORS),
        pick=st.integers(0, 30),
        action=st.sampled_from(["approve", "reject", "release", "revoke"]),
    )
    def decide(self, actor: str, pick: int, action: str) -> None:
        if not self.model:
            return
        rid = sorted(self.model)[pick % len(self.model)]
        m = self.model[rid]
        ok = allowed(action, actor, m["state"])
        if action == "approve" and ok:
            ok = (
                actor != m["consumer"]
                and actor not in m["reviewers"]
                and not (actor == "owner" and m["owner_ok"])
            )
        if action == "release" and ok:
            ok = not m["dp"]
        if actor == "owner" and not self.owner_active:
            ok = False  # a suspended owner decides nothing (a regulator still revokes)
        if action == "release":
            consumer_key = self.w.keys[m["consumer"]]
            call = lambda: self.w.sharing[actor].release(rid, SEALED, consumer_key)  # noqa: E731
        else:
            call = lambda: attempt(self.w, action, actor, rid)  # noqa: E731
        if not ok:
            with pytest.raises(ContractReverted):
                call()
            return
        call()
        if action == "approve":
            if actor == "owner":
                m["owner_ok"] = True
            else:
                m["reviewers"].add(actor)
            if m["owner_ok"] and len(m["reviewers"]) >= self.reviewers_needed:
                m["state"] = State.AUTHORIZED
        elif action == "reject":
            m["state"] = State.REJECTED
        elif action == "release":
            m["state"] = State.RELEASED
        else:
            m["state"] = State.REVOKED

    @rule(pick=st.integers(0, 30), milli=st.sampled_from([300, 700, 1000, 1300]))
    def spend(self, pick: int, milli: int) -> None:
        if not self.model:
            return
        rid = sorted(self.model)[pick % len(self.model)]
        m = self.model[rid]
        consumer = m["consumer"]
        department = "other" if consumer == "sibling" else consumer
        expected = None
        if not m["dp"]:
            expected = "NotDp"
        elif m["state"] not in (State.AUTHORIZED, State.RELEASED) or not self.owner_active:
            # a grant of a suspended owner's dataset is unusable: nothing is answered
            expected = "NotUsable"
        elif m["spent"] + milli > 1000:  # the grant's own ceiling (ε 1 asked)
            expected = "BudgetExceeded"
        elif self.account_spent.get(consumer, 0) + milli > LIFETIME:
            expected = "LifetimeBudgetExceeded"
        elif self.department_spent.get(department, 0) + milli > DEPARTMENT:
            expected = "DepartmentBudgetExceeded"
        call = lambda: self.w.sharing["owner"].spend(  # noqa: E731
            rid, Epsilon(milli), Delta(0), b"\x01" * 32, b"\x02" * 32
        )
        if expected is not None:
            with pytest.raises(ContractReverted) as info:
                call()
            assert info.value.error == expected
            return
        call()
        m["spent"] += milli
        self.account_spent[consumer] = self.account_spent.get(consumer, 0) + milli
        self.department_spent[department] = self.department_spent.get(department, 0) + milli

    @invariant()
    def chain_agrees(self) -> None:
        if not hasattr(self, "w"):
            return
        sh = self.w.sharing["regulator"]
        for who in ("consumer", "other", "sibling"):
            life = sh.lifetime_budget(self.w.addr(who), self.w.dataset)
            department = "other" if who == "sibling" else who
            assert life.department == self.w.addr(department)
            assert life.account.spent.milli == self.account_spent.get(who, 0) <= LIFETIME
            assert (
                life.department_ledger.spent.milli
                == self.department_spent.get(department, 0)
                <= DEPARTMENT
            )
        for rid, m in self.model.items():
            info = sh.request(rid)
            assert info.state == m["state"]
            assert sh.budget(rid).spent.milli == m["spent"]
            assert info.approvals == len(m["reviewers"])  # no approval counted twice
            sealed, sealed_for = sh.wrapped_key(rid)
            if sealed:  # a key only ever reaches the request's own consumer, via the owner
                assert m["state"] == State.RELEASED and not m["dp"]
                assert sealed_for == self.w.keys[m["consumer"]]


AccessMachine.TestCase.settings = settings(
    max_examples=15,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestAccessStateMachine = AccessMachine.TestCase


def test_privacy_budget_is_spent_on_chain_and_never_exceeded(tmp_path: Path) -> None:
    import threading

    w = build(
        tmp_path / "chain",
        Policy(
            auto_approve_roles=("analyst",),
            raw_allowed=False,
            epsilon_ceiling=Epsilon.parse("2"),
            lifetime_delta=Delta.parse("1e-5"),
        ),
    )
    try:
        analyst, owner = w.sharing["other"], w.sharing["owner"]
        rid = (
            analyst.apply(w.dataset, 1, "dp", Mode.DP, epsilon=Epsilon.parse("1"), duration=3600)
            .event("AccessRequested")
            .args["requestId"]
        )
        q, r = b"\x0a" * 32, b"\x0b" * 32
        paid = owner.spend(rid, Epsilon.parse("0.25"), Delta.parse("1e-6"), q, r)
        assert paid.event("BudgetSpent").args == {
            "requestId": rid,
            "epsilonMilli": 250,
            "deltaNano": 1000,
            "spentMilli": 250,
            "queryHash": q,
            "resultHash": r,
        }
        assert owner.budget(rid) == (Epsilon.parse("1"), Epsilon.parse("0.25"))
        with pytest.raises(ContractReverted) as over:
            owner.spend(rid, Epsilon.parse("0.8"), Delta(0), q, r)
        assert (over.value.error, over.value.error_args) == (
            "BudgetExceeded",
            {"requestId": rid, "asked": 800, "remaining": 750},
        )
        with pytest.raises(ContractReverted) as not_owner:
            analyst.spend(rid, Epsilon.parse("0.1"), Delta(0), q, r)
        assert not_owner.value.error == "NotDecider"
        # 50 concurrent spends of 0.05 at the boundary: exactly 15 fit in the 0.75 left
        results: list[bool] = []

        def one() -> None:
            try:
                owner.spend(rid, Epsilon.parse("0.05"), Delta(0), q, r)
                results.append(True)
            except ContractReverted as exc:
                assert exc.error == "BudgetExceeded"
                results.append(False)

        threads = [threading.Thread(target=one) for _ in range(50)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results.count(True) == 15
        assert owner.budget(rid) == (Epsilon.parse("1"), Epsilon.parse("1"))
        owner.revoke(rid, "done")
        with pytest.raises(ContractReverted) as gone:
            owner.spend(rid, Epsilon.parse("0.01"), Delta(0), q, r)
        assert gone.value.error == "NotUsable"
        raw_rid = (
            w.sharing["consumer"]
            .apply(w.dataset, 1, "x", Mode.DP, epsilon=Epsilon.parse("0.5"), duration=3600)
            .event("AccessRequested")
            .args["requestId"]
        )
        assert w.sharing["consumer"].request(raw_rid).state == State.PENDING
        with pytest.raises(ContractReverted) as pending:
            owner.spend(raw_rid, Epsilon.parse("0.1"), Delta(0), q, r)
        assert pending.value.error == "NotUsable"
    finally:
        w.backend.close()


def test_raw_grants_have_no_budget(world: World) -> None:
    rid = new_request(world, State.RELEASED)
    with pytest.raises(ContractReverted) as info:
        world.sharing["owner"].spend(
            rid, Epsilon.parse("0.1"), Delta(0), b"\x01" * 32, b"\x02" * 32
        )
    assert info.value.error == "NotDp"
