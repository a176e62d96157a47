"""kill -9 at a random point of publish, pull, key release, DP spend and log anchoring, on a
real local network: no acknowledged write lost, no half-state, the audit clean afterwards.

One trial per operation (`benchmarks/crash_trials.py` runs many). The kill delays come from a
random seed printed with the result; TANLIAN_CRASH_SEED=N repeats a run's delays.
"""

from __future__ import annotations

import os
import random
import secrets
from pathlib import Path

import pytest

from tests.crash.trials import OPERATIONS, CrashLab, table


def test_one_crash_trial_per_operation(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    seed = int(os.environ.get("TANLIAN_CRASH_SEED") or secrets.randbelow(2**32))
    rng = random.Random(seed)
    lab = CrashLab(tmp_path)
    try:
        lab.start()
        results = [lab.trial(op, rng) for op in OPERATIONS]
    finally:
        lab.stop()
    with capsys.disabled():
        print(f"\ncrash trials, seed {seed}\n{table(results)}")
    assert [r.op for r in results] == list(OPERATIONS)
    broken = [r.describe() for r in results if not r.clean]
    assert not broken, f"seed {seed} (TANLIAN_CRASH_SEED={seed} repeats it):\n" + "\n".join(broken)
