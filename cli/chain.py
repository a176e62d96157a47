"""`tanlian chain ...`: run and inspect the embedded chain."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from cli.common import KEEP_ALIVE_SECONDS, HomeOpt, JsonOpt, emit
from node.chain.embedded.intake import MAX_BODY_BYTES
from node.chain.embedded.limits import (
    CALL_GAS_CAP,
    CALL_SECONDS,
    MAX_CLOCK_AHEAD_SECONDS,
    WRITE_BURST,
    WRITES_PER_SECOND,
)
from node.errors import TanlianError
from node.home import make_private

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
    make_private(home)
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
    dev: Annotated[
        bool,
        typer.Option(help="Also serve evm_mine and evm_increaseTime (tests only, never a pilot)."),
    ] = False,
    call_gas_cap: Annotated[
        int, typer.Option(help="Most gas one eth_call/eth_estimateGas runs with.", min=21_000)
    ] = CALL_GAS_CAP,
    call_seconds: Annotated[
        float, typer.Option(help="Most wall time one eth_call/eth_estimateGas runs.", min=0.01)
    ] = CALL_SECONDS,
    max_clock_ahead: Annotated[
        int,
        typer.Option(help="Most seconds the next block may be ahead of the wall clock.", min=1),
    ] = MAX_CLOCK_AHEAD_SECONDS,
    writes_per_second: Annotated[
        float, typer.Option(help="Sustained transactions a second per sender account.", min=0.001)
    ] = WRITES_PER_SECOND,
    write_burst: Annotated[
        int, typer.Option(help="Transactions a sender account may send at once.", min=1)
    ] = WRITE_BURST,
    max_body_bytes: Annotated[
        int, typer.Option(help="Largest request body read (413 past it).", min=1024)
    ] = MAX_BODY_BYTES,
    open_writes: Annotated[
        bool,
        typer.Option(
            "--open",
            help="Admit writes from any account (tests and tools only, never a pilot).",
        ),
    ] = False,
) -> None:
    """Serve the embedded chain in HOME/chain as Ethereum JSON-RPC on 127.0.0.1:PORT.

    Creates the chain on first use. Binds to loopback: the department nodes of a local
    network share the chain through it. Writes are admitted by membership in the network's
    registry, as HOME/permissions.json says (tanlian chain permit); without it, none.
    """
    if host not in ("127.0.0.1", "0.0.0.0"):
        raise TanlianError("--host must be 127.0.0.1 or 0.0.0.0 (containers)")
    import uvicorn

    from node.chain.embedded.chain import EmbeddedChain, GenesisSpec
    from node.chain.embedded.limits import ChainLimits
    from node.chain.embedded.permissioning import Permissioning, PermissionSettings
    from node.chain.embedded.rpc_server import create_app

    if not 0 < port < 65536:
        raise TanlianError(f"port {port} is out of range")
    limits = ChainLimits(
        call_gas_cap=call_gas_cap,
        call_seconds=call_seconds,
        max_clock_ahead_seconds=max_clock_ahead,
        writes_per_second=writes_per_second,
        write_burst=write_burst,
    )
    make_private(home)
    chain = EmbeddedChain(
        home / "chain", genesis=GenesisSpec(chain_id=chain_id), fsync=fsync, limits=limits
    )
    permissioning = None if open_writes else Permissioning(chain, home)
    if open_writes:
        logging.getLogger(__name__).warning("--open: every account may write to this chain")
    elif PermissionSettings.load(home) is None:
        logging.getLogger(__name__).warning(
            "no %s: this host admits no writes until `tanlian chain permit` sets them",
            home / "permissions.json",
        )
    logging.getLogger(__name__).info(
        "serving chain %s (head %s) on http://127.0.0.1:%s",
        chain.chain_id,
        chain.block_number(),
        port,
    )
    try:
        if dev:
            logging.getLogger(__name__).warning("--dev: serving evm_mine and evm_increaseTime")
        uvicorn.run(
            create_app(chain, dev=dev, max_body_bytes=max_body_bytes, permissioning=permissioning),
            host=host,
            port=port,
            log_level="warning",
            timeout_keep_alive=KEEP_ALIVE_SECONDS,
        )
    finally:
        chain.close()


@app.command("permit")
def chain_permit(
    home: HomeOpt,
    admin: Annotated[
        list[str] | None,
        typer.Option(help="A genesis administrator (deploys the contracts); repeatable."),
    ] = None,
    registry: Annotated[
        str | None, typer.Option(help="The network's NodeRegistry, once deployed.")
    ] = None,
    contract: Annotated[
        list[str] | None,
        typer.Option(help="Another network contract members may call; repeatable."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Add to the permissions of the chain host serving HOME (HOME/permissions.json).

    A running host reads the file again when it changes. Members of the registry write
    (active: to the network's contracts; pending: to the registry; others: only register);
    contracts are deployed by the registry's regulators, or by the administrators before
    the registry exists.
    """
    from node.chain.embedded.permissioning import PermissionSettings

    try:
        current = PermissionSettings.load(home) or PermissionSettings()
        updated = current.merged(admin or (), registry, contract or ())
    except ValueError as exc:
        raise TanlianError(f"not an address: {exc}") from None
    path = updated.save(home)
    emit(
        {
            "file": str(path),
            "admins": list(updated.admins),
            "registry": updated.registry,
            "contracts": list(updated.contracts),
        },
        as_json,
    )


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
