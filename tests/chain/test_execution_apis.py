"""The chain host's filters and errors where the standard leaves a choice to the server:
bounds (how many filters, how long an idle one lives, how much one poll answers) and the
error of an unknown id. The schema checks of every answer are in test_conformance.py."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from node.chain.artifacts import load_artifact
from node.chain.backend import open_backend
from node.chain.client import ChainClient, new_account
from node.chain.embedded.backend import EmbeddedBackend
from node.chain.embedded.filters import MAX_FILTERS, FilterNotFound, Filters, LogCriteria
from node.chain.embedded.host import ChainHost
from tests.chain.rpc_schemas import methods, result_errors


def rpc(host: ChainHost, method: str, *params: object) -> dict:
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
    return requests.post(host.url, json=body, timeout=30).json()


# examples of the spec that its own schemas reject (a bug of the example, not of the reader)
STALE_TX = "a transaction without `type` and `blockTimestamp`, which the schema requires"
BAD_EXAMPLES = {
    "eth_feeHistory": "spells oldestBlock `oldestblock`",
    "eth_newFilter": "id 0x01: a leading zero, which uint forbids",
    "eth_newBlockFilter": "id 0x01",
    "eth_newPendingTransactionFilter": "id 0x01",
    "eth_sendTransaction": "a hash of 63 hex digits",
    "eth_sendRawTransaction": "a hash of 63 hex digits",
    "eth_getTransactionByHash": STALE_TX,
    "eth_getTransactionByBlockHashAndIndex": STALE_TX,
    "eth_getTransactionByBlockNumberAndIndex": STALE_TX,
}


def test_the_spec_copy_is_whole() -> None:
    """The copied spec's example answers validate against its own schemas, so every
    reference resolves and the validator reads the spec as its authors meant; the examples
    known to be wrong (listed, with why) must still fail."""
    checked = 0
    for name, method in methods().items():
        for example in method.get("examples", []):
            errors = result_errors(name, example["result"]["value"])
            assert bool(errors) == (name in BAD_EXAMPLES), (name, errors)
            checked += 1
    assert checked >= 40 and "eth_getBlockReceipts" in methods()


def test_filter_count_is_bounded_over_http(chain_host: ChainHost) -> None:
    batch = [
        {"jsonrpc": "2.0", "id": i, "method": "eth_newBlockFilter", "params": []}
        for i in range(100)
    ]
    ids: list[str] = []
    for _ in range(MAX_FILTERS // 100):
        answers = requests.post(chain_host.url, json=batch, timeout=30).json()
        ids += [a["result"] for a in answers]
    assert len(set(ids)) == MAX_FILTERS
    refused = rpc(chain_host, "eth_newBlockFilter")["error"]
    assert refused["code"] == -32005 and f"{MAX_FILTERS} filters" in refused["message"]
    assert rpc(chain_host, "eth_uninstallFilter", ids[0])["result"] is True
    assert rpc(chain_host, "eth_newBlockFilter")["result"] not in ids
    assert rpc(chain_host, "eth_getFilterChanges", ids[1])["result"] == []


def test_errors_of_filters_and_log_queries(chain_host: ChainHost) -> None:
    unknown = rpc(chain_host, "eth_getFilterChanges", "0x1234")["error"]
    assert unknown == {"code": -32000, "message": "filter not found"}
    assert rpc(chain_host, "eth_getFilterLogs", "0x1234")["error"]["code"] == -32000
    assert rpc(chain_host, "eth_uninstallFilter", "0x1234")["result"] is False
    blocks = rpc(chain_host, "eth_newBlockFilter")["result"]
    assert rpc(chain_host, "eth_getFilterLogs", blocks)["error"]["code"] == -32000
    nowhere = {"blockHash": "0x" + "ab" * 32}
    assert rpc(chain_host, "eth_newFilter", nowhere)["error"]["code"] == -32001
    assert rpc(chain_host, "eth_getLogs", nowhere)["error"]["code"] == -32001
    both = {"blockHash": "0x" + "ab" * 32, "fromBlock": "0x0"}
    assert rpc(chain_host, "eth_getLogs", both)["error"]["code"] == -32602
    assert rpc(chain_host, "eth_newFilter", {"topics": ["0xzz"]})["error"]["code"] == -32602
    # one query spans at most 100 000 blocks, whether asked directly or through a filter
    wide = {"fromBlock": "0x0", "toBlock": hex(100_001)}
    assert rpc(chain_host, "eth_getLogs", wide)["error"]["code"] == -32602
    wide_filter = rpc(chain_host, "eth_newFilter", wide)["result"]
    assert rpc(chain_host, "eth_getFilterLogs", wide_filter)["error"] == {
        "code": -32602,
        "message": "block range larger than 100000",
    }
    assert rpc(chain_host, "eth_getFilterChanges", wide_filter)["result"] == []
    for bad in ("latest", None, "0xzz"):
        assert rpc(chain_host, "eth_getFilterChanges", bad)["error"]["code"] == -32602
    assert rpc(chain_host, "eth_blockNumber")["result"] == "0x0"  # still serving


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def embedded(tmp_path: Path):
    backend = EmbeddedBackend(tmp_path / "chain")
    yield backend
    backend.close()


def test_idle_filters_expire_and_polled_ones_live(embedded: EmbeddedBackend) -> None:
    clock = Clock()
    filters = Filters(embedded.chain, idle_seconds=300, clock=clock)
    idle = filters.new_block_filter()
    polled = filters.new_log_filter(LogCriteria())
    clock.now += 200
    assert filters.changes(polled) == ("logs", [])
    clock.now += 200  # idle for 400 s, polled 200 s ago
    with pytest.raises(FilterNotFound):
        filters.changes(idle)
    assert filters.changes(polled) == ("logs", [])
    assert len(filters) == 1
    clock.now += 301
    assert len(filters) == 0
    with pytest.raises(FilterNotFound):
        filters.logs(polled)


def test_one_poll_answers_a_bounded_number_of_blocks(embedded: EmbeddedBackend) -> None:
    filters = Filters(embedded.chain, max_poll_blocks=2)
    blocks = filters.new_block_filter()
    pinged = load_artifact("ChainProbe").abi.events["Pinged"].topic0
    logs = filters.new_log_filter(LogCriteria(topics=((pinged,),)))
    client = ChainClient(embedded, new_account())
    probe, _ = client.deploy(load_artifact("ChainProbe"), "bounded")
    for i in range(4):
        client.transact(probe, "emitBatch", 1, i, 1)
    hashes = embedded.chain.block_hashes(1, 5)
    # five new blocks: answered two at a time, none lost or repeated
    assert [filters.changes(blocks)[1] for _ in range(4)] == [
        hashes[0:2],
        hashes[2:4],
        hashes[4:5],
        [],
    ]
    seqs = [[int.from_bytes(x["topics"][2]) for x in filters.changes(logs)[1]] for _ in range(4)]
    assert seqs == [[0], [1, 2], [3], []]  # block 1 (the deploy) holds no Pinged log


def test_a_restarted_host_forgets_its_filters(tmp_path: Path) -> None:
    from node.chain.embedded.host import start_chain_host

    host = start_chain_host(tmp_path / "host")
    try:
        backend = open_backend("rpc", url=host.url)
        flt = rpc(host, "eth_newBlockFilter")["result"]
        ChainClient(backend, new_account()).deploy(load_artifact("ChainProbe"), "x")
        assert len(rpc(host, "eth_getFilterChanges", flt)["result"]) == 1
        backend.close()
        host.stop()
        host = start_chain_host(tmp_path / "host", port=host.port)
        # the client is told, and can install a new one (what ethers and web3 do)
        assert rpc(host, "eth_getFilterChanges", flt)["error"]["code"] == -32000
        assert rpc(host, "eth_newBlockFilter")["result"].startswith("0x")
    finally:
        host.stop()


def test_web3py_filters_and_block_reads(chain_host: ChainHost) -> None:
    """web3.py's own filter objects (eth_newBlockFilter, eth_newFilter, polled) and its reads
    of the new methods, on the served chain."""
    from web3 import Web3

    w3 = Web3(Web3.HTTPProvider(chain_host.url))
    backend = open_backend("rpc", url=chain_host.url)
    try:
        client = ChainClient(backend, new_account())
        probe, deployed = client.deploy(load_artifact("ChainProbe"), "web3")
        blocks = w3.eth.filter("latest")
        contract = w3.eth.contract(address=probe.address, abi=probe.abi.abi)
        pinged = contract.events.Pinged.create_filter(
            from_block=deployed.receipt.block_number, argument_filters={"tag": 9}
        )
        first = client.transact(probe, "emitBatch", 9, 0, 2).receipt
        client.transact(probe, "emitBatch", 8, 0, 1)
        assert blocks.get_new_entries() == [
            w3.eth.get_block(n)["hash"] for n in (first.block_number, first.block_number + 1)
        ]
        assert blocks.get_new_entries() == []
        assert [e.args.seq for e in pinged.get_new_entries()] == [0, 1]
        assert pinged.get_new_entries() == []
        assert [e.args.seq for e in pinged.get_all_entries()] == [0, 1]
        assert w3.eth.uninstall_filter(pinged.filter_id) is True
        n = first.block_number
        assert w3.eth.get_block_transaction_count(n) == 1
        tx = w3.eth.get_transaction_by_block(n, 0)
        assert tx["hash"] == first.tx_hash and tx == w3.eth.get_transaction(first.tx_hash)
        (receipt,) = w3.eth.get_block_receipts(n)
        assert receipt == w3.eth.get_transaction_receipt(first.tx_hash)
        assert len(receipt["logs"]) == 2 and receipt["status"] == 1
    finally:
        backend.close()
