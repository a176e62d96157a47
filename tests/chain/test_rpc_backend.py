"""The rpc backend's gas modes, POA middleware and failure handling, against real anvil."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator

import pytest
import requests

from node.chain.artifacts import load_artifact
from node.chain.backend import open_backend
from node.chain.client import ChainClient, new_account
from node.chain.embedded.host import free_port
from node.chain.errors import ChainUnavailable, ContractReverted, TransactionRejected
from node.errors import ConfigError
from tests.conftest import Anvil, _tool


@pytest.fixture
def zero_fee_anvil() -> Iterator[str]:
    """anvil configured like a permissioned zero-gas chain (Besu --min-gas-price=0)."""
    port = free_port()
    proc = subprocess.Popen(
        [
            _tool("anvil"),
            "--port",
            str(port),
            "--silent",
            "--base-fee",
            "0",
            "--gas-price",
            "0",
            "--no-priority-fee",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            requests.post(
                url,
                json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []},
                timeout=1,
            )
            break
        except requests.RequestException:
            time.sleep(0.05)
    yield url
    proc.terminate()
    proc.wait(10)


def test_zero_gas_chain_gets_legacy_zero_price_transactions(zero_fee_anvil: str) -> None:
    backend = open_backend("rpc", url=zero_fee_anvil)
    assert backend.gas_price_mode == "zero"
    client = ChainClient(backend, new_account())  # never funded: gas is free
    probe, _ = client.deploy(load_artifact("ChainProbe"), "zero")
    result = client.transact(probe, "store", "0x" + "01" * 32, 1)
    tx = backend._rpc("eth_getTransactionByHash", [result.tx_hash])
    assert (tx["type"], int(tx["gasPrice"], 16)) == ("0x0", 0)
    assert int(tx["chainId"], 16) == backend.chain_id  # EIP-155 replay protection
    backend.close()


def test_market_chain_uses_eip1559_and_refuses_unfunded_sender(anvil: Anvil) -> None:
    backend = open_backend("rpc", url=anvil.url)
    assert backend.gas_price_mode == "market"
    client = ChainClient(backend, new_account())
    with pytest.raises(TransactionRejected, match=r"(?i)funds"):
        client.deploy(load_artifact("ChainProbe"), "poor")
    anvil.fund(client.address)
    _, deployed = client.deploy(load_artifact("ChainProbe"), "funded")
    tx = backend._rpc("eth_getTransactionByHash", [deployed.tx_hash])
    assert tx["type"] == "0x2" and int(tx["maxFeePerGas"], 16) > 0
    assert int(tx["nonce"], 16) == 0  # the refused attempt did not burn a nonce
    backend.close()


def test_revert_found_by_estimate_is_not_sent(anvil: Anvil) -> None:
    backend = open_backend("rpc", url=anvil.url)
    client = ChainClient(backend, new_account())
    anvil.fund(client.address)
    probe, _ = client.deploy(load_artifact("ChainProbe"), "x")
    head = backend.block_number()
    with pytest.raises(ContractReverted) as info:
        client.transact(probe, "store", "0x" + "01" * 32, 0)
    assert info.value.error == "ZeroValue" and info.value.tx_hash is None
    assert backend.block_number() == head
    assert backend.get_nonce(client.address) == 1
    backend.close()


def test_poa_middleware_reads_blocks(anvil: Anvil) -> None:
    backend = open_backend("rpc", url=anvil.url, poa=True)
    block = backend.w3.eth.get_block("latest")
    assert "proofOfAuthorityData" in block
    assert backend.get_block("latest").number == block.number
    backend.close()


def test_unreachable_endpoint_is_a_clear_error() -> None:
    with pytest.raises(ChainUnavailable, match="unreachable"):
        open_backend("rpc", url=f"http://127.0.0.1:{free_port()}", timeout=2)


def test_unknown_backend_and_bad_gas_mode_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="unknown chain backend"):
        open_backend("besu-direct")
    with pytest.raises(ConfigError, match="gas_price"):
        open_backend("rpc", url="http://127.0.0.1:1", gas_price="free")


def test_a_tanlian_host_without_the_raw_blocks_route_makes_readers_fall_back() -> None:
    """An older chain host (it names itself tanlian-embedded but has no /raw-blocks): the
    backend answers None, as for anvil, and the auditor reads headers and eth_getLogs."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    answers = {
        "eth_chainId": "0x4f24",
        "web3_clientVersion": "tanlian-embedded/0.1.0/py-evm",
        "eth_getBlockByNumber": {"baseFeePerGas": "0x0", "number": "0x0"},
    }

    class OldHost(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["content-length"])))
            if self.path != "/":
                self.send_response(404)
                self.end_headers()
                return
            out = json.dumps(
                {"jsonrpc": "2.0", "id": body["id"], "result": answers[body["method"]]}
            )
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(out.encode())

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), OldHost)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        backend = open_backend("rpc", url=f"http://127.0.0.1:{server.server_port}")
        assert backend.raw_blocks(0, 10) is None
    finally:
        server.shutdown()
