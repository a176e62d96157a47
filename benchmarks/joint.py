"""Joint queries end to end on a local network of real node processes: six owners and the
analyst on loopback, every chain step included (propose, each owner's ε spend and join, the
consumer's join, complete, each owner's acknowledgement).

In the same run, side by side:

* sum   — total energy by 20 districts × 10 years over the six owners' datasets;
* ols   — ordinary least squares with 3 regressors over 200 district-years (the regressors
          from three owners, the response summed over the other three);
* baselines — the same statistic in plain pandas/numpy over all six files in one process
          (what a central database would do), and the secure part alone on loopback
          without the chain (node.joint.local.run_local).

The time split: chain (spend and join; complete and acknowledge), the secure computation
(every party's process, TLS handshakes included) and the owners' noise draws.

Usage: python benchmarks/joint.py [--runs 5] [--owners 6]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from node.chain.embedded.host import free_port
from node.joint.contracts import JointLedger
from node.joint.local import run_local
from node.joint.service import propose, run
from node.joint.spec import parse_spec
from node.network.config import load_network_config
from node.network.orchestrator import LocalNetwork
from node.peer.client import NodeClient
from node.privacy.budget import Epsilon
from node.sharing.contracts import Mode, Policy
from node.sharing.service import publish_as

DISTRICTS = [f"5101{n:02d}" for n in range(20)]
YEARS = [str(y) for y in range(2015, 2025)]


def _config(path: Path, owners: int) -> Path:
    lines = ["[network]", 'name = "joint-bench"', "", "[chain]", f"port = {free_port()}", ""]
    depts = [("drc", ["regulator"], True), ("analyst", ["consumer", "analyst"], False)]
    depts += [(f"owner{n}", ["provider"], False) for n in range(owners)]
    for name, roles, genesis in depts:
        lines += [
            "[[departments]]",
            f'name = "{name}"',
            f'title = "{name}"',
            f"roles = {json.dumps(roles)}",
            f"port = {free_port()}",
            f"genesis = {'true' if genesis else 'false'}",
            "",
        ]
    path.write_text("\n".join(lines))
    return path


def _frames(owners: int) -> list[pd.DataFrame]:
    rng = np.random.default_rng(11)
    keys = [(d, y) for d in DISTRICTS for y in YEARS]
    gdp = rng.uniform(100, 2000, len(keys))
    pop = rng.uniform(10, 300, len(keys))
    out = []
    for n in range(owners):
        if n == 0:
            v = gdp
        elif n == 1:
            v = pop
        elif n == 2:
            v = rng.uniform(0, 1, len(keys))
        else:
            v = 0.1 * gdp + 0.5 * pop + rng.normal(0, 5, len(keys)) + 50
        out.append(
            pd.DataFrame(
                {
                    "district": [k[0] for k in keys],
                    "year": [k[1] for k in keys],
                    "value": np.round(v, 3),
                }
            )
        )
    return out


def _spec(op: str, owners: int, datasets: list[dict], nonce: int) -> object:
    inputs = []
    for n, d in enumerate(datasets):
        item = {**d, "column": "value", "lo": -100, "hi": 3000, "epsilon": "1"}
        if op == "ols":
            item["role"] = "x" if n < 3 else "y"
        inputs.append(item)
    body = {
        "op": op,
        "key": ["district", "year"],
        "purpose": "benchmark",
        "nonce": nonce,
        "domain": [[d, y] for d in DISTRICTS for y in YEARS],
        "inputs": inputs,
    }
    return parse_spec(body)


def _row(label: str, values: list[float], base: float | None = None) -> str:
    med = statistics.median(values)
    ratio = f"{med / base:8.1f}×" if base else " " * 9
    return f"  {label:<44} median {med:7.3f} s  max {max(values):7.3f} s {ratio}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--owners", type=int, default=6)
    args = ap.parse_args()
    owners = args.owners
    with tempfile.TemporaryDirectory(prefix="tanlian-joint-bench-") as tmp:
        root = Path(tmp)
        net = LocalNetwork(
            load_network_config(_config(root / "net.toml", owners)),
            root / "state",
            say=lambda _: None,
        )
        print(f"starting a network of {owners + 2} nodes …", flush=True)
        net.up()
        try:
            frames = _frames(owners)
            datasets = []
            with net.session("analyst") as a:
                analyst_sharing = a.require_sharing()
            for n, frame in enumerate(frames):
                path = root / f"owner{n}.csv"
                frame.to_csv(path, index=False)
                with net.session(f"owner{n}") as s:
                    pub = publish_as(
                        s,
                        path,
                        name="values",
                        policy=Policy(
                            auto_approve_roles=("consumer",),
                            raw_allowed=False,
                            epsilon_ceiling=Epsilon.parse("100"),
                        ),
                    )
                    owner = s.keys.address
                with net.session("analyst") as a:
                    r = a.require_sharing().apply(
                        pub.dataset_id, 1, "bench", Mode.DP, Epsilon.parse("100"), duration=86400
                    )
                    grant = r.event("AccessRequested").args["requestId"]
                datasets.append(
                    {
                        "dataset": "0x" + pub.dataset_id.hex(),
                        "version": 1,
                        "owner": owner,
                        "grant": grant,
                    }
                )
            del analyst_sharing
            results: dict[str, dict[str, list[float]]] = {}
            with net.session("analyst") as a:
                ledger = JointLedger(a.client, a.settings.contracts.joint)
                clients = [
                    NodeClient(
                        a.registry.member(d["owner"]).endpoint, a.keys.account.key, timeout=300
                    )
                    for d in datasets
                ]
                nonce = 0
                for op in ("sum", "ols"):
                    split: dict[str, list[float]] = {}
                    for _ in range(args.runs):
                        nonce += 1
                        spec = _spec(op, owners, datasets, nonce)
                        t0 = time.perf_counter()
                        jid, admitted, _tx = propose(ledger, spec)
                        t1 = time.perf_counter()
                        assert admitted
                        _res, facts = run(ledger, spec, jid, clients)
                        total = time.perf_counter() - t0
                        laps = {
                            "end to end": total,
                            "chain: propose": t1 - t0,
                            "chain: owners spend ε and join": facts["seconds"][
                                "chain_spend_and_join"
                            ],
                            "secure computation (all parties)": facts["seconds"]["mpc"],
                            "chain: complete and acknowledge": facts["seconds"][
                                "chain_complete_and_acknowledge"
                            ],
                            **{
                                f"  in it, slowest owner: {k}": v
                                for k, v in facts["slowest_owner_seconds"].items()
                            },
                        }
                        for k, v in laps.items():
                            split.setdefault(k, []).append(v)
                    # baselines in the same run
                    plain, local = [], []
                    for _ in range(args.runs):
                        t = time.perf_counter()
                        if op == "sum":
                            pd.concat(frames).groupby(["district", "year"])["value"].sum()
                        else:
                            x = np.column_stack([np.ones(200)] + [f["value"] for f in frames[:3]])
                            np.linalg.lstsq(x, sum(f["value"] for f in frames[3:]), rcond=None)
                        plain.append(time.perf_counter() - t)
                        t = time.perf_counter()
                        run_local(_spec(op, owners, datasets, 0), frames)
                        local.append(time.perf_counter() - t)
                    split["baseline: plain pandas/numpy, one process"] = plain
                    split["baseline: secure part alone (new workers, no chain)"] = local
                    results[op] = split
                for c in clients:
                    c.close()
        finally:
            net.down()
    print(
        f"\n{owners} owners + the analyst, loopback, {args.runs} runs each "
        "(ratio: end to end × the secure part alone)"
    )
    for op, title in (
        ("sum", "sum over 20 districts × 10 years (target ≤ 2 s)"),
        ("ols", "OLS, 3 regressors, 200 rows (target ≤ 10 s)"),
    ):
        split = results[op]
        base = statistics.median(split["baseline: secure part alone (new workers, no chain)"])
        print(f"\n{title}")
        for label, values in split.items():
            print(_row(label, values, base if label == "end to end" else None))
        print(f"  first run (the owners' party workers start cold): {split['end to end'][0]:.3f} s")


if __name__ == "__main__":
    main()
