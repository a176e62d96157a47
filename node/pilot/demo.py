"""The pilot scenario on the embedded chain, step by step, with a JSON summary.

Today it covers the chain foundation: a chain host is started, the contracts are deployed
and exercised through the node's send path, their events are indexed, and the host is
restarted to show that the chain is durable. Later stages (departments, sharing, privacy)
extend this module.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from node.chain.artifacts import load_artifact
from node.chain.client import ChainClient, new_account
from node.chain.embedded.host import start_chain_host
from node.chain.indexer.indexer import EventIndexer
from node.chain.rpc_backend import RpcBackend
from node.contracts.toolchain import ARTIFACTS_DIR
from node.db import make_engine

Say = Callable[[str], None]


def run_demo(out_dir: Path, say: Say = print) -> dict[str, Any]:
    out_dir = Path(out_dir)
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    steps: list[dict[str, Any]] = []
    started = time.time()

    def step(name: str, **data: Any) -> None:
        steps.append({"step": name, **data})

    say("1/4 starting the chain host (embedded py-evm, durable on disk)")
    host = start_chain_host(out_dir / "chainhost")
    try:
        backend = RpcBackend(host.url)
        step(
            "chain_host_started",
            url=host.url,
            chain_id=backend.chain_id,
            client=backend.client_version,
        )
        say(f"    chain id {backend.chain_id} at {host.url} ({backend.client_version})")

        say("2/4 deploying the contracts")
        deployer = ChainClient(backend, new_account())
        manifest = json.loads((ARTIFACTS_DIR / "manifest.json").read_text())
        contracts: dict[str, str] = {}
        probe, result = deployer.deploy(load_artifact("ChainProbe"), "tanlian pilot")
        contracts["ChainProbe"] = probe.address
        step(
            "deployed",
            contract="ChainProbe",
            address=probe.address,
            tx=result.tx_hash,
            block=result.receipt.block_number,
        )
        say(f"    ChainProbe  {probe.address}  tx {result.tx_hash}")

        say("3/4 sending transactions and indexing their events")
        key = "0x" + "c0" * 32
        sent = []
        for value in (2015, 2020, 2024):
            r = deployer.transact(probe, "store", key, value)
            sent.append(r.tx_hash)
        indexer = EventIndexer(backend, make_engine(f"sqlite:///{out_dir / 'index.db'}"))
        indexer.watch(probe.address, "ChainProbe")
        added = indexer.sync()
        stored = indexer.events(address=probe.address, event="ValueStored", args={"key": key})
        step(
            "transactions", txs=sent, indexed_events=added, values=[e.args["value"] for e in stored]
        )
        say(
            f"    {len(sent)} transactions, {added} events indexed, values "
            f"{[e.args['value'] for e in stored]}"
        )
        head_before = backend.get_block("latest")
        backend.close()

        say("4/4 restarting the chain host: the same chain must come back")
    finally:
        host.stop()
    host = start_chain_host(out_dir / "chainhost")
    try:
        backend = RpcBackend(host.url)
        head_after = backend.get_block("latest")
        same = head_after.hash == head_before.hash
        step(
            "restarted",
            head=head_after.number,
            head_hash="0x" + head_after.hash.hex(),
            same_head=same,
        )
        say(
            f"    head {head_after.number} 0x{head_after.hash.hex()[:16]}… "
            f"{'unchanged' if same else 'CHANGED'}"
        )
        if not same:
            raise RuntimeError("the chain host came back with a different head")
        summary = {
            "scenario": "tanlian pilot (chain foundation stage)",
            "chain_id": backend.chain_id,
            "head": head_after.number,
            "head_hash": "0x" + head_after.hash.hex(),
            "contracts": contracts,
            "compiler": manifest["solc"],
            "openzeppelin": manifest["openzeppelin"],
            "steps": steps,
            "seconds": round(time.time() - started, 2),
        }
        backend.close()
    finally:
        host.stop()
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    say(f"summary written to {out_dir / 'summary.json'}")
    return summary
