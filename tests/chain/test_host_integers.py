"""Every integer parameter of the chain host's JSON-RPC methods is bounded where it is
parsed (issue 19, "smaller doors"): a negative number or one past the parameter's width is
refused with -32602 (invalid params); a number at the top of its range is answered or
refused as not found, never as an internal error. Before, block numbers past 2^63, values
past 2^256 and 5000-digit quantities reached the EVM and the store's 64-bit columns and came
back as -32603 internal errors, and /raw-blocks answered HTTP 500.

One real `tanlian chain serve --dev` process for the module."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import requests

from node.chain.embedded.host import ChainHost, start_chain_host

A = "0x" + "11" * 20
H = "0x" + "22" * 32
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603


def _params(v: Any) -> list[tuple[str, list, int]]:
    """(method, params with ``v`` in one integer position, that position's width in bits)."""
    call = {"to": A}
    return [
        ("eth_getBlockByNumber", [v, False], 63),
        ("eth_getBlockTransactionCountByNumber", [v], 63),
        ("eth_getTransactionByBlockNumberAndIndex", [v, "0x0"], 63),
        ("eth_getTransactionByBlockNumberAndIndex", ["latest", v], 63),
        ("eth_getTransactionByBlockHashAndIndex", [H, v], 63),
        ("eth_getBlockReceipts", [v], 63),
        ("eth_getBalance", [A, v], 63),
        ("eth_getBalance", [A, {"blockNumber": v}], 63),
        ("eth_getTransactionCount", [A, v], 63),
        ("eth_getCode", [A, v], 63),
        ("eth_getStorageAt", [A, v, "latest"], 256),
        ("eth_getStorageAt", [A, "0x0", v], 63),
        ("eth_feeHistory", [v, "latest", []], 63),
        ("eth_feeHistory", ["0x1", v, []], 63),
        ("eth_call", [{**call, "gas": v}, "latest"], 64),
        ("eth_call", [{**call, "value": v}, "latest"], 256),
        ("eth_call", [{**call, "gasPrice": v}, "latest"], 256),
        ("eth_call", [{**call, "maxFeePerGas": v}, "latest"], 256),
        ("eth_call", [{**call, "maxPriorityFeePerGas": v}, "latest"], 256),
        ("eth_call", [{**call, "nonce": v}, "latest"], 64),
        ("eth_call", [call, v], 63),
        ("eth_estimateGas", [{**call, "value": v}, "latest"], 256),
        ("eth_estimateGas", [{**call, "nonce": v}, "latest"], 64),
        ("eth_estimateGas", [call, v], 63),
        ("eth_getLogs", [{"fromBlock": v, "toBlock": v}], 63),
        ("eth_newFilter", [{"fromBlock": "0x0", "toBlock": v}], 63),
        ("eth_getFilterChanges", [v], 256),
        ("eth_getFilterLogs", [v], 256),
        ("eth_uninstallFilter", [v], 256),
        ("tanlian_getRawHeaders", [v, v], 63),
        ("evm_increaseTime", [v], 32),
    ]


def _too_big(bits: int) -> list[Any]:
    return [1 << bits, hex(1 << bits), hex(1 << 300), "0x" + "f" * 5000]


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChainHost]:
    chain_host = start_chain_host(tmp_path_factory.mktemp("host"), dev=True)
    yield chain_host
    chain_host.stop()


def _rpc(host: ChainHost, method: str, params: list) -> dict:
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    return requests.post(host.url, json=body, timeout=30).json()


@pytest.mark.parametrize(
    ("index", "method", "bits"),
    [(i, m, b) for i, (m, _, b) in enumerate(_params(0))],
    ids=[f"{m}#{i}" for i, (m, _, _) in enumerate(_params(0))],
)
def test_out_of_range_integers_are_invalid_params(
    host: ChainHost, index: int, method: str, bits: int
) -> None:
    for value in [-1, *_too_big(bits)]:
        _, params, _ = _params(value)[index]
        out = _rpc(host, method, params)
        assert "error" in out, (value, out)
        assert out["error"]["code"] == INVALID_PARAMS, (str(value)[:40], out)
    # the top of the range is an answer or "not found", never an internal error
    _, params, _ = _params(hex((1 << bits) - 1))[index]
    out = _rpc(host, method, params)
    assert out.get("error", {}).get("code") != INTERNAL_ERROR, out
    assert _rpc(host, "eth_blockNumber", [])["result"] == "0x0"  # nothing was mined


@pytest.mark.parametrize("start", [1 << 63, 1 << 64, 1 << 256, -1])
def test_raw_blocks_refuses_out_of_range_numbers(host: ChainHost, start: int) -> None:
    url = host.url.rstrip("/") + "/raw-blocks"
    r = requests.post(url, json={"from": start, "to": start}, timeout=30)
    assert r.status_code == 400, r.text
    assert r.json()["code"] == "invalid_input"


def test_a_state_read_at_an_unknown_block_is_not_found(host: ChainHost) -> None:
    out = _rpc(host, "eth_getBalance", [A, hex(10**6)])
    assert out["error"]["code"] == -32001 and "no block" in out["error"]["message"], out
