"""NodeRegistry: every error path with its exact custom error, every event with its arguments,
and a Hypothesis state machine over random call sequences."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_utils import keccak
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from node.chain.backend import open_backend
from node.chain.client import ChainClient, new_account
from node.chain.errors import ContractReverted
from node.registry.registry import GenesisMember, Registry, Status, deploy_registry, reason_hash

KEY_A = b"\xa1" * 32
KEY_B = b"\xb2" * 32
REGULATOR_ROLE = keccak(text="REGULATOR")
PROVIDER_ROLE = keccak(text="PROVIDER")
#: names the state machine registers under: collisions with each other and with genesis
NAMES = ("d0", "d1", "d2", "drc")


class Net:
    """A registry with two genesis regulators (threshold 2) and helpers for new accounts."""

    def __init__(self, home: Path, threshold: int = 2) -> None:
        self.backend = open_backend("embedded", home=home)
        self.reg1 = ChainClient(self.backend, new_account())
        self.reg2 = ChainClient(self.backend, new_account())
        contract, self.deployed = deploy_registry(
            self.reg1,
            [
                GenesisMember(
                    self.reg1.address, "drc", ["regulator"], KEY_A, "http://127.0.0.1:8601"
                ),
                GenesisMember(
                    self.reg2.address,
                    "eco-reg",
                    ["regulator", "consumer"],
                    KEY_B,
                    "http://127.0.0.1:8602",
                ),
            ],
            threshold,
        )
        self.address = contract.address
        self.r1 = Registry(self.reg1, self.address)
        self.r2 = Registry(self.reg2, self.address)

    def newcomer(self) -> Registry:
        return Registry(ChainClient(self.backend, new_account()), self.address)


@pytest.fixture
def net(tmp_path: Path):
    n = Net(tmp_path / "chain")
    yield n
    n.backend.close()


def reverts(fn, error: str, **args) -> None:
    with pytest.raises(ContractReverted) as info:
        fn()
    assert (info.value.error, info.value.error_args) == (error, args)


def test_genesis_members_are_active_with_roles(net: Net) -> None:
    events = [(e.event, e.args) for e in net.deployed.events if e.event != "RoleGranted"]
    assert events == [
        (
            "MemberRegistered",
            {
                "account": net.reg1.address,
                "name": "drc",
                "roles": 8,
                "encryptionKey": KEY_A,
                "endpoint": "http://127.0.0.1:8601",
            },
        ),
        ("MemberActivated", {"account": net.reg1.address, "roles": 8}),
        (
            "MemberRegistered",
            {
                "account": net.reg2.address,
                "name": "eco-reg",
                "roles": 10,
                "encryptionKey": KEY_B,
                "endpoint": "http://127.0.0.1:8602",
            },
        ),
        ("MemberActivated", {"account": net.reg2.address, "roles": 10}),
    ]
    m = net.r1.member(net.reg2.address)
    assert (m.status, m.roles, m.name) == (Status.ACTIVE, ["consumer", "regulator"], "eco-reg")
    assert net.r1.threshold() == 2
    assert net.reg1.call(net.r1.contract, "hasRole", REGULATOR_ROLE, net.reg1.address)


@pytest.mark.parametrize(("threshold", "regulators"), [(0, 1), (2, 1)])
def test_constructor_rejects_bad_threshold(tmp_path: Path, threshold: int, regulators: int) -> None:
    backend = open_backend("embedded", home=tmp_path / "c")
    client = ChainClient(backend, new_account())
    genesis = [GenesisMember(client.address, "drc", ["regulator"], KEY_A, "http://x")]
    reverts(
        lambda: deploy_registry(client, genesis, threshold),
        "InvalidThreshold",
        threshold=threshold,
        regulators=regulators,
    )
    backend.close()


def test_registration_needs_threshold_approvals(net: Net) -> None:
    stats = net.newcomer()
    result = stats.register("stats", ["provider"], KEY_B, "http://127.0.0.1:8603")
    assert [(e.event, e.args) for e in result.events] == [
        (
            "MemberRegistered",
            {
                "account": stats.client.address,
                "name": "stats",
                "roles": 1,
                "encryptionKey": KEY_B,
                "endpoint": "http://127.0.0.1:8603",
            },
        )
    ]
    assert net.r1.member(stats.client.address).status == Status.PENDING
    first = net.r1.approve(stats.client.address)
    assert [(e.event, e.args) for e in first.events] == [
        (
            "RegistrationApproved",
            {"account": stats.client.address, "regulator": net.reg1.address, "approvals": 1},
        )
    ]
    assert not stats.client.call(stats.contract, "hasRole", PROVIDER_ROLE, stats.client.address)
    second = net.r2.approve(stats.client.address)
    assert [e.event for e in second.events] == [
        "RegistrationApproved",
        "RoleGranted",
        "MemberActivated",
    ]
    assert second.event("MemberActivated").args == {"account": stats.client.address, "roles": 1}
    assert net.r1.member(stats.client.address).status == Status.ACTIVE
    assert stats.client.call(stats.contract, "hasRole", PROVIDER_ROLE, stats.client.address)


def test_every_refusal_has_its_exact_error(net: Net) -> None:
    stats = net.newcomer()
    addr = stats.client.address
    reverts(
        lambda: stats.client.transact(stats.contract, "register", "s", 0, KEY_A, "http://x"),
        "InvalidRoles",
        roles=0,
    )
    reverts(
        lambda: stats.client.transact(stats.contract, "register", "s", 16, KEY_A, "http://x"),
        "InvalidRoles",
        roles=16,
    )
    reverts(
        lambda: stats.register("s", ["provider"], b"\0" * 32, "http://x"), "InvalidEncryptionKey"
    )
    reverts(lambda: stats.register("", ["provider"], KEY_A, "http://x"), "InvalidText")
    reverts(lambda: stats.register("s", ["provider"], KEY_A, "x" * 257), "InvalidText")
    reverts(lambda: net.r1.approve(addr), "NotRegistered", account=addr)
    reverts(lambda: stats.rotate_encryption_key(KEY_B), "NotRegistered", account=addr)
    stats.register("stats", ["provider"], KEY_A, "http://x")
    reverts(
        lambda: stats.register("stats", ["provider"], KEY_A, "http://x"),
        "AlreadyRegistered",
        account=addr,
    )
    # only active regulators approve, suspend, reinstate
    reverts(
        lambda: stats.approve(addr),
        "AccessControlUnauthorizedAccount",
        account=addr,
        neededRole=REGULATOR_ROLE,
    )
    reverts(lambda: net.r1.approve(net.reg1.address), "SelfAction", account=net.reg1.address)
    net.r1.approve(addr)
    reverts(
        lambda: net.r1.approve(addr), "AlreadyApproved", account=addr, regulator=net.reg1.address
    )
    reverts(
        lambda: net.r1.suspend(addr, "x"),
        "WrongStatus",
        account=addr,
        expected=Status.ACTIVE,
        actual=Status.PENDING,
    )
    reverts(
        lambda: net.r1.reinstate(addr),
        "WrongStatus",
        account=addr,
        expected=Status.SUSPENDED,
        actual=Status.PENDING,
    )
    net.r2.approve(addr)
    reverts(
        lambda: net.r1.approve(addr),
        "WrongStatus",
        account=addr,
        expected=Status.PENDING,
        actual=Status.ACTIVE,
    )
    reverts(lambda: stats.rotate_encryption_key(b"\0" * 32), "InvalidEncryptionKey")
    reverts(lambda: stats.set_endpoint(""), "InvalidText")
    reverts(lambda: net.r1.suspend(net.reg1.address, "x"), "SelfAction", account=net.reg1.address)
    # nobody administers roles directly
    reverts(
        lambda: net.reg1.transact(net.r1.contract, "grantRole", PROVIDER_ROLE, net.reg1.address),
        "AccessControlUnauthorizedAccount",
        account=net.reg1.address,
        neededRole=b"\0" * 32,
    )


def test_suspension_disables_every_role_and_reinstatement_restores(net: Net) -> None:
    stats = net.newcomer()
    addr = stats.client.address
    stats.register("stats", ["provider"], KEY_A, "http://x")
    net.r1.approve(addr)
    net.r2.approve(addr)
    result = net.r1.suspend(addr, "leaked a dataset")
    assert [(e.event, e.args) for e in result.events] == [
        (
            "MemberSuspended",
            {
                "account": addr,
                "regulator": net.reg1.address,
                "reasonHash": reason_hash("leaked a dataset"),
            },
        )
    ]
    assert not stats.client.call(stats.contract, "hasRole", PROVIDER_ROLE, addr)
    reverts(
        lambda: stats.rotate_encryption_key(KEY_B),
        "WrongStatus",
        account=addr,
        expected=Status.ACTIVE,
        actual=Status.SUSPENDED,
    )
    reverts(
        lambda: stats.set_endpoint("http://y"),
        "WrongStatus",
        account=addr,
        expected=Status.ACTIVE,
        actual=Status.SUSPENDED,
    )
    reverts(
        lambda: net.r2.suspend(addr, "again"),
        "WrongStatus",
        account=addr,
        expected=Status.ACTIVE,
        actual=Status.SUSPENDED,
    )
    # a suspended regulator can do nothing either
    net.r2.suspend(net.reg1.address, "x")
    reverts(
        lambda: net.r1.reinstate(addr),
        "AccessControlUnauthorizedAccount",
        account=net.reg1.address,
        neededRole=REGULATOR_ROLE,
    )
    net.r2.reinstate(net.reg1.address)
    back = net.r1.reinstate(addr)
    assert [(e.event, e.args) for e in back.events] == [
        ("MemberReinstated", {"account": addr, "regulator": net.reg1.address})
    ]
    assert stats.client.call(stats.contract, "hasRole", PROVIDER_ROLE, addr)


def test_rotation_by_the_member_itself(net: Net) -> None:
    stats = net.newcomer()
    addr = stats.client.address
    stats.register("stats", ["provider"], KEY_A, "http://x")
    rotated = stats.rotate_encryption_key(KEY_B)
    assert rotated.event("EncryptionKeyRotated").args == {"account": addr, "encryptionKey": KEY_B}
    moved = stats.set_endpoint("http://127.0.0.1:9999")
    assert moved.event("EndpointChanged").args == {
        "account": addr,
        "endpoint": "http://127.0.0.1:9999",
    }
    m = net.r1.member(addr)
    assert (m.encryption_key, m.endpoint) == (KEY_B, "http://127.0.0.1:9999")


def test_department_names_are_unique(tmp_path: Path, net: Net) -> None:
    first, second = net.newcomer(), net.newcomer()
    # a genesis member's name, and a pending member's, are taken
    reverts(
        lambda: first.register("drc", ["consumer"], KEY_A, "http://x"),
        "NameTaken",
        name="drc",
        holder=net.reg1.address,
    )
    first.register("stats", ["provider"], KEY_A, "http://x")
    reverts(
        lambda: second.register("stats", ["consumer"], KEY_B, "http://evil"),
        "NameTaken",
        name="stats",
        holder=first.client.address,
    )
    assert net.r1.member(second.client.address).status == Status.NONE  # nothing stored
    assert net.r1.account_of("stats") == first.client.address
    assert net.r1.account_of("drc") == net.reg1.address
    assert net.r1.account_of("nobody") is None
    # names are compared byte for byte
    second.register("stats ", ["consumer"], KEY_B, "http://x")
    assert net.r1.account_of("stats ") == second.client.address
    # the name stays taken through suspension (there is no rename and no deregistration)
    net.r1.approve(first.client.address)
    net.r2.approve(first.client.address)
    net.r1.suspend(first.client.address, "x")
    reverts(
        lambda: net.newcomer().register("stats", ["provider"], KEY_A, "http://x"),
        "NameTaken",
        name="stats",
        holder=first.client.address,
    )
    # genesis lists are held to the same rule
    backend = open_backend("embedded", home=tmp_path / "g")
    client = ChainClient(backend, new_account())
    other = new_account().address
    try:
        reverts(
            lambda: deploy_registry(
                client,
                [
                    GenesisMember(client.address, "drc", ["regulator"], KEY_A, "http://a"),
                    GenesisMember(other, "drc", ["provider"], KEY_B, "http://b"),
                ],
                1,
            ),
            "NameTaken",
            name="drc",
            holder=client.address,
        )
    finally:
        backend.close()


def test_network_contracts_are_named_once_by_a_regulator(net: Net) -> None:
    from node.audit.contracts import deploy_audit
    from node.commitments.contracts import deploy_commitments
    from node.joint.contracts import deploy_joint
    from node.sharing.contracts import deploy_sharing

    catalog, access = deploy_sharing(net.reg1, net.address)
    audit = deploy_audit(net.reg1, net.address)
    commitments = deploy_commitments(net.reg1, net.address)
    joint = deploy_joint(net.reg1, net.address, catalog.address, access.address)
    assert net.r1.network_contracts() is None
    outsider = net.newcomer()
    reverts(
        lambda: outsider.set_network_contracts(
            catalog.address, access.address, audit.address, commitments.address, joint.address
        ),
        "AccessControlUnauthorizedAccount",
        account=outsider.client.address,
        neededRole=REGULATOR_ROLE,
    )
    nobody = new_account().address  # an account without code is no contract
    reverts(
        lambda: net.r1.set_network_contracts(
            catalog.address, nobody, audit.address, commitments.address, joint.address
        ),
        "InvalidContract",
        account=nobody,
    )
    reverts(
        lambda: net.r1.set_network_contracts(
            catalog.address, access.address, audit.address, commitments.address, nobody
        ),
        "InvalidContract",
        account=nobody,
    )
    result = net.r1.set_network_contracts(
        catalog.address, access.address, audit.address, commitments.address, joint.address
    )
    assert [(e.event, e.args) for e in result.events] == [
        (
            "NetworkContractsSet",
            {
                "regulator": net.reg1.address,
                "catalog": catalog.address,
                "access": access.address,
                "audit": audit.address,
                "commitments": commitments.address,
                "joint": joint.address,
            },
        )
    ]
    assert net.r2.network_contracts() == {
        "catalog": catalog.address,
        "access": access.address,
        "audit": audit.address,
        "commitments": commitments.address,
        "joint": joint.address,
    }
    # named once: no regulator can point the network at other contracts later
    reverts(
        lambda: net.r2.set_network_contracts(
            access.address, catalog.address, audit.address, commitments.address, joint.address
        ),
        "NetworkContractsAlreadySet",
    )


# ----------------------------------------------------------------------- state machine
class RegistryMachine(RuleBasedStateMachine):
    """Random sequences of register/approve/suspend/reinstate/rotate by random actors.

    A Python model predicts each call's outcome; the chain must agree on every call and the
    invariants (only active regulators act, suspended members hold no role, no approval
    counts twice) must hold after every step.
    """

    def __init__(self) -> None:
        super().__init__()
        self.tmp = None

    @initialize()
    def setup(self) -> None:
        import tempfile

        self.tmp = tempfile.TemporaryDirectory()
        self.net = Net(Path(self.tmp.name) / "chain")
        self.actors = [self.net.r1, self.net.r2] + [self.net.newcomer() for _ in range(3)]
        self.model: dict[str, dict] = {
            self.net.reg1.address: {
                "status": Status.ACTIVE,
                "roles": {"regulator"},
                "approvers": set(),
                "name": "drc",
            },
            self.net.reg2.address: {
                "status": Status.ACTIVE,
                "roles": {"regulator", "consumer"},
                "approvers": set(),
                "name": "eco-reg",
            },
        }

    def teardown(self) -> None:
        if self.tmp is not None:
            self.net.backend.close()
            self.tmp.cleanup()

    def _is_active_regulator(self, addr: str) -> bool:
        m = self.model.get(addr)
        return bool(m and m["status"] == Status.ACTIVE and "regulator" in m["roles"])

    def _expect(self, ok: bool, fn, error: str | None = None) -> None:
        if ok:
            fn()
        else:
            with pytest.raises(ContractReverted) as info:
                fn()
            if error is not None:
                assert info.value.error == error

    @rule(i=st.integers(0, 4), regulator=st.booleans(), name=st.sampled_from(NAMES))
    def register(self, i: int, regulator: bool, name: str) -> None:
        actor = self.actors[i]
        addr = actor.client.address
        roles = ["provider", "regulator"] if regulator else ["consumer"]
        holder = next((a for a, m in self.model.items() if m["name"] == name), None)
        ok = addr not in self.model and holder is None
        error = "AlreadyRegistered" if addr in self.model else "NameTaken"
        self._expect(ok, lambda: actor.register(name, roles, KEY_A, "http://x"), error)
        if ok:
            self.model[addr] = {
                "status": Status.PENDING,
                "roles": set(roles),
                "approvers": set(),
                "name": name,
            }

    @rule(i=st.integers(0, 4), j=st.integers(0, 4))
    def approve(self, i: int, j: int) -> None:
        actor, target = self.actors[i], self.actors[j].client.address
        me = actor.client.address
        m = self.model.get(target)
        ok = (
            self._is_active_regulator(me)
            and me != target
            and m is not None
            and m["status"] == Status.PENDING
            and me not in m["approvers"]
        )
        self._expect(ok, lambda: actor.approve(target))
        if ok:
            m["approvers"].add(me)
            if len(m["approvers"]) >= 2:
                m["status"] = Status.ACTIVE

    @rule(i=st.integers(0, 4), j=st.integers(0, 4))
    def suspend(self, i: int, j: int) -> None:
        actor, target = self.actors[i], self.actors[j].client.address
        me = actor.client.address
        m = self.model.get(target)
        ok = (
            self._is_active_regulator(me)
            and me != target
            and m is not None
            and m["status"] == Status.ACTIVE
        )
        self._expect(ok, lambda: actor.suspend(target, "r"))
        if ok:
            m["status"] = Status.SUSPENDED

    @rule(i=st.integers(0, 4), j=st.integers(0, 4))
    def reinstate(self, i: int, j: int) -> None:
        actor, target = self.actors[i], self.actors[j].client.address
        me = actor.client.address
        m = self.model.get(target)
        ok = (
            self._is_active_regulator(me)
            and me != target
            and m is not None
            and m["status"] == Status.SUSPENDED
        )
        self._expect(ok, lambda: actor.reinstate(target))
        if ok:
            m["status"] = Status.ACTIVE

    @rule(i=st.integers(0, 4))
    def rotate(self, i: int) -> None:
        actor = self.actors[i]
        m = self.model.get(actor.client.address)
        ok = m is not None and m["status"] != Status.SUSPENDED
        self._expect(ok, lambda: actor.rotate_encryption_key(KEY_B))

    @invariant()
    def chain_agrees_with_model(self) -> None:
        if self.tmp is None:
            return
        reader = self.net.r1
        for addr, m in self.model.items():
            info = reader.member(addr)
            assert info.status == m["status"]
            assert (info.name, reader.account_of(m["name"])) == (m["name"], addr)  # one holder
            assert info.approvals == len(m["approvers"])  # no approval counted twice
            is_reg = reader.client.call(reader.contract, "hasRole", REGULATOR_ROLE, addr)
            assert is_reg == self._is_active_regulator(addr)
            if m["status"] != Status.ACTIVE:
                for role in ("PROVIDER", "CONSUMER", "ANALYST", "REGULATOR"):
                    assert not reader.client.call(
                        reader.contract, "hasRole", keccak(text=role), addr
                    )


RegistryMachine.TestCase.settings = settings(
    max_examples=25,
    stateful_step_count=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestRegistryStateMachine = RegistryMachine.TestCase
