"""What every command shares: options, password lookup, output as tables or JSON."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from node.errors import TanlianError
from node.registry.keystore import KEYSTORE_FILE, NodeKeys, resolve_password, unlock
from node.settings import NodeSettings, load_settings

#: How long a served node or chain host keeps an idle HTTP connection open. Longer than the
#: usual client pools' idle expiry (httpx 5 s, as uvicorn's own default): with equal
#: timeouts a client can send on a connection in the very moment the server closes it,
#: and the request fails with a read error (seen under benchmarks/load.py).
KEEP_ALIVE_SECONDS = 30

HomeOpt = Annotated[
    Path, typer.Option("--home", help="The node's home directory.", envvar="TANLIAN_HOME")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
PasswordFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--password-file",
        help="Read the keystore password from this file (else TANLIAN_PASSWORD, else a prompt).",
    ),
]

# Piped output has no terminal width to follow; keep tables readable in logs.
console = Console() if sys.stdout.isatty() else Console(width=160)


def password(password_file: Path | None, *, confirm: bool = False) -> str:
    found = resolve_password(password_file=password_file)
    if found is not None:
        return found
    if not sys.stdin.isatty():
        raise TanlianError(
            "no keystore password: set TANLIAN_PASSWORD, pass --password-file, or run in a terminal"
        )
    return typer.prompt("Keystore password", hide_input=True, confirmation_prompt=confirm)


def node_context(home: Path, password_file: Path | None) -> tuple[NodeSettings, NodeKeys]:
    settings = load_settings(home)
    keys = unlock(settings.home / KEYSTORE_FILE, password(password_file))
    return settings, keys


def _json_safe(data: Any) -> Any:
    # analytics.tables loads pandas: only commands that print JSON pay for it
    from analytics.tables import json_safe

    return json_safe(data)


def emit(data: Any, as_json: bool) -> None:
    if as_json:
        # strict JSON: a missing number is null, an infinite one an error, never NaN/Infinity
        typer.echo(
            json.dumps(_json_safe(data), indent=2, default=str, allow_nan=False, ensure_ascii=False)
        )
        return
    if isinstance(data, dict):
        width = max((len(k) for k in data), default=0)
        for k, v in data.items():
            typer.echo(f"{k:<{width}}  {', '.join(map(str, v)) if isinstance(v, list) else v}")
    else:
        typer.echo(str(data))


def flat(data: dict[str, Any]) -> dict[str, Any]:
    """Nested values (dicts, lists) as one line of JSON each, for the plain-text view."""
    return {
        k: json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else v
        for k, v in data.items()
    }


def table(rows: Sequence[dict[str, Any]], columns: Sequence[str], title: str | None = None) -> None:
    t = Table(title=title)
    for c in columns:
        t.add_column(c)
    for row in rows:
        t.add_row(
            *[
                ", ".join(map(str, row.get(c, "")))
                if isinstance(row.get(c), list)
                else str(row.get(c, ""))
                for c in columns
            ]
        )
    console.print(t)


def open_session(home: Path, password_file: Path | None):
    """The department's chain contracts and store, unlocked for one command."""
    from node.runtime import NodeSession

    settings, keys = node_context(home, password_file)
    return NodeSession(settings, keys)


def emit_tx(result: Any, as_json: bool, **extra: Any) -> None:
    """One transaction's outcome: hash, block and the events it emitted."""
    emit(
        {
            **extra,
            "tx": result.tx_hash,
            "block": result.receipt.block_number,
            "events": [e.event for e in result.events],
        },
        as_json,
    )
