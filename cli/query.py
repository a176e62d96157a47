"""`tanlian query` and `tanlian budget`: differentially private answers on DP grants."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from cli.common import HomeOpt, JsonOpt, PasswordFileOpt, emit, flat, open_session
from node.errors import InvalidInput

RequestArg = Annotated[int, typer.Argument(help="Your DP grant (access request id).")]
TargetArg = Annotated[
    str,
    typer.Argument(
        help="DEPARTMENT/NAME or 0x<dataset id> (your newest usable DP grant on it is used), "
        "or a grant id."
    ),
]


def _read_spec(spec: Path) -> dict:
    try:
        body = json.loads(spec.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"cannot read query spec {spec}: {exc}") from None
    if not isinstance(body, dict):
        raise InvalidInput(f"query spec {spec} must be a JSON object")
    return body


def _owner_node(s, target: str) -> tuple[dict, object]:
    """The request-body target and a client of the dataset owner's node."""
    from cli.access import _resolve_dataset
    from node.peer.client import NodeClient

    sharing = s.require_sharing()
    if target.isdigit():
        owner = sharing.request(int(target)).owner
        where: dict = {"request": int(target)}
    else:
        dataset_id = _resolve_dataset(s, target)
        info = sharing.dataset(dataset_id)
        if info is None:
            raise InvalidInput(f"no dataset {target}")
        owner = info["owner"]
        where = {"dataset": "0x" + dataset_id.hex()}
    return where, NodeClient(s.registry.member(owner).endpoint, s.keys.account.key)


def query(
    target: TargetArg,
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
    """Ask the dataset owner's node for a DP answer; its ε is spent on chain first.

    A spec is JSON, e.g. {"kind": "mean", "column": "kwh", "epsilon": 0.2,
    "group_by": "district"}; kinds: count, sum, mean, variance, histogram (with "bins"),
    quantile (with "quantiles"); optional "filters": [{"column": …, "values": […]}].
    """
    if estimate and dummy:
        raise InvalidInput("--estimate and --dummy exclude each other")
    body = _read_spec(spec)
    mode = "estimate" if estimate else "dummy" if dummy else "answer"
    with open_session(home, password_file) as s:
        where, client = _owner_node(s, target)
        with client as node:
            result = node.post("/v1/query", {**where, "spec": body, "mode": mode})
    emit(
        result if as_json else flat(result),
        as_json,
    )


budget_app = typer.Typer(help="Privacy budgets of DP grants.", no_args_is_help=True)


@budget_app.command("show")
def budget_show(
    request_id: RequestArg,
    home: HomeOpt,
    per_query: Annotated[
        str | None,
        typer.Option(help="ε of the query you plan: how many more of that cost fit."),
    ] = None,
    spec: Annotated[
        Path | None,
        typer.Option(help="A query spec: how many more queries of that kind fit (asks its cost)."),
    ] = None,
    password_file: PasswordFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Ceiling, spent and remaining ε of a DP grant and of the lifetime budgets it draws on
    (the consumer's and its department's on the dataset, over all grants), read from the
    chain (exact: whole milli-ε, as the chain accounts them). `remaining` is what the grant
    may still spend: the least of the three."""
    from node.privacy.budget import Epsilon

    if per_query is not None and spec is not None:
        raise InvalidInput("--per-query and --spec exclude each other")
    cost = Epsilon.parse(per_query) if per_query is not None else None
    body = _read_spec(spec) if spec is not None else None
    from node.sharing.contracts import Mode
    from node.sharing.service import GrantMismatch, known_request

    with open_session(home, password_file) as s:
        sharing = s.require_sharing()
        if known_request(sharing, request_id).mode != Mode.DP:
            raise GrantMismatch(f"request {request_id} is a raw grant: it has no ε budget")
        budget = sharing.budget(request_id)
        req = sharing.request(request_id)
        lifetime = sharing.lifetime_budget(req.consumer, req.dataset_id)
        left, _delta = sharing.remaining(request_id)
        if body is not None:
            where, client = _owner_node(s, str(request_id))
            with client as node:
                asked = node.post("/v1/query", {**where, "spec": body, "mode": "estimate"})
            cost = Epsilon.parse(asked["epsilon"])
    info: dict = {
        "request": request_id,
        "ceiling": budget.ceiling.as_json(),
        "spent": budget.spent.as_json(),
        "grant_remaining": budget.remaining.as_json(),
        # every grant of the consumer on the dataset draws on these
        "lifetime_ceiling": lifetime.account.ceiling.as_json(),
        "lifetime_spent": lifetime.account.spent.as_json(),
        "lifetime_remaining": lifetime.account.remaining.as_json(),
        "department_ceiling": lifetime.department_ledger.ceiling.as_json(),
        "department_spent": lifetime.department_ledger.spent.as_json(),
        "department_remaining": lifetime.department_ledger.remaining.as_json(),
        "remaining": left.as_json(),
    }
    if cost is not None:
        info["more_queries_of_that_cost"] = left // cost
    emit(info, as_json)
