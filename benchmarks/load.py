"""Load: concurrent signed clients on a mix of reads, DP queries and pulls against the pilot.

The six departments of network-config/local.toml run as real processes (`tanlian chain
serve` and six `tanlian node serve`) on free loopback ports under a temporary root. The
target node (grid) owns a DP dataset and a raw dataset; analyst and eco hold a DP grant
and a released raw grant on them. Then a client process, pinned to one core (the chain
host and nodes on the others when the machine has more than one), runs N concurrent
clients for D seconds, each request signed as one of the six departments:

  nodes     GET  /v1/nodes                         (signed read; any department)
  datasets  GET  /v1/datasets                      (signed read; any department)
  dp        POST /v1/query  count, ε 0.01          (analyst/eco on their DP grant: a spend
                                                    transaction per answer)
  pull      GET  /v1/datasets/…/versions/1/blob    (analyst/eco on their raw grant; the whole
                                                    ciphertext, checked against its hash)

Baseline, same run, same concurrency: GET /healthz (unsigned) for a few seconds first.
Reported: throughput, p50/p99 per kind, errors (target 0), the target node's resident
memory (VmRSS) before and after the load and its peak (target growth < 50 MiB), and the
client's CPU use (near 100 % means the client, not the node, was the bound).
Also the CPU each server process used during the mix (a share of one core: the chain host
and the nodes share the cores the client does not use), and with --profile a py-spy
sampling profile of the target node over the mix, summed by where its time went.
Bounded: stops after D seconds or --max-requests, whichever first; loopback only.
Usage: python benchmarks/load.py [--clients 200] [--seconds 60] [--baseline-seconds 10]
       [--max-requests 1000000] [--mix nodes=35,datasets=35,dp=15,pull=15]
       [--profile FILE [--profile-process NAME|chain] [--profile-gil | --profile-idle]]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

TARGET = "grid"
CONSUMERS = ("analyst", "eco")
DP_SPEC = {"kind": "count", "epsilon": 0.01}


# -- client process --------------------------------------------------------------------------
def client_main() -> None:
    """Read the plan from stdin, pin to a core, run the load, print the figures as JSON."""
    plan = json.loads(sys.stdin.read())
    if plan.get("cpu") is not None:
        os.sched_setaffinity(0, {plan["cpu"]})
    out = asyncio.run(_load(plan))
    print(json.dumps(out))


async def _load(plan: dict[str, Any]) -> dict[str, Any]:
    import httpx
    from eth_keys import keys

    from node.peer.signing import sign_request

    signers = {name: keys.PrivateKey(bytes.fromhex(k)) for name, k in plan["keys"].items()}
    audience = plan["audience"]
    base = plan["endpoint"]
    n = plan["clients"]
    limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)

    def signed(name: str, method: str, path: str, params: dict, body: bytes) -> dict[str, str]:
        query = urlencode(params)
        return sign_request(signers[name], method, path, query, body, audience)

    async def one(http: httpx.AsyncClient, kind: str, rng: random.Random) -> None:
        if kind == "healthz":
            r = await http.get("/healthz")
            r.raise_for_status()
            return
        if kind in ("nodes", "datasets"):
            path = f"/v1/{kind}"
            r = await http.get(
                path, headers=signed(rng.choice(list(signers)), "GET", path, {}, b"")
            )
        elif kind == "dp":
            who = rng.choice(CONSUMERS)
            body = json.dumps(
                {"request": plan["dp"][who], "spec": DP_SPEC}, separators=(",", ":")
            ).encode()
            headers = signed(who, "POST", "/v1/query", {}, body)
            headers["content-type"] = "application/json"
            r = await http.post("/v1/query", content=body, headers=headers)
        else:
            who = rng.choice(CONSUMERS)
            params = {"request": plan["raw"][who]}
            headers = signed(who, "GET", plan["blob_path"], params, b"")
            h = hashlib.sha256()
            async with http.stream("GET", plan["blob_path"], params=params, headers=headers) as r:
                if r.status_code == 200:
                    async for block in r.aiter_bytes():
                        h.update(block)
                    if "0x" + h.hexdigest() != plan["blob_hash"]:
                        raise ValueError("pulled ciphertext does not match its hash")
                else:
                    await r.aread()
        if r.status_code >= 400:
            raise httpx.HTTPStatusError(
                f"{r.status_code} {r.text[:120]}", request=r.request, response=r
            )

    async def phase(kinds: list[str], weights: list[float], seconds: float) -> dict[str, Any]:
        lat: dict[str, list[float]] = {k: [] for k in kinds}
        errors: dict[str, dict[str, int]] = {k: {} for k in kinds}
        budget = [plan["max_requests"]]
        cpu0 = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.perf_counter()
        deadline = t0 + seconds

        async def worker(i: int, http: httpx.AsyncClient) -> None:
            rng = random.Random(i)
            while time.perf_counter() < deadline and budget[0] > 0:
                budget[0] -= 1
                kind = rng.choices(kinds, weights)[0]
                start = time.perf_counter()
                try:
                    await one(http, kind, rng)
                    lat[kind].append(time.perf_counter() - start)
                except Exception as exc:
                    what = type(exc).__name__
                    if isinstance(exc, httpx.HTTPStatusError):
                        what = str(exc)[:60]
                    errors[kind][what] = errors[kind].get(what, 0) + 1

        async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as http:
            await asyncio.gather(*(worker(i, http) for i in range(n)))
        wall = time.perf_counter() - t0
        cpu1 = resource.getrusage(resource.RUSAGE_SELF)
        cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
        return {"wall": wall, "cpu": cpu / wall, "lat": lat, "errors": errors}

    baseline = await phase(["healthz"], [1.0], plan["baseline_seconds"])
    mix = await phase(list(plan["mix"]), list(plan["mix"].values()), plan["seconds"])
    return {"baseline": baseline, "mix": mix}


# -- orchestration ---------------------------------------------------------------------------
def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def _cpu_seconds(pid: int) -> float:
    """User plus system CPU time of ``pid`` so far, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


#: Where a sampled stack's time is charged: the first of these found in it, innermost first.
_WHERE = (
    ("signature check (secp256k1 recover)", ("recover", "ecdsa_raw_recover", "coincurve")),
    ("nonce journal (replay check, fsync)", ("nonces.py",)),
    ("chain calls (JSON-RPC to the host)", ("rpc_backend.py", "web3/")),
    ("DP mechanism (diffprivlib, pandas)", ("diffprivlib", "pandas/", "numpy/")),
    # the chain host's own parts (--profile-process chain)
    ("EVM execution (py-evm)", ("(eth/vm/", "(eth/_utils/", "(eth/precompiles")),
    ("state and chain database (py-evm db, trie)", ("(eth/db/", "(trie/", "embedded/store.py")),
    ("transaction decoding and signatures", ("(eth/rlp/", "(rlp/", "(eth_keys/", "(eth/chains/")),
    ("SQL (SQLAlchemy, sqlite3)", ("sqlalchemy/", "sqlite3")),
    ("ciphertext streaming (file reads)", ("download.py", "blobs.py", "store.py")),
    ("response encoding (pydantic, JSON)", ("pydantic", "json/", "orjson", "encoders.py")),
    ("HTTP server (uvicorn, starlette, h11)", ("uvicorn/", "starlette/", "httptools", "h11/")),
    ("JSON-RPC serving", ("rpc_server.py", "intake.py")),
    ("event loop and threads (asyncio, anyio)", ("asyncio/", "anyio/", "threading.py")),
)


def _profile_summary(raw: Path, rate: int, seconds: float) -> list[str]:
    """py-spy's raw (collapsed) stacks of the process summed by _WHERE; the busy share is of
    the samples a fully busy thread would have given."""
    totals: dict[str, int] = {}
    samples = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        samples += n
        frames = stack.split(";")
        where = "other (node code, imports)"
        for frame in reversed(frames):
            hit = next((name for name, keys in _WHERE if any(k in frame for k in keys)), None)
            if hit:
                where = hit
                break
        totals[where] = totals.get(where, 0) + n
    out = [
        f"py-spy: {samples} busy samples of the process's threads at {rate} Hz over "
        f"{seconds:.0f} s (= {samples / (rate * seconds):.2f} threads busy on average)"
    ]
    for where, n in sorted(totals.items(), key=lambda kv: -kv[1]):
        out.append(f"  {n / samples * 100:5.1f} %  {where}")
    return out


def _pin(pid: int, cpus: set[int]) -> None:
    """Pin every thread of ``pid`` (threads started later inherit it from theirs)."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            os.sched_setaffinity(int(task.name), cpus)


def _network(root: Path):
    from node.chain.embedded.host import free_port
    from node.network.config import load_network_config
    from node.network.orchestrator import LocalNetwork

    local = load_network_config(Path(__file__).resolve().parents[1] / "network-config/local.toml")
    config = local.model_copy(
        update={
            "chain": local.chain.model_copy(update={"port": free_port()}),
            "departments": [d.model_copy(update={"port": free_port()}) for d in local.departments],
        }
    )
    return LocalNetwork(config, root / "net", say=lambda _: None)


def _setup(net, root: Path, pull_kib: int) -> dict[str, Any]:
    from node.privacy.budget import Epsilon
    from node.registry.keystore import KEYSTORE_FILE, unlock
    from node.sharing.contracts import Mode, Policy, State
    from node.sharing.service import publish_as

    net.up()
    keys = {
        d.name: unlock(net.home(d) / KEYSTORE_FILE, net.secret(d).read_text())
        for d in net.config.departments
    }
    kwh = root / "kwh.csv"
    kwh.write_text(
        "enterprise,district,kwh\n"
        + "".join(f"E{i},{'锦江区' if i % 2 else '青羊区'},{1000 + i}\n" for i in range(2000))
    )
    panel = root / "panel.csv"
    with open(panel, "w") as fh:
        fh.write("district,year,value\n")
        i = 0
        while fh.tell() < pull_kib << 10:
            fh.write(f"d{i % 23},{2000 + i % 25},{i * 1.5}\n")
            i += 1
    meta = {
        "columns": {
            "enterprise": {},
            "district": {"keys": ["锦江区", "青羊区"]},
            "kwh": {"lower": 0, "upper": 10_000},
        }
    }
    with net.session(TARGET) as s:
        dp = publish_as(
            s,
            kwh,
            name="kwh",
            policy=Policy(
                auto_approve_roles=("consumer",),
                raw_allowed=False,
                epsilon_ceiling=Epsilon.parse("1000"),
            ),
            dp_metadata=meta,
        )
        raw = publish_as(s, panel, name="panel", policy=Policy(auto_approve_roles=("consumer",)))
    plan: dict[str, Any] = {"dp": {}, "raw": {}}
    for who in CONSUMERS:
        with net.session(who) as s:
            sh = s.require_sharing()
            plan["dp"][who] = (
                sh.apply(
                    dp.dataset_id,
                    1,
                    "load",
                    Mode.DP,
                    epsilon=Epsilon.parse("1000"),
                    duration=30 * 86400,
                )
                .event("AccessRequested")
                .args["requestId"]
            )
            rid = (
                sh.apply(raw.dataset_id, 1, "load", Mode.RAW, duration=30 * 86400)
                .event("AccessRequested")
                .args["requestId"]
            )
            plan["raw"][who] = rid
            deadline = time.monotonic() + 60
            while sh.request(rid).state != State.RELEASED:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"request {rid} was not released in 60 s")
                time.sleep(0.1)
    plan["keys"] = {name: k.account.key.hex().removeprefix("0x") for name, k in keys.items()}
    plan["audience"] = keys[TARGET].address
    plan["endpoint"] = net.department(TARGET).endpoint
    plan["blob_path"] = f"/v1/datasets/0x{raw.dataset_id.hex()}/versions/1/blob"
    plan["blob_hash"] = "0x" + raw.ciphertext_hash.hex()
    return plan


def _pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * q))] * 1000 if xs else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--baseline-seconds", type=float, default=10.0)
    parser.add_argument("--max-requests", type=int, default=1_000_000)
    parser.add_argument("--mix", default="nodes=35,datasets=35,dp=15,pull=15")
    parser.add_argument("--pull-kib", type=int, default=256, help="size of the pulled dataset")
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="FILE",
        help="sample the target node with py-spy during the mix, write its stacks (collapsed) "
        "to FILE and say where its time went",
    )
    parser.add_argument(
        "--profile-process",
        default=TARGET,
        help="with --profile: the process to sample, a department's node or 'chain' (the "
        f"chain host); default {TARGET}",
    )
    parser.add_argument(
        "--profile-idle",
        action="store_true",
        help="with --profile: count waiting threads too (where requests spend wall time)",
    )
    parser.add_argument(
        "--profile-gil",
        action="store_true",
        help="with --profile: sample only the thread holding the GIL (CPU work), not waits",
    )
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        client_main()
        return
    mix = {k: float(v) for k, v in (p.split("=") for p in args.mix.split(","))}
    if not set(mix) <= {"nodes", "datasets", "dp", "pull"} or not all(v >= 0 for v in mix.values()):
        parser.error("--mix takes weights of nodes, datasets, dp and pull")
    mix = {k: v for k, v in mix.items() if v > 0}

    root = Path(tempfile.mkdtemp(prefix="tanlian-load-"))
    net = _network(root)
    names = {d.name for d in net.config.departments}
    if args.profile_process != "chain" and args.profile_process not in names:
        shutil.rmtree(root, ignore_errors=True)
        parser.error(f"--profile-process takes 'chain' or one of {', '.join(sorted(names))}")
    try:
        t = time.monotonic()
        plan = _setup(net, root, args.pull_kib)
        print(
            f"six-node pilot up, datasets published, grants released in "
            f"{time.monotonic() - t:.0f} s"
        )
        state = net.load_state()
        target_pid = state["nodes"][TARGET]["pid"]
        cpus = sorted(os.sched_getaffinity(0))
        client_cpu = cpus[-1]
        if len(cpus) > 1:
            for pid in [state["chain"]["pid"], *(v["pid"] for v in state["nodes"].values())]:
                _pin(pid, set(cpus[:-1]))
        plan |= {
            "cpu": client_cpu,
            "clients": args.clients,
            "seconds": args.seconds,
            "baseline_seconds": args.baseline_seconds,
            "max_requests": args.max_requests,
            "mix": mix,
        }
        profiled_pid = (
            state["chain"]["pid"]
            if args.profile_process == "chain"
            else state["nodes"][args.profile_process]["pid"]
        )
        rss_before = _rss(target_pid)
        peak = [rss_before]
        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(0.2):
                peak[0] = max(peak[0], _rss(target_pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        servers = {"chain host": state["chain"]["pid"]} | {
            name: v["pid"] for name, v in state["nodes"].items()
        }
        cpu_start: dict[str, float] = {}  # per server, when the mix starts
        mix_t0: list[float] = []
        spy: list[subprocess.Popen] = []
        raw = args.profile.resolve() if args.profile else root / "profile.txt"
        rate = 100

        def mix_starts() -> None:
            # the client runs the baseline first: the mix starts about baseline-seconds in
            cpu_start.update({k: _cpu_seconds(pid) for k, pid in servers.items()})
            mix_t0.append(time.monotonic())
            if args.profile:
                spy.append(
                    subprocess.Popen(
                        [
                            str(Path(sys.executable).parent / "py-spy"),
                            "record",
                            "--pid",
                            str(profiled_pid),
                            "--rate",
                            str(rate),
                            "--duration",
                            str(int(args.seconds)),
                            "--format",
                            "raw",
                            "--output",
                            str(raw),
                            "--nonblocking",
                            *(["--gil"] if args.profile_gil else []),
                            *(["--idle"] if args.profile_idle else []),
                        ],
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                    )
                )

        timer = threading.Timer(args.baseline_seconds + 0.5, mix_starts)
        timer.start()
        proc = subprocess.run(
            [sys.executable, __file__, "--client"],
            input=json.dumps(plan),
            capture_output=True,
            text=True,
            timeout=args.seconds + args.baseline_seconds + 300,
        )
        timer.cancel()
        cpu_end = {k: _cpu_seconds(pid) for k, pid in servers.items()}
        cpu_wall = time.monotonic() - mix_t0[0] if mix_t0 else 0.0
        stop.set()
        sampler.join()
        rss_after = _rss(target_pid)
        profile: list[str] = []
        for p in spy:
            p.wait(timeout=120)
            if raw.exists():
                profile = _profile_summary(raw, rate, args.seconds)
        if proc.returncode != 0:
            raise RuntimeError(f"client process failed: {proc.stderr[-2000:]}")
        out = json.loads(proc.stdout.strip().splitlines()[-1])
    finally:
        net.down()
        shutil.rmtree(root, ignore_errors=True)

    base, load = out["baseline"], out["mix"]
    base_n = len(base["lat"]["healthz"])
    base_rps = base_n / base["wall"]
    print(
        f"\nload on node {TARGET} of the six-node pilot: {args.clients} concurrent clients, "
        f"client pinned to cpu {client_cpu}"
    )
    print(f"{'kind':<18} {'requests':>9} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    rows = [("healthz", base_n, base["wall"], base["lat"]["healthz"], base["errors"]["healthz"])]
    rows += [(k, len(v), load["wall"], v, load["errors"][k]) for k, v in load["lat"].items()]
    total = sum(len(v) for v in load["lat"].values())
    for kind, n, wall, lat, errs in rows:
        label = kind + (" (baseline)" if kind == "healthz" else "")
        print(
            f"{label:<18} {n:>9} {n / wall:>8.1f} {_pct(lat, 0.5):>8.1f} "
            f"{_pct(lat, 0.99):>8.1f} {sum(errs.values()):>7}"
        )
    errors = {k: v for k, v in load["errors"].items() if v}
    print(
        f"mix: {total} requests in {load['wall']:.1f} s = {total / load['wall']:.1f} req/s "
        f"({total / load['wall'] / base_rps:.2f} x the healthz baseline of {base_rps:.1f} req/s); "
        f"errors {sum(sum(v.values()) for v in load['errors'].values())} (target 0)"
        + (f": {errors}" if errors else "")
    )
    print(
        f"client CPU: {load['cpu'] * 100:.0f} % of one core during the mix "
        f"({base['cpu'] * 100:.0f} % during the baseline)"
    )
    if cpu_wall:
        shares = ", ".join(
            f"{k} {(cpu_end[k] - cpu_start[k]) / cpu_wall * 100:.0f} %" for k in servers
        )
        print(f"server CPU during the mix (% of one core): {shares}")
    for line in profile:
        print(line)
    mib = 2**20
    print(
        f"node {TARGET} RSS: {rss_before / mib:.0f} MiB before, {rss_after / mib:.0f} MiB after "
        f"(peak {peak[0] / mib:.0f} MiB): growth {(rss_after - rss_before) / mib:+.1f} MiB "
        "(target < 50 MiB)"
    )


if __name__ == "__main__":
    main()
