"""Keystore and `tanlian init`: secrets sealed, wrong passwords refused, bad input explained."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from node.errors import InvalidInput
from node.registry.identity import init_node
from node.registry.keystore import (
    KEYSTORE_FILE,
    KeystoreError,
    WrongPassword,
    generate_keys,
    read_public,
    unlock,
    write_keystore,
)

ROOT = Path(__file__).resolve().parents[2]


def test_keystore_round_trip_and_no_plaintext(tmp_path: Path) -> None:
    keys = generate_keys()
    path = tmp_path / KEYSTORE_FILE
    write_keystore(path, keys, "s3cret")
    raw = path.read_bytes()
    for secret in (bytes(keys.account.key), bytes(keys.encryption_key)):
        assert secret.hex().encode() not in raw and secret not in raw
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    back = unlock(path, "s3cret")
    assert back.address == keys.address
    assert back.encryption_public_key == keys.encryption_public_key
    assert read_public(path)["address"] == keys.address


def test_wrong_password_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / KEYSTORE_FILE
    write_keystore(path, generate_keys(), "right")
    with pytest.raises(WrongPassword, match="wrong password"):
        unlock(path, "wrong")


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda d: d.update(sealed=d["sealed"][:-4] + "0000"), "wrong password"),
        (lambda d: d.update(version=99), "unknown format"),
        (lambda d: d.update(address="0x" + "11" * 20), "does not match"),
    ],
)
def test_damaged_keystore_is_detected(tmp_path: Path, damage, message: str) -> None:
    path = tmp_path / KEYSTORE_FILE
    write_keystore(path, generate_keys(), "pw")
    doc = json.loads(path.read_text())
    damage(doc)
    path.write_text(json.dumps(doc))
    with pytest.raises(KeystoreError, match=message):
        unlock(path, "pw")


def test_keystore_refuses_overwrite_and_empty_password(tmp_path: Path) -> None:
    path = tmp_path / KEYSTORE_FILE
    with pytest.raises(KeystoreError, match="empty"):
        write_keystore(path, generate_keys(), "")
    write_keystore(path, generate_keys(), "pw")
    before = path.read_bytes()
    with pytest.raises(KeystoreError, match="refusing to overwrite"):
        write_keystore(path, generate_keys(), "pw")
    assert path.read_bytes() == before


def test_init_writes_config_and_keystore(tmp_path: Path) -> None:
    info = init_node(
        tmp_path,
        name="stats",
        roles=["provider", " consumer"],
        endpoint="http://127.0.0.1:8602/",
        password="pw",
    )
    config = tomllib.loads((tmp_path / "node.toml").read_text())
    assert config == {
        "name": "stats",
        "roles": ["provider", "consumer"],
        "endpoint": "http://127.0.0.1:8602",
        "api": {"port": 8602},
    }
    assert unlock(tmp_path / KEYSTORE_FILE, "pw").address == info["address"]
    with pytest.raises(InvalidInput, match="refusing to overwrite"):
        init_node(tmp_path, name="stats", roles=["provider"], endpoint="http://x", password="pw")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"name": "Stats Bureau"}, "lower-case"),
        ({"roles": ["mayor"]}, "unknown role"),
        ({"roles": []}, "at least one role"),
        ({"endpoint": "ftp://x"}, "http"),
    ],
)
def test_init_rejects_bad_input(tmp_path: Path, kwargs: dict, message: str) -> None:
    args = {
        "name": "stats",
        "roles": ["provider"],
        "endpoint": "http://127.0.0.1:1",
        "password": "pw",
        **kwargs,
    }
    with pytest.raises(InvalidInput, match=message):
        init_node(tmp_path, **args)
    assert not (tmp_path / KEYSTORE_FILE).exists()


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k != "TANLIAN_PASSWORD"}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env=full_env,
        stdin=subprocess.DEVNULL,
    )


def test_cli_init_and_wrong_password(tmp_path: Path) -> None:
    home = tmp_path / "eco"
    ok = _cli(
        "init",
        "--home",
        str(home),
        "--name",
        "eco",
        "--roles",
        "provider,consumer",
        "--endpoint",
        "http://127.0.0.1:8603",
        "--json",
        env={"TANLIAN_PASSWORD": "pw"},
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["roles"] == ["provider", "consumer"]
    pw_file = tmp_path / "pw"
    pw_file.write_text("nope\n")
    bad = _cli("registry", "list", "--home", str(home), "--password-file", str(pw_file))
    assert bad.returncode == 1 and "Traceback" not in bad.stderr
    assert bad.stderr.strip().splitlines()[-1] == (
        f"tanlian: error [keystore_wrong_password]: wrong password for keystore "
        f"{home.resolve() / KEYSTORE_FILE}"
    )
    no_pw = _cli("registry", "register", "--home", str(home))
    assert no_pw.returncode == 1 and "TANLIAN_PASSWORD" in no_pw.stderr
    unjoined = _cli("registry", "register", "--home", str(home), env={"TANLIAN_PASSWORD": "pw"})
    assert unjoined.returncode == 1 and "registry_not_configured" in unjoined.stderr
