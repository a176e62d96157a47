"""Gate overhead of one DP query, including its on-chain spend, on the embedded chain.

Brings up the pilot network (free ports, temporary folder), publishes a SYNTHETIC
enterprise-electricity table on the grid node with its DP metadata, grants the analyst a DP
budget, and times N queries (sum of kWh by district) from the analyst's side:

* gate   — POST /v1/query: lock, cost, budget check, decrypt, compute, spend on chain,
           answer, archive
* dummy  — the same request in dummy mode: the same HTTP, auth and checks, synthetic rows,
           no decryption, no spend
* local  — the computation alone, in process, on the same rows

Usage: python benchmarks/dp_gate.py [--queries 200]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from node.chain.embedded.host import free_port
from node.network.config import load_network_config
from node.network.orchestrator import LocalNetwork
from node.peer.client import NodeClient
from node.pilot import synthetic
from node.privacy.budget import Epsilon
from node.privacy.dp_queries import DatasetMeta, answer, parse_spec
from node.sharing.contracts import Mode, Policy
from node.sharing.service import publish_as

LOCAL = Path(__file__).resolve().parent.parent / "network-config" / "local.toml"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tanlian-gate-"))
    pilot = load_network_config(LOCAL)
    lines = [
        "[network]",
        'name = "bench"',
        "approval_threshold = 1",
        "",
        "[chain]",
        f"port = {free_port()}",
        "",
    ]
    for d in pilot.departments:
        roles = "[" + ", ".join(f'"{r}"' for r in d.roles) + "]"
        lines += [
            "[[departments]]",
            f'name = "{d.name}"',
            f'title = "{d.title}"',
            f"roles = {roles}",
            f"port = {free_port()}",
            f"genesis = {'true' if d.genesis else 'false'}",
            "",
        ]
    (work / "net.toml").write_text("\n".join(lines))
    config = load_network_config(work / "net.toml")
    net = LocalNetwork(config, work / "net", say=lambda _: None)
    try:
        net.up()

        session = net.session
        table = synthetic.grid_enterprise_electricity(work / "grid.csv")
        with session("grid") as grid:
            pub = publish_as(
                grid,
                table,
                name="kwh",
                classification="restricted",
                policy=Policy(
                    auto_approve_roles=("analyst",),
                    raw_allowed=False,
                    epsilon_ceiling=Epsilon.parse("10"),
                ),
                dp_metadata=synthetic.GRID_DP_METADATA,
            )
        spec = {"kind": "sum", "column": "kwh", "epsilon": 0.01, "group_by": "district"}
        grid_dept = next(d for d in config.departments if d.name == "grid")
        timings: dict[str, list[float]] = {"gate": [], "dummy": []}
        with session("analyst") as analyst:
            grant = (
                analyst.require_sharing()
                .apply(pub.dataset_id, 1, "bench", Mode.DP, Epsilon.parse("10"), duration=86400)
                .event("AccessRequested")
                .args["requestId"]
            )
            with NodeClient(grid_dept.endpoint, analyst.keys.account.key) as node:
                node.post("/v1/query", {"request": grant, "spec": spec, "mode": "dummy"})
                for _ in range(args.queries):
                    for mode in ("gate", "dummy"):
                        body = {
                            "request": grant,
                            "spec": spec,
                            "mode": "answer" if mode == "gate" else "dummy",
                        }
                        start = time.perf_counter()
                        node.post("/v1/query", body)
                        timings[mode].append(time.perf_counter() - start)
        # the computation alone on the same rows
        import csv

        with open(table, newline="") as fh:
            rows = list(csv.DictReader(fh))
        data = {
            "district": np.array([r["district"] for r in rows]),
            "kwh": np.array([float(r["kwh"]) for r in rows]),
        }
        meta = DatasetMeta.model_validate(synthetic.GRID_DP_METADATA)
        q = parse_spec(spec)
        local = []
        for _ in range(args.queries):
            start = time.perf_counter()
            answer(q, meta, data)
            local.append(time.perf_counter() - start)
    finally:
        net.down()
        shutil.rmtree(work, ignore_errors=True)

    def pct(xs: list[float], p: float) -> float:
        xs = sorted(xs)
        return xs[max(0, int(len(xs) * p) - 1)] * 1000

    print(
        f"\nDP query gate, {args.queries} queries (sum of kWh by 20 districts over "
        f"{len(rows):,} rows), loopback, embedded chain"
    )
    print(f"{'path':<44} {'p50 ms':>8} {'p99 ms':>8}")
    for label, xs in (
        ("gate (decrypt, compute, spend on chain)", timings["gate"]),
        ("dummy (same request, no decrypt, no spend)", timings["dummy"]),
        ("computation alone, in process", local),
    ):
        print(f"{label:<44} {statistics.median(xs) * 1000:>8.1f} {pct(xs, 0.99):>8.1f}")


if __name__ == "__main__":
    main()
