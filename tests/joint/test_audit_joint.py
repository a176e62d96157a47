"""The regulator's joint_runs check over events as the index keeps them and the owners'
access logs: a run kept to the rules gives no finding; each broken rule gives its finding."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from eth_utils import keccak

from node.audit.joint import check_joint_runs
from node.chain.indexer.indexer import IndexedEvent

JOINT = "0x" + "ab" * 20
ACCESS = "0x" + "ac" * 20
#: two 64-byte points' worth of packed commitments (the audit checks their hash and shape)
POINTS = bytes(range(128))
CONSUMER = "0x" + "c0" * 20
OWNERS = ["0x" + "01" * 20, "0x" + "02" * 20]
QUERY = "0x" + "51" * 32
RESULT = "0x" + "77" * 32


@dataclass
class Grant:
    owner: str


@dataclass
class Facts:
    events: list[IndexedEvent]
    grants: dict[int, Grant]


@dataclass
class Auditor:
    facts: Facts
    contracts: dict[str, str] = field(default_factory=lambda: {"joint": JOINT, "access": ACCESS})
    found: list[tuple[str, str, Any]] = field(default_factory=list)

    def find(self, kind: str, severity: str, account: Any, message: str, **evidence: Any) -> None:
        self.found.append((kind, severity, account))


def _ev(n: int, address: str, name: str, **args: Any) -> IndexedEvent:
    return IndexedEvent(n, "0x" + "00" * 32, "0x" + f"{n:064x}", 0, address, "x", name, args)


def _input(block: int, pid: int, digest: bytes | None = None) -> IndexedEvent:
    return _ev(
        block,
        JOINT,
        "InputCommitted",
        jointId=1,
        owner=OWNERS[pid - 1],
        pid=pid,
        digest=keccak(POINTS) if digest is None else digest,
        count=2,
        commitments=POINTS,
    )


def _run(drop: str | None = None) -> tuple[list[IndexedEvent], dict[str, list[dict]]]:
    """A joint query over grants 11 and 12, run once and completed; ``drop`` breaks a rule."""
    events = [
        _ev(
            1,
            JOINT,
            "JointProposed",
            jointId=1,
            consumer=CONSUMER,
            queryHash=QUERY,
            grantIds=[11, 12],
            epsilonMilli=[500, 700],
            noiseless=False,
        ),
        _ev(2, JOINT, "JointAdmitted", jointId=1),
        _ev(3, ACCESS, "BudgetSpent", requestId=11, epsilonMilli=500, queryHash=QUERY),
        _ev(3, ACCESS, "BudgetSpent", requestId=12, epsilonMilli=700, queryHash=QUERY),
        _ev(4, JOINT, "PartyJoined", jointId=1, attempt=0, pid=0, account=CONSUMER),
        _ev(4, JOINT, "PartyJoined", jointId=1, attempt=0, pid=1, account=OWNERS[0]),
        _ev(4, JOINT, "PartyJoined", jointId=1, attempt=0, pid=2, account=OWNERS[1]),
        *(_input(4, pid) for pid in (1, 2)),
        _ev(5, JOINT, "JointCompleted", jointId=1, attempt=0, resultHash=RESULT),
        _ev(6, JOINT, "ResultAcknowledged", jointId=1, owner=OWNERS[0], resultHash=RESULT),
        _ev(6, JOINT, "ResultAcknowledged", jointId=1, owner=OWNERS[1], resultHash=RESULT),
    ]
    logs = {
        o: [
            {"kind": "joint_spent", "detail": {"joint_id": 1, "attempt": 0}},
            {"kind": "joint_result", "detail": {"joint_id": 1, "result_sha256": RESULT}},
        ]
        for o in OWNERS
    }
    if drop == "commit":
        events = [e for e in events if not (e.event == "InputCommitted" and e.args["pid"] == 2)]
    elif drop == "commit_twice":
        events.append(_input(5, 2))
    elif drop == "commit_after_join":
        events = [e for e in events if not (e.event == "InputCommitted" and e.args["pid"] == 2)]
        events.append(_input(9, 2))
    elif drop == "commit_wrong_digest":
        events = [e for e in events if not (e.event == "InputCommitted" and e.args["pid"] == 2)]
        events.append(_input(4, 2, digest=b"\x01" * 32))
    elif drop == "spend":
        events = [e for e in events if not (e.event == "BudgetSpent" and e.args["requestId"] == 12)]
    elif drop == "spend_other_query":
        events[3] = _ev(
            3, ACCESS, "BudgetSpent", requestId=12, epsilonMilli=700, queryHash="0x" + "99" * 32
        )
    elif drop == "spend_after_join":
        events[3] = _ev(9, ACCESS, "BudgetSpent", requestId=12, epsilonMilli=700, queryHash=QUERY)
    elif drop == "admission":
        events = [e for e in events if e.event != "JointAdmitted"]
    elif drop == "ack":
        events = events[:-1]
    elif drop == "join":
        events = [e for e in events if not (e.event == "PartyJoined" and e.args["pid"] == 2)]
    elif drop == "log_spend":
        logs[OWNERS[1]] = logs[OWNERS[1]][1:]
    elif drop == "log_result":
        logs[OWNERS[1]] = logs[OWNERS[1]][:1]
    return events, logs


def _check(drop: str | None) -> list[tuple[str, str, Any]]:
    events, logs = _run(drop)
    auditor = Auditor(Facts(events, {11: Grant(OWNERS[0]), 12: Grant(OWNERS[1])}))
    assert check_joint_runs(auditor, logs) == 1
    return auditor.found


def test_a_run_kept_to_the_rules_gives_no_finding() -> None:
    assert _check(None) == []


@pytest.mark.parametrize(
    "drop, kind, severity",
    [
        ("commit", "joint_input_not_committed", "high"),
        ("commit_twice", "joint_input_not_committed", "high"),
        ("commit_after_join", "joint_input_not_committed", "high"),
        ("commit_wrong_digest", "joint_input_not_committed", "high"),
        ("spend", "joint_epsilon_not_spent", "critical"),
        ("spend_other_query", "joint_epsilon_not_spent", "critical"),
        ("spend_after_join", "joint_epsilon_not_spent", "critical"),
        ("admission", "joint_run_not_admitted", "critical"),
        ("join", "joint_completed_without_party", "critical"),
        ("ack", "joint_result_not_acknowledged", "medium"),
        ("log_spend", "joint_spend_not_logged", "medium"),
        ("log_result", "joint_result_not_logged", "medium"),
    ],
)
def test_each_broken_rule_is_found(drop: str, kind: str, severity: str) -> None:
    found = _check(drop)
    assert (kind, severity) in [(k, s) for k, s, _ in found], found
    # pinned on the owner that broke it (the consumer for an unadmitted join)
    assert {a for k, _s, a in found if k == kind} <= {OWNERS[1], OWNERS[0]}


def test_without_the_contract_nothing_is_checked() -> None:
    events, logs = _run()
    auditor = Auditor(Facts(events, {}), contracts={})
    assert check_joint_runs(auditor, logs) == 0 and auditor.found == []
