"""Runs this node's party of a joint run in a child process and waits for it, bounded.

A party that dies, hangs or is refused a handshake makes every other party's run fail by
its deadline: the child is killed, nothing is opened, and the caller reports the failure.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
from typing import Any

from node.errors import TanlianError
from node.joint.spec import JointSpec
from node.joint.tls import Identity


class JointRunFailed(TanlianError):
    code = "joint_run_failed"
    http_status = 502


class PartyProcess:
    """A worker process for this node's parties: it loads MPyC once, then serves run after
    run (one JSON line in, one out). A run that fails or overruns ends the worker; the node
    starts another. It exits by itself after ``idle`` silent seconds or when the node goes."""

    def __init__(self, idle: float = 600.0) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MPYC")}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "node.joint.party", str(idle)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=None,  # MPyC's warnings go to the node's log
            env=env,
        )

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def run(self, job: dict[str, Any], timeout: float) -> Any:
        """Run ``job``; the opened result for party 0, None for an owner."""
        proc = self.proc
        assert proc.stdin is not None and proc.stdout is not None
        try:
            proc.stdin.write(json.dumps(job).encode() + b"\n")
            proc.stdin.flush()
        except (BrokenPipeError, OSError):
            self.close()
            raise JointRunFailed(f"party {job['pid']}'s process is gone") from None
        ready = select.select([proc.stdout], [], [], timeout)[0]
        line = proc.stdout.readline() if ready else b""
        if not ready:
            self.close()
            raise JointRunFailed(
                f"party {job['pid']} did not finish within {timeout:g} s (a participant is "
                "down or unreachable); nothing was opened"
            )
        if not line:
            self.close()
            raise JointRunFailed(f"party {job['pid']}'s process ended (exit {proc.poll()})")
        answer = json.loads(line)
        if "error" in answer:
            self.close()
            raise JointRunFailed(f"party {job['pid']} failed: {answer['error']}")
        return answer["result"]

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout):
            if f is not None:
                f.close()


def run_party(job: dict[str, Any], timeout: float, process: PartyProcess | None = None) -> Any:
    """Run the party in ``process`` (a worker started ahead), or in a new worker that is
    closed after the run."""
    if process is not None:
        return process.run(job, timeout)
    worker = PartyProcess()
    try:
        return worker.run(job, timeout)
    finally:
        worker.close()


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
        "widths": spec.widths(),
        "values": None if vector is None else list(vector) + list(share or []),
        "connect_timeout": connect_timeout,
    }
