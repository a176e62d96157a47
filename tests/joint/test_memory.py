"""No party's memory holds another owner's value. After a real joint run (an MPyC worker
per party on loopback, pinned mutual TLS, noise on), every party's worker is still alive; its
whole readable memory is read from /proc/PID/mem and searched for a value planted in owner
1's rows, in each form it can take in a party: its text in the file, its quantized integer
as text, as a little-endian 64-bit word (an mpz limb, a numpy int64) and as CPython's 30-bit
digits. Owner 1's own worker holds it (so the search can find it); the consumer's and the
other owners' workers do not."""

from __future__ import annotations

import re
import struct
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from node.joint.compute import noise_share, owner_vector
from node.joint.local import free_ports
from node.joint.runner import PartyProcess, party_job, run_party
from node.joint.spec import parse_spec
from node.joint.tls import make_identity

#: owner 1's value for district 510102 in 2024, in the file; 918273645123 units of 0.001
MARKER = "918273645.123"
UNITS = 918_273_645_123
DISTRICTS = [f"5101{n:02d}" for n in range(4)]
YEARS = ["2023", "2024"]
_MAP = re.compile(rb"^([0-9a-f]+)-([0-9a-f]+) (r)\S* \S+ \S+ \S+\s*(.*)$")


def _forms() -> list[bytes]:
    mask = (1 << 30) - 1
    return [
        MARKER.encode(),
        str(UNITS).encode(),
        struct.pack("<q", UNITS),
        struct.pack("<II", UNITS & mask, UNITS >> 30),
    ]


def _memory(pid: int) -> bytes:
    """Every readable mapping of process ``pid``."""
    chunks = []
    with open(f"/proc/{pid}/mem", "rb", buffering=0) as mem:
        for line in Path(f"/proc/{pid}/maps").read_bytes().splitlines():
            m = _MAP.match(line)
            if m is None or m.group(4).strip() in (b"[vvar]", b"[vsyscall]"):
                continue
            start, end = int(m.group(1), 16), int(m.group(2), 16)
            try:
                mem.seek(start)
                chunks.append(mem.read(end - start))
            except OSError:  # a guard page or a mapping gone meanwhile
                continue
    return b"".join(chunks)


def _frames(owners: int) -> list[pd.DataFrame]:
    rng = np.random.default_rng(11)
    frames = []
    for o in range(owners):
        rows = [
            {"district": d, "year": y, "v": f"{rng.uniform(10, 9000):.3f}"}
            for d in DISTRICTS
            for y in YEARS
        ]
        if o == 0:
            rows[5]["v"] = MARKER  # 510102, 2024: alone in its cell for this owner
        frames.append(pd.DataFrame(rows))
    return frames


def test_no_party_memory_holds_another_owners_value() -> None:
    owners = 3
    spec = parse_spec(
        {
            "op": "sum",
            "key": ["district", "year"],
            "domain": [[d, y] for d in DISTRICTS for y in YEARS],
            "purpose": "test",
            "noise": True,
            "inputs": [
                {
                    "dataset": "0x" + f"{o + 1:064x}",
                    "version": 1,
                    "owner": "0x" + f"{o + 1:040x}",
                    "grant": o + 1,
                    "column": "v",
                    "lo": 0,
                    "hi": 10**9,
                    "epsilon": "1",
                }
                for o in range(owners)
            ],
        }
    )
    frames = _frames(owners)
    vectors = [owner_vector(spec, n, f) for n, f in enumerate(frames)]
    assert UNITS in vectors[0] and all(UNITS not in v for v in vectors[1:])
    run = "0x" + "4d" * 32
    ids = [make_identity(run, p) for p in range(owners + 1)]
    trusted = [i.cert_pem for i in ids]
    hosts = [("127.0.0.1", p) for p in free_ports(owners + 1)]
    jobs = [party_job(spec, run, 0, hosts, ids[0], trusted)] + [
        party_job(spec, run, n + 1, hosts, ids[n + 1], trusted, vectors[n], noise_share(spec))
        for n in range(owners)
    ]
    del vectors
    workers = [PartyProcess() for _ in jobs]
    try:
        with ThreadPoolExecutor(len(jobs)) as pool:
            pairs = zip(jobs, workers, strict=True)
            opened = list(pool.map(lambda jw: run_party(jw[0], 60, jw[1]), pairs))
        assert len(opened[0]) == len(spec.domain) and opened[1:] == [None] * owners
        assert all(w.alive for w in workers)
        found = {}
        for pid, w in enumerate(workers):
            memory = _memory(w.proc.pid)
            assert len(memory) > 10 << 20  # the whole process was read, not a stub
            found[pid] = [f for f in _forms() if f in memory]
        assert found[1], "owner 1's own worker should hold its value: the search is blind"
        assert {pid: f for pid, f in found.items() if pid != 1 and f} == {}
    finally:
        for w in workers:
            w.close()
