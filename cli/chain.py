"""`tanlian chain ...`: run and inspect the embedded chain."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from cli.common import HomeOpt, JsonOpt, emit
from node.errors import TanlianError

app = typer.Typer(help="Run and inspect the embedded chain.", no_args_is_help=True)


@app.command("init")
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
        emit(
            {
                "chain_id": chain.chain_id,
                "genesis": "0x" + chain.genesis_hash.hex(),
                "store": str(store),
            },
            as_json,
        )


@app.command("serve")
def chain_serve(
    home: HomeOpt,
    port: Annotated[int, typer.Option(help="Loopback port for JSON-RPC.")] = 8545,
    chain_id: Annotated[int, typer.Option(help="Chain id if a new chain is created.")] = 20_260,
    fsync: Annotated[bool, typer.Option(help="fsync every block (power-loss safe).")] = False,
    host: Annotated[
        str, typer.Option(help="127.0.0.1 (default), or 0.0.0.0 inside a container only.")
    ] = "127.0.0.1",
) -> None:
    """Serve the embedded chain in HOME/chain as Ethereum JSON-RPC on 127.0.0.1:PORT.

    Creates the chain on first use. Binds to loopback: the department nodes of a local
    network share the chain through it.
    """
    if host not in ("127.0.0.1", "0.0.0.0"):
        raise TanlianError("--host must be 127.0.0.1 or 0.0.0.0 (containers)")
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
        uvicorn.run(create_app(chain), host=host, port=port, log_level="warning")
    finally:
        chain.close()


@app.command("info")
def chain_info(
    rpc: Annotated[str, typer.Option(help="JSON-RPC URL of a chain.")] = "http://127.0.0.1:8545",
    as_json: JsonOpt = False,
) -> None:
    """Chain id, client and head of the chain at RPC."""
    from node.chain.rpc_backend import RpcBackend

    backend = RpcBackend(rpc, timeout=5)
    head = backend.get_block("latest")
    emit(
        {
            "url": rpc,
            "chain_id": backend.chain_id,
            "client": backend.client_version,
            "head": head.number,
            "head_hash": "0x" + head.hash.hex(),
        },
        as_json,
    )
