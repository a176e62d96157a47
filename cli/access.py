"""`tanlian access ...`: apply for data, decide on applications, pull released data."""

from __future__ import annotations

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
    if ref.startswith("0x"):
        try:
            return bytes.fromhex(ref[2:])
        except ValueError:
            raise InvalidInput(f"{ref!r} is not a dataset id") from None
    if "/" not in ref:
        raise InvalidInput("name a dataset as 0x<id> or DEPARTMENT/NAME (e.g. stats/panel)")
    dept, name = ref.split("/", 1)
    owners = [m for m in s.registry.members() if m.name == dept]
    if not owners:
        raise InvalidInput(f"no department named {dept!r}")
    return s.require_sharing().dataset_id(owners[0].address, name)


@app.command("request")
def request(
    dataset: Annotated[str, typer.Argument(help="0x<dataset id> or DEPARTMENT/NAME.")],
    home: HomeOpt,
    purpose: Annotated[str, typer.Option(help="Why you need the data (its hash goes on chain).")],
    mode: Annotated[str, typer.Option(help="raw (a decrypted copy) or dp (queries only).")] = "raw",
    epsilon: Annotated[
        str,
        typer.Option(help="Privacy budget asked (dp only): decimal ε in whole milli-ε (0.001)."),
    ] = "0",
    days: Annotated[float, typer.Option(help="How long the grant lasts once authorized.")] = 30,
    version: Annotated[int, typer.Option(help="Version (default: the latest).")] = 0,
    password_file: PasswordFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Apply for a dataset; the owner's preset policy may authorize it at once."""
    from node.privacy.budget import Epsilon
    from node.sharing.contracts import Mode

    if mode not in ("raw", "dp"):
        raise InvalidInput("--mode is raw or dp")
    eps = Epsilon.parse(epsilon, allow_zero=mode == "raw")
    with open_session(home, password_file) as s:
        sharing = s.require_sharing()
        dataset_id = _resolve_dataset(s, dataset)
        info = sharing.dataset(dataset_id)
        if info is None:
            raise InvalidInput(f"no dataset {dataset}")
        version = version or info["versions"]
        result = sharing.apply(
            dataset_id, version, purpose, Mode[mode.upper()], eps, round(days * 86400)
        )
        rid = result.event("AccessRequested").args["requestId"]
        state = (
            "authorized" if any(e.event == "AccessAuthorized" for e in result.events) else "pending"
        )
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
    """Access requests as this department's node sees them."""
    from node.peer.client import NodeClient

    settings, keys = node_context(home, password_file)
    with NodeClient(f"http://127.0.0.1:{settings.api.port}", keys.account.key) as c:
        data = c.get("/v1/access", params={"mine": mine, "incoming": incoming})
    if as_json:
        emit(data, True)
        return
    table(
        data["requests"],
        [
            "request_id",
            "state",
            "mode",
            "dataset_id",
            "version",
            "consumer",
            "epsilon",
            "expires_at",
        ],
        title=f"access requests as of block {data['as_of_block']}",
    )


@app.command("approve")
def approve(
    request_id: RequestArg,
    home: HomeOpt,
    password_file: PasswordFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Approve a pending request, as its owner or as a reviewer."""
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
    """Reject a pending request on your dataset."""
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
    password_file: PasswordFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Download a released dataset, verify both hashes and decrypt it into OUT."""
    from node.sharing.service import pull as do_pull

    with (
        open_session(home, password_file) as s,
        bar(f"pulling request {request_id}", not as_json) as tick,
    ):
        info = do_pull(s.require_sharing(), s.registry, s.keys, request_id, out, progress=tick)
    emit(info, as_json)
