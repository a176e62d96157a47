"""The regulator's check of joint queries, from the chain's events and the owners' access
logs: every party that joined a run was admitted first, every owner spent its ε on its
grant with the query's hash no later than its join (the contract spends in the join's own
transaction; the check does not trust that) and committed to its input at its first join
(the commitments hash to the digest the contract kept), a completed query had every owner in
its last run, and every owner acknowledged the result hash and logged its spend and the
result.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from eth_utils import keccak


def _hex(value: Any) -> str:
    if isinstance(value, str):
        return value.lower()
    return "0x" + bytes(value).hex()


def _bytes(value: Any) -> bytes:
    # the index keeps bytes as 0x-hex text; decoded logs give bytes
    return bytes.fromhex(value[2:]) if isinstance(value, str) else bytes(value)


@dataclass
class _Joint:
    consumer: str
    query: str
    proposed_block: int
    #: (grant id, ε in milli) of each participant, in input order
    grants: list[tuple[int, int]]
    admitted_block: int | None = None
    joins: list[tuple[int, int, str, int]] = field(default_factory=list)  # attempt, pid, who, block
    completed: tuple[int, str, int] | None = None  # attempt, result hash, block
    acks: dict[str, str] = field(default_factory=dict)
    #: pid, digest, packed commitments, block
    inputs: list[tuple[int, str, bytes, int]] = field(default_factory=list)


def check_joint_runs(auditor: Any, logs: dict[str, list[dict[str, Any]]]) -> int:
    """Findings on the auditor; the number of joint queries checked."""
    address = (auditor.contracts.get("joint") or "").lower()
    access = (auditor.contracts.get("access") or "").lower()
    if not address:
        return 0
    joints: dict[int, _Joint] = {}
    spends: dict[int, list[tuple[str, int, int]]] = defaultdict(list)
    for e in auditor.facts.events:
        addr, a = e.address.lower(), e.args
        if addr == access and e.event == "BudgetSpent":
            spends[int(a["requestId"])].append(
                (_hex(a["queryHash"]), int(a["epsilonMilli"]), e.block_number)
            )
        if addr != address:
            continue
        jid = int(a["jointId"])
        if e.event == "JointProposed":
            grants = [
                (int(g), int(m)) for g, m in zip(a["grantIds"], a["epsilonMilli"], strict=True)
            ]
            joints[jid] = _Joint(a["consumer"], _hex(a["queryHash"]), e.block_number, grants)
        elif jid not in joints:
            continue
        elif e.event == "JointAdmitted":
            joints[jid].admitted_block = e.block_number
        elif e.event == "PartyJoined":
            joints[jid].joins.append(
                (int(a["attempt"]), int(a["pid"]), a["account"], e.block_number)
            )
        elif e.event == "InputCommitted":
            joints[jid].inputs.append(
                (int(a["pid"]), _hex(a["digest"]), _bytes(a["commitments"]), e.block_number)
            )
        elif e.event == "JointCompleted":
            joints[jid].completed = (int(a["attempt"]), _hex(a["resultHash"]), e.block_number)
        elif e.event == "ResultAcknowledged":
            joints[jid].acks[a["owner"]] = _hex(a["resultHash"])
    if not joints:
        return 0
    logged: dict[tuple[str, int], list[dict[str, Any]]] = defaultdict(list)
    for node, entries in logs.items():
        for entry in entries:
            if entry["kind"].startswith("joint_"):
                logged[(node, int(entry["detail"].get("joint_id", 0)))].append(entry)
    for jid, j in joints.items():
        _check_one(auditor, jid, j, spends, logged, set(logs))
    return len(joints)


def _input_problem(committed: list[tuple[int, str, bytes, int]], joins: list) -> str | None:
    """What is wrong with an owner's recorded input commitments, given its joins."""
    if len(committed) != 1 or committed[0][3] > min(blk for _att, blk in joins):
        return f"{len(committed)} input commitments recorded, not one at its first join"
    _pid, digest, packed, _block = committed[0]
    if _hex(keccak(packed)) != digest:
        return "the input commitments recorded do not hash to their digest"
    if len(packed) % 64 or not packed:
        return "the input commitments recorded are not whole 64-byte points"
    return None


def _check_one(
    auditor: Any, jid: int, j: _Joint, spends: dict, logged: dict, readable: set
) -> None:
    for attempt, pid, who, block in j.joins:
        if pid > 0 and (j.admitted_block is None or block < j.admitted_block):
            auditor.find(
                "joint_run_not_admitted",
                "critical",
                who,
                f"joint query {jid}: party {pid} joined run {attempt} before every owner "
                "admitted it",
                joint=jid,
            )
    for index, (grant, milli) in enumerate(j.grants):
        known = auditor.facts.grants.get(grant)
        owner = known.owner if known is not None else None
        joins = [(att, blk) for att, pid, _w, blk in j.joins if pid == index + 1]
        if joins:
            problem = _input_problem([i for i in j.inputs if i[0] == index + 1], joins)
            if problem:
                auditor.find(
                    "joint_input_not_committed",
                    "high",
                    owner,
                    f"joint query {jid}, party {index + 1}: {problem}",
                    joint=jid,
                )
        paid = [blk for q, m, blk in spends.get(grant, []) if q == j.query and m == milli]
        for att, blk in joins:
            if not any(b <= blk for b in paid) or len(paid) < len(joins):
                auditor.find(
                    "joint_epsilon_not_spent",
                    "critical",
                    owner,
                    f"joint query {jid}: the owner joined run {att} without spending ε "
                    f"{milli / 1000:g} on grant {grant} with the query's hash first",
                    joint=jid,
                    grant=grant,
                )
                break
        if j.completed is not None:
            attempt = j.completed[0]
            if attempt not in [att for att, _ in joins]:
                auditor.find(
                    "joint_completed_without_party",
                    "critical",
                    owner,
                    f"joint query {jid} was completed from run {attempt}, which this owner "
                    "never joined",
                    joint=jid,
                )
            if owner not in j.acks:
                auditor.find(
                    "joint_result_not_acknowledged",
                    "medium",
                    owner,
                    f"joint query {jid}: the owner has not logged the result hash on chain",
                    joint=jid,
                )
        if owner in readable:
            entries = logged.get((owner, jid), [])
            spent_logged = sum(1 for e in entries if e["kind"] == "joint_spent")
            if spent_logged < len(joins):
                auditor.find(
                    "joint_spend_not_logged",
                    "medium",
                    owner,
                    f"joint query {jid}: {len(joins)} runs joined, {spent_logged} ε spends in the "
                    "owner's access log",
                    joint=jid,
                )
            if (
                j.completed is not None
                and owner in j.acks
                and not any(
                    e["kind"] == "joint_result"
                    and e["detail"].get("result_sha256") == j.completed[1]
                    for e in entries
                )
            ):
                auditor.find(
                    "joint_result_not_logged",
                    "medium",
                    owner,
                    f"joint query {jid}: the result hash is not in the owner's access log",
                    joint=jid,
                )
