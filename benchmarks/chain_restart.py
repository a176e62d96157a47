"""Restart time of the durable embedded chain as its history grows.

Builds one chain up to 10,000 transactions and, at 100, 1,000 and 10,000, closes it and
measures how long reopening takes until the head is readable and a contract call answers;
also the full `tanlian chain serve` start (a new process) until /healthz answers.
Target: at most 5 s with 10,000 transactions behind it, and no growth with history.
Usage: python benchmarks/chain_restart.py [--max 10000]
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from node.chain.artifacts import load_artifact
from node.chain.backend import open_backend
from node.chain.client import ChainClient, new_account
from node.chain.embedded.host import start_chain_host


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max", type=int, default=10_000)
    args = parser.parse_args()
    checkpoints = [c for c in (100, 1_000, 10_000, 100_000) if c <= args.max]
    work = Path(tempfile.mkdtemp(prefix="tanlian-restart-"))
    home = work / "host"
    results = []
    try:
        account = new_account()
        backend = open_backend("embedded", home=home / "chain")
        client = ChainClient(backend, account)
        probe, _ = client.deploy(load_artifact("ChainProbe"), "restart")
        sent = 1
        for target in checkpoints:
            start = time.perf_counter()
            while sent < target:
                client.transact(probe, "store", "0x" + f"{sent:064x}", sent)
                sent += 1
            build = time.perf_counter() - start
            head = backend.get_block("latest")
            backend.close()

            start = time.perf_counter()
            backend = open_backend("embedded", home=home / "chain", create=False)
            assert backend.get_block("latest") == head
            client = ChainClient(backend, account)
            assert client.call(probe, "writes") == sent - 1
            reopen = time.perf_counter() - start
            backend.close()

            start = time.perf_counter()
            host = start_chain_host(home)
            served = time.perf_counter() - start
            host.stop()

            size = sum(p.stat().st_size for p in (home / "chain").glob("chain.sqlite*"))
            results.append((target, reopen, served, size, build))
            print(
                f"{target:>7} tx: reopen {reopen * 1000:.1f} ms, host start {served:.2f} s "
                f"(built in {build:.0f}s, store {size / 2**20:.1f} MiB)",
                flush=True,
            )
            backend = open_backend("embedded", home=home / "chain", create=False)
            client = ChainClient(backend, account)
        backend.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)

    base = results[0]
    print("\nrestart time by history (reopen = in process; host = new `chain serve` process)")
    print(f"{'transactions':>12} {'reopen ms':>10} {'x first':>8} {'host s':>8} {'store MiB':>10}")
    for target, reopen, served, size, _ in results:
        print(
            f"{target:>12} {reopen * 1000:>10.1f} {reopen / base[1]:>8.2f} {served:>8.2f} "
            f"{size / 2**20:>10.1f}"
        )


if __name__ == "__main__":
    main()
