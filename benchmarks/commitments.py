"""Pedersen commitments: Python time per 10,000 commitments and gas per checked total.

In the same run:

* commit  — node.commitments.pedersen.commit_all on --count values (fixed-base 8-bit window
            tables, built once and timed apart), against py_ecc's plain scalar
            multiplication (commit_naive) on --naive values, both given per 10,000;
* verify  — total_matches off chain for a group of each size, and the ValueCommitments
            contract's recordTotal on an embedded chain (ecAdd per row, two ecMul), with
            its gas, and the gas of anchoring a set of --set-size commitments.

Usage: python benchmarks/commitments.py [--count 10000] [--naive 500] [--set-size 1000]
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
import time
from pathlib import Path

from node.chain.backend import open_backend
from node.chain.client import ChainClient
from node.commitments import pedersen
from node.commitments.contracts import CommitmentLedger, deploy_commitments
from node.registry.keystore import generate_keys
from node.registry.registry import GenesisMember, deploy_registry


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=10_000)
    ap.add_argument("--naive", type=int, default=500)
    ap.add_argument("--set-size", type=int, default=1000)
    args = ap.parse_args()
    rng = random.Random(7)
    values = [rng.randrange(0, 10**9) for _ in range(args.count)]

    t = time.perf_counter()
    pedersen._table("G")
    pedersen._table("H")
    tables = time.perf_counter() - t
    t = time.perf_counter()
    cset = pedersen.commit_all(values)
    fast = time.perf_counter() - t
    t = time.perf_counter()
    for v, r in zip(values[: args.naive], cset.blindings[: args.naive], strict=True):
        pedersen.commit_naive(v, r)
    naive = time.perf_counter() - t
    per_fast = fast / args.count * 10_000
    per_naive = naive / args.naive * 10_000
    print(f"commit, per 10,000 values (the window tables: {tables:.2f} s once per process)")
    print(f"  fixed-base windows (commit_all)   {per_fast:7.2f} s  ({args.count:,} timed)")
    print(f"  py_ecc multiply (baseline)        {per_naive:7.2f} s  ({args.naive:,} timed)")
    print(f"  speed-up                          {per_naive / per_fast:7.1f} x")

    work = Path(tempfile.mkdtemp(prefix="tanlian-commitments-"))
    backend = open_backend("embedded", home=work / "chain")
    try:
        owner, drc = generate_keys(), generate_keys()
        client = ChainClient(backend, owner.account)
        deployer = ChainClient(backend, drc.account)
        genesis = [
            GenesisMember(owner.address, "eco", ["provider"], owner.encryption_public_key, "x"),
            GenesisMember(drc.address, "drc", ["regulator"], drc.encryption_public_key, "x"),
        ]
        registry, _ = deploy_registry(deployer, genesis, 1)
        ledger = CommitmentLedger(client, deploy_commitments(deployer, registry.address).address)
        size = min(args.set_size, 4096, args.count)
        part = pedersen.CommitmentSet(cset.commitments[:size], cset.blindings[:size])
        anchored = ledger.anchor(b"\x01" * 32, 1, "emission_kg", "kgCO2e", part)
        set_id = anchored.event("CommitmentsAnchored").args["setId"]
        print(f"\nanchor a set of {size:,} commitments: {anchored.receipt.gas_used:,} gas")
        print(f"{'rows in total':>14} {'gas':>11} {'gas/row':>8} {'chain s':>8} {'python s':>9}")
        for rows in (1, 10, 100, size):
            indexes = list(range(0, size, max(1, size // rows)))[:rows]
            total = sum(values[i] for i in indexes)
            blinding = part.blinding_of(indexes)
            t = time.perf_counter()
            assert pedersen.total_matches(part.commitments, indexes, total, blinding)
            off = time.perf_counter() - t
            t = time.perf_counter()
            r = ledger.record_total(set_id, part.packed, indexes, total, blinding, f"rows={rows}")
            on = time.perf_counter() - t
            gas = r.receipt.gas_used
            print(f"{rows:>14,} {gas:>11,} {gas / rows:>8,.0f} {on:>8.3f} {off:>9.3f}")
        print("(each total also carries the whole set as calldata, to check it against its digest)")
    finally:
        backend.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
