"""`tanlian chain serve`: standard JSON-RPC, real clients, bad input, concurrency."""

from __future__ import annotations

import subprocess
import threading

import pytest
import requests
from web3 import Web3

from node.chain.artifacts import load_artifact
from node.chain.backend import open_backend
from node.chain.client import ChainClient, new_account
from node.chain.embedded.host import ChainHost
from node.chain.raw import unpack_blocks
from tests.conftest import _tool


def rpc(host: ChainHost, method: str, params: list | None = None) -> dict:
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}
    return requests.post(host.url, json=body, timeout=10).json()


@pytest.fixture
def deployed(chain_host: ChainHost):
    backend = open_backend("rpc", url=chain_host.url)
    client = ChainClient(backend, new_account())
    probe, _ = client.deploy(load_artifact("ChainProbe"), "served")
    client.transact(probe, "store", "0x" + "01" * 32, 5)
    client.transact(probe, "emitBatch", 3, 0, 4)
    yield client, probe
    backend.close()


def test_web3py_reads_the_served_chain(chain_host: ChainHost, deployed) -> None:
    client, probe = deployed
    w3 = Web3(Web3.HTTPProvider(chain_host.url))
    assert w3.eth.chain_id == 20_260
    assert w3.net.version == "20260"
    assert w3.client_version.startswith("tanlian-embedded/")
    head = w3.eth.get_block("latest")
    assert head.number == w3.eth.block_number == 3
    assert w3.eth.get_block(head.hash).number == 3
    assert w3.eth.get_block(2, full_transactions=True).transactions[0]["to"] == probe.address
    assert w3.eth.get_transaction_count(client.address) == 3
    assert w3.eth.gas_price == 0 and w3.eth.max_priority_fee == 0
    assert w3.eth.fee_history(2, "latest").baseFeePerGas == [0, 0, 0]
    contract = w3.eth.contract(address=probe.address, abi=probe.abi.abi)
    assert contract.functions.valueOf(b"\x01" * 32).call() == 5
    assert contract.functions.label().call() == "served"
    logs = contract.events.Pinged().get_logs(from_block=0, argument_filters={"tag": 3})
    assert [log.args.seq for log in logs] == [0, 1, 2, 3]
    tx = w3.eth.get_transaction(logs[0].transactionHash)
    receipt = w3.eth.get_transaction_receipt(logs[0].transactionHash)
    assert tx.blockNumber == receipt.blockNumber == 3 and receipt.status == 1
    assert (
        w3.eth.estimate_gas(
            {
                "from": client.address,
                "to": probe.address,
                "data": probe.abi.encode_call("store", ["0x" + "02" * 32, 1]),
            }
        )
        > 21_000
    )


def test_foundry_cast_reads_block_number_view_and_logs(chain_host: ChainHost, deployed) -> None:
    client, probe = deployed
    cast = _tool("cast")

    def run(*args: str) -> str:
        out = subprocess.run(
            [cast, *args, "--rpc-url", chain_host.url], capture_output=True, text=True, timeout=60
        )
        assert out.returncode == 0, out.stderr
        return out.stdout.strip()

    assert run("block-number") == "3"
    assert run("chain-id") == "20260"
    assert run("call", probe.address, "label()(string)") == '"served"'
    assert run("call", probe.address, "valueOf(bytes32)(uint256)", "0x" + "01" * 32) == "5"
    logs = run(
        "logs",
        "--from-block",
        "0",
        "--address",
        probe.address,
        "Pinged(uint256 indexed,uint256 indexed,bytes32)",
        "3",
        "--json",
    )
    import json

    entries = json.loads(logs)
    assert len(entries) == 4
    assert [int(e["topics"][2], 16) for e in entries] == [0, 1, 2, 3]
    assert run("balance", client.address) == "0"


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (b"{not json", -32700),
        (b'{"jsonrpc":"2.0","id":1}', -32600),
        (b'{"jsonrpc":"2.0","id":1,"method":"eth_nope","params":[]}', -32601),
        (b'{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":["0x12"]}', -32602),
        (b'{"jsonrpc":"2.0","id":1,"method":"eth_getBlockByNumber","params":"x"}', -32602),
        (b'{"jsonrpc":"2.0","id":1,"method":"eth_sendRawTransaction","params":["0xdead"]}', -32003),
        (b'{"jsonrpc":"2.0","id":1,"method":"eth_getLogs","params":[{"topics":["0xzz"]}]}', -32602),
        (b"[]", -32600),
    ],
)
def test_malformed_requests_get_errors_and_host_keeps_serving(
    chain_host: ChainHost, payload: bytes, code: int
) -> None:
    r = requests.post(
        chain_host.url, data=payload, timeout=10, headers={"content-type": "application/json"}
    )
    assert r.status_code == 200
    assert r.json()["error"]["code"] == code
    assert rpc(chain_host, "eth_blockNumber")["result"] == "0x0"


def test_batch_requests(chain_host: ChainHost) -> None:
    body = [
        {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
        {"jsonrpc": "2.0", "id": 2, "method": "eth_nope", "params": []},
    ]
    out = requests.post(chain_host.url, json=body, timeout=10).json()
    assert out[0] == {"jsonrpc": "2.0", "id": 1, "result": hex(20_260)}
    assert out[1]["id"] == 2 and out[1]["error"]["code"] == -32601


def test_missing_objects_are_null(chain_host: ChainHost) -> None:
    assert rpc(chain_host, "eth_getTransactionReceipt", ["0x" + "00" * 32])["result"] is None
    assert rpc(chain_host, "eth_getBlockByNumber", ["0x99", False])["result"] is None


def test_concurrent_clients_are_serialized_safely(chain_host: ChainHost) -> None:
    backend = open_backend("rpc", url=chain_host.url)
    owner = ChainClient(backend, new_account())
    probe, _ = owner.deploy(load_artifact("ChainProbe"), "busy")
    errors: list[BaseException] = []
    per_client = 8

    def sender() -> None:
        try:
            b = open_backend("rpc", url=chain_host.url)
            c = ChainClient(b, new_account())
            for i in range(per_client):
                c.transact(probe, "emitBatch", 1, i, 1)
                assert b.get_block("latest").number >= 1
            b.close()
        except BaseException as exc:  # asserted below
            errors.append(exc)

    threads = [threading.Thread(target=sender) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    head = backend.block_number()
    assert head == 1 + 6 * per_client  # one block per transaction, none lost
    pinged = [[probe.abi.events["Pinged"].topic0]]
    logs = backend.get_logs(0, head, [probe.address], pinged)
    assert len(logs) == 6 * per_client
    backend.close()


def test_raw_blocks_route_serves_bytes_and_refuses_bad_ranges(
    chain_host: ChainHost, deployed
) -> None:
    url = chain_host.url.rstrip("/") + "/raw-blocks"
    ok = requests.post(url, json={"from": 0, "to": 3}, timeout=10)
    assert ok.status_code == 200 and ok.headers["content-type"] == "application/octet-stream"
    blocks = unpack_blocks(ok.content)
    assert [len(b.transactions) for b in blocks] == [0, 1, 1, 1]
    # past the head: only the blocks there are
    assert (
        len(unpack_blocks(requests.post(url, json={"from": 2, "to": 99}, timeout=10).content)) == 2
    )
    for body in ({"from": 3, "to": 1}, {"from": -1, "to": 2}, {"from": 0, "to": 5000}, {"to": 1}):
        bad = requests.post(url, json=body, timeout=10)
        assert bad.status_code == 400 and bad.json()["code"] == "invalid_input"
    garbage = requests.post(url, data=b"\xff\x00", timeout=10)
    assert garbage.status_code == 400
    assert rpc(chain_host, "eth_blockNumber")["result"] == "0x3"  # still serving
