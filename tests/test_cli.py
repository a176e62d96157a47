"""The `tanlian` command: help, one-line errors, non-zero exits, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from node.chain.embedded.chain import STORE_FILE
from node.chain.embedded.host import free_port, start_chain_host

ROOT = Path(__file__).resolve().parent.parent


def tanlian(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )


def _one_line_error(proc: subprocess.CompletedProcess, fragment: str) -> None:
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("tanlian: error")]
    assert len(errors) == 1, proc.stderr
    assert fragment in errors[0]


def test_help_lists_commands() -> None:
    proc = tanlian("--help")
    assert proc.returncode == 0
    assert "chain" in proc.stdout and "demo" in proc.stdout
    serve = tanlian("chain", "serve", "--help")
    assert serve.returncode == 0 and "--port" in serve.stdout and "loopback" in serve.stdout


def test_chain_init_then_refuses_to_overwrite(tmp_path: Path) -> None:
    proc = tanlian("chain", "init", "--home", str(tmp_path), "--chain-id", "777", "--json")
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert info["chain_id"] == 777 and info["genesis"].startswith("0x")
    again = tanlian("chain", "init", "--home", str(tmp_path))
    _one_line_error(again, "already exists")


def test_serve_on_corrupted_store_fails_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "chain").mkdir()
    (tmp_path / "chain" / STORE_FILE).write_bytes(b"garbage" * 512)
    proc = tanlian("chain", "serve", "--home", str(tmp_path), "--port", str(free_port()))
    _one_line_error(proc, "chain_store_invalid")
    assert (tmp_path / "chain" / STORE_FILE).read_bytes() == b"garbage" * 512


def test_serve_refuses_a_store_in_use(tmp_path: Path) -> None:
    host = start_chain_host(tmp_path)
    try:
        proc = tanlian("chain", "serve", "--home", str(tmp_path), "--port", str(free_port()))
        _one_line_error(proc, "in use by pid")
        assert host.healthy()
    finally:
        host.stop()


def test_info_reads_a_served_chain_and_fails_cleanly_when_down(tmp_path: Path) -> None:
    host = start_chain_host(tmp_path, chain_id=4242)
    try:
        proc = tanlian("chain", "info", "--rpc", host.url, "--json")
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["chain_id"] == 4242
    finally:
        host.stop()
    down = tanlian("chain", "info", "--rpc", host.url)
    _one_line_error(down, "unreachable")


def test_bad_port_is_a_usage_error(tmp_path: Path) -> None:
    proc = tanlian("chain", "serve", "--home", str(tmp_path), "--port", "99999")
    _one_line_error(proc, "out of range")


def test_a_home_that_is_a_file_and_a_url_that_is_not_are_one_line(tmp_path: Path) -> None:
    file = tmp_path / "node.toml"
    file.write_text("")
    secret = tmp_path / "pw"
    secret.write_text("correct horse\n")
    listed = tanlian("dataset", "list", "--home", str(file), "--password-file", str(secret))
    _one_line_error(listed, "is a file; give the node's home folder")
    init = (
        "init", "--name", "stats", "--roles", "provider", "--endpoint", "http://127.0.0.1:9001",
        "--password-file", str(secret),
    )  # fmt: skip
    _one_line_error(tanlian(*init, "--home", str(file)), "is a file")
    home = tmp_path / "home"
    bad_rpc = tanlian(*init, "--home", str(home), "--rpc", "notaurl")
    _one_line_error(bad_rpc, "chain RPC URL 'notaurl' must be an http(s) URL")
    assert not home.exists()  # refused before anything was written
    _one_line_error(tanlian("chain", "info", "--rpc", "notaurl"), "must be an http(s) URL")
