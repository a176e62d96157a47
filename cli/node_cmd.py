"""`tanlian node ...`: run the department's node and see its state."""

from __future__ import annotations

import logging
import signal

import typer

from cli.common import KEEP_ALIVE_SECONDS, HomeOpt, JsonOpt, PasswordFileOpt, emit, node_context
from node.errors import TanlianError

app = typer.Typer(help="Run the department node and see its state.", no_args_is_help=True)


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


@app.command("serve")
def serve(home: HomeOpt, password_file: PasswordFileOpt = None) -> None:
    """Unlock the keystore and serve the node's API on its configured loopback port."""
    import uvicorn

    from node.api.main import create_app
    from node.runtime import NodeRuntime

    settings, keys = node_context(home, password_file)
    runtime = NodeRuntime(settings, keys)
    try:
        cleaned = runtime.recover()
        if any(cleaned.values()):
            logging.getLogger(__name__).info("store recovery: %s", cleaned)
        runtime.sync()
        runtime.start_sync()
        logging.getLogger(__name__).info(
            "node %s (%s) serving on http://%s:%s",
            settings.name,
            keys.address,
            settings.api.host,
            settings.api.port,
        )
        # uvicorn shuts down gracefully on SIGTERM and then re-raises the signal with the
        # handler it found: make that handler an exit, so the `finally` below still runs
        # (the node anchors its pending access log on the way out).
        signal.signal(signal.SIGTERM, _exit_on_signal)
        uvicorn.run(
            create_app(runtime),
            host=settings.api.host,
            port=settings.api.port,
            log_level="warning",
            timeout_keep_alive=KEEP_ALIVE_SECONDS,
        )
    finally:
        runtime.close()
        logging.getLogger(__name__).info("node %s stopped", settings.name)


@app.command("status")
def status(home: HomeOpt, password_file: PasswordFileOpt = None, as_json: JsonOpt = False) -> None:
    """Health, chain head and registry status of this node (asks the running node)."""
    from node.peer.client import NodeApiError, NodeClient
    from node.settings import load_settings

    settings = load_settings(home)
    url = f"http://127.0.0.1:{settings.api.port}"
    with NodeClient(url) as anon:
        health = anon.health()
    info = {
        "name": health["name"],
        "address": health["address"],
        "url": url,
        "health": health["status"],
        "roles": health["roles"],
        "chain_head": health["chain_head"],
        "indexed_block": health["indexed_block"],
        "registry": health["registry"],
    }
    if health.get("settings_error"):
        info["settings_error"] = health["settings_error"]
    try:
        settings, keys = node_context(home, password_file)
    except TanlianError:
        info["registry_status"] = "unknown (no password given)"
    else:
        with NodeClient(url, keys.account.key, audience=health["address"]) as client:
            try:
                info["registry_status"] = client.get("/v1/nodes/me")["status"]
            except NodeApiError as exc:
                info["registry_status"] = f"{exc.code}: {exc.message}"
    emit(info, as_json)
