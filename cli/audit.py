"""`tanlian audit ...`: the regulator's checks, trails and reports."""

from __future__ import annotations

import csv
import sys
from pathlib import Path
from typing import Annotated

import typer

from cli.common import HomeOpt, JsonOpt, PasswordFileOpt, emit, open_session, table
from node.errors import InvalidInput

app = typer.Typer(
    help="Regulator audit: verify chain and stores, trails, reports.", no_args_is_help=True
)
MaxDelayOpt = Annotated[
    float | None,
    typer.Option(
        help="Seconds from writing a log entry until it must be anchored "
        "[default: the anchor interval (audit.anchor_interval_seconds) + 300].",
    ),
]
NodeTimeoutOpt = Annotated[
    float | None,
    typer.Option(
        help="Seconds each node has to answer (a silent node is a finding, not a hang) "
        "[default: 120].",
    ),
]
#: what a healthy node's anchoring may take beyond its interval: a sync round, a restart
LOG_DELAY_SLACK = 300.0


def _audit(
    home: Path,
    password_file: Path | None,
    max_log_delay: float | None,
    quiet: bool,
    roots: bool = True,
    node_timeout: float | None = None,
):
    from node.audit.verify import Auditor

    for flag, value in (("--max-log-delay", max_log_delay), ("--node-timeout", node_timeout)):
        if value is not None and not 0 < value < float("inf"):
            raise InvalidInput(f"{flag} must be a positive number of seconds, not {value}")
    with open_session(home, password_file) as s:
        if "regulator" not in s.registry.member(s.keys.address).roles:
            raise InvalidInput("the audit runs as a regulator: this department is not one")
        c = s.settings.contracts
        if max_log_delay is None:
            max_log_delay = s.settings.audit.anchor_interval_seconds + LOG_DELAY_SLACK
        auditor = Auditor(
            s.backend,
            c.model_dump(),
            s.keys.account.key,
            max_log_delay=max_log_delay,
            roots=roots,
            **({} if node_timeout is None else {"node_timeout": node_timeout}),
        )
        say = None if quiet else (lambda m: typer.echo(f"  {m}", err=True))
        return auditor.run(say)


@app.command("verify")
def verify(
    home: HomeOpt,
    max_log_delay: MaxDelayOpt = None,
    node_timeout: NodeTimeoutOpt = None,
    roots: Annotated[
        bool,
        typer.Option(
            "--roots/--no-roots",
            help="Recompute every block's transaction and receipt roots (where the chain "
            "serves its blocks as stored); --no-roots trusts them.",
        ),
    ] = True,
    password_file: PasswordFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Check the chain, every node's index, stored ciphertexts, anchored access logs, grants
    at access time, DP budgets and approvals. Exit code 2 when there are findings above
    'info' (refused attempts are listed as info)."""
    result = _audit(home, password_file, max_log_delay, as_json, roots, node_timeout)
    data = result.as_dict()
    if as_json:
        emit(data, True)
    else:
        table(
            [{"check": k, **v} for k, v in data["checks"].items()],
            ["check", "items", "findings", "seconds"],
            title=f"audit up to block {result.head}",
        )
        if result.findings:
            table(
                [
                    {
                        "severity": f.severity,
                        "kind": f.kind,
                        "department": f.department or "",
                        "message": f.message,
                    }
                    for f in result.findings
                ],
                ["severity", "kind", "department", "message"],
                title="findings",
            )
        if not result.problems:
            notices = len(result.findings)
            typer.echo("clean: no findings" + (f" ({notices} notice(s))" if notices else ""))
    if result.problems:
        raise typer.Exit(2)


@app.command("trail")
def trail_cmd(
    home: HomeOpt,
    dataset: Annotated[str | None, typer.Option(help="0x<dataset id> or DEPARTMENT/NAME.")] = None,
    consumer: Annotated[
        str | None, typer.Option(help="Consumer: department name or address (0x…).")
    ] = None,
    department: Annotated[str | None, typer.Option(help="Department name.")] = None,
    start: Annotated[
        str | None, typer.Option("--from", help="From (ISO date or date-time, or unix).")
    ] = None,
    end: Annotated[
        str | None,
        typer.Option("--to", help="To, inclusive: --to 2026-11-25 includes all of that day."),
    ] = None,
    tz: Annotated[
        str | None,
        typer.Option(
            "--tz",
            help="Zone of dates without an offset and of the times shown "
            "[default: TANLIAN_DISPLAY_TZ, else Asia/Shanghai].",
        ),
    ] = None,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV.")] = False,
    excel: Annotated[
        bool,
        typer.Option(
            "--excel",
            help="Print CSV that starts with a UTF-8 byte-order mark, so that Excel "
            "(Chinese Windows included) opens the redirected file with its names intact.",
        ),
    ] = False,
    password_file: PasswordFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The whole story in time order: registrations, publications, applications, decisions,
    releases, downloads and DP queries with their ε."""
    from node.audit.trail import parse_time, trail
    from node.display import display_zone

    if sum(x is not None for x in (dataset, consumer, department)) != 1:
        raise InvalidInput("give exactly one of --dataset, --consumer, --department")
    zone = display_zone(tz)
    lo, hi = parse_time(start, zone=zone), parse_time(end, end=True, zone=zone)
    if dataset is not None and not dataset.startswith("0x"):
        from cli.access import _resolve_dataset

        with open_session(home, password_file) as s:
            dataset = "0x" + _resolve_dataset(s, dataset).hex()
    result = _audit(home, password_file, None, True)
    if department is not None and department not in result.facts.names.values():
        raise InvalidInput(f"no department named {department!r}")
    rows = trail(
        result,
        dataset=dataset,
        consumer=consumer,
        department=department,
        start=lo,
        end=hi,
        zone=zone,
    )
    columns = ["when", "what", "department", "request", "consumer", "owner", "detail", "evidence"]
    if as_json:
        emit({"events": rows}, True)
    elif as_csv or excel:
        if excel:
            sys.stdout.write("\ufeff")
        w = csv.DictWriter(sys.stdout, fieldnames=columns, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    else:
        shown = [{k: ("" if v is None else v) for k, v in r.items()} for r in rows]
        table(shown, columns, title=f"{len(rows)} events (in chain order, times in {zone.key})")


@app.command("report")
def report(
    home: HomeOpt,
    out: Annotated[Path, typer.Option("-o", "--out", help="HTML file (JSON written beside).")],
    max_log_delay: MaxDelayOpt = None,
    node_timeout: NodeTimeoutOpt = None,
    password_file: PasswordFileOpt = None,
) -> None:
    """Write the audit as a readable HTML report and its JSON."""
    from node.audit.report import write_report

    result = _audit(home, password_file, max_log_delay, False, node_timeout=node_timeout)
    html_path, json_path = write_report(result, out)
    typer.echo(f"report: {html_path} ({len(result.findings)} findings); data: {json_path}")
