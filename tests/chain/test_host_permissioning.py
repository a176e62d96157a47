"""Who may write to a chain host (issue 19): registered members only, deployments by the
network's administrators, and no transaction without its chain id. A real `tanlian chain
serve` process without --open, the real NodeRegistry, DataCatalog and AccessManager."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from eth_account import Account
from eth_keys import keys

from node.chain.artifacts import load_artifact
from node.chain.backend import open_backend
from node.chain.client import ChainClient, new_account, sign_transaction
from node.chain.embedded.chain import EmbeddedChain, GenesisSpec
from node.chain.embedded.host import ChainHost, start_chain_host
from node.chain.embedded.permissioning import PermissionSettings
from node.chain.errors import TransactionRejected, WriteNotPermitted
from node.registry.registry import GenesisMember, Registry, deploy_registry
from node.sharing.contracts import Policy, deploy_sharing

ZERO_GAS = {"gasPrice": 0}
NOT_AUTHORIZED = -32007
# a contract whose code is one STOP
TINY_CREATION = bytes.fromhex("600160005360016000f3")
KEY = b"\x07" * 32


def rpc(url: str, method: str, params: list) -> dict:
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    return requests.post(url, json=body, timeout=60).json()


class Sender:
    """An account (zero balance) that signs its own legacy EIP-155 transactions at gas
    price 0 and posts them raw, so nothing is estimated or checked on the client's side."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.account = new_account()
        self.key = keys.PrivateKey(bytes(self.account.key))
        self.address = self.account.address

    def send(self, to: str | None, data: bytes = b"") -> dict:
        nonce = int(
            rpc(self.url, "eth_getTransactionCount", [self.address, "latest"])["result"], 16
        )
        raw = sign_transaction(self.key, 20_260, nonce, 3_000_000, ZERO_GAS, to, data)
        return rpc(self.url, "eth_sendRawTransaction", ["0x" + raw.hex()])


def refused(answer: dict, reason: str) -> str:
    assert "result" not in answer, answer
    assert answer["error"]["code"] == NOT_AUTHORIZED, answer
    assert answer["error"]["data"] == {"reason": reason}, answer
    return answer["error"]["message"]


def mined(url: str, answer: dict) -> dict:
    assert "result" in answer, answer
    receipt = rpc(url, "eth_getTransactionReceipt", [answer["result"]])["result"]
    assert receipt is not None
    return receipt


@pytest.fixture
def host(tmp_path: Path) -> Iterator[ChainHost]:
    h = start_chain_host(tmp_path / "host", open_writes=False)
    yield h
    h.stop()


REGISTRY = load_artifact("NodeRegistry").abi
CATALOG = load_artifact("DataCatalog").abi


def test_only_members_write_and_only_administrators_deploy(host: ChainHost) -> None:
    url = host.url
    admin, member, stranger = Sender(url), Sender(url), Sender(url)
    home = host.home

    # no permissions set: nobody writes, not even the future administrator (fail safe)
    refused(admin.send(None, TINY_CREATION), "no_permissions")

    PermissionSettings(admins=(admin.address,)).save(home)
    # before the registry exists only the genesis administrators write
    refused(stranger.send(None, TINY_CREATION), "not_an_administrator")
    backend = open_backend("rpc", url=url)
    try:
        deployer = ChainClient(backend, admin.account)
        genesis = [
            GenesisMember(admin.address, "drc", ["regulator"], KEY, "http://a"),
            GenesisMember(member.address, "stats", ["provider"], KEY, "http://m"),
        ]
        registry, _ = deploy_registry(deployer, genesis, 1)
        PermissionSettings.load(home).merged(registry=registry.address).save(home)
        catalog, access = deploy_sharing(deployer, registry.address)  # a regulator deploys
        PermissionSettings.load(home).merged(contracts=[catalog.address, access.address]).save(home)

        # an unregistered, zero-balance account: no deployment, no catalog, no access, and
        # on the registry nothing but register(...)
        refused(stranger.send(None, TINY_CREATION), "deployment_not_permitted")
        create = CATALOG.encode_call("createDataset", ("x", 1, Policy(raw_allowed=True).as_abi()))
        refused(stranger.send(catalog.address, create), "not_an_active_member")
        refused(stranger.send(access.address, b"\x00" * 4), "not_an_active_member")
        refused(
            stranger.send(registry.address, REGISTRY.encode_call("setEndpoint", ("http://s",))),
            "not_a_member",
        )
        register = REGISTRY.encode_call("register", ("eco", 1, KEY, "http://s"))
        assert mined(url, stranger.send(registry.address, register))["status"] == "0x1"
        reader = Registry(ChainClient(backend), registry.address)
        assert reader.member(stranger.address).status.label == "pending"

        # a pending member: the registry's own functions only
        refused(stranger.send(catalog.address, create), "not_an_active_member")
        refused(stranger.send(None, TINY_CREATION), "deployment_not_permitted")
        endpoint = REGISTRY.encode_call("setEndpoint", ("http://s2",))
        assert mined(url, stranger.send(registry.address, endpoint))["status"] == "0x1"

        # an active member: the network's contracts, but no deployment and nothing else
        assert mined(url, member.send(catalog.address, create))["status"] == "0x1"
        refused(member.send(None, TINY_CREATION), "deployment_not_permitted")
        refused(member.send(stranger.address), "not_a_network_contract")
        # approved, the pending member is active too
        Registry(deployer, registry.address).approve(stranger.address)
        assert mined(url, stranger.send(catalog.address, create))["status"] == "0x1"

        # suspended: nothing at all
        Registry(deployer, registry.address).suspend(member.address, "test")
        refused(member.send(registry.address, endpoint), "member_suspended")
        refused(member.send(catalog.address, create), "member_suspended")

        # the administrator (an active regulator) still deploys
        assert mined(url, admin.send(None, TINY_CREATION))["contractAddress"]

        # the refusal reaches a node's client as its own error, with the host's reason
        with pytest.raises(WriteNotPermitted) as info:
            ChainClient(backend, member.account).transact(
                catalog, "createDataset", "y", 1, Policy(raw_allowed=True).as_abi()
            )
        assert info.value.reason == "member_suspended"
        assert info.value.code == "chain_write_not_permitted"
    finally:
        backend.close()


def test_pending_members_write_slower_than_members(host: ChainHost) -> None:
    url = host.url
    admin, pending = Sender(url), Sender(url)
    PermissionSettings(admins=(admin.address,)).save(host.home)
    backend = open_backend("rpc", url=url)
    try:
        genesis = [GenesisMember(admin.address, "drc", ["regulator"], KEY, "http://a")]
        registry, _ = deploy_registry(ChainClient(backend, admin.account), genesis, 1)
    finally:
        backend.close()
    PermissionSettings.load(host.home).merged(registry=registry.address).save(host.home)
    register = REGISTRY.encode_call("register", ("eco", 1, KEY, "http://s"))
    mined(url, pending.send(registry.address, register))
    answers = [
        pending.send(registry.address, REGISTRY.encode_call("setEndpoint", (f"http://{i}",)))
        for i in range(6)
    ]
    # a burst of 5 for an account that is not an active member (members: 200)
    assert all("result" in a for a in answers[:4]), answers
    limited = answers[-1]["error"]
    assert limited["code"] == -32005 and limited["data"]["reason"] == "rate_limited", limited
    # an active member is not held to it
    for i in range(8):
        mined(url, admin.send(registry.address, REGISTRY.encode_call("setEndpoint", (f"h{i}",))))


def _unprotected(account, nonce: int = 0) -> bytes:
    """A legacy transaction signed without a chain id (pre-EIP-155: valid on any chain)."""
    tx = {"nonce": nonce, "gasPrice": 0, "gas": 100_000, "to": account.address, "value": 0}
    signed = Account.sign_transaction(tx, account.key)
    assert signed.v in (27, 28)
    return bytes(signed.raw_transaction)


def test_transactions_without_a_chain_id_are_refused(tmp_path: Path) -> None:
    account = new_account()
    # the host, even open to every account
    host = start_chain_host(tmp_path / "host")
    try:
        answer = rpc(host.url, "eth_sendRawTransaction", ["0x" + _unprotected(account).hex()])
        assert answer["error"]["code"] == -32003, answer
        assert "EIP-155" in answer["error"]["message"]
        assert rpc(host.url, "eth_blockNumber", [])["result"] == "0x0"
    finally:
        host.stop()
    # and the embedded chain of a node without a host
    with EmbeddedChain(tmp_path / "chain", genesis=GenesisSpec()) as chain:
        with pytest.raises(TransactionRejected, match="EIP-155"):
            chain.send_raw_transaction(_unprotected(account))
        assert chain.block_number() == 0


def test_chain_permit_adds_to_the_hosts_settings(tmp_path: Path) -> None:
    from tests.cli_run import one_line_error, tanlian

    a, b, reg = (new_account().address for _ in range(3))
    first = tanlian("chain", "permit", "--home", str(tmp_path), "--admin", a.lower(), "--json")
    assert first.returncode == 0, first.stderr
    more = tanlian(
        "chain", "permit", "--home", str(tmp_path), "--admin", b, "--registry", reg, "--json"
    )
    assert json.loads(more.stdout)["admins"] == [a, b]
    assert PermissionSettings.load(tmp_path) == PermissionSettings(admins=(a, b), registry=reg)
    assert (tmp_path / "permissions.json").stat().st_mode & 0o777 == 0o600
    one_line_error(
        tanlian("chain", "permit", "--home", str(tmp_path), "--admin", "0x12"), "not an address"
    )
    assert PermissionSettings.load(tmp_path).admins == (a, b)  # nothing stored was harmed
