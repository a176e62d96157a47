"""ethers v6 (npm, the real library) against `tanlian chain serve`: its standard calls
(blocks, transactions, receipts, logs, a polled log subscription, sends legacy and
EIP-1559 with wait, call, estimateGas) answer what web3.py reads from the same host."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from web3 import Web3

from node.chain.artifacts import load_artifact
from node.chain.backend import open_backend
from node.chain.client import ChainClient
from tests.chain.devchain import start_dev_chain
from tests.conftest import ROOT

SCRIPT = Path(__file__).resolve().parent / "ethers" / "standard_calls.mjs"


def _hex(value: bytes) -> str:
    return "0x" + bytes(value).hex()


def test_ethers_standard_calls(tmp_path: Path) -> None:
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "ethers").is_dir():
        pytest.fail("node and the npm packages are needed; run `npm ci` (make test does)")
    chain = start_dev_chain(tmp_path / "host")
    backend = open_backend("rpc", url=chain.host.url)
    try:
        client = ChainClient(backend, chain.dev)
        probe, _ = client.deploy(load_artifact("ChainProbe"), "ethers")
        client.transact(probe, "emitBatch", 3, 0, 2)
        request = tmp_path / "input.json"
        request.write_text(
            json.dumps(
                {
                    "url": chain.host.url,
                    "key": _hex(chain.dev.key),
                    "probe": probe.address,
                    "abi": probe.abi.abi,
                }
            )
        )
        run = subprocess.run(
            [node, str(SCRIPT), str(request)], capture_output=True, text=True, timeout=120
        )
        assert run.returncode == 0, run.stderr
        out = json.loads(run.stdout)
        w3 = Web3(Web3.HTTPProvider(chain.host.url))
        assert out["chainId"] == str(w3.eth.chain_id) == "20260"
        assert out["blockNumber"] == 2  # read before the script's own sends
        genesis = w3.eth.get_block(0)
        assert out["genesis"] == {
            "hash": _hex(genesis["hash"]),
            "stateRoot": _hex(genesis["stateRoot"]),
            "timestamp": genesis["timestamp"],
        }
        block2 = w3.eth.get_block(2)
        assert out["latest"] == {
            "number": 2,
            "hash": _hex(block2["hash"]),
            "parentHash": _hex(block2["parentHash"]),
            "stateRoot": _hex(block2["stateRoot"]),
            "transactions": [_hex(h) for h in block2["transactions"]],
        }
        assert out["label"] == "ethers"
        assert out["callRaw"] == _hex(w3.eth.call({"to": probe.address, "data": "0xcb4774c4"}))
        contract = w3.eth.contract(address=probe.address, abi=probe.abi.abi)
        assert int(out["estimate"]) == contract.functions.store(b"\x02" * 32, 9).estimate_gas(
            {"from": chain.dev.address}
        )
        for name, kind in (("eip1559", 2), ("legacy", 0)):
            sent = out["sent"][name]
            tx = w3.eth.get_transaction(sent["hash"])
            receipt = w3.eth.get_transaction_receipt(sent["hash"])
            assert (sent["type"], tx["type"]) == (kind, kind)
            assert sent["from"] == tx["from"] == chain.dev.address
            assert sent["to"] == tx["to"] == Web3.to_checksum_address("0x" + "33" * 20)
            assert sent["value"] == str(tx["value"]) == "1234"
            assert sent["nonce"] == tx["nonce"]
            assert sent["chainId"] == str(tx["chainId"])
            assert (sent["blockNumber"], sent["blockHash"]) == (
                receipt["blockNumber"],
                _hex(receipt["blockHash"]),
            )
            assert sent["status"] == receipt["status"] == 1
            assert sent["gasUsed"] == str(receipt["gasUsed"]) == "21000"
        assert w3.eth.get_balance("0x" + "33" * 20) == 2 * 1234
        # the subscription saw the log of the script's emitBatch(77, 5, 2): its first event
        assert out["subscribed"] == {"tag": "77", "seq": "5", "tx": out["emitted"]["hash"]}
        theirs = w3.eth.get_logs(
            {
                "fromBlock": 0,
                "address": probe.address,
                "topics": [probe.abi.events["Pinged"].topic0],
            }
        )
        assert out["logs"] == [
            {
                "tx": _hex(log["transactionHash"]),
                "block": log["blockNumber"],
                "index": log["logIndex"],
                "topics": [_hex(t) for t in log["topics"]],
            }
            for log in theirs
        ]
        assert len(out["logs"]) == 4
    finally:
        backend.close()
        chain.host.stop()
