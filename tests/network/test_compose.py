"""docker-compose.yml and the Besu QBFT files, checked statically (no Docker engine here)."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import rlp
import yaml
from eth_keys import keys
from eth_utils import to_checksum_address

from node.network.config import load_network_config

ROOT = Path(__file__).resolve().parents[2]
BESU = ROOT / "network-config" / "besu"


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_a_node_service_per_department_plus_the_chain_host() -> None:
    services = compose()["services"]
    config = load_network_config(ROOT / "network-config" / "local.toml")
    assert {f"node-{d.name}" for d in config.departments} | {"chain"} <= set(services)
    for dept in config.departments:
        svc = services[f"node-{dept.name}"]
        assert f"{dept.name}_password" in svc["secrets"]
        assert svc["environment"]["TANLIAN_API__PORT"] == str(dept.port)
        assert svc["ports"] == [f"127.0.0.1:{dept.port}:{dept.port}"]  # loopback on the host
        assert svc["environment"]["TANLIAN_CHAIN__RPC_URL"] == "http://chain:8545"
        assert "--password-file" in svc["command"][0] and "keystore" in svc["command"][0]
    assert services["chain"]["command"][:2] == ["chain", "serve"]
    assert set(compose()["secrets"]) == {f"{d.name}_password" for d in config.departments}


def test_besu_profile_has_four_pinned_validators_with_their_own_keys() -> None:
    services = compose()["services"]
    validators = {k: v for k, v in services.items() if k.startswith("besu-validator")}
    assert len(validators) == 4
    for i, (name, svc) in enumerate(sorted(validators.items()), start=1):
        assert svc["profiles"] == ["besu"]
        image, tag = svc["image"].split(":")
        assert image == "hyperledger/besu" and tag not in ("", "latest")
        assert f"./network-config/besu/keys/validator{i}:/keys:ro" in svc["volumes"]
        assert (BESU / "keys" / f"validator{i}" / "key").exists(), name
    boot = (BESU / "keys" / "validator1" / "key.pub").read_text().strip()[2:]
    for i in (2, 3, 4):
        assert (
            f"--bootnodes=enode://{boot}@besu-validator1:30303"
            in services[f"besu-validator{i}"]["command"]
        )


def test_genesis_is_qbft_zero_fee_with_the_committed_validators() -> None:
    genesis = json.loads((BESU / "genesis.json").read_text())
    cfg = genesis["config"]
    assert cfg["chainId"] == 20260 and cfg["zeroBaseFee"] is True
    assert set(cfg["qbft"]) >= {"blockperiodseconds", "epochlength", "requesttimeoutseconds"}
    vanity, validators, votes, round_, seals = rlp.decode(bytes.fromhex(genesis["extraData"][2:]))
    assert (vanity, votes, round_, seals) == (b"\x00" * 32, [], b"", [])
    expected = []
    for i in range(1, 5):
        folder = BESU / "keys" / f"validator{i}"
        key = keys.PrivateKey(bytes.fromhex(folder.joinpath("key").read_text().strip()[2:]))
        assert (
            key.public_key.to_checksum_address() == folder.joinpath("address").read_text().strip()
        )
        assert (
            "0x" + key.public_key.to_bytes().hex() == folder.joinpath("key.pub").read_text().strip()
        )
        expected.append(key.public_key.to_checksum_address())
    assert [to_checksum_address(v) for v in validators] == expected
    besu = tomllib.loads((BESU / "config.toml").read_text())
    assert besu["min-gas-price"] == 0
    # account permissioning on, by the account rules in the genesis alloc
    assert besu["permissions-accounts-contract-enabled"] is True
    assert genesis["alloc"][besu["permissions-accounts-contract-address"].lower()]["code"]
    assert "permissions-accounts-config-file-enabled" not in besu
    assert "PERM" not in besu["rpc-http-api"]  # nobody edits the allowlist over open RPC
    assert "DEVELOPMENT KEYS" in (BESU / "keys" / "README.md").read_text()


def test_dockerfile_installs_the_locked_dependencies() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert "FROM python:3.11" in text
    assert "pip install --no-cache-dir -r requirements.lock" in text
    assert 'ENTRYPOINT ["tanlian"]' in text
