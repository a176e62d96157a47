"""`tanlian access ...`: apply for data, decide on applications, pull released data."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from cli.common import (
    HomeOpt,
    JsonOpt,
    PasswordFileOpt,
    emit,
    emit_tx,
    node_context,
    open_session,
    table,
)
from cli.progress import bar
from node.errors import InvalidInput

app = typer.Typer(
    help="Apply for datasets, approve or revoke, pull released data.", no_args_is_help=True
)
RequestArg = Annotated[int, typer.Argument(help="The access request id.")]


def _resolve_dataset(s, ref: str) -> bytes:
    """A dataset from `0x<id>` or `DEPARTMENT/NAME`."""
    from node.joint.service import resolve_dataset

    return resolve_dataset(s, ref)


@app.command("request")
def request(
    dataset: Annotated[str, typer.Argument(help="0x<dataset id> or DEPARTMENT/NAME.")],
    home: HomeOpt,
    purpose: Annotated[
        str,
        typer.Option(
            help="Why you need the data (not empty): your node keeps the text and serves it "
            "to the owner and reviewers; its hash goes on chain."
        ),
    ],
    mode: Annotated[str, typer.Option(help="raw (a decrypted copy) or dp (queries only).")] = "raw",
    epsilon: Annotated[
        str,
        typer.Option(help="Privacy budget asked (dp only): decimal ε in whole milli-ε (0.001)."),
    ] = "0",
    days: Annotated[float, typer.Option(help="How long the grant lasts once authorized.")] = 30,
    version: Annotated[int, typer.Option(help="Version (default: the latest).")] = 0,
    password_file: PasswordFileOpt = None,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print only the request id (for scripts).")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Apply for a dataset; the owner's preset policy may authorize it at once, else it
    waits for the owner and the reviewers the policy asks for."""
    from node.privacy.budget import Epsilon
    from node.sharing import purposes
    from node.sharing.contracts import Mode

    if mode not in ("raw", "dp"):
        raise InvalidInput("--mode is raw or dp")
    eps = Epsilon.parse(epsilon, allow_zero=mode == "raw")
    if not 0 < days < float("inf"):
        raise InvalidInput(f"--days must be a positive number of days, not {days}")
    purposes.checked_purpose(purpose)
    with open_session(home, password_file) as s:
        sharing = s.require_sharing()
        dataset_id = _resolve_dataset(s, dataset)
        info = sharing.dataset(dataset_id)
        if info is None:
            raise InvalidInput(f"no dataset {dataset}")
        version = version or info["versions"]
        # kept before applying: an application on chain always has its text here
        purposes.record(s.engine, purpose)
        result = sharing.apply(
            dataset_id, version, purpose, Mode[mode.upper()], eps, round(days * 86400)
        )
        rid = result.event("AccessRequested").args["requestId"]
        state = (
            "authorized" if any(e.event == "AccessAuthorized" for e in result.events) else "pending"
        )
        if quiet:
            typer.echo(rid)
            return
        emit_tx(
            result,
            as_json,
            request=rid,
            dataset_id="0x" + dataset_id.hex(),
            version=version,
            state=state,
        )


@app.command("list")
def list_requests(
    home: HomeOpt,
    mine: Annotated[bool, typer.Option("--mine", help="Only your own applications.")] = False,
    incoming: Annotated[bool, typer.Option("--incoming", help="Only on your datasets.")] = False,
    password_file: PasswordFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Access requests as this department's node sees them, with the dataset's and the
    applicant's names, dates and the applicant's purpose (asked of the applicant's node and
    checked against its hash on chain; the owner, reviewers and regulators may read it)."""
    from node.peer.client import NodeClient

    settings, keys = node_context(home, password_file)
    with NodeClient(f"http://127.0.0.1:{settings.api.port}", keys.account.key) as c:
        data = c.get("/v1/access", params={"mine": mine, "incoming": incoming})
        members = {m["address"]: m for m in c.get("/v1/nodes")["members"]}
        datasets = {d["dataset_id"]: d for d in c.get("/v1/datasets")["datasets"]}
    unreachable: set[str] = set()
    for r in data["requests"]:
        _describe(r, members, datasets, keys.account.key, unreachable)
    if as_json:
        emit(data, True)
        return
    table(
        data["requests"],
        [
            "request_id",
            "state",
            "dataset",
            "applicant",
            "mode",
            "epsilon",
            "purpose",
            "requested",
            "expires",
        ],
        title=f"access requests as of block {data['as_of_block']}",
    )


def _describe(r: dict, members: dict, datasets: dict, key: bytes, unreachable: set[str]) -> None:
    """Names, dates and the verified purpose beside a request's ids and unix times."""
    from node.errors import TanlianError
    from node.peer.client import NodeUnreachable
    from node.sharing import purposes

    d = datasets.get(r["dataset_id"])
    owner = members.get(d["owner"], {}).get("name", d["owner"]) if d else None
    r["dataset"] = f"{owner}/{d['name']} v{r['version']}" if d else r["dataset_id"]
    applicant = members.get(r["consumer"])
    r["applicant"] = applicant["name"] if applicant else r["consumer"]
    r["requested"] = _when(r.get("requested_at"))
    r["expires"] = _when(r.get("expires_at"))
    try:
        if applicant is None or not r.get("purpose_hash"):
            raise TanlianError("the applicant is not in the registry")
        if r["consumer"] in unreachable:
            raise TanlianError(f"{applicant['name']}'s node did not answer")
        r["purpose"] = purposes.fetch(key, applicant, r["request_id"], r["purpose_hash"])
    except NodeUnreachable as exc:
        unreachable.add(r["consumer"])
        r["purpose"] = None
        r["purpose_unavailable"] = exc.message
    except TanlianError as exc:
        r["purpose"] = None
        r["purpose_unavailable"] = exc.message


def _when(ts: int | None) -> str | None:
    """A unix time as ISO 8601 with its offset, in the display zone (``TANLIAN_DISPLAY_TZ``,
    else Beijing time)."""
    import datetime as dt

    from node.display import display_zone

    if ts is None:
        return None
    return dt.datetime.fromtimestamp(ts, display_zone()).isoformat(timespec="minutes")


@app.command("approve")
def approve(
    request_id: RequestArg,
    home: HomeOpt,
    password_file: PasswordFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Approve a pending request, as the dataset's owner or as a reviewer.

    Reviewers are the active members holding the provider role other than the dataset's
    owner and the applicant; the dataset's policy says how many reviewer approvals a request
    needs beside the owner's. Regulators do not review requests (they may revoke any grant)."""
    with open_session(home, password_file) as s:
        emit_tx(s.require_sharing().approve(request_id), as_json, request=request_id)


@app.command("reject")
def reject(
    request_id: RequestArg,
    home: HomeOpt,
    reason: Annotated[str, typer.Option(help="Why (its hash goes on chain).")],
    password_file: PasswordFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Reject a pending request on your dataset (the dataset's owner only)."""
    with open_session(home, password_file) as s:
        emit_tx(s.require_sharing().reject(request_id, reason), as_json, request=request_id)


@app.command("revoke")
def revoke(
    request_id: RequestArg,
    home: HomeOpt,
    reason: Annotated[str, typer.Option(help="Why (its hash goes on chain).")],
    password_file: PasswordFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Revoke a grant on your dataset (or any grant, as a regulator)."""
    with open_session(home, password_file) as s:
        emit_tx(s.require_sharing().revoke(request_id, reason), as_json, request=request_id)


@app.command("pull")
def pull(
    request_id: RequestArg,
    home: HomeOpt,
    out: Annotated[Path, typer.Option("-o", "--out", help="Where to write the dataset.")],
    excel: Annotated[
        bool,
        typer.Option(
            "--excel",
            help="After verifying, start the CSV with a UTF-8 byte-order mark so that Excel "
            "shows Chinese text (锦江区) instead of mojibake; the bytes are otherwise the "
            "provider's.",
        ),
    ] = False,
    wait: Annotated[
        float,
        typer.Option(help="Seconds to wait for the owner's node to release an authorized key."),
    ] = 30,
    cockpit: Annotated[
        str | None,
        typer.Option(
            help="Also what the decision cockpit shows this file as: building_energy "
            "(district x building type x month) or stats_panel (GDP and population).",
        ),
    ] = None,
    password_file: PasswordFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Download a released dataset, verify both hashes and decrypt it into OUT (UTF-8, as
    the provider published it). The node's holdings record the file with its grant."""
    from node.cockpit.holdings import COCKPIT_ROLES, Holdings
    from node.sharing.service import pull as do_pull

    if cockpit is not None and cockpit not in COCKPIT_ROLES:
        raise InvalidInput(f"--cockpit {cockpit!r}: use {' or '.join(COCKPIT_ROLES)}")
    with (
        open_session(home, password_file) as s,
        bar(f"pulling request {request_id}", not as_json) as tick,
    ):
        sharing = s.require_sharing()
        info = do_pull(sharing, s.registry, s.keys, request_id, out, progress=tick, wait=wait)
        dataset = sharing.dataset(bytes.fromhex(info["dataset_id"][2:])) or {}
        held = Holdings(s.engine).record_pull(
            cockpit or "pulled",
            info,
            sharing=sharing,
            dataset_name=dataset.get("name", "?"),
            owner=s.registry.member(info["owner"]).name,
        )
        info["holding"] = held.id
    if excel:
        _mark_utf8(out)
        info["excel"] = True
    emit(info, as_json)


def _mark_utf8(path: Path) -> None:
    """Put a UTF-8 byte-order mark before ``path``'s text, replacing the file atomically."""
    tmp = path.with_name(f".{path.name}.excel.tmp")
    with open(path, "rb") as src, open(tmp, "wb") as dst:
        dst.write(b"\xef\xbb\xbf")
        while block := src.read(1 << 20):
            dst.write(block)
        dst.flush()
        os.fsync(dst.fileno())
    tmp.replace(path)
