"""`tanlian joint`: statistics over several departments' datasets, computed together by
their nodes (secure multi-party computation with distributed DP noise)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from cli.common import HomeOpt, JsonOpt, PasswordFileOpt, emit, flat, open_session, table
from node.errors import InvalidInput, NotFound

app = typer.Typer(
    help="Joint queries: sum, count, mean, histogram or OLS over several owners' datasets, "
    "computed by their nodes with MPC; only the noised result is opened, to you.",
    no_args_is_help=True,
)
JointArg = Annotated[int, typer.Argument(help="The joint query id.", min=1)]


def _ledger(s):
    from node.joint.contracts import JointLedger

    address = s.settings.contracts.joint
    if not address:
        raise InvalidInput(
            "node.toml names no JointQuery contract (contracts.joint); the network's operator "
            "deploys it with `tanlian network up`"
        )
    return JointLedger(s.client, address)


def _dir(s) -> Path:
    path = s.settings.home / "joint"
    path.mkdir(mode=0o700, exist_ok=True)
    return path


def _clients(s, spec) -> list[Any]:
    from node.joint.service import RUN_TIMEOUT
    from node.peer.client import NodeClient

    return [
        NodeClient(
            s.registry.member(i.owner).endpoint, s.keys.account.key, timeout=RUN_TIMEOUT + 30
        )
        for i in spec.inputs
    ]


def _run(s, spec, joint_id: int) -> tuple[dict, dict]:
    from node.joint.service import run

    clients = _clients(s, spec)
    try:
        result, facts = run(
            _ledger(s), spec, joint_id, clients, progress=lambda m: typer.echo(m, err=True)
        )
    finally:
        for c in clients:
            c.close()
    from node.home import write_private

    write_private(
        _dir(s) / f"{joint_id}.result.json",
        json.dumps({"result": result, **facts}, ensure_ascii=False, indent=2) + "\n",
    )
    return result, facts


@app.command("propose")
def propose(
    home: HomeOpt,
    spec: Annotated[Path, typer.Option("--spec", help="The joint query (JSON file).")],
    run_now: Annotated[
        bool, typer.Option("--run/--no-run", help="Run at once if every owner admitted it.")
    ] = True,
    password_file: PasswordFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Propose a joint query over your DP grants (one dataset per owner) and, once every
    owner's preset policy admitted it, run it.

    A spec is JSON, e.g. {"op": "sum", "key": ["district", "year"], "domain": {"district":
    [...], "year": [2023, 2024]}, "inputs": [{"dataset": "grid/electricity", "column": "kwh",
    "lo": 0, "hi": 1e6, "epsilon": 0.5}, ...], "purpose": "..."}; ops: sum, count, mean,
    histogram (with "bins"), ols (inputs with "role": "y" or "x"). Each owner spends its
    input's ε on your grant before the run.
    """
    from node.home import write_private
    from node.joint.service import propose as do_propose

    try:
        draft = json.loads(spec.read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"cannot read joint query spec {spec}: {exc}") from None
    with open_session(home, password_file) as s:
        from node.joint.service import resolve_draft

        canonical = resolve_draft(s, draft)
        joint_id, admitted, tx = do_propose(_ledger(s), canonical)
        write_private(_dir(s) / f"{joint_id}.spec.json", canonical.canonical().decode() + "\n")
        out: dict[str, Any] = {
            "joint": joint_id,
            "query_sha256": "0x" + canonical.digest().hex(),
            "admitted": admitted,
            "tx": tx,
        }
        if admitted and run_now:
            result, facts = _run(s, canonical, joint_id)
            out.update(facts)
            out["result"] = result
        elif not admitted:
            out["next"] = (
                f"owners admit it (tanlian joint admit {joint_id}); "
                f"then: tanlian joint run {joint_id}"
            )
    emit(
        out if as_json else flat(out),
        as_json,
    )


def _saved_spec(s, joint_id: int):
    from node.joint.spec import parse_spec

    path = _dir(s) / f"{joint_id}.spec.json"
    if not path.exists():
        raise NotFound(
            f"joint query {joint_id} was not proposed from this home ({path} is missing)"
        )
    return parse_spec(path.read_text())


@app.command("run")
def run_cmd(
    joint_id: JointArg,
    home: HomeOpt,
    password_file: PasswordFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Run (or retry, after a failed run) an admitted joint query you proposed; each run
    spends the owners' ε again."""
    with open_session(home, password_file) as s:
        result, facts = _run(s, _saved_spec(s, joint_id), joint_id)
    out = {**facts, "result": result}
    emit(
        out if as_json else flat(out),
        as_json,
    )


@app.command("status")
def status(
    joint_id: JointArg,
    home: HomeOpt,
    password_file: PasswordFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """A joint query as the chain holds it: state, runs, participants, ε, acknowledgements."""
    with open_session(home, password_file) as s:
        ledger = _ledger(s)
        info = ledger.joint(joint_id)
        parts = ledger.participants(joint_id)
        names = {m.address: m.name for m in s.registry.members()}
    rows = [
        {
            "owner": names.get(p.owner, p.owner),
            "dataset": "0x" + p.dataset_id.hex()[:12] + "…",
            "version": p.version,
            "grant": p.grant_id,
            "epsilon": p.epsilon_milli / 1000,
            "admitted": p.admitted,
            "acknowledged": p.acknowledged,
        }
        for p in parts
    ]
    out = {
        "joint": joint_id,
        "state": info.state.name.lower(),
        "consumer": names.get(info.consumer, info.consumer),
        "query_sha256": "0x" + info.query_hash.hex(),
        "failed_runs": info.attempt,
        "noiseless": info.noiseless,
        "result_sha256": "0x" + info.result_hash.hex() if any(info.result_hash) else None,
    }
    if as_json:
        emit({**out, "participants": rows}, True)
        return
    emit(out, False)
    table(rows, list(rows[0]) if rows else [], title="participants")


@app.command("result")
def result_cmd(
    joint_id: JointArg,
    home: HomeOpt,
    password_file: PasswordFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The result you received, checked against the hash recorded on chain."""
    from node.joint.service import JointRefused, result_hash

    with open_session(home, password_file) as s:
        path = _dir(s) / f"{joint_id}.result.json"
        if not path.exists():
            raise NotFound(f"no result of joint query {joint_id} in this home")
        saved = json.loads(path.read_text())
        recorded = _ledger(s).joint(joint_id).result_hash
    if result_hash(saved["result"]) != recorded:
        raise JointRefused(
            f"the stored result does not match the hash on chain (0x{recorded.hex()})"
        )
    emit(
        saved
        if as_json
        else {
            "joint": joint_id,
            "result_sha256": "0x" + recorded.hex(),
            "result": json.dumps(saved["result"], ensure_ascii=False),
        },
        as_json,
    )


@app.command("admit")
def admit(
    joint_id: JointArg,
    home: HomeOpt,
    password_file: PasswordFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Admit a joint query over your dataset (owner)."""
    with open_session(home, password_file) as s:
        r = _ledger(s).admit(joint_id)
    emit(
        {
            "joint": joint_id,
            "admitted": True,
            "all_admitted": any(e.event == "JointAdmitted" for e in r.events),
            "tx": r.tx_hash,
        },
        as_json,
    )


@app.command("reject")
def reject(
    joint_id: JointArg,
    home: HomeOpt,
    reason: Annotated[str, typer.Option(help="Why (its hash goes on chain).")],
    password_file: PasswordFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Reject a joint query over your dataset (owner): it never runs."""
    from eth_utils import keccak

    with open_session(home, password_file) as s:
        r = _ledger(s).reject(joint_id, keccak(text=reason))
    emit({"joint": joint_id, "rejected": True, "tx": r.tx_hash}, as_json)
