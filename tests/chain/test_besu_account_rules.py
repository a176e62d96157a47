"""The Besu profile's account rules (issue 19): the chain host's write rules as Besu's onchain
account permissioning (AccountRules.sol). The genesis that network-config/besu/generate.py
writes is booted by anvil (`--init`), so the contract runs from the very alloc entry (code
and administrator slots) Besu would start from; the real NodeRegistry, DataCatalog and
AccessManager are deployed on it, and `transactionAllowed` is asked what Besu asks before it
admits a transaction. tests/chain/test_host_permissioning.py holds the chain host to the
same table."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from node.chain.artifacts import load_artifact
from node.chain.backend import open_backend
from node.chain.client import ChainClient, new_account
from node.chain.errors import ContractReverted
from node.registry.registry import GenesisMember, Registry, deploy_registry
from node.sharing.contracts import Policy, deploy_sharing
from tests.conftest import ROOT, Anvil, start_anvil, stop_anvil

BESU = ROOT / "network-config/besu"
GENERATE = BESU / "generate.py"
#: where every validator asks (config.toml); the generated genesis must put the rules there
RULES_ADDRESS = tomllib.loads((BESU / "config.toml").read_text())[
    "permissions-accounts-contract-address"
]
RULES = load_artifact("AccountRules")
REGISTRY = load_artifact("NodeRegistry").abi
CATALOG = load_artifact("DataCatalog").abi
KEY = b"\x07" * 32
ZERO = "0x0000000000000000000000000000000000000000"
TINY_CREATION = bytes.fromhex("600160005360016000f3")


@pytest.fixture
def admin():
    return new_account()


@pytest.fixture
def besu_genesis(tmp_path: Path, admin) -> Iterator[Anvil]:
    out = tmp_path / "besu"
    subprocess.run(
        [sys.executable, str(GENERATE), "--out", str(out), "--admin", admin.address],
        check=True,
        capture_output=True,
    )
    node = start_anvil("--init", str(out / "genesis.json"))
    yield node
    stop_anvil(node)


def test_the_committed_genesis_and_config_agree_on_the_rules() -> None:
    genesis = json.loads((BESU / "genesis.json").read_text())
    config = tomllib.loads((BESU / "config.toml").read_text())
    assert config["permissions-accounts-contract-enabled"] is True
    entry = genesis["alloc"][RULES_ADDRESS.lower()]
    assert entry["code"] == "0x" + RULES.deployed_bytecode.hex()
    # committed without administrators: nobody writes until a deployer generates its own
    assert entry["storage"] == {}


def test_besu_admits_what_the_chain_host_admits(besu_genesis: Anvil, admin) -> None:
    url = besu_genesis.url
    backend = open_backend("rpc", url=url)
    member, stranger, other_regulator = new_account(), new_account(), new_account()
    for account in (admin, member, stranger, other_regulator):
        besu_genesis.fund(account.address)
    reader = ChainClient(backend)
    rules = reader.at(RULES, RULES_ADDRESS)

    def allowed(sender: str, target: str | None, payload: bytes = b"") -> bool:
        return reader.call(
            rules, "transactionAllowed", sender, target or ZERO, 0, 0, 3_000_000, payload
        )

    try:
        # before the registry: the genesis administrators only (read from the alloc's slots)
        assert reader.call(rules, "isGenesisAdministrator", admin.address) is True
        assert allowed(admin.address, None, TINY_CREATION)
        assert allowed(admin.address, stranger.address)
        assert not allowed(stranger.address, None, TINY_CREATION)
        assert not allowed(stranger.address, admin.address)

        deployer = ChainClient(backend, admin)
        genesis = [
            GenesisMember(admin.address, "drc", ["regulator"], KEY, "http://a"),
            GenesisMember(member.address, "stats", ["provider"], KEY, "http://m"),
            GenesisMember(other_regulator.address, "eco", ["regulator"], KEY, "http://e"),
        ]
        registry, _ = deploy_registry(deployer, genesis, 1)
        catalog, access = deploy_sharing(deployer, registry.address)

        # only a genesis administrator sets the registry, once, and only to a contract
        with pytest.raises(ContractReverted) as refused:
            ChainClient(backend, stranger).transact(rules, "setRegistry", registry.address)
        assert refused.value.error == "NotAnAdministrator"
        assert refused.value.error_args == {"account": stranger.address}
        with pytest.raises(ContractReverted) as refused:
            deployer.transact(rules, "setRegistry", stranger.address)
        assert (refused.value.error, refused.value.error_args) == (
            "NotAContract",
            {"target": stranger.address},
        )
        result = deployer.transact(rules, "setRegistry", registry.address)
        assert result.event("RegistrySet").args == {
            "registry": registry.address,
            "by": admin.address,
        }
        with pytest.raises(ContractReverted) as refused:
            deployer.transact(rules, "setRegistry", catalog.address)
        assert (refused.value.error, refused.value.error_args) == (
            "RegistryAlreadySet",
            {"registry": registry.address},
        )

        # then the registry's active regulators add the network's contracts, nobody else
        with pytest.raises(ContractReverted) as refused:
            ChainClient(backend, member).transact(rules, "addNetworkContract", catalog.address)
        assert refused.value.error_args == {"account": member.address}
        for contract, by in ((catalog, admin), (access, other_regulator)):
            added = ChainClient(backend, by).transact(rules, "addNetworkContract", contract.address)
            assert added.event("NetworkContractAdded").args == {
                "target": contract.address,
                "by": by.address,
            }
        assert reader.call(rules, "isNetworkContract", catalog.address) is True
        assert reader.call(rules, "isNetworkContract", stranger.address) is False

        create = CATALOG.encode_call("createDataset", ("x", 1, Policy(raw_allowed=True).as_abi()))
        register = REGISTRY.encode_call("register", ("newdept", 1, KEY, "http://s"))
        set_endpoint = REGISTRY.encode_call("setEndpoint", ("http://s2",))

        # an account the registry does not know: register(...) on the registry, nothing else
        assert not allowed(stranger.address, None, TINY_CREATION)
        assert not allowed(stranger.address, catalog.address, create)
        assert not allowed(stranger.address, access.address, b"\x00" * 4)
        assert not allowed(stranger.address, registry.address, set_endpoint)
        assert not allowed(stranger.address, registry.address, b"\x01")
        assert allowed(stranger.address, registry.address, register)
        ChainClient(backend, stranger).transact(registry, "register", "newdept", 1, KEY, "http://s")

        # pending: the registry's functions only
        assert allowed(stranger.address, registry.address, set_endpoint)
        assert not allowed(stranger.address, catalog.address, create)
        assert not allowed(stranger.address, None, TINY_CREATION)

        # active: the network's contracts and the rules, no deployment, nothing else
        assert allowed(member.address, catalog.address, create)
        assert allowed(member.address, access.address, b"\x00" * 4)
        assert allowed(member.address, rules.address, b"")
        assert not allowed(member.address, None, TINY_CREATION)
        assert not allowed(member.address, stranger.address)

        # approved, the pending member is active too
        Registry(deployer, registry.address).approve(stranger.address)
        assert allowed(stranger.address, catalog.address, create)

        # suspended: nothing at all
        Registry(deployer, registry.address).suspend(member.address, "test")
        assert not allowed(member.address, registry.address, set_endpoint)
        assert not allowed(member.address, catalog.address, create)

        # an active regulator deploys; a suspended one does not
        assert allowed(admin.address, None, TINY_CREATION)
        assert allowed(other_regulator.address, None, TINY_CREATION)
        Registry(deployer, registry.address).suspend(other_regulator.address, "test")
        assert not allowed(other_regulator.address, None, TINY_CREATION)
    finally:
        backend.close()
