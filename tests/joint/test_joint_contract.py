"""JointQuery: admission by preset policy or decision, runs bound to announced certificates,
failure and retry, completion and acknowledgement; exact custom errors and event arguments."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from eth_utils import keccak

from node.audit.contracts import deploy_audit
from node.chain.errors import ContractReverted
from node.commitments.contracts import deploy_commitments
from node.joint.contracts import JointLedger, JointState, deploy_joint
from node.privacy.budget import ZERO_DELTA, Epsilon
from node.registry.registry import Registry
from node.sharing.contracts import Mode, Policy
from tests.contracts.test_access_manager import World, build

QUERY = b"\x51" * 32
CERT = b"\xce" * 32
#: an owner's packed input commitments: two 64-byte points
INPUT = bytes(range(128))


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, dict, dict]]:
    # "owner"'s dataset authorizes consumers by preset policy; "reviewer"'s needs a decision
    w = build(
        tmp_path_factory.mktemp("joint") / "chain",
        Policy(
            auto_approve_roles=("consumer",), raw_allowed=False, epsilon_ceiling=Epsilon.parse("5")
        ),
    )
    s = w.sharing
    s["reviewer"].create_dataset(
        "energy", "internal", Policy(raw_allowed=False, epsilon_ceiling=Epsilon.parse("5"))
    )
    other = s["reviewer"].dataset_id(w.addr("reviewer"), "energy")
    s["reviewer"].publish_version(other, b"\x01" * 32, b"\x02" * 32, b"\x03" * 32, 10)
    grants = {}
    for who, ds in (("consumer", w.dataset), ("consumer2", other)):
        r = s["consumer"].apply(ds, 1, "joint", Mode.DP, Epsilon.parse("2"), duration=3600)
        grants[who] = r.event("AccessRequested").args["requestId"]
    s["reviewer"].approve(grants["consumer2"])
    r = s["other"].apply(w.dataset, 1, "joint", Mode.DP, Epsilon.parse("2"), duration=3600)
    grants["other"] = r.event("AccessRequested").args["requestId"]
    contract = deploy_joint(
        s["regulator"].client,
        w.registry.address,
        s["owner"].catalog.address,
        s["owner"].access.address,
    )
    # the registry names it, so that AccessManager takes its joins' spends
    regulator = s["regulator"].client
    Registry(regulator, w.registry.address).set_network_contracts(
        s["owner"].catalog.address,
        s["owner"].access.address,
        deploy_audit(regulator, w.registry.address).address,
        deploy_commitments(regulator, w.registry.address).address,
        contract.address,
    )
    ledgers = {a: JointLedger(x.client, contract.address) for a, x in s.items()}
    yield w, ledgers, grants
    w.backend.close()


def _revert(fn, *args) -> ContractReverted:
    with pytest.raises(ContractReverted) as exc:
        fn(*args)
    return exc.value


def _propose(ledgers: dict, grants: dict) -> int:
    r = ledgers["consumer"].propose(QUERY, [grants["consumer"], grants["consumer2"]], [500, 700])
    return r.event("JointProposed").args["jointId"]


def test_admission_by_preset_policy_then_by_the_owner(world) -> None:
    w, ledgers, grants = world
    r = ledgers["consumer"].propose(QUERY, [grants["consumer"], grants["consumer2"]], [500, 700])
    jid = r.event("JointProposed").args["jointId"]
    assert r.event("JointProposed").args == {
        "jointId": jid,
        "consumer": w.addr("consumer"),
        "queryHash": QUERY,
        "grantIds": [grants["consumer"], grants["consumer2"]],
        "epsilonMilli": [500, 700],
        "noiseless": False,
    }
    assert r.event("ParticipantAdmitted").args == {
        "jointId": jid,
        "owner": w.addr("owner"),
        "automatic": True,
    }
    assert ledgers["other"].joint(jid).state == JointState.PROPOSED
    parts = ledgers["other"].participants(jid)
    assert [(p.owner, p.grant_id, p.epsilon_milli, p.admitted) for p in parts] == [
        (w.addr("owner"), grants["consumer"], 500, True),
        (w.addr("reviewer"), grants["consumer2"], 700, False),
    ]
    assert _revert(ledgers["owner"].admit, jid).error == "AlreadyDone"
    assert _revert(ledgers["stranger"].admit, jid).error == "NotParticipant"
    assert _revert(ledgers["owner"].join, jid, 0, 1, CERT, "x").error == "WrongState"
    r = ledgers["reviewer"].admit(jid)
    assert r.event("ParticipantAdmitted").args == {
        "jointId": jid,
        "owner": w.addr("reviewer"),
        "automatic": False,
    }
    assert r.event("JointAdmitted").args == {"jointId": jid}
    assert ledgers["other"].joint(jid).state == JointState.ADMITTED


def test_a_run_fails_is_retried_completes_and_is_acknowledged(world) -> None:
    w, ledgers, grants = world
    jid = _propose(ledgers, grants)
    ledgers["reviewer"].admit(jid)
    for bad in (b"", INPUT[:100], INPUT * 2049):
        err = _revert(ledgers["owner"].join, jid, 0, 1, CERT, "x", bad)
        assert (err.error, err.error_args) == (
            "InvalidInputCommitments",
            {"pid": 1, "bytesGiven": len(bad)},
        )
    err = _revert(ledgers["consumer"].join, jid, 0, 0, CERT, "x", INPUT)
    assert (err.error, err.error_args) == ("InvalidInputCommitments", {"pid": 0, "bytesGiven": 128})
    r = ledgers["owner"].join(jid, 0, 1, CERT, "127.0.0.1:7001", INPUT)
    assert r.event("InputCommitted").args == {
        "jointId": jid,
        "owner": w.addr("owner"),
        "pid": 1,
        "digest": keccak(INPUT),
        "count": 2,
        "commitments": INPUT,
    }
    assert ledgers["other"].participants(jid)[0].input_digest == keccak(INPUT)
    # the join spent the entry's ε on the grant with the query's hash, in this transaction
    spent = [
        w.sharing["owner"].access.abi.decode_log(log)
        for log in r.receipt.logs
        if log.address == w.sharing["owner"].access.address
    ]
    assert [(e.event, e.args["requestId"], e.args["epsilonMilli"]) for e in spent] == [
        ("BudgetSpent", grants["consumer"], 500)
    ]
    assert spent[0].args["queryHash"] == QUERY
    assert spent[0].args["resultHash"] == keccak(jid.to_bytes(32, "big") + (0).to_bytes(4, "big"))
    assert w.sharing["owner"].budget(grants["consumer"]).spent == Epsilon.parse("0.5")
    assert r.event("PartyJoined").args == {
        "jointId": jid,
        "attempt": 0,
        "pid": 1,
        "account": w.addr("owner"),
        "certHash": CERT,
        "endpoint": "127.0.0.1:7001",
    }
    assert ledgers["other"].cert_of(jid, 0, 1) == CERT
    err = _revert(ledgers["reviewer"].join, jid, 0, 1, CERT, "x", INPUT)
    assert (err.error, err.error_args) == (
        "NotParticipant",
        {"jointId": jid, "account": w.addr("reviewer")},
    )
    assert _revert(ledgers["owner"].join, jid, 0, 1, CERT, "x", INPUT).error == "AlreadyDone"
    assert _revert(ledgers["other"].join, jid, 0, 0, CERT, "x").error == "NotParticipant"
    assert _revert(ledgers["stranger"].fail, jid, 0, b"\0" * 32).error == "NotParticipant"
    r = ledgers["reviewer"].fail(jid, 0, keccak(text="party 1 timed out"))
    assert r.event("RunFailed").args == {
        "jointId": jid,
        "attempt": 0,
        "by": w.addr("reviewer"),
        "reasonHash": keccak(text="party 1 timed out"),
    }
    err = _revert(ledgers["owner"].join, jid, 0, 1, CERT, "x", INPUT)
    assert (err.error, err.error_args) == (
        "WrongAttempt",
        {"jointId": jid, "attempt": 0, "current": 1},
    )
    # the retry must give the input commitments of the first run
    changed = INPUT[:-1] + b"\x00"
    err = _revert(ledgers["owner"].join, jid, 1, 1, CERT, "x", changed)
    assert (err.error, err.error_args) == (
        "InputChanged",
        {
            "jointId": jid,
            "owner": w.addr("owner"),
            "committed": keccak(INPUT),
            "given": keccak(changed),
        },
    )
    r = ledgers["owner"].join(jid, 1, 1, CERT, "127.0.0.1:7002", INPUT)
    assert [e.event for e in r.events] == ["PartyJoined"]  # committed once, at the first run
    # the retry paid again: ε stays spent for a failed run
    assert w.sharing["owner"].budget(grants["consumer"]).spent == Epsilon.parse("1")
    assert ledgers["other"].cert_of(jid, 1, 1) == CERT
    result = b"\x77" * 32
    assert _revert(ledgers["owner"].complete, jid, 1, result).error == "NotConsumer"
    assert _revert(ledgers["owner"].acknowledge, jid, result).error == "WrongState"
    r = ledgers["consumer"].complete(jid, 1, result)
    assert r.event("JointCompleted").args == {"jointId": jid, "attempt": 1, "resultHash": result}
    info = ledgers["other"].joint(jid)
    assert (info.state, info.attempt, info.result_hash) == (JointState.COMPLETED, 1, result)
    err = _revert(ledgers["owner"].acknowledge, jid, b"\x78" * 32)
    assert (err.error, err.error_args) == (
        "ResultMismatch",
        {"jointId": jid, "recorded": result, "given": b"\x78" * 32},
    )
    r = ledgers["owner"].acknowledge(jid, result)
    assert r.event("ResultAcknowledged").args == {
        "jointId": jid,
        "owner": w.addr("owner"),
        "resultHash": result,
    }
    assert _revert(ledgers["owner"].acknowledge, jid, result).error == "AlreadyDone"
    assert [p.acknowledged for p in ledgers["other"].participants(jid)] == [True, False]


def test_a_rejected_query_never_runs(world) -> None:
    w, ledgers, grants = world
    jid = _propose(ledgers, grants)
    r = ledgers["reviewer"].reject(jid, keccak(text="no"))
    assert r.event("JointRejected").args == {
        "jointId": jid,
        "owner": w.addr("reviewer"),
        "reasonHash": keccak(text="no"),
    }
    err = _revert(ledgers["reviewer"].admit, jid)
    assert (err.error, err.error_args) == (
        "WrongState",
        {"jointId": jid, "actual": JointState.REJECTED},
    )


@pytest.mark.parametrize(
    "case, error",
    [
        ("noiseless", "NoiselessNotAllowed"),
        ("someone_elses_grant", "GrantNotUsable"),
        ("same_owner_twice", "DuplicateOwner"),
        ("epsilon_above_grant", "InvalidEpsilon"),
        ("zero_epsilon", "InvalidEpsilon"),
        ("no_grants", "InvalidParticipants"),
        ("stranger", "NotActiveMember"),
    ],
)
def test_proposal_refusals(world, case: str, error: str) -> None:
    _, ledgers, grants = world
    a, b, o = grants["consumer"], grants["consumer2"], grants["other"]
    who, args = {
        "noiseless": ("consumer", ([a, b], [1, 1], True)),
        "someone_elses_grant": ("consumer", ([a, o], [1, 1], False)),
        "same_owner_twice": ("consumer", ([a, a], [1, 1], False)),
        "epsilon_above_grant": ("consumer", ([a, b], [1, 2001], False)),
        "zero_epsilon": ("consumer", ([a, b], [0, 1], False)),
        "no_grants": ("consumer", ([], [], False)),
        "stranger": ("stranger", ([a], [1], False)),
    }[case]
    before = ledgers["other"].count()
    assert _revert(ledgers[who].propose, QUERY, *args).error == error
    assert ledgers["other"].count() == before


def test_only_a_test_deployment_allows_noise_off(world) -> None:
    w, ledgers, grants = world
    s = w.sharing
    contract = deploy_joint(
        s["regulator"].client,
        w.registry.address,
        s["owner"].catalog.address,
        s["owner"].access.address,
        test_mode=True,
    )
    test_ledger = JointLedger(s["consumer"].client, contract.address)
    assert test_ledger.test_mode() and not ledgers["consumer"].test_mode()
    r = test_ledger.propose(QUERY, [grants["consumer"]], [1], True)
    assert r.event("JointProposed").args["noiseless"] is True


def test_a_join_pays_or_reverts_and_only_joint_query_spends_for_a_join(world) -> None:
    w, ledgers, grants = world
    s = w.sharing
    r = ledgers["other"].propose(QUERY, [grants["other"]], [1500])
    jid = r.event("JointProposed").args["jointId"]
    assert r.event("JointAdmitted").args == {"jointId": jid}
    # the owner answers a DP query on the same grant meanwhile: 1.5 ε is no longer there
    s["owner"].spend(grants["other"], Epsilon.parse("1"), ZERO_DELTA, b"\x01" * 32, b"\x02" * 32)
    err = _revert(ledgers["owner"].join, jid, 0, 1, CERT, "x", INPUT)
    assert (err.error, err.error_args) == (
        "BudgetExceeded",
        {"requestId": grants["other"], "asked": 1500, "remaining": 1000},
    )
    assert ledgers["other"].cert_of(jid, 0, 1) == b"\0" * 32  # nothing of the join is kept
    assert s["owner"].budget(grants["other"]).spent == Epsilon.parse("1")
    # nobody but the registry's JointQuery spends for a join
    caller = s["owner"].client
    err = _revert(
        caller.transact,
        s["owner"].access,
        "spendForJoint",
        grants["other"],
        w.addr("owner"),
        100,
        QUERY,
        b"\0" * 32,
    )
    assert (err.error, err.error_args) == ("NotJointContract", {"caller": w.addr("owner")})
