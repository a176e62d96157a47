"""One party of a joint run: an MPyC program run as ``python -m node.joint.party``.

The node hands it one JSON job on standard input (never on disk: it holds the owner's own
input vector and the run's TLS key) and reads one JSON line from standard output. Party 0 is
the consumer, who inputs nothing and alone receives the opened result; party j + 1 is the
owner of the spec's input j. Every owner secret-shares its own vector and its share of the
noise; the parties add (or, for OLS, multiply, add and solve) on shares, and only the noised
result is opened, to party 0. MPyC's threshold is ⌊(m-1)/2⌋: the run is private against any
minority of honest-but-curious parties.

Known traps of MPyC 0.11 handled here: ``mpc.input`` of a list takes the first element's
``integral`` flag for the whole list, so fixed-point inputs are all built with
``integral=False``; and OLS uses ``SecFxp(128)`` (``SecFxp(96, 40)`` division returned 0).
"""

from __future__ import annotations

import asyncio
import json
import logging
import select
import sys
import time
from typing import Any

logger = logging.getLogger("node.joint.party")


def _argv(job: dict[str, Any]) -> list[str]:
    args = ["tanlian-joint", "-I", str(job["pid"]), "--no-log"]
    for host, port in job["hosts"]:
        args += ["-P", f"{host}:{port}"]
    return args


def _pinned_start(job: dict[str, Any]):
    """Runtime.start with contexts trusting only the run's announced certificates."""
    from mpyc import asyncoro

    from node.joint.tls import Identity, contexts, party_name

    run = job["run"]
    server_ctx, client_ctx = contexts(
        Identity(job["tls"]["cert"], job["tls"]["key"]), job["tls"]["trusted"]
    )
    deadline = time.monotonic() + float(job.get("connect_timeout", 30))

    class PinnedExchanger(asyncoro.MessageExchanger):
        """Checks, on the listening side, that a client's certificate is the one announced
        for the party id it claims."""

        __slots__ = ()

        def data_received(self, data: bytes) -> None:
            if self.peer_pid is None and len(self.bytes) + len(data) >= 2:
                claimed = int.from_bytes((bytes(self.bytes) + data)[:2], "little")
                cert = self.transport.get_extra_info("peercert") or {}
                names = [v for k, v in cert.get("subjectAltName", ()) if k == "DNS"]
                if names != [party_name(run, claimed)]:
                    logger.error(
                        "a peer claimed party %d with another party's certificate", claimed
                    )
                    self.transport.abort()
                    return
            super().data_received(data)

    async def start(self) -> None:
        loop = self._loop
        for peer in self.parties:
            peer.protocol = asyncio.Future(loop=loop) if peer.pid == self.pid else None
        server = None
        if self.pid:
            me = self.parties[self.pid]
            server = await loop.create_server(
                lambda: PinnedExchanger(self), host=me.host, port=me.port, ssl=server_ctx
            )
        for peer in self.parties[self.pid + 1 :]:
            while True:
                try:
                    await loop.create_connection(
                        lambda peer=peer: PinnedExchanger(self, peer.pid),
                        peer.host,
                        peer.port,
                        ssl=client_ctx,
                        server_hostname=party_name(run, peer.pid),
                    )
                    break
                except ConnectionError:
                    if time.monotonic() > deadline:
                        raise
                    await asyncio.sleep(0.05)
        await self.parties[self.pid].protocol
        if server is not None:
            server.close()
        self.start_time = time.time()

    return start


def _ints(rt: Any, stype: Any, values: list[int] | None, n: int, sender: int) -> list[Any]:
    mine = rt.pid == sender
    vec = [stype(int(v)) for v in values] if mine and values is not None else [stype(None)] * n
    return rt.input(vec, senders=sender)


def _fxps(rt: Any, stype: Any, values: list[float] | None, n: int, sender: int) -> list[Any]:
    mine = rt.pid == sender
    if mine and values is not None:
        vec = [stype(float(v), integral=False) for v in values]
    else:
        vec = [stype(None, integral=False) for _ in range(n)]
    return rt.input(vec, senders=sender)


async def _sums(rt: Any, job: dict[str, Any]) -> list[int] | None:
    secint = rt.SecInt(64)
    length = job["length"]
    owners = job["owners"]
    total = None
    for sender in range(1, owners + 1):
        # the owner's vector, then its noise share: one message per owner
        both = _ints(rt, secint, job.get("values"), 2 * length, sender)
        part = rt.vector_add(both[:length], both[length:])
        total = part if total is None else rt.vector_add(total, part)
    opened = await rt.output(total, receivers=[0])
    return [int(v) for v in opened] if rt.pid == 0 else None


async def _ols(rt: Any, job: dict[str, Any]) -> list[float] | None:
    secfxp = rt.SecFxp(128)
    keys = job["length"]
    roles: list[str] = job["roles"]
    widths: list[int] = job["widths"]
    d = sum(w for w, r in zip(widths, roles, strict=True) if r == "x") + 2
    tri = d * (d + 1) // 2 - 1  # the upper triangle but the public (0, 0) = keys
    columns: list[list[Any]] = [[] for _ in range(d)]
    y: list[Any] | None = None
    noise: list[Any] | None = None
    x_at = 1
    for n, (role, width) in enumerate(zip(roles, widths, strict=True)):
        sender = n + 1
        both = _fxps(rt, secfxp, job.get("values"), width * keys + tri, sender)
        share = both[width * keys :]
        noise = share if noise is None else rt.vector_add(noise, share)
        for k in range(width):
            vals = both[k * keys : (k + 1) * keys]
            if role == "x":
                columns[x_at] = vals
                x_at += 1
            else:
                y = vals if y is None else rt.vector_add(y, vals)
    assert y is not None and noise is not None
    columns[d - 1] = y
    gram: list[list[Any]] = [[None] * d for _ in range(d)]
    gram[0][0] = secfxp(keys)
    k = 0
    for a in range(d):
        for b in range(a, d):
            if a == b == 0:
                continue
            cell = rt.sum(columns[b]) if a == 0 else rt.in_prod(columns[a], columns[b])
            gram[a][b] = gram[b][a] = cell + noise[k]
            k += 1
    # Gauss-Jordan on [A | c], A = Z'Z without the y row, c its y column
    p = d - 1
    m = [[*gram[r][:p], gram[r][p]] for r in range(p)]
    for i in range(p):
        inv = 1 / m[i][i]
        m[i] = rt.scalar_mul(inv, m[i])
        for r in range(p):
            if r != i:
                m[r] = rt.vector_sub(m[r], rt.scalar_mul(m[r][i], m[i]))
    beta = [m[r][p] for r in range(p)]
    opened = await rt.output(beta, receivers=[0])
    return [float(v) for v in opened] if rt.pid == 0 else None


def _runtime(job: dict[str, Any]) -> Any:
    """A fresh MPyC runtime for one job, as ``mpyc.runtime.setup`` makes one from the command
    line, so that one worker process serves run after run."""
    import mpyc
    import mpyc.asyncoro
    import mpyc.mpctools
    import mpyc.random
    import mpyc.runtime as runtime
    import mpyc.secgroups
    import mpyc.seclists
    import mpyc.secpols
    import mpyc.sectypes
    import mpyc.statistics

    options, _ = mpyc._get_arg_parser().parse_known_args(_argv(job)[1:])
    parties = [runtime.Party(i, h, int(p)) for i, (h, p) in enumerate(job["hosts"])]
    options.no_async = False
    options.threshold = (len(parties) - 1) // 2
    runtime.Runtime.start = _pinned_start(job)
    rt = runtime.Runtime(job["pid"], parties, options)
    for module in (
        mpyc.sectypes,
        mpyc.asyncoro,
        mpyc.mpctools,
        mpyc.seclists,
        mpyc.secpols,
        mpyc.secgroups,
        mpyc.random,
        mpyc.statistics,
    ):
        module.runtime = rt
    runtime.mpc = rt
    return rt


def _run(job: dict[str, Any]) -> Any:
    rt = _runtime(job)

    async def run() -> Any:
        await rt.start()
        try:
            if job["op"] == "ols":
                return await _ols(rt, job)
            return await _sums(rt, job)
        finally:
            await rt.shutdown()

    return rt.run(run())


def main() -> int:
    """Serve jobs, one JSON line each, until standard input closes or stays silent for
    ``idle`` seconds; a failed job ends the process (its connections and futures are in
    an unknown state), a completed one leaves it ready for the next."""
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(message)s"
    )
    idle = float(sys.argv[1]) if len(sys.argv) > 1 else 600.0
    sys.argv = ["tanlian-joint", "--no-log"]
    import mpyc.runtime  # noqa: F401  (loaded while the process waits for its first job)

    import node.joint.tls  # noqa: F401

    while select.select([sys.stdin], [], [], idle)[0]:
        line = sys.stdin.readline()
        if not line.strip():
            return 0
        job = json.loads(line)
        try:
            result = _run(job)
        except Exception as exc:  # reported to the node, which fails the run
            sys.stdout.write(json.dumps({"pid": job.get("pid"), "error": repr(exc)[:300]}) + "\n")
            sys.stdout.flush()
            return 1
        sys.stdout.write(json.dumps({"pid": job["pid"], "result": result}) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
