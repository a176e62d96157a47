"""The whole story of a dataset, a consumer or a department, in time order."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from node.audit.verify import AuditResult
from node.errors import InvalidInput

#: chain events shown in trails, with the words a person reads
EVENT_WORDS = {
    "MemberRegistered": "registered",
    "MemberActivated": "activated",
    "MemberSuspended": "suspended",
    "MemberReinstated": "reinstated",
    "DatasetCreated": "dataset created",
    "VersionPublished": "version published",
    "VersionDerived": "desensitized version derived",
    "PolicyChanged": "policy changed",
    "AccessRequested": "access requested",
    "AccessApproved": "approved",
    "AccessAuthorized": "authorized",
    "AccessRejected": "rejected",
    "KeyReleased": "key released",
    "AccessRevoked": "revoked",
    "BudgetSpent": "DP budget spent",
    "LogBatchAnchored": "access log anchored",
}
LOG_WORDS = {
    "download": "download served",
    "dp_answer": "DP answer given",
    "dp_refused": "DP query refused (budget)",
    "approval": "approval logged",
    "key_release": "key release logged",
}


_UNIX = re.compile(r"\d+(\.\d+)?")


def iso(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def parse_time(value: str | None) -> float | None:
    """A bound given as unix seconds, an ISO date or an ISO date-time (UTC)."""
    if value is None:
        return None
    if _UNIX.fullmatch(value):
        return float(value)
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{value!r} is not a time (use 2026-11-25 or unix seconds)") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.timestamp()


def trail(
    result: AuditResult,
    *,
    dataset: str | None = None,
    consumer: str | None = None,
    department: str | None = None,
    start: float | None = None,
    end: float | None = None,
) -> list[dict[str, Any]]:
    facts = result.facts
    assert facts is not None
    names = facts.names
    by_name = {v: k for k, v in names.items()}
    dept_addr = by_name.get(department) if department else None
    consumer = consumer.lower() if consumer else None
    dataset = dataset.lower() if dataset else None
    rows: list[dict[str, Any]] = []
    for e in facts.events:
        words = EVENT_WORDS.get(e.event)
        if words is None:
            continue
        a = e.args
        rid = a.get("requestId")
        g = facts.grants.get(rid) if rid is not None else None
        ds = a.get("datasetId") or (g.dataset_id if g else None)
        who = a.get("account") or a.get("approver") or a.get("by") or a.get("owner")
        who = who or a.get("node") or (g.consumer if g and e.event == "AccessRequested" else None)
        if e.event == "BudgetSpent" and g:
            who = g.owner
        who = who or (facts.owners.get(ds) if ds else None)
        detail = ""
        if e.event == "BudgetSpent":
            detail = f"ε {int(a['epsilonMilli']) / 1000} (total {int(a['spentMilli']) / 1000})"
        elif e.event == "AccessRequested":
            detail = f"{'DP' if a['mode'] == 1 else 'raw'}" + (
                f", ε {int(a['epsilonMilli']) / 1000}" if a["mode"] == 1 else ""
            )
        elif e.event in ("DatasetCreated", "MemberRegistered"):
            detail = a.get("name", "")
        elif e.event == "LogBatchAnchored":
            detail = f"batch {a['seq']}, {a['count']} entries"
        rows.append(
            {
                "time": float(facts.times.get(e.block_number, 0)),
                "what": words,
                "department": names.get(who, who) if who else None,
                "dataset_id": ds,
                "request": rid,
                "consumer": g.consumer if g else None,
                "owner": facts.owners.get(ds) if ds else None,
                "detail": detail,
                "evidence": e.tx_hash,
                "block": e.block_number,
            }
        )
    for node, entries in result.logs.items():
        for le in entries:
            d = le["detail"]
            detail = ""
            if le["kind"] == "download":
                detail = f"{d.get('bytes')} bytes, {d.get('outcome')}"
            elif le["kind"] in ("dp_answer", "dp_refused"):
                detail = f"ε {d.get('epsilon')}"
            rows.append(
                {
                    "time": float(d.get("started_at", le["at"])),
                    "what": LOG_WORDS.get(le["kind"], le["kind"]),
                    "department": names.get(node, node),
                    "dataset_id": le["dataset_id"],
                    "request": le["request_id"],
                    "consumer": le["consumer"],
                    "owner": node if le["kind"] != "approval" else None,
                    "detail": detail,
                    "evidence": f"log {names.get(node, node)}#{le['seq']}"
                    + (f" (batch {le['batch']})" if le["batch"] is not None else " (unanchored)"),
                    "block": d.get("block"),
                    "logged": True,
                }
            )

    def keep(r: dict[str, Any]) -> bool:
        if dataset and (r["dataset_id"] or "").lower() != dataset:
            return False
        if consumer and (r["consumer"] or "").lower() != consumer:
            return False
        if (
            dept_addr
            and dept_addr not in (r["owner"], r["consumer"])
            and (r["department"] != department)
        ):
            return False
        if start is not None and r["time"] < start:
            return False
        return not (end is not None and r["time"] > end)

    out = [r for r in rows if keep(r)]
    # Causal order: by block (chain time may run ahead of the nodes' clocks), a node's log
    # entry after the chain events of the block it acted on.
    out.sort(
        key=lambda r: (
            r["block"] if r["block"] is not None else 1 << 62,
            bool(r.get("logged")),
            r["time"],
        )
    )
    for r in out:
        r.pop("logged", None)
        r["when"] = iso(r["time"])
        for k in ("consumer", "owner"):
            if r[k]:
                r[k] = names.get(r[k], r[k])
    return out
