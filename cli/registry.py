"""`tanlian registry ...`: join the network, and (regulators) approve and suspend members."""

from __future__ import annotations

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

app = typer.Typer(help="Register, approve, suspend and list departments.", no_args_is_help=True)

Address = Annotated[
    str, typer.Argument(help="The member: its account address (0x…) or its department name.")
]


@app.command("register")
def register(
    home: HomeOpt, password_file: PasswordFileOpt = None, as_json: JsonOpt = False
) -> None:
    """Ask to join with this node's name, roles, encryption key and endpoint."""
    with open_session(home, password_file) as s:
        st = s.settings
        result = s.registry.register(
            st.name or "", st.roles, s.keys.encryption_public_key, st.endpoint or ""
        )
        emit_tx(result, as_json, account=s.keys.address, status="pending")


@app.command("approve")
def approve(
    address: Annotated[str, typer.Argument(help="The member's account (0x...) or name.")],
    home: HomeOpt,
    password_file: PasswordFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """(Regulator) approve a pending registration, by account or department name."""
    with open_session(home, password_file) as s:
        account = s.registry.resolve(address)
        emit_tx(s.registry.approve(account), as_json, account=account)


@app.command("suspend")
def suspend(
    address: Address,
    home: HomeOpt,
    reason: Annotated[str, typer.Option(help="Why (its hash goes on chain).")],
    password_file: PasswordFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """(Regulator) suspend an active member: every node refuses it from then on."""
    with open_session(home, password_file) as s:
        account = s.registry.resolve(address)
        emit_tx(s.registry.suspend(account, reason), as_json, account=account)


@app.command("reinstate")
def reinstate(
    address: Address, home: HomeOpt, password_file: PasswordFileOpt = None, as_json: JsonOpt = False
) -> None:
    """(Regulator) reinstate a suspended member."""
    with open_session(home, password_file) as s:
        account = s.registry.resolve(address)
        emit_tx(s.registry.reinstate(account), as_json, account=account)


@app.command("list")
def list_members(
    home: HomeOpt, password_file: PasswordFileOpt = None, as_json: JsonOpt = False
) -> None:
    """Every member, as this department's node sees it (a signed request to the node)."""
    from node.peer.client import NodeClient

    settings, keys = node_context(home, password_file)
    with NodeClient(f"http://127.0.0.1:{settings.api.port}", keys.account.key) as client:
        data = client.get("/v1/nodes")
    if as_json:
        emit(data, True)
        return
    table(
        data["members"],
        ["name", "status", "roles", "address", "endpoint", "approvals"],
        title=f"registry as of block {data['as_of_block']}",
    )
