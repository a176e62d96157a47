"""`tanlian network up | status | down`: the pilot's departments on this machine."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.common import JsonOpt, emit, table

app = typer.Typer(
    help="Start, inspect and stop a local network of department nodes.", no_args_is_help=True
)

ConfigOpt = Annotated[Path, typer.Option("--config", help="Network definition (TOML).")]
RootOpt = Annotated[Path, typer.Option("--root", help="Folder for the network's state.")]
DEFAULT_CONFIG = Path("network-config/local.toml")
DEFAULT_ROOT = Path("out/network")


def _network(config: Path, root: Path, quiet: bool = False):
    from node.network.config import load_network_config
    from node.network.orchestrator import LocalNetwork

    return LocalNetwork(
        load_network_config(config), root, say=(lambda _: None) if quiet else typer.echo
    )


def _show(status: dict, as_json: bool) -> None:
    if as_json:
        emit(status, True)
        return
    chain = status["chain"]
    typer.echo(
        f"network {status['network']}  chain {chain['url']} {chain['health']} "
        f"(id {chain['chain_id']}, head {chain['head']})  registry {status['registry']}"
    )
    table(
        status["departments"],
        [
            "name",
            "roles",
            "process",
            "health",
            "registry_status",
            "chain_head",
            "indexed_block",
            "address",
            "endpoint",
        ],
    )


@app.command("up")
def up(
    config: ConfigOpt = DEFAULT_CONFIG, root: RootOpt = DEFAULT_ROOT, as_json: JsonOpt = False
) -> None:
    """Start the chain host and every department's node, register and activate them.

    Safe to run again: what is healthy is kept, what died is restarted, nothing is duplicated.
    """
    net = _network(config, root, quiet=as_json)
    _show(net.up(), as_json)


@app.command("status")
def status(
    config: ConfigOpt = DEFAULT_CONFIG, root: RootOpt = DEFAULT_ROOT, as_json: JsonOpt = False
) -> None:
    """Each node's process, health, role, registry status and chain head."""
    _show(_network(config, root).status(), as_json)


@app.command("down")
def down(config: ConfigOpt = DEFAULT_CONFIG, root: RootOpt = DEFAULT_ROOT) -> None:
    """Stop exactly the processes `up` started (data stays in the root folder)."""
    stopped = _network(config, root).down()
    typer.echo(f"stopped: {', '.join(stopped) if stopped else 'nothing was running'}")
