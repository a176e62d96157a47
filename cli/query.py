"""`tanlian query` and `tanlian budget`: differentially private answers on DP grants."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from cli.common import HomeOpt, JsonOpt, PasswordFileOpt, emit, open_session
from node.errors import InvalidInput

RequestArg = Annotated[int, typer.Argument(help="Your DP grant (access request id).")]


def _owner_client(s, request_id: int):
    from node.api.client import NodeClient

    req = s.require_sharing().request(request_id)
    owner = s.registry.member(req.owner)
    return NodeClient(owner.endpoint, s.keys.account.key)


def query(
    request_id: RequestArg,
    home: HomeOpt,
    spec: Annotated[Path, typer.Option("--spec", help="Query spec (JSON file).")],
    estimate: Annotated[
        bool, typer.Option("--estimate", help="Cost only; spends nothing.")
    ] = False,
    dummy: Annotated[
        bool, typer.Option("--dummy", help="Run on synthetic rows; spends nothing.")
    ] = False,
    password_file: PasswordFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Ask the dataset owner's node for a DP answer; its ε is spent on chain first."""
    try:
        body = json.loads(spec.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"cannot read query spec {spec}: {exc}") from None
    mode = "estimate" if estimate else "dummy" if dummy else "answer"
    with open_session(home, password_file) as s, _owner_client(s, request_id) as node:
        result = node.post("/v1/query", {"request": request_id, "spec": body, "mode": mode})
    emit(
        result
        if as_json
        else {
            k: json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else v
            for k, v in result.items()
        },
        as_json,
    )


budget_app = typer.Typer(help="Privacy budgets of DP grants.", no_args_is_help=True)


@budget_app.command("show")
def budget_show(
    request_id: RequestArg,
    home: HomeOpt,
    per_query: Annotated[float, typer.Option(help="ε of the query you plan (for 'fits').")] = 0.0,
    password_file: PasswordFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Ceiling, spent and remaining ε of a DP grant, read from the chain."""
    with open_session(home, password_file) as s:
        ceiling, spent = s.require_sharing().budget(request_id)
    info = {
        "request": request_id,
        "ceiling": ceiling,
        "spent": spent,
        "remaining": round(ceiling - spent, 3),
    }
    if per_query > 0:
        info["more_queries_of_that_cost"] = int((ceiling - spent + 1e-9) // per_query)
    emit(info, as_json)
