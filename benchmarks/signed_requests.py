"""Signed-request verification cost on a node's authenticated read route.

Starts a real node server (uvicorn, its own process) whose app has, next to the signed
`GET /v1/nodes/me`, the same handler mounted without authentication, and loads both with
50 concurrent keep-alive connections over loopback, printing requests per second and
p50/p99 latency side by side. Signed requests are signed before the clock starts (each
with its own nonce), so the figures are the server's.

The load comes from wrk (Debian package `wrk`) when it is installed, with a Lua script
that feeds the pre-signed headers; otherwise from an asyncio httpx client in this process,
which saturates before the server does at 50 connections (its figures are then printed
as a lower bound). Target: authenticated >= 0.7 x unauthenticated.
Usage: python benchmarks/signed_requests.py [-n 4000] [-c 50] [--seconds 8]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from eth_keys import keys

PASSWORD = "bench"


def serve(home: Path, port: int, registry: str) -> None:
    """Server side: the node app plus an unauthenticated twin of /v1/nodes/me."""
    import uvicorn

    from node.api.main import create_app
    from node.api.schemas import Member
    from node.registry.keystore import KEYSTORE_FILE, unlock
    from node.runtime import NodeRuntime
    from node.settings import load_settings

    settings = load_settings(home, contracts={"registry": registry})
    runtime = NodeRuntime(settings, unlock(home / KEYSTORE_FILE, PASSWORD))
    runtime.sync()
    app = create_app(runtime)
    fixed = (home / "member.txt").read_text().strip()

    @app.get("/bench/open-me", response_model=Member)
    def open_me() -> Member:
        assert runtime.directory is not None
        member = runtime.directory.get(fixed)
        assert member is not None
        return Member(**member.as_dict())

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def setup(work: Path) -> tuple[Path, str, keys.PrivateKey]:
    from node.registry.identity import init_node
    from node.registry.keystore import KEYSTORE_FILE, generate_keys, unlock
    from node.registry.registry import GenesisMember, deploy_registry
    from node.runtime import NodeRuntime
    from node.settings import load_settings

    home = work / "node"
    init_node(
        home, name="bench", roles=["regulator"], endpoint="http://127.0.0.1:1", password=PASSWORD
    )
    node_keys = unlock(home / KEYSTORE_FILE, PASSWORD)
    member = generate_keys()
    runtime = NodeRuntime(load_settings(home), node_keys)
    contract, _ = deploy_registry(
        runtime.client,
        [
            GenesisMember(node_keys.address, "bench", ["regulator"], b"\x01" * 32, "http://n"),
            GenesisMember(member.address, "caller", ["consumer"], b"\x02" * 32, "http://c"),
        ],
        1,
    )
    runtime.close()
    (home / "member.txt").write_text(member.address)
    return home, contract.address, keys.PrivateKey(member.account.key)


async def load(url: str, requests: list[dict[str, str]], path: str, concurrency: int):
    latencies: list[float] = []
    queue: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    for headers in requests:
        queue.put_nowait(headers)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:

        async def worker() -> None:
            while True:
                try:
                    headers = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                start = time.perf_counter()
                r = await client.get(path, headers=headers)
                latencies.append(time.perf_counter() - start)
                if r.status_code != 200:
                    raise RuntimeError(f"{path}: {r.status_code} {r.text}")

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    latencies.sort()
    return (
        len(requests) / elapsed,
        statistics.median(latencies),
        latencies[int(len(latencies) * 0.99) - 1],
    )


WRK_SCRIPT = r"""
local lines, idx, step = {}, 1, 1
local threads = {}
setup = function(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end
init = function(args)
  step = tonumber(args[2])
  path = args[3]
  for line in io.lines(args[1]) do lines[#lines + 1] = line end
  idx = tid + 1
end
request = function()
  local line = lines[idx]
  idx = idx + step
  if line == nil then return wrk.format("GET", "/exhausted") end
  local a, au, n, t, s = line:match("([^|]+)|([^|]+)|([^|]+)|([^|]+)|([^|]+)")
  return wrk.format("GET", path, {
    ["x-tanlian-account"] = a, ["x-tanlian-audience"] = au, ["x-tanlian-nonce"] = n,
    ["x-tanlian-timestamp"] = t, ["x-tanlian-signature"] = s})
end
"""


def _wrk(
    url: str,
    path: str,
    seconds: int,
    conns: int,
    script: Path | None = None,
    args: list[str] | None = None,
) -> tuple[float, float, float, int]:
    cmd = ["wrk", "-t2", f"-c{conns}", f"-d{seconds}s", "--latency"]
    if script is not None:
        cmd += ["-s", str(script)]
    cmd.append(url + path)
    if args:
        cmd += ["--", *args]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))

    def pct(p: str) -> float:
        m = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)", out)
        value, unit = float(m.group(1)), m.group(2)
        return value / {"us": 1000, "ms": 1, "s": 0.001}[unit]

    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return rps, pct("50"), pct("99"), int(bad.group(1)) if bad else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=4000)
    parser.add_argument("-c", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=8, help="per wrk run")
    parser.add_argument(
        "--serve", nargs=3, metavar=("HOME", "PORT", "REGISTRY"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.serve:
        serve(Path(args.serve[0]), int(args.serve[1]), args.serve[2])
        return

    from node.chain.embedded.host import free_port
    from node.peer.signing import sign_request

    work = Path(tempfile.mkdtemp(prefix="tanlian-auth-"))
    port = free_port()
    home, registry, member_key = setup(work)
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(home), str(port), registry],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                node_address = httpx.get(url + "/healthz", timeout=1).json()["address"]
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise RuntimeError("bench node did not start")
        results: dict[str, list[tuple[float, float, float]]] = {}
        tool = "wrk" if shutil.which("wrk") else "httpx (client-bound lower bound)"
        if shutil.which("wrk"):
            # Both routes get the same pre-signed headers from the same Lua script, so the
            # only difference between the runs is the server verifying them.
            (work / "signed.lua").write_text(WRK_SCRIPT)

            def headers_file(count: int) -> Path:
                lines = []
                for _ in range(count):
                    h = sign_request(member_key, "GET", "/v1/nodes/me", "", b"", node_address)
                    lines.append(
                        "|".join(
                            h[k]
                            for k in (
                                "x-tanlian-account",
                                "x-tanlian-audience",
                                "x-tanlian-nonce",
                                "x-tanlian-timestamp",
                                "x-tanlian-signature",
                            )
                        )
                    )
                path = work / "signed.txt"
                path.write_text("\n".join(lines) + "\n")
                return path

            script = work / "signed.lua"
            estimate = 3000  # req/s, refined after the first run
            for i in range(3):  # first round warms up; rounds alternate routes
                for name, path in (
                    ("unauthenticated", "/bench/open-me"),
                    ("signed", "/v1/nodes/me"),
                ):
                    data = headers_file(int(estimate * args.seconds * 1.5) + 1000)
                    rps, p50, p99, bad = _wrk(
                        url, path, args.seconds, args.c, script, [str(data), "2", path]
                    )
                    if bad:
                        raise RuntimeError(f"{bad} requests to {path} were refused")
                    estimate = max(estimate, rps)
                    if i > 0:
                        results.setdefault(name, []).append((rps, p50 / 1000, p99 / 1000))
        else:
            asyncio.run(load(url, [{} for _ in range(300)], "/bench/open-me", args.c))
            for _ in range(2):
                plain = [{} for _ in range(args.n)]
                results.setdefault("unauthenticated", []).append(
                    asyncio.run(load(url, plain, "/bench/open-me", args.c))
                )
                signed = [
                    sign_request(member_key, "GET", "/v1/nodes/me", "", b"", node_address)
                    for _ in range(args.n)
                ]
                results.setdefault("signed", []).append(
                    asyncio.run(load(url, signed, "/v1/nodes/me", args.c))
                )
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(work, ignore_errors=True)

    print(
        f"\nload: {tool}; 2 rounds; {args.c} concurrent connections; loopback; one server process"
    )
    print(f"{'route':<18} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'x unauth':>9}")
    base = statistics.mean(r[0] for r in results["unauthenticated"])
    for name, rounds in results.items():
        rps = statistics.mean(r[0] for r in rounds)
        p50 = statistics.mean(r[1] for r in rounds) * 1000
        p99 = statistics.mean(r[2] for r in rounds) * 1000
        print(f"{name:<18} {rps:>8.0f} {p50:>8.1f} {p99:>8.1f} {rps / base:>9.2f}")
    ratio = statistics.mean(r[0] for r in results["signed"]) / base
    print(
        f"\ntarget signed >= 0.70 x unauthenticated: {'met' if ratio >= 0.7 else 'NOT met'} "
        f"({ratio:.2f})"
    )


if __name__ == "__main__":
    main()
