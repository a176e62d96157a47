"""`tanlian audit report`: one self-contained HTML page (and its JSON) for people who do not
know what a block is — what was checked, what was found, who used which data, how much
privacy budget went where."""

from __future__ import annotations

import html
import json
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from node.audit.trail import iso, trail
from node.audit.verify import AuditResult
from node.quality.catalog import quality_of
from node.sharing.views import datasets_from

#: the catalog's events a data-quality section reads
CATALOG_EVENTS = {
    "DatasetCreated",
    "VersionPublished",
    "VersionValidated",
    "VersionReviewed",
    "ReviewCycleSet",
    "MetadataSet",
    "FeedbackFiled",
    "FeedbackAnswered",
    "FeedbackResolved",
}

#: each finding kind in plain words
EXPLAIN = {
    "chain_broken": "The shared ledger's blocks do not link up: its history was altered.",
    "block_roots_mismatch": "A block's contents differ from what its header commits to.",
    "index_mismatch": "A department's copy of the ledger's events differs from the ledger.",
    "node_unreachable": "A department's node did not answer the regulator.",
    "member_not_contacted": "A suspended department's node was not checked (notice).",
    "blob_missing": "A department no longer holds a dataset version it published.",
    "hash_mismatch": "A stored dataset differs from the fingerprint recorded when published.",
    "unanchored_log": "Access-log entries were not sealed on the ledger in time.",
    "late_log_batch": "Access-log entries were sealed on the ledger late.",
    "log_batch_missing": "A sealed batch of access-log entries was deleted.",
    "log_tampered": "Access-log entries were edited, dropped or reordered after sealing.",
    "log_batch_unanchored": "A department claims a sealed log batch the ledger never saw.",
    "access_without_grant": "Data was served without a matching, authorized grant.",
    "access_after_revocation": "Data was served after the grant was revoked.",
    "access_after_expiry": "Data was served after the grant expired.",
    "suspended_node_activity": "A suspended department took part in a data access.",
    "budget_overrun": "More privacy budget was spent than the grant allowed.",
    "budget_overrun_attempt": "A query asked for more privacy budget than was left (refused).",
    "answer_without_spend": "Private answers were given without paying their budget.",
    "unlogged_answer": "Budget was paid for answers the owner's log does not show.",
    "unlogged_key_release": "A data key was released on chain without the owner logging it.",
    "non_reviewer_approval": "An approval came from someone who was not a reviewer.",
    "quality_document_missing": "A schema, report, metadata or feedback on the ledger is gone.",
    "quality_document_mismatch": "A quality document differs from its fingerprint on the ledger.",
    "anonymous_feedback_invalid": "Anonymous feedback's ring signature does not prove it.",
}
COLOURS = {
    "critical": "#b00020",
    "high": "#e65100",
    "medium": "#f9a825",
    "low": "#1565c0",
    "info": "#607d8b",
}


def report_data(result: AuditResult) -> dict[str, Any]:
    facts = result.facts
    assert facts is not None
    names = facts.names
    events = trail(result)
    per_dept: dict[str, Counter] = defaultdict(Counter)
    for r in events:
        if r["what"] == "download served" and r["owner"]:
            per_dept[r["owner"]]["downloads served"] += 1
            if r["consumer"]:
                per_dept[r["consumer"]]["downloads received"] += 1
        elif r["what"] == "DP answer given" and r["owner"]:
            per_dept[r["owner"]]["DP answers given"] += 1
            if r["consumer"]:
                per_dept[r["consumer"]]["DP answers received"] += 1
        elif r["what"] == "version published" and r["owner"]:
            per_dept[r["owner"]]["versions published"] += 1
        elif r["what"] == "access requested" and r["consumer"]:
            per_dept[r["consumer"]]["requests made"] += 1
    for f in result.findings:
        if f.department:
            per_dept[f.department][f"findings ({f.severity})"] += 1
    days: dict[str, Counter] = defaultdict(Counter)
    for r in events:
        day = r["when"][:10]
        if r["what"] in ("download served", "DP answer given", "key released"):
            days[day][r["what"]] += 1
    budget = []
    for g in facts.grants.values():
        if g.mode == "dp":
            budget.append(
                {
                    "request": g.id,
                    "consumer": names.get(g.consumer, g.consumer),
                    "owner": names.get(g.owner, g.owner) if g.owner else None,
                    "ceiling": g.ceiling_milli / 1000,
                    "spent": g.spent_milli / 1000,
                    "spends": [(iso(t), m / 1000) for t, m, _ in g.spends],
                }
            )
    return {
        **result.as_dict(),
        "data_quality": data_quality(facts),
        "departments": {
            names.get(a, a): dict(per_dept.get(names.get(a, a), Counter())) for a in names
        },
        "activity_by_day": {d: dict(c) for d, c in sorted(days.items())},
        "budgets": sorted(budget, key=lambda b: b["request"]),
        "trail": events,
    }


def data_quality(facts: Any) -> list[dict[str, Any]]:
    """Each dataset's quality as the chain records it at the audited head: its current
    version's validation, its review cycle (overdue or not at the head's time), and its
    feedback by state."""
    catalog = [e for e in facts.events if e.event in CATALOG_EVENTS]
    head_time = max(facts.times.values(), default=0)
    rows = []
    for d in datasets_from(catalog):
        q = quality_of(d, head_time, lambda n: facts.times.get(n, 0))
        states = Counter(f["state"] for f in d["feedback"])
        rows.append(
            {
                "dataset": d["name"],
                "owner": facts.names.get(d["owner"], d["owner"]),
                "theme": d["theme"],
                "versions": len(d["versions"]),
                "status": q["status"],
                "errors": q["errors"],
                "error_kinds": q["error_kinds"],
                "review": q["review"],
                "due": iso(q["due_at"]) if q["due_at"] else None,
                "reviews": len(d["reviews"]),
                "feedback_open": states["open"],
                "feedback_answered": states["answered"],
                "feedback_resolved": states["resolved"],
                "feedback_anonymous": sum(f["anonymous"] for f in d["feedback"]),
            }
        )
    return rows


def _quality_table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "<p>No datasets.</p>"
    e = html.escape
    words = {
        "passed": "checked against its declared schema: passed",
        "errors-accepted": "published with errors the owner accepted",
        "undeclared": "no declared schema",
        "unpublished": "no version yet",
    }
    body = "".join(
        f"<tr><td>{e(r['dataset'])}</td><td>{e(r['owner'])}</td><td>{e(r['theme'])}</td>"
        f"<td>{e(words[r['status']])}"
        + (f" ({r['errors']}: {e(r['error_kinds'])})" if r["errors"] else "")
        + "</td>"
        + (
            f'<td style="color:{COLOURS["high"]};font-weight:bold">overdue since {e(r["due"])}</td>'
            if r["review"] == "overdue"
            else f"<td>{'none' if r['review'] == 'none' else 'on time'}</td>"
        )
        + f"<td>{r['reviews']}</td><td>{r['feedback_open']} / {r['feedback_answered']} / "
        f"{r['feedback_resolved']} ({r['feedback_anonymous']} anonymous)</td></tr>"
        for r in rows
    )
    return (
        "<table><tr><th>dataset</th><th>owner</th><th>theme</th><th>quality</th>"
        "<th>review</th><th>reviews</th><th>feedback open / answered / resolved</th></tr>"
        + body
        + "</table>"
    )


def _bars(series: dict[str, dict[str, int]], keys: list[str], title: str) -> str:
    """A grouped bar chart as inline SVG (no scripts, no external files)."""
    if not series:
        return f"<p><em>{html.escape(title)}: no activity yet.</em></p>"
    palette = ["#2e7d32", "#1565c0", "#6a1b9a"]
    width, height, pad = 640, 220, 40
    days = list(series)
    top = max(max(series[d].get(k, 0) for k in keys) for d in days) or 1
    slot = (width - 2 * pad) / len(days)
    bar = max(2.0, slot / (len(keys) + 1))
    parts = [
        f'<svg width="{width}" height="{height + 40}" role="img" aria-label="{html.escape(title)}">'
    ]
    for i, d in enumerate(days):
        for j, k in enumerate(keys):
            v = series[d].get(k, 0)
            h = (height - pad) * v / top
            x = pad + i * slot + j * bar
            parts.append(
                f'<rect x="{x:.1f}" y="{height - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{palette[j % 3]}"><title>{html.escape(d)} {html.escape(k)}: {v}</title>'
                "</rect>"
            )
        label = html.escape(d)
        parts.append(
            f'<text x="{pad + i * slot:.1f}" y="{height + 14}" font-size="10">{label}</text>'
        )
    for j, k in enumerate(keys):
        parts.append(
            f'<rect x="{pad + j * 170}" y="{height + 24}" width="10" height="10" '
            f'fill="{palette[j % 3]}"/><text x="{pad + j * 170 + 14}" y="{height + 33}" '
            f'font-size="11">{html.escape(k)}</text>'
        )
    parts.append(f'<text x="4" y="{pad - 8}" font-size="10">max {top}</text></svg>')
    return "".join(parts)


def _budget_bars(budgets: list[dict[str, Any]]) -> str:
    if not budgets:
        return "<p><em>No differential-privacy grants.</em></p>"
    rows = []
    for b in budgets:
        pct = 0 if not b["ceiling"] else min(100, 100 * b["spent"] / b["ceiling"])
        rows.append(
            f"<tr><td>{b['request']}</td><td>{html.escape(str(b['consumer']))}</td>"
            f"<td>{html.escape(str(b['owner']))}</td><td>{b['spent']} of {b['ceiling']}</td>"
            f'<td><svg width="200" height="12"><rect width="200" height="12" fill="#eee"/>'
            f'<rect width="{2 * pct:.0f}" height="12" fill="#2e7d32"/></svg></td></tr>'
        )
    return (
        "<table><tr><th>grant</th><th>analyst</th><th>data owner</th><th>ε spent</th>"
        "<th>share of the ceiling</th></tr>" + "".join(rows) + "</table>"
    )


def render_html(data: dict[str, Any]) -> str:
    e = html.escape
    sev = data["findings_by_severity"]
    verdict = (
        "No problems found: every check passed."
        + (
            f" {len(data['findings'])} refused attempt(s) are listed for the record."
            if data["findings"]
            else ""
        )
        if data["clean"]
        else f"{sum(f['severity'] != 'info' for f in data['findings'])} problem(s) found; "
        "the most serious are listed first."
    )
    findings = "".join(
        f'<tr><td style="color:{COLOURS[f["severity"]]};font-weight:bold">{e(f["severity"])}</td>'
        f"<td>{e(f['department'] or '—')}</td><td>{e(EXPLAIN.get(f['kind'], f['kind']))}"
        f"<br><small>{e(f['message'])}</small></td>"
        f"<td><small>{e(json.dumps(f['evidence'], ensure_ascii=False))}</small></td></tr>"
        for f in data["findings"]
    )
    checks = "".join(
        f"<tr><td>{e(name)}</td><td>{c['items']}</td><td>{c['findings']}</td>"
        f"<td>{c['seconds']} s</td></tr>"
        for name, c in data["checks"].items()
    )
    kinds = sorted({k for c in data["departments"].values() for k in c})
    depts = "".join(
        f"<tr><td>{e(name)}</td>" + "".join(f"<td>{c.get(k, 0)}</td>" for k in kinds) + "</tr>"
        for name, c in data["departments"].items()
    )
    counts = data["counts"]
    trail_rows = "".join(
        f"<tr><td>{e(r['when'])}</td><td>{e(r['what'])}</td><td>{e(str(r['department'] or ''))}"
        f"</td><td>{e(str(r['request'] or ''))}</td><td>{e(r['detail'] or '')}</td></tr>"
        for r in data["trail"][-200:]
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tanlian audit report</title>
<style>
body{{font-family:system-ui,sans-serif;margin:2em;max-width:1100px;color:#222}}
table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:4px 8px;
text-align:left;vertical-align:top}}th{{background:#f3f3f3}}.big{{font-size:1.3em}}
</style></head><body>
<h1>Tanlian audit report</h1>
<p class="big"><strong>{e(verdict)}</strong></p>
<p>The regulator checked the shared ledger up to entry {data["head"]}, every department's copy
of it, every stored dataset against the fingerprint recorded when it was published, and every
department's sealed log of who received which data and when.</p>
<h2>Summary</h2>
<table><tr><th>departments</th><th>dataset versions</th><th>access requests</th>
<th>logged accesses</th><th>ledger events</th></tr>
<tr><td>{counts["members"]}</td><td>{counts["dataset_versions"]}</td><td>{counts["grants"]}</td>
<td>{counts["log_entries"]}</td><td>{counts["events"]}</td></tr></table>
<p>Findings by severity: {", ".join(f"{k} {v}" for k, v in sev.items())}</p>
<h2>Findings</h2>
{
        "<p>None.</p>"
        if not data["findings"]
        else "<table><tr><th>severity</th><th>department</th><th>what</th><th>evidence</th></tr>"
        + findings
        + "</table>"
    }
<h2>Departments</h2>
<table><tr><th>department</th>{"".join(f"<th>{e(k)}</th>" for k in kinds)}</tr>{depts}</table>
<h2>Data access over time</h2>
{
        _bars(
            data["activity_by_day"],
            ["download served", "DP answer given", "key released"],
            "accesses per day",
        )
    }
<h2>Data quality</h2>
<p>Whether each dataset's current version passed its declared schema when it was published,
whether its owner re-checked it on its review cycle, and what consumers reported.</p>
{_quality_table(data["data_quality"])}
<h2>Privacy budgets</h2>
{_budget_bars(data["budgets"])}
<h2>What was checked</h2>
<table><tr><th>check</th><th>items</th><th>findings</th><th>time</th></tr>{checks}</table>
<h2>Latest events</h2>
<table><tr><th>when (UTC)</th><th>what</th><th>department</th><th>request</th><th>detail</th></tr>
{trail_rows}</table>
</body></html>
"""


def write_report(result: AuditResult, out: Path) -> tuple[Path, Path]:
    """``out`` (HTML) and the same data as JSON beside it."""
    data = report_data(result)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_html(data), encoding="utf-8")
    json_path = out.with_suffix(".json")
    json_path.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")
    return out, json_path
