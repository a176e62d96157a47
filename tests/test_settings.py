"""The one settings class: node.toml, environment overrides, fail-fast errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from node.errors import ConfigError
from node.settings import load_settings


def test_defaults_live_in_home(tmp_path: Path) -> None:
    s = load_settings(tmp_path)
    assert s.chain.backend == "embedded"
    assert s.chain_store == tmp_path.resolve() / "chain"
    assert s.db_url == f"sqlite:///{tmp_path.resolve() / 'node.db'}"


def test_toml_then_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "node.toml").write_text(
        'name = "stats"\n[chain]\nbackend = "rpc"\nrpc_url = "http://127.0.0.1:1"\n'
    )
    s = load_settings(tmp_path)
    assert (s.name, s.chain.backend, s.chain.rpc_url) == ("stats", "rpc", "http://127.0.0.1:1")
    monkeypatch.setenv("TANLIAN_CHAIN__RPC_URL", "http://127.0.0.1:2")
    assert load_settings(tmp_path).chain.rpc_url == "http://127.0.0.1:2"


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[chain]\nbackend = "rpc"\n', "needs chain.rpc_url"),
        ('[chain]\nbackend = "besu"\n', "chain.backend"),
        ("[chain]\nchain_id = -1\n", "chain.chain_id"),
        ("unknown_key = 1\n", "unknown_key"),
        ("this is = = not toml", "not valid TOML"),
    ],
)
def test_invalid_settings_fail_fast(tmp_path: Path, toml: str, message: str) -> None:
    (tmp_path / "node.toml").write_text(toml)
    with pytest.raises(ConfigError, match=message):
        load_settings(tmp_path)


def test_settings_choose_the_backend(tmp_path: Path) -> None:
    from node.chain.backend import backend_from_settings

    (tmp_path / "node.toml").write_text("[chain]\nchain_id = 31415\n")
    backend = backend_from_settings(load_settings(tmp_path))
    try:
        assert backend.name == "embedded" and backend.chain_id == 31415
        assert (tmp_path / "chain" / "chain.sqlite").exists()
    finally:
        backend.close()
