"""kill -9 at a random point of publish, pull, key release, DP spend and log anchoring, on a
real local network: no acknowledged write lost, no half-state, the audit clean afterwards.

One trial per operation (`benchmarks/crash_trials.py` runs many). The kill delays come from a
random seed printed with the result; TANLIAN_CRASH_SEED=N repeats a run's delays.
"""

from __future__ import annotations

import os
import random
import secrets
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from node.sharing.contracts import Mode, State
from node.sharing.service import pull
from tests.crash.trials import OPERATIONS, ROOT, CrashLab, payload, table
from tests.sharing.test_sharing_flow import _PUBLISH_CHILD


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CrashLab]:
    lab = CrashLab(tmp_path_factory.mktemp("crash"))
    try:
        lab.start()
        yield lab
    finally:
        lab.stop()


def test_one_crash_trial_per_operation(lab: CrashLab, capsys: pytest.CaptureFixture) -> None:
    seed = int(os.environ.get("TANLIAN_CRASH_SEED") or secrets.randbelow(2**32))
    rng = random.Random(seed)
    results = [lab.trial(op, rng) for op in OPERATIONS]
    with capsys.disabled():
        print(f"\ncrash trials, seed {seed}\n{table(results)}")
    assert [r.op for r in results] == list(OPERATIONS)
    broken = [r.describe() for r in results if not r.clean]
    assert not broken, f"seed {seed} (TANLIAN_CRASH_SEED={seed} repeats it):\n" + "\n".join(broken)


def test_a_publish_killed_after_its_anchor_is_served_without_a_restart(
    lab: CrashLab, tmp_path: Path
) -> None:
    """The crash point a random kill rarely hits: publishVersion mined, the store's row not
    yet marked. The owner's node, still running, must serve that version (release its key
    to a consumer) without waiting for a restart's recovery."""
    stats = lab.dept("stats")
    name = "killed-after-anchor"
    child = subprocess.run(
        [
            sys.executable,
            "-c",
            _PUBLISH_CHILD,
            str(lab.net.home(stats)),
            str(lab.net.secret(stats)),
            str(payload(tmp_path / "data.zip", 1)),
            name,
            "after_anchor",
        ],
        cwd=ROOT,
        capture_output=True,
        timeout=120,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()[-2000:]
    lab.names.append(name)
    node = lab.node_pid("stats")
    sharing = lab.reader()
    dataset_id = sharing.dataset_id(lab.keys["stats"].address, name)
    anchored = sharing.version(dataset_id, 1)  # the chain has it
    rid = (
        lab.consumer.apply(dataset_id, 1, "after a crash", Mode.RAW, duration=3600)
        .event("AccessRequested")
        .args["requestId"]
    )
    lab.raw_requests.append(rid)
    assert lab.wait_for(lambda: lab.consumer.request(rid).state == State.RELEASED), (
        "the running node never released the key of a version a killed publish anchored"
    )
    with lab.net.session("analyst") as a:
        got = pull(a.require_sharing(), a.registry, a.keys, rid, tmp_path / "got.zip")
    assert got["plaintext_sha256"] == "0x" + anchored["plaintext_hash"].hex()
    assert lab.node_pid("stats") == node  # served by the node that ran through the crash
    assert lab.store_problems() == []
