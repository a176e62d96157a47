"""Crash trials: kill -9 at random points of publish, pull, key release, DP spend, log
anchoring, downloads and publishes with a node restart beside them, on a real local network
(chain host + three node processes, loopback only).

Each operation is first run once without a kill to time it. Each trial then kills a
process (the CLI for publish and pull, the owner's node for key release, DP spend, log
anchoring and downloads, and for publish_restart the node while a CLI publish carries on)
after a delay drawn uniformly up to 1.2 x that time, counted from the operation's start
(for the CLI: its first file write, after imports and keystore unlock), restarts what
died (`tanlian network up`) and checks: no acknowledged write lost, no half-state, no new
finding of `tanlian audit verify`.
The trial machinery is tests/crash/trials.py (`make test` runs one trial per operation).

Targets: 0 lost writes, 0 half-states, 0 audit findings. Exit 1 otherwise.
Usage: python benchmarks/crash_trials.py [--trials 50] [--seed N] [--ops publish,download,...]
       [--max-minutes 60]
"""

from __future__ import annotations

import argparse
import random
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.crash.trials

from tests.crash.trials import OPERATIONS, CrashLab, table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=50, help="in all, round-robin over ops")
    parser.add_argument("--seed", type=int, default=None, help="default: random (printed)")
    parser.add_argument("--ops", default=",".join(OPERATIONS))
    parser.add_argument("--max-minutes", type=float, default=60.0, help="stop after this long")
    args = parser.parse_args()
    ops = [o.strip() for o in args.ops.split(",") if o.strip()]
    unknown = set(ops) - set(OPERATIONS)
    if unknown or not ops:
        parser.error(f"--ops takes some of {', '.join(OPERATIONS)}")
    seed = secrets.randbelow(2**32) if args.seed is None else args.seed
    rng = random.Random(seed)
    deadline = time.monotonic() + args.max_minutes * 60
    root = Path(tempfile.mkdtemp(prefix="tanlian-crash-"))
    lab = CrashLab(root, say=print)
    results = []
    try:
        lab.start()
        windows = lab.calibrate()
        print("kill delay drawn up to (s): " + ", ".join(
            f"{op} {windows[op]:.2f}" for op in ops
        ))  # fmt: skip
        for i in range(args.trials):
            if time.monotonic() > deadline:
                print(f"stopped after {args.max_minutes} minutes ({i} trials)")
                break
            r = lab.trial(ops[i % len(ops)], rng)
            results.append(r)
            print(f"[{i + 1}/{args.trials}] " + r.describe(), flush=True)
    finally:
        lab.stop()
        shutil.rmtree(root, ignore_errors=True)
    print(f"\ncrash trials, seed {seed} (--seed {seed} repeats the kill delays)")
    print(table(results))
    return 0 if results and all(r.clean for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
