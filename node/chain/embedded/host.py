"""Start and stop a chain host (``tanlian chain serve``) as a child process."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests

from node.chain.errors import ChainUnavailable


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


#: ``options`` for a host whose writes a benchmark times: no rate limit per account and no
#: clock bound, since a burst of thousands of transactions runs the chain's clock hours ahead.
UNTHROTTLED_WRITES: dict[str, object] = {
    "writes-per-second": 1_000_000,
    "write-burst": 1_000_000,
    "max-clock-ahead": 100_000_000,
}


@dataclass
class ChainHost:
    home: Path
    port: int
    process: subprocess.Popen
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def healthy(self) -> bool:
        try:
            return requests.get(self.url + "/healthz", timeout=1).ok
        except requests.RequestException:
            return False

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def start_chain_host(
    home: Path,
    port: int | None = None,
    *,
    chain_id: int | None = None,
    fsync: bool = False,
    dev: bool = False,
    open_writes: bool = True,
    options: dict[str, object] | None = None,
    timeout: float = 60.0,
) -> ChainHost:
    """Run ``tanlian chain serve`` for ``home`` and wait until it answers.

    ``dev``: serve the dev methods (``--dev``); ``open_writes``: admit every account's
    writes (``--open``: the tests and benchmarks of the chain itself), or, when False,
    only those HOME/permissions.json admits; ``options``: more of the command's options
    by name, e.g. ``{"max-clock-ahead": 3600, "writes-per-second": 1000}``."""
    home = Path(home)
    home.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    cmd = [
        sys.executable,
        "-m",
        "cli.main",
        "chain",
        "serve",
        "--home",
        str(home),
        "--port",
        str(port),
    ]
    if chain_id is not None:
        cmd += ["--chain-id", str(chain_id)]
    if fsync:
        cmd.append("--fsync")
    if dev:
        cmd.append("--dev")
    if open_writes:
        cmd.append("--open")
    for name, value in (options or {}).items():
        cmd += [f"--{name}", str(value)]
    log_path = home / "chain-host.log"
    log = open(log_path, "ab")  # noqa: SIM115 - owned by the child
    process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    log.close()
    host = ChainHost(home, port, process, log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log_path.read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
            raise ChainUnavailable(f"chain host exited with {process.returncode}: {tail[0]}")
        if host.healthy():
            return host
        time.sleep(0.05)
    host.stop()
    raise ChainUnavailable(f"chain host on port {port} did not become healthy in {timeout:.0f}s")
