"""``tanlian cockpit``: serve the decision cockpit, manage its officials, write reports."""

from __future__ import annotations

import getpass
import logging
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from cli.common import HomeOpt, JsonOpt, emit, table
from node.errors import InvalidInput

app = typer.Typer(
    help="The decision cockpit: the city's picture in the browser, and reports.",
    no_args_is_help=True,
)
users_app = typer.Typer(help="Officials who may log in to the cockpit.", no_args_is_help=True)
app.add_typer(users_app, name="user")
logger = logging.getLogger(__name__)


def _engine(home: Path):
    from node.db import create_schema, make_engine
    from node.settings import load_settings

    settings = load_settings(home)
    engine = make_engine(settings.db_url)
    create_schema(engine)
    return settings, engine


@app.command("serve")
def serve(
    home: HomeOpt,
    port: Annotated[int | None, typer.Option(help="Port (default: cockpit.port, 8700).")] = None,
    host: Annotated[
        str | None, typer.Option(help="Address to listen on (default: cockpit.host, 127.0.0.1).")
    ] = None,
) -> None:
    """Serve the cockpit for this node's holdings (data pulled under grants) until stopped."""
    import uvicorn

    from node.cockpit.app import Cockpit, create_app

    settings, engine = _engine(home)
    c = settings.cockpit
    cockpit = Cockpit(
        engine,
        idle_seconds=c.session_idle_minutes * 60,
        max_seconds=c.session_max_hours * 3600,
        secure_cookies=c.secure_cookies,
        geojson=_geojson(c.geojson, settings.home) if c.geojson else None,
        map_review_no=c.map_review_no,
        login_limit=c.login_attempts,
        login_window=c.login_window_seconds,
    )
    if not cockpit.users.names():
        logger.warning(
            "no cockpit user yet: add one with tanlian cockpit user add NAME --home %s",
            settings.home,
        )
    listen_host, listen_port = host or c.host, port or c.port
    _check_free(listen_host, listen_port)
    typer.echo(f"cockpit of {settings.name or settings.home}: http://{listen_host}:{listen_port}")
    uvicorn.run(
        create_app(cockpit),
        host=listen_host,
        port=listen_port,
        log_level="warning",
        access_log=False,
    )


def _check_free(host: str, port: int) -> None:
    """Refuse in one line, before anything starts, a port something else listens on."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise InvalidInput(
                f"cannot listen on {host}:{port} ({exc.strerror}): another cockpit or program "
                "uses it; pass --port"
            ) from None


def _geojson(path: Path, home: Path) -> Path:
    """The deployer's boundary file, checked before the first request: a FeatureCollection
    whose features name their unit in ``properties.adcode`` (at most 50 MB)."""
    import orjson

    from node.cockpit.data import units

    path = path if path.is_absolute() else home / path
    if not path.is_file() or path.stat().st_size > 50 << 20:
        raise InvalidInput(f"cockpit.geojson {path}: no such file, or larger than 50 MB")
    try:
        doc = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise InvalidInput(f"cockpit.geojson {path}: not JSON ({exc})") from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise InvalidInput(f"cockpit.geojson {path}: not a GeoJSON FeatureCollection")
    codes = {str((f.get("properties") or {}).get("adcode")) for f in doc.get("features", [])}
    missing = sorted({u["code"] for u in units()} - codes)
    if missing:
        raise InvalidInput(f"cockpit.geojson {path}: no feature for adcode(s) {', '.join(missing)}")
    return path


@users_app.command("add")
def user_add(
    name: Annotated[str, typer.Argument(help="Login name (letters, digits, _ . -).")],
    home: HomeOpt,
    role: Annotated[str, typer.Option(help="viewer (views, PNG) or analyst (also CSV exports).")],
    password_file: Annotated[
        Path | None,
        typer.Option("--password-file", help="Read the password from this file (else a prompt)."),
    ] = None,
) -> None:
    """Add an official who may log in (the password is stored as an Argon2id hash only)."""
    from node.cockpit.auth import Users

    if password_file is not None:
        try:
            secret = password_file.read_text(encoding="utf-8").rstrip("\n")
        except OSError as exc:
            raise InvalidInput(f"--password-file {password_file}: {exc.strerror}") from None
    elif sys.stdin.isatty():
        secret = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != secret:
            raise InvalidInput("the two passwords differ")
    else:
        raise InvalidInput("no password: pass --password-file or run in a terminal")
    _, engine = _engine(home)
    Users(engine).add(name, role, secret)
    typer.echo(f"user {name} ({role}) added")


@users_app.command("list")
def user_list(home: HomeOpt, as_json: JsonOpt = False) -> None:
    """The officials who may log in, with their roles."""
    from node.cockpit.auth import Users

    _, engine = _engine(home)
    rows = [{"user": n, "role": r} for n, r in Users(engine).names()]
    if as_json:
        emit({"users": rows}, True)
    else:
        table(rows, ["user", "role"], title="cockpit users")


@app.command("report")
def report(
    home: HomeOpt,
    year: Annotated[int, typer.Option(help="The year evaluated.")],
    out: Annotated[Path, typer.Option("-o", "--out", help="The HTML file to write.")],
    period: Annotated[
        str | None, typer.Option(help="A five-year period, e.g. 2021-2025 (default: YEAR only).")
    ] = None,
    pdf: Annotated[
        Path | None, typer.Option(help="Also print it to this PDF (headless Chromium).")
    ] = None,
    lang: Annotated[str, typer.Option(help="zh or en.")] = "zh",
) -> None:
    """Write the annual (or five-year) evaluation report: charts, tables and provenance."""
    from node.audit.log import AccessLog
    from node.cockpit.data import CockpitData
    from node.cockpit.holdings import Holdings, grants_behind
    from node.cockpit.report import gather, parse_period, print_pdf, render_html, sources_of

    if lang not in ("zh", "en"):
        raise InvalidInput("--lang: use zh or en")
    span = parse_period(period, year)
    _, engine = _engine(home)
    data = CockpitData(Holdings(engine))
    r = gather(data, year, span)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(render_html(r, lang), encoding="utf-8")
    os.replace(tmp, out)
    grants, _ = grants_behind(sources_of(r), data.holdings)
    log = AccessLog(engine)
    for g, src in sorted(grants.items()):
        log.append(
            "cockpit_report",
            request_id=g,
            dataset_id=src.get("dataset_id"),
            version=src.get("version"),
            user=getpass.getuser(),
            year=year,
            period=list(span),
            file=str(out),
        )
    typer.echo(f"report written to {out}")
    if pdf is not None:
        print_pdf(out, pdf)
        typer.echo(f"PDF written to {pdf}")
