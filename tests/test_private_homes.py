"""Homes are private to their user (issue 19): folders 0700, files 0600, whatever the
umask of whoever creates them; a home found open to others is closed again on start, with a
warning. Before, node.toml, node.db, nonces.log, logs and the chain store were 0644 in 0755
folders: any local user could read the access log, DP answers and DP metadata."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from node.registry.identity import init_node
from node.registry.keystore import KEYSTORE_FILE, unlock
from node.runtime import NodeRuntime
from node.settings import load_settings
from tests.cli_run import tanlian

PASSWORD = "correct horse battery staple"


def open_to_others(root: Path) -> list[str]:
    """Everything under ``root`` (itself included) that group or others may access."""
    return [
        f"{oct(p.lstat().st_mode & 0o777)} {p}"
        for p in (root, *root.rglob("*"))
        if not p.is_symlink() and p.lstat().st_mode & 0o077
    ]


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The usual umask 022 of a shell: without explicit modes, files come out 0644."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_tanlian_init_makes_a_private_home(tmp_path: Path) -> None:
    home = tmp_path / "stats"
    secret = tmp_path / "pw"
    secret.write_text(PASSWORD)
    proc = tanlian(
        "init", "--home", str(home), "--name", "stats", "--roles", "provider",
        "--endpoint", "http://127.0.0.1:8602", "--password-file", str(secret),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert (home / "node.toml").exists() and (home / KEYSTORE_FILE).exists()
    assert open_to_others(home) == []


def test_tanlian_chain_init_makes_a_private_store(tmp_path: Path) -> None:
    proc = tanlian("chain", "init", "--home", str(tmp_path / "host"))
    assert proc.returncode == 0, proc.stderr
    assert any((tmp_path / "host" / "chain").iterdir())
    assert open_to_others(tmp_path / "host") == []


def test_a_node_opened_in_a_process_with_umask_022_writes_private_files(
    tmp_path: Path, open_umask: None
) -> None:
    """Library code (tests, the pilot) creates the database, journal and blob store with
    explicit modes: nothing depends on the CLI's umask."""
    home = tmp_path / "stats"
    init_node(home, name="stats", roles=["provider"], endpoint="http://s", password=PASSWORD)
    keys = unlock(home / KEYSTORE_FILE, PASSWORD)
    runtime = NodeRuntime(load_settings(home, chain={"backend": "embedded"}), keys)
    try:
        runtime.nonces.use(keys.address, "ab" * 8, 0)
        runtime.blobs.write_encrypted(iter([b"district,kwh\n1,2\n"]), keys.encryption_public_key)
    finally:
        runtime.close()
    assert (home / "node.db").exists() and any((home / "blobs").rglob("*"))
    assert open_to_others(home) == []


def test_a_home_open_to_others_is_made_private_on_start_with_a_warning(
    tmp_path: Path, open_umask: None, caplog: pytest.LogCaptureFixture
) -> None:
    home = tmp_path / "stats"
    init_node(home, name="stats", roles=["provider"], endpoint="http://s", password=PASSWORD)
    os.chmod(home, 0o755)
    os.chmod(home / "node.toml", 0o644)
    (home / "old.log").write_text("restored from a backup\n")  # 0644 under umask 022
    keys = unlock(home / KEYSTORE_FILE, PASSWORD)
    with caplog.at_level(logging.WARNING, logger="node.home"):
        NodeRuntime(load_settings(home, chain={"backend": "embedded"}), keys).close()
    assert open_to_others(home) == []
    assert stat.S_IMODE((home / "node.toml").stat().st_mode) == 0o600
    (warning,) = [r for r in caplog.records if r.name == "node.home"]
    assert "3 files and folders were open to other local users" in warning.getMessage()
