"""Foundry's cast, the real binary, against `tanlian chain serve`: its everyday commands
answer what web3.py reads from the same host."""

from __future__ import annotations

import calendar
import json
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import Web3

from node.chain.artifacts import load_artifact
from node.chain.backend import open_backend
from node.chain.client import ChainClient, Contract
from node.chain.embedded.host import ChainHost
from tests.chain.devchain import start_dev_chain
from tests.conftest import _tool

KEY = "0x" + "01" * 32
OTHER = "0x" + "22" * 20


@dataclass
class Served:
    host: ChainHost
    w3: Web3
    dev: LocalAccount
    probe: Contract

    def cast(self, *args: str) -> str:
        out = subprocess.run(
            [_tool("cast"), *args, "--rpc-url", self.host.url],
            capture_output=True,
            text=True,
            timeout=60,
        )
        # the npm wrapper (@foundry-rs/cast 1.7.1) exits 0 whatever cast does: read stderr
        assert out.returncode == 0 and "Error" not in out.stderr, (
            f"cast {' '.join(args)}: {out.stderr}"
        )
        return out.stdout.strip()

    def cast_json(self, *args: str) -> dict:
        return json.loads(self.cast(*args, "--json"))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A chain host with a funded dev key, ChainProbe deployed, a value stored and logs
    emitted."""
    chain = start_dev_chain(tmp_path_factory.mktemp("cast"))
    host, dev = chain.host, chain.dev
    backend = open_backend("rpc", url=host.url)
    client = ChainClient(backend, dev)
    probe, _ = client.deploy(load_artifact("ChainProbe"), "cast")
    client.transact(probe, "store", KEY, 5)
    client.transact(probe, "emitBatch", 3, 0, 4)
    try:
        yield Served(host, Web3(Web3.HTTPProvider(host.url)), dev, probe)
    finally:
        backend.close()
        host.stop()


def test_chain_id_block_number_gas_price(served: Served) -> None:
    assert int(served.cast("chain-id")) == served.w3.eth.chain_id == 20_260
    assert int(served.cast("block-number")) == served.w3.eth.block_number == 3
    assert int(served.cast("gas-price")) == served.w3.eth.gas_price == 0


@pytest.mark.parametrize("block", ["latest", "0"])
def test_block(served: Served, block: str) -> None:
    ours = served.cast_json("block", block)
    theirs = served.w3.eth.get_block("latest" if block == "latest" else 0)
    assert ours["hash"] == "0x" + theirs["hash"].hex()
    assert ours["stateRoot"] == "0x" + theirs["stateRoot"].hex()
    assert ours["parentHash"] == "0x" + theirs["parentHash"].hex()
    assert ours["extraData"] == "0x" + theirs["extraData"].hex()
    assert int(ours["number"], 16) == theirs["number"]
    assert int(ours["timestamp"], 16) == theirs["timestamp"]
    assert ours["transactions"] == ["0x" + h.hex() for h in theirs["transactions"]]
    # the text form (what a user reads) parses the same block
    assert f"stateRoot            0x{theirs['stateRoot'].hex()}" in served.cast("block", block)


def test_age(served: Served) -> None:
    shown = served.cast("age", "latest")  # e.g. "Sat Dec  5 08:21:43 2026 UTC"
    stamp = calendar.timegm(time.strptime(shown.removesuffix(" UTC"), "%a %b %d %H:%M:%S %Y"))
    assert stamp == served.w3.eth.get_block("latest")["timestamp"]


def test_balance_nonce_code_storage(served: Served) -> None:
    dev, probe = served.dev.address, served.probe.address
    assert int(served.cast("balance", dev)) == served.w3.eth.get_balance(dev) > 0
    assert int(served.cast("nonce", dev)) == served.w3.eth.get_transaction_count(dev) >= 3
    code = served.cast("code", probe)
    assert code == "0x" + served.w3.eth.get_code(probe).hex()
    assert code == "0x" + load_artifact("ChainProbe").deployed_bytecode.hex()
    for slot in range(5):
        value = served.cast("storage", probe, str(slot))
        assert bytes.fromhex(value[2:]) == served.w3.eth.get_storage_at(probe, slot)
    # the store count (slot 3, `writes`) is what the contract reports
    assert int(served.cast("storage", probe, "3"), 16) == 1


def test_call_and_estimate(served: Served) -> None:
    probe = served.probe.address
    assert served.cast("call", probe, "label()(string)") == '"cast"'
    assert served.cast("call", probe, "valueOf(bytes32)(uint256)", KEY) == "5"
    contract = served.w3.eth.contract(address=probe, abi=served.probe.abi.abi)
    estimate = int(
        served.cast(
            "estimate", "--from", served.dev.address, probe, "store(bytes32,uint256)", KEY, "9"
        )
    )
    assert estimate == contract.functions.store(bytes.fromhex(KEY[2:]), 9).estimate_gas(
        {"from": served.dev.address}
    )
    assert estimate > 21_000


def test_logs(served: Served) -> None:
    entries = json.loads(
        served.cast(
            "logs",
            "--from-block",
            "0",
            "--address",
            served.probe.address,
            "Pinged(uint256 indexed,uint256 indexed,bytes32)",
            "3",
            "--json",
        )
    )
    theirs = served.w3.eth.get_logs(
        {
            "fromBlock": 0,
            "address": served.probe.address,
            "topics": [served.probe.abi.events["Pinged"].topic0, (3).to_bytes(32, "big")],
        }
    )
    assert len(entries) == len(theirs) == 4
    assert [int(e["topics"][2], 16) for e in entries] == [0, 1, 2, 3]
    assert [e["transactionHash"] for e in entries] == [
        "0x" + log["transactionHash"].hex() for log in theirs
    ]
    assert [int(e["logIndex"], 16) for e in entries] == [log["logIndex"] for log in theirs]


@pytest.mark.parametrize(("flags", "kind"), [(["--legacy"], 0), ([], 2)])
def test_send_then_tx_and_receipt(served: Served, flags: list[str], kind: int) -> None:
    """cast send (legacy and EIP-1559) with the funded dev key; cast tx and cast receipt
    read back what web3.py reads."""
    before = served.w3.eth.get_balance(OTHER)
    sent = served.cast_json(
        "send", *flags, "--private-key", served.dev.key.hex(), OTHER, "--value", "1000"
    )
    assert sent["status"] == "0x1" and sent["type"] == hex(kind)
    tx_hash = sent["transactionHash"]
    assert served.w3.eth.get_balance(OTHER) == before + 1000
    tx = served.cast_json("tx", tx_hash)
    theirs = served.w3.eth.get_transaction(tx_hash)
    assert int(tx["type"], 16) == theirs["type"] == kind
    assert tx["from"] == theirs["from"].lower() == served.dev.address.lower()
    assert int(tx["value"], 16) == theirs["value"] == 1000
    assert int(tx["nonce"], 16) == theirs["nonce"]
    assert int(tx["chainId"], 16) == theirs["chainId"] == 20_260
    assert tx["input"] == "0x"
    receipt = served.cast_json("receipt", tx_hash)
    theirs_r = served.w3.eth.get_transaction_receipt(tx_hash)
    assert receipt["blockHash"] == "0x" + theirs_r["blockHash"].hex()
    assert int(receipt["gasUsed"], 16) == theirs_r["gasUsed"] == 21_000
    assert int(receipt["status"], 16) == theirs_r["status"] == 1
    # a field cast reads one at a time, as a script would
    assert served.cast("tx", tx_hash, "blockNumber") == str(theirs["blockNumber"])


def test_legacy_send_at_zero_gas_price_needs_no_funds(served: Served) -> None:
    """The chain is gas-free: a legacy send from an unfunded key (gas price 0, as
    eth_gasPrice says) is mined; README says so."""
    stranger = Account.create()
    assert served.w3.eth.get_balance(stranger.address) == 0
    sent = served.cast_json("send", "--legacy", "--private-key", stranger.key.hex(), OTHER)
    assert sent["status"] == "0x1" and int(sent["effectiveGasPrice"], 16) == 0
    assert served.w3.eth.get_transaction_count(stranger.address) == 1
