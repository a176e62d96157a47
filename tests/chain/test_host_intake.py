"""The chain host bounds every request body before parsing it (issue 14, item 6).

Each test runs a real `tanlian chain serve` process: the deep-nesting body used to kill it
with a segfault (SIGSEGV, exit -11).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import orjson
import pytest
import requests

from node.chain.embedded.host import ChainHost, start_chain_host
from node.chain.embedded.intake import (
    MAX_BODY_BYTES,
    MAX_JSON_DEPTH,
    BoundedBody,
    nesting_depth,
)

# ~200 KB: 100,000 levels of arrays, as in the security review
DEEP = b"[" * 100_000 + b"]" * 100_000
JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def chain_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChainHost]:
    """One host for the module: every test also checks that it is still serving."""
    host = start_chain_host(tmp_path_factory.mktemp("host"))
    yield host
    host.stop()


def rpc(host: ChainHost, method: str, params: list | None = None) -> dict:
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}
    return requests.post(host.url, json=body, timeout=10).json()


def still_serving(host: ChainHost) -> None:
    assert host.process.poll() is None, f"chain host died with {host.process.returncode}"
    assert rpc(host, "eth_blockNumber")["result"] == "0x0"
    assert rpc(host, "eth_getBlockByNumber", ["latest", False])["result"]["number"] == "0x0"


@pytest.mark.parametrize("path", ["/", "/raw-blocks", "/no-such-route"])
def test_deeply_nested_body_is_refused_and_the_host_survives(
    chain_host: ChainHost, path: str
) -> None:
    r = requests.post(chain_host.url + path, data=DEEP, headers=JSON, timeout=30)
    assert r.status_code == 400
    if path == "/":
        assert r.json() == {
            "jsonrpc": "2.0",
            "id": None,
            "error": {
                "code": -32600,
                "message": f"JSON nested deeper than {MAX_JSON_DEPTH} levels",
            },
        }
    else:
        assert r.json()["code"] == "invalid_input"
    still_serving(chain_host)


def test_nesting_inside_a_request_is_refused_too(chain_host: ChainHost) -> None:
    params = "[" * 40 + "]" * 40
    body = f'{{"jsonrpc":"2.0","id":7,"method":"eth_getLogs","params":{params}}}'.encode()
    r = requests.post(chain_host.url, data=body, headers=JSON, timeout=10)
    assert r.status_code == 400 and r.json()["error"]["code"] == -32600
    # at the limit it is parsed and answered like any other bad request
    params = "[" * (MAX_JSON_DEPTH - 1) + "]" * (MAX_JSON_DEPTH - 1)
    body = f'{{"jsonrpc":"2.0","id":7,"method":"eth_getLogs","params":{params}}}'.encode()
    r = requests.post(chain_host.url, data=body, headers=JSON, timeout=10)
    assert r.status_code == 200 and r.json()["id"] == 7
    assert r.json()["error"]["code"] == -32602
    still_serving(chain_host)


def test_body_larger_than_the_limit_is_refused_with_413(chain_host: ChainHost) -> None:
    padding = "0" * (MAX_BODY_BYTES + 1)
    body = f'{{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":["{padding}"]}}'
    r = requests.post(chain_host.url, data=body, headers=JSON, timeout=30)
    assert r.status_code == 413
    assert r.json()["error"] == {
        "code": -32005,
        "message": f"request body larger than {MAX_BODY_BYTES} bytes",
    }

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        for _ in range(MAX_BODY_BYTES // 65_536 + 2):
            yield b" " * 65_536

    r = requests.post(chain_host.url + "/raw-blocks", data=chunks(), headers=JSON, timeout=30)
    assert r.status_code == 413 and r.json()["code"] == "body_too_large"
    # just under the limit is read and answered
    padding = "0" * (MAX_BODY_BYTES - 200)
    body = f'{{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":["{padding}"]}}'
    assert requests.post(chain_host.url, data=body, headers=JSON, timeout=30).json() == {
        "jsonrpc": "2.0",
        "id": 1,
        "result": hex(20_260),
    }
    still_serving(chain_host)


@pytest.mark.parametrize(
    "body",
    [
        b'{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":[NaN, "latest"]}',
        b'{"jsonrpc":"2.0","id":1,"method":"eth_getBalance","params":[Infinity]}',
        b'{"jsonrpc":"2.0","id":1,"method":"eth_getBlockByNumber","params":[1e400, false]}',
        # 5000 digits: Python's json raised ValueError (int digit limit) -> HTTP 500
        b'{"jsonrpc":"2.0","id":1,"method":"eth_getBlockByNumber","params":[' + b"9" * 5000 + b"]}",
        b'{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":["\\ud800"]}',
        b'{"jsonrpc":"2.0","id":1,"method":"eth_chainId"',
        b"\xff\xfe{}",
    ],
)
def test_invalid_json_is_a_parse_error(chain_host: ChainHost, body: bytes) -> None:
    r = requests.post(chain_host.url, data=body, headers=JSON, timeout=10)
    assert r.status_code == 200
    assert r.json()["error"]["code"] == -32700
    still_serving(chain_host)


def test_large_numbers_are_refused_as_parameters(chain_host: ChainHost) -> None:
    for value in (2**64, 2**300):  # JSON numbers, not the hex quantities the API takes
        body = f'{{"jsonrpc":"2.0","id":1,"method":"eth_getBlockByNumber","params":[{value}]}}'
        r = requests.post(chain_host.url, data=body, headers=JSON, timeout=10).json()
        assert r["error"]["code"] in (-32602, -32700)
    # a block number past the store's 64-bit columns is refused as a parameter (issue 19)
    out = rpc(chain_host, "eth_getBlockByNumber", [hex(2**256), False])
    assert out["error"]["code"] == -32602
    still_serving(chain_host)


def test_batches_are_bounded(chain_host: ChainHost) -> None:
    one = {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}
    ok = requests.post(chain_host.url, json=[one] * 100, timeout=30).json()
    assert len(ok) == 100 and all(r["result"] == hex(20_260) for r in ok)
    too_many = requests.post(chain_host.url, json=[one] * 101, timeout=30).json()
    assert too_many["error"]["code"] == -32600
    still_serving(chain_host)


def test_nesting_scan_ignores_brackets_in_strings() -> None:
    assert nesting_depth(b"") == 0
    assert nesting_depth(b'{"a": [1, 2]}') == 2
    assert nesting_depth(b'["[[[[", {"b": "]]]"}]') == 2
    assert nesting_depth(b'["\\"[[[", [1]]') == 2
    assert nesting_depth(b'"\\\\"[[]]') == 2  # an escaped backslash ends the string
    assert nesting_depth(DEEP) == 100_000
    assert nesting_depth(b"]]]]") == 0


def test_a_body_that_never_arrives_times_out() -> None:
    """A client that sends headers and then trickles (or nothing) is cut off: 408."""

    async def app(scope: dict, receive: object, send: object) -> None:
        raise AssertionError("the route must not run")

    async def trickle() -> dict:
        await asyncio.sleep(0.05)
        return {"type": "http.request", "body": b" ", "more_body": True}

    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    intake = BoundedBody(app, read_seconds=0.3)
    asyncio.run(intake({"type": "http", "path": "/", "headers": []}, trickle, send))
    assert sent[0]["status"] == 408
    assert orjson.loads(sent[1]["body"])["error"]["code"] == -32005
