"""The ``tanlian`` command: one entry point, a subcommand group per user task.

The CLI parses arguments, calls library functions or node APIs and prints results; it holds
no business logic. Every failure ends with a non-zero exit and one readable line.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from node.errors import TanlianError

app = typer.Typer(
    name="tanlian",
    help="Tanlian (碳链): permissioned-ledger data sharing for green low-carbon work.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
chain_app = typer.Typer(help="Run and inspect the embedded chain.", no_args_is_help=True)
app.add_typer(chain_app, name="chain")

HomeOpt = Annotated[Path, typer.Option("--home", help="Directory of the chain host or node.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def _emit(data: dict[str, Any], as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(data, indent=2, default=str))
    else:
        width = max(len(k) for k in data)
        for k, v in data.items():
            typer.echo(f"{k:<{width}}  {v}")


@chain_app.command("init")
def chain_init(
    home: HomeOpt,
    chain_id: Annotated[int, typer.Option(help="Chain id of the new chain.")] = 20_260,
    as_json: JsonOpt = False,
) -> None:
    """Create a new embedded chain store in HOME/chain (refuses to overwrite one)."""
    from node.chain.embedded.chain import STORE_FILE, EmbeddedChain, GenesisSpec

    store = home / "chain"
    if (store / STORE_FILE).exists():
        raise TanlianError(f"a chain already exists in {store}")
    with EmbeddedChain(store, genesis=GenesisSpec(chain_id=chain_id)) as chain:
        _emit(
            {
                "chain_id": chain.chain_id,
                "genesis": "0x" + chain.genesis_hash.hex(),
                "store": str(store),
            },
            as_json,
        )


@chain_app.command("serve")
def chain_serve(
    home: HomeOpt,
    port: Annotated[int, typer.Option(help="Loopback port for JSON-RPC.")] = 8545,
    chain_id: Annotated[int, typer.Option(help="Chain id if a new chain is created.")] = 20_260,
    fsync: Annotated[bool, typer.Option(help="fsync every block (power-loss safe).")] = False,
) -> None:
    """Serve the embedded chain in HOME/chain as Ethereum JSON-RPC on 127.0.0.1:PORT.

    Creates the chain on first use. Binds to loopback only: the department nodes of a local
    network share the chain through it.
    """
    import uvicorn

    from node.chain.embedded.chain import EmbeddedChain, GenesisSpec
    from node.chain.embedded.rpc_server import create_app

    if not 0 < port < 65536:
        raise TanlianError(f"port {port} is out of range")
    chain = EmbeddedChain(home / "chain", genesis=GenesisSpec(chain_id=chain_id), fsync=fsync)
    logging.getLogger(__name__).info(
        "serving chain %s (head %s) on http://127.0.0.1:%s",
        chain.chain_id,
        chain.block_number(),
        port,
    )
    try:
        uvicorn.run(create_app(chain), host="127.0.0.1", port=port, log_level="warning")
    finally:
        chain.close()


@chain_app.command("info")
def chain_info(
    rpc: Annotated[str, typer.Option(help="JSON-RPC URL of a chain.")] = "http://127.0.0.1:8545",
    as_json: JsonOpt = False,
) -> None:
    """Chain id, client and head of the chain at RPC."""
    from node.chain.rpc_backend import RpcBackend

    backend = RpcBackend(rpc, timeout=5)
    head = backend.get_block("latest")
    _emit(
        {
            "url": rpc,
            "chain_id": backend.chain_id,
            "client": backend.client_version,
            "head": head.number,
            "head_hash": "0x" + head.hash.hex(),
        },
        as_json,
    )


@app.command("demo")
def demo(
    out: Annotated[Path, typer.Option(help="Output folder.")] = Path("out/demo"),
) -> None:
    """Run the pilot scenario on the embedded chain and write OUT/summary.json."""
    from node.pilot.demo import run_demo

    run_demo(out, say=typer.echo)


def main() -> None:
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        app()
    except TanlianError as exc:
        typer.echo(f"tanlian: error [{exc.code}]: {exc.message}", err=True)
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None


if __name__ == "__main__":
    main()
