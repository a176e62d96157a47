"""Every party of a joint query on this machine, on loopback with real TLS: what the tests
of the secure computation and ``benchmarks/joint.py`` run. Nodes run one party each
(:mod:`node.joint.service`)."""

from __future__ import annotations

import socket
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pandas as pd

from node.joint.compute import finish, noise_share, owner_vector
from node.joint.runner import PartyProcess, party_job, run_party
from node.joint.spec import JointSpec
from node.joint.tls import make_identity


def free_ports(n: int) -> list[int]:
    socks = [socket.socket() for _ in range(n)]
    try:
        for s in socks:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def run_local(
    spec: JointSpec, frames: list[pd.DataFrame], run: str = "0x" + "11" * 32, timeout: float = 60.0
) -> tuple[dict[str, Any], dict[str, float]]:
    """(result, seconds by phase) of ``spec`` over ``frames`` (one per input)."""
    t0 = time.perf_counter()
    parties = len(spec.inputs) + 1
    # started first, as nodes start theirs at prepare: they load MPyC meanwhile
    processes = [PartyProcess() for _ in range(parties)]
    ids = [make_identity(run, pid) for pid in range(parties)]
    trusted = [i.cert_pem for i in ids]
    hosts = [("127.0.0.1", p) for p in free_ports(parties)]
    jobs = [party_job(spec, run, 0, hosts, ids[0], trusted)]
    t1 = time.perf_counter()
    for n, frame in enumerate(frames):
        jobs.append(
            party_job(
                spec,
                run,
                n + 1,
                hosts,
                ids[n + 1],
                trusted,
                owner_vector(spec, n, frame),
                noise_share(spec),
            )
        )
    t2 = time.perf_counter()
    try:
        with ThreadPoolExecutor(parties) as pool:
            outs = list(
                pool.map(
                    lambda jp: run_party(jp[0], timeout, jp[1]), zip(jobs, processes, strict=True)
                )
            )
    finally:
        for p in processes:
            p.close()
    t3 = time.perf_counter()
    return finish(spec, outs[0]), {"tls": t1 - t0, "inputs_and_noise": t2 - t1, "mpc": t3 - t2}
