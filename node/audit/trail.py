"""The whole story of a dataset, a consumer or a department, in time order."""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any
from zoneinfo import ZoneInfo

from node.audit.verify import AuditResult
from node.display import display_zone, when
from node.errors import InvalidInput, NotFound

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
    "download_intent": "download started",
    "download": "download served",
    "dp_answer": "DP answer given",
    "dp_refused": "DP query refused (budget)",
    "approval": "approval logged",
    "key_release": "key release logged",
}


_UNIX = re.compile(r"\d+(\.\d+)?")


def iso(t: float) -> str:
    """``t`` for people: ISO 8601 with the zone, in the display zone (Beijing by default)."""
    return when(t)


def parse_time(
    value: str | None, *, end: bool = False, zone: ZoneInfo | None = None
) -> float | None:
    """A bound given as unix seconds, an ISO date or an ISO date-time.

    A date or a date-time without an offset is read in ``zone`` (the display zone, Beijing
    by default). Bounds are inclusive: ``end`` of a date is the end of that whole day; the
    returned value is then exclusive (the next day's start), as :func:`trail` compares it."""
    if value is None:
        return None
    zone = zone or display_zone()
    if _UNIX.fullmatch(value):
        t = float(value)
        return math.nextafter(t, math.inf) if end else t
    try:
        if len(value) == 10:
            day = dt.date.fromisoformat(value)
            start = dt.datetime.combine(day, dt.time(), zone)
            return (start + dt.timedelta(days=1) if end else start).timestamp()
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            f"{value!r} is not a time (use 2026-11-25, 2026-11-25T08:30+08:00 or unix seconds)"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    t = parsed.timestamp()
    return math.nextafter(t, math.inf) if end else t


def trail(
    result: AuditResult,
    *,
    dataset: str | None = None,
    consumer: str | None = None,
    department: str | None = None,
    start: float | None = None,
    end: float | None = None,
    zone: ZoneInfo | None = None,
) -> list[dict[str, Any]]:
    """The events about one dataset, consumer or department, in causal order; ``start`` is
    inclusive and ``end`` exclusive (:func:`parse_time` makes a ``--to`` date inclusive);
    ``when`` is ISO 8601 in ``zone`` (the display zone, Beijing by default)."""
    facts = result.facts
    assert facts is not None
    names = facts.names
    by_name = {v: k for k, v in names.items()}
    dept_addr = by_name.get(department) if department else None
    if start is not None and end is not None and start >= end:
        raise InvalidInput("--from is after --to: nothing can lie between them")
    if consumer is not None:
        # a department's name or its account; one the registry never saw is an error, not
        # an empty trail
        account = by_name.get(consumer) or next(
            (a for a in names if a.lower() == consumer.lower()), None
        )
        if account is None:
            raise NotFound(f"no department {consumer!r} in the registry")
        consumer = account.lower()
    dataset = dataset.lower() if dataset else None
    if dataset is not None and dataset not in {d.lower() for d in facts.owners}:
        raise NotFound(f"no dataset {dataset} on chain")
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
        return not (end is not None and r["time"] >= end)

    out = [r for r in rows if keep(r)]
    # Causal order: by block (chain time may run ahead of the nodes' clocks), a node's log
    # entry after the chain events of the block it acted on; ties broken by time, then by
    # the evidence, so the same facts always give the same order.
    out.sort(
        key=lambda r: (
            r["block"] if r["block"] is not None else 1 << 62,
            bool(r.get("logged")),
            r["time"],
            str(r["evidence"]),
            r["what"],
        )
    )
    for r in out:
        r.pop("logged", None)
        r["when"] = when(r["time"], zone)
        for k in ("consumer", "owner"):
            if r[k]:
                r[k] = names.get(r[k], r[k])
    return out
