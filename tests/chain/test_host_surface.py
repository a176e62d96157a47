"""The chain host's method surface: nothing that signs, rewrites history or mines on
request, unless started with ``--dev`` (which adds only evm_mine and evm_increaseTime)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from node.chain.embedded.chain import EmbeddedChain, GenesisSpec
from node.chain.embedded.host import ChainHost, start_chain_host
from node.chain.embedded.rpc_server import DEV_METHODS, ChainRpc

# what anvil, hardhat and geth's dev mode serve and a shared chain must not
NEVER = [
    ("eth_sign", ["0x" + "11" * 20, "0x00"]),
    ("eth_signTransaction", [{}]),
    ("eth_signTypedData_v4", ["0x" + "11" * 20, "{}"]),
    ("eth_sendTransaction", [{"from": "0x" + "11" * 20, "to": "0x" + "22" * 20}]),
    ("personal_sign", ["0x00", "0x" + "11" * 20, ""]),
    ("personal_unlockAccount", ["0x" + "11" * 20, "", 0]),
    ("personal_newAccount", [""]),
    ("evm_snapshot", []),
    ("evm_revert", ["0x1"]),
    ("evm_setNextBlockTimestamp", ["0xffffffff"]),
    ("evm_setTime", ["0xffffffff"]),
    ("anvil_setBalance", ["0x" + "11" * 20, "0x1"]),
    ("anvil_mine", ["0x1"]),
    ("hardhat_mine", ["0x1"]),
    ("debug_setHead", ["0x0"]),
    ("miner_start", []),
]
DEV_ONLY = [("evm_mine", []), ("evm_increaseTime", ["0xe10"])]
FORBIDDEN_PREFIXES = ("personal_", "evm_", "anvil_", "hardhat_", "debug_", "miner_", "admin_")


def rpc(host: ChainHost, method: str, params: list | None = None) -> dict:
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}
    return requests.post(host.url, json=body, timeout=10).json()


@pytest.fixture(scope="module")
def hosts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ChainHost, ChainHost]]:
    plain = start_chain_host(tmp_path_factory.mktemp("plain"))
    dev = start_chain_host(tmp_path_factory.mktemp("dev"), dev=True)
    yield plain, dev
    plain.stop()
    dev.stop()


@pytest.mark.parametrize(("method", "params"), NEVER + DEV_ONLY)
def test_a_host_without_dev_refuses_them_all(
    hosts: tuple[ChainHost, ChainHost], method: str, params: list
) -> None:
    plain, _ = hosts
    out = rpc(plain, method, params)
    assert out["error"]["code"] == -32601, out
    if (method, params) in DEV_ONLY:
        assert "--dev" in out["error"]["message"]
    assert rpc(plain, "eth_blockNumber")["result"] == "0x0"  # nothing mined
    assert rpc(plain, "eth_accounts")["result"] == []  # and no key held


@pytest.mark.parametrize(("method", "params"), NEVER)
def test_a_dev_host_still_never_signs_or_rewrites(
    hosts: tuple[ChainHost, ChainHost], method: str, params: list
) -> None:
    _, dev = hosts
    assert rpc(dev, method, params)["error"]["code"] == -32601


def test_a_dev_host_mines_and_moves_its_clock_on_request(
    hosts: tuple[ChainHost, ChainHost],
) -> None:
    _, dev = hosts
    head = int(rpc(dev, "eth_blockNumber")["result"], 16)
    assert rpc(dev, "evm_mine")["result"] == "0x0"
    block = rpc(dev, "eth_getBlockByNumber", ["latest", False])["result"]
    assert int(block["number"], 16) == head + 1 and block["transactions"] == []
    offset = int(rpc(dev, "evm_increaseTime", [hex(3600)])["result"], 16)
    assert offset >= 3600
    rpc(dev, "evm_mine")
    later = rpc(dev, "eth_getBlockByNumber", ["latest", False])["result"]
    assert int(later["timestamp"], 16) >= time.time() + 3600 - 5
    assert rpc(dev, "evm_increaseTime", [-1])["error"]["code"] == -32602  # never back


def test_the_method_table_serves_nothing_dangerous(tmp_path: Path) -> None:
    """Guards methods added later: only DEV_METHODS may match, and only with dev."""
    with EmbeddedChain(tmp_path / "chain", genesis=GenesisSpec()) as chain:
        plain = set(ChainRpc(chain).methods)
        dev = set(ChainRpc(chain, dev=True).methods)
    for name in plain:
        assert not name.startswith(FORBIDDEN_PREFIXES), name
        assert not name.startswith("eth_sign") and name != "eth_sendTransaction", name
    assert dev - plain == DEV_METHODS
