"""`tanlian init`: create a department's identity and node configuration."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.common import HomeOpt, JsonOpt, PasswordFileOpt, emit, password
from node.errors import InvalidInput


def init(
    home: HomeOpt,
    name: Annotated[str, typer.Option(help="Department name, e.g. stats.")],
    roles: Annotated[
        str, typer.Option(help="Comma-separated: provider,consumer,analyst,regulator.")
    ],
    endpoint: Annotated[str, typer.Option(help="Base URL of this node's API.")],
    rpc: Annotated[str | None, typer.Option(help="JSON-RPC URL of the shared chain.")] = None,
    registry: Annotated[
        str | None,
        typer.Option(
            help="NodeRegistry address (with --rpc): the catalog, access manager and audit "
            "log are found from it on chain."
        ),
    ] = None,
    network: Annotated[
        Path | None,
        typer.Option(
            help="The network's descriptor (network.json: chain URL and registry), "
            "instead of --rpc and --registry."
        ),
    ] = None,
    password_file: PasswordFileOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create the department's chain account and X25519 key in an encrypted keystore, and
    its node.toml. Nothing secret is written unencrypted."""
    from node.registry.identity import init_node, read_network_descriptor

    if network is not None:
        if rpc or registry:
            raise InvalidInput("give --network, or --rpc and --registry, not both")
        rpc, registry = read_network_descriptor(network)
    chain = {"backend": "rpc", "rpc_url": rpc} if rpc else None
    info = init_node(
        home,
        name=name,
        roles=roles.split(","),
        endpoint=endpoint,
        password=password(password_file, confirm=True),
        chain=chain,
        registry=registry,
    )
    emit(info, as_json)
