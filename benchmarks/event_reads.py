"""Event reads: one indexed argument among 100,000 events, from the index and from eth_getLogs.

Emits N events (ChainProbe.emitBatch, 500 per transaction, tag = transaction number mod
100, seq unique) on a served embedded chain, indexes them into SQLite (and PostgreSQL when
TANLIAN_TEST_PG_URL or 127.0.0.1:5432 answers), then times the same two queries both ways:

* by tag  — 1 % of the events (an indexed argument shared by many events)
* by seq  — exactly one event

The same events are also emitted on anvil, if installed, to show a native eth_getLogs.
Targets: index >= 100x faster than eth_getLogs on the same chain, <= 20 ms a query, and
PostgreSQL within 3x of SQLite on every query (printed side by side with the ratio).
Usage: python benchmarks/event_reads.py [--events 100000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg

from node.chain.artifacts import load_artifact
from node.chain.backend import ChainBackend, open_backend
from node.chain.client import ChainClient, Contract, new_account
from node.chain.embedded.host import UNTHROTTLED_WRITES, free_port, start_chain_host
from node.chain.errors import ChainUnavailable
from node.chain.indexer.indexer import EventIndexer
from node.db import make_engine

ROOT = Path(__file__).resolve().parent.parent
PER_TX = 500
TAGS = 100


def emit(client: ChainClient, total: int) -> Contract:
    probe, _ = client.deploy(load_artifact("ChainProbe"), "events")
    for i in range(total // PER_TX):
        client.transact(probe, "emitBatch", i % TAGS, i * PER_TX, PER_TX)
    return probe


def timed(fn: Callable[[], int], repeat: int) -> tuple[float, int]:
    times, n = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        n = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), n


def get_logs_query(backend: ChainBackend, probe: Contract, arg: str, value: int) -> int:
    abi = probe.abi
    topics: list = [[abi.events["Pinged"].topic0], None, None]
    topics[1 if arg == "tag" else 2] = [abi.topic_for("Pinged", arg, value)]
    return len(backend.get_logs(0, backend.block_number(), [probe.address], topics))


PG_ADMIN = os.environ.get("TANLIAN_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def pg_url() -> str | None:
    try:
        with psycopg.connect(PG_ADMIN, connect_timeout=3, autocommit=True) as conn:
            name = f"tanlian_bench_{uuid.uuid4().hex[:8]}"
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.OperationalError:
        return None
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name


def drop_pg(url: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def wait_for_anvil(url: str, timeout: float = 60.0) -> ChainBackend:
    """anvil's backend once it answers (it takes seconds to start on a loaded machine)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return open_backend("rpc", url=url, timeout=300)
        except ChainUnavailable:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    args = parser.parse_args()
    total = args.events - args.events % PER_TX
    work = Path(tempfile.mkdtemp(prefix="tanlian-events-"))
    rows: list[tuple[str, str, float, int]] = []
    url = None
    try:
        host = start_chain_host(work / "host", options=UNTHROTTLED_WRITES)
        backend = open_backend("rpc", url=host.url, timeout=300)
        start = time.perf_counter()
        probe = emit(ChainClient(backend, new_account()), total)
        print(
            f"emitted {total} events in {time.perf_counter() - start:.1f}s "
            f"({total // PER_TX} transactions)"
        )

        dbs = {"sqlite": f"sqlite:///{work / 'index.db'}"}
        url = pg_url()
        if url:
            dbs["postgresql"] = url
        indexers = {}
        engines = []
        for name, db in dbs.items():
            engines.append(make_engine(db))
            ix = EventIndexer(backend, engines[-1], batch_blocks=50)
            ix.watch(probe.address, "ChainProbe")
            start = time.perf_counter()
            added = ix.sync()
            print(f"indexed {added} events into {name} in {time.perf_counter() - start:.1f}s")
            indexers[name] = ix

        n_tx = total // PER_TX
        queries = {"tag": 37 if n_tx > 37 else n_tx - 1, "seq": total // 2 + 3}
        for arg, value in queries.items():
            for name, ix in indexers.items():
                t, n = timed(
                    lambda ix=ix, arg=arg, value=value: len(
                        ix.events(address=probe.address, event="Pinged", args={arg: value})
                    ),
                    repeat=100,
                )
                rows.append((f"index ({name})", arg, t, n))
            t, n = timed(lambda arg=arg, value=value: get_logs_query(backend, probe, arg, value), 3)
            rows.append(("eth_getLogs (served embedded)", arg, t, n))
        for engine in engines:
            engine.dispose()
        backend.close()
        host.stop()

        anvil = ROOT / "node_modules" / ".bin" / "anvil"
        if anvil.exists():
            port = free_port()
            proc = subprocess.Popen(
                [str(anvil), "--port", str(port), "--silent", "--gas-limit", "100000000"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            try:
                anvil_backend = wait_for_anvil(f"http://127.0.0.1:{port}")
                account = new_account()
                anvil_backend._rpc("anvil_setBalance", [account.address, hex(10**24)])
                anvil_probe = emit(ChainClient(anvil_backend, account), total)
                for arg, value in queries.items():
                    t, n = timed(
                        lambda arg=arg, value=value: get_logs_query(
                            anvil_backend, anvil_probe, arg, value
                        ),
                        repeat=5,
                    )
                    rows.append(("eth_getLogs (anvil, native)", arg, t, n))
                anvil_backend.close()
            finally:
                proc.terminate()
                proc.wait()
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if url:
            drop_pg(url)

    print(f"\nevent reads among {total} events (median)")
    print(f"{'source':<32} {'by':<4} {'ms':>10} {'events':>7} {'getLogs/index':>14}")
    for arg in ("tag", "seq"):
        baseline = next(
            t for s, a, t, _ in rows if a == arg and s.startswith("eth_getLogs (served")
        )
        for source, a, t, n in rows:
            if a != arg:
                continue
            ratio = f"{baseline / t:>13.0f}x" if source.startswith("index") else ""
            print(f"{source:<32} {a:<4} {t * 1000:>10.3f} {n:>7} {ratio:>14}")

    times = {(s, a): t for s, a, t, _ in rows}
    if ("index (postgresql)", "tag") in times:
        print("\nPostgreSQL against SQLite, same index, same queries (target: <= 3x)")
        print(f"{'by':<4} {'sqlite ms':>10} {'postgresql ms':>14} {'pg/sqlite':>10}")
        for arg in ("tag", "seq"):
            lite, pg = times[("index (sqlite)", arg)], times[("index (postgresql)", arg)]
            verdict = "ok" if pg <= 3 * lite else "OVER TARGET"
            print(f"{arg:<4} {lite * 1000:>10.3f} {pg * 1000:>14.3f} {pg / lite:>9.1f}x  {verdict}")


if __name__ == "__main__":
    main()
