"""Runs this node's party of a joint run in a child process and waits for it, bounded.

A party that dies, hangs or is refused a handshake makes every other party's run fail by
its deadline: the child is killed, nothing is opened, and the caller reports the failure.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from node.errors import TanlianError
from node.joint.spec import JointSpec
from node.joint.tls import Identity


class JointRunFailed(TanlianError):
    code = "joint_run_failed"
    http_status = 502


def run_party(job: dict[str, Any], timeout: float) -> Any:
    """Run the party; its opened result for party 0, None for an owner."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MPYC")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "node.joint.party"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        out, err = proc.communicate(json.dumps(job).encode() + b"\n", timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise JointRunFailed(
            f"party {job['pid']} did not finish within {timeout:g} s (a participant is down "
            "or unreachable); nothing was opened"
        ) from None
    if proc.returncode != 0:
        lines = [line for line in err.decode(errors="replace").splitlines() if line.strip()]
        last = lines[-1] if lines else f"exit {proc.returncode}"
        raise JointRunFailed(f"party {job['pid']} failed: {last[:300]}")
    return json.loads(out.decode().strip().splitlines()[-1])["result"]


def party_job(
    spec: JointSpec,
    run: str,
    pid: int,
    hosts: list[tuple[str, int]],
    identity: Identity,
    trusted: list[str],
    vector: list[Any] | None = None,
    share: list[Any] | None = None,
    connect_timeout: float = 30.0,
) -> dict[str, Any]:
    """The job for party ``pid`` (0: the consumer, with no vector; j + 1: input j's owner)."""
    if (pid == 0) != (vector is None):
        raise ValueError("the consumer inputs nothing; every owner inputs its vector")
    return {
        "pid": pid,
        "run": run,
        "hosts": [list(h) for h in hosts],
        "tls": {"cert": identity.cert_pem, "key": identity.key_pem, "trusted": trusted},
        "op": spec.op,
        "length": len(spec.domain) if spec.op == "ols" else spec.length(),
        "owners": len(spec.inputs),
        "roles": [i.role for i in spec.inputs],
        "values": None if vector is None else list(vector) + list(share or []),
        "connect_timeout": connect_timeout,
    }
