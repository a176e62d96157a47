"""What one client can make a chain host do (issue 14, items 8 and 9), on real hosts.

* A call that loops forever is stopped by the host's time per call (and its gas cap),
  and the chain's lock is free again for every other client.
* Writes are rate-limited per sender account, and the chain's clock never runs more than
  the bound ahead of the wall clock however fast transactions arrive.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from eth_keys import keys

from node.chain.artifacts import load_artifact
from node.chain.backend import open_backend
from node.chain.client import ChainClient, new_account, sign_transaction
from node.chain.embedded.chain import EmbeddedChain, GenesisSpec
from node.chain.embedded.host import ChainHost, start_chain_host
from node.chain.embedded.limits import CALL_SECONDS, ChainLimits
from node.chain.errors import WriteRefused

FREE = {"maxFeePerGas": 0, "maxPriorityFeePerGas": 0}
# runtime JUMPDEST PUSH1 0 JUMP (an endless loop), returned by this creation code:
# PUSH4 5b600056 PUSH1 0 MSTORE PUSH1 4 PUSH1 28 RETURN
LOOP_CREATION = bytes.fromhex("635b6000566000526004601cf3")


def rpc(url: str, method: str, params: list | None = None, timeout: float = 120) -> dict:
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []}
    return requests.post(url, json=body, timeout=timeout).json()


class Sender:
    """An account that signs its own transactions and posts them raw."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.key = keys.PrivateKey(bytes(new_account().key))
        self.address = self.key.public_key.to_checksum_address()
        self.nonce = 0

    def send(self, to: str | None = None, data: bytes = b"", gas: int = 100_000) -> dict:
        raw = sign_transaction(self.key, 20_260, self.nonce, gas, FREE, to or self.address, data)
        out = rpc(self.url, "eth_sendRawTransaction", ["0x" + raw.hex()])
        if "result" in out:
            self.nonce += 1
        return out


def start(tmp_path: Path, **options: object) -> ChainHost:
    return start_chain_host(
        tmp_path / "host", options={k.replace("_", "-"): v for k, v in options.items()}
    )


@pytest.fixture
def loop_host(tmp_path: Path) -> Iterator[tuple[ChainHost, str]]:
    """A host with its default limits and a deployed contract that loops forever."""
    host = start_chain_host(tmp_path / "host")
    sender = Sender(host.url)
    raw = sign_transaction(sender.key, 20_260, 0, 1_000_000, FREE, None, LOOP_CREATION)
    tx_hash = rpc(host.url, "eth_sendRawTransaction", ["0x" + raw.hex()])["result"]
    address = rpc(host.url, "eth_getTransactionReceipt", [tx_hash])["result"]["contractAddress"]
    assert rpc(host.url, "eth_getCode", [address, "latest"])["result"] == "0x5b600056"
    yield host, address
    host.stop()


@pytest.mark.parametrize(
    ("method", "call"),
    [
        ("eth_call", {}),
        ("eth_call", {"gas": "0xffffffffffffffff"}),  # a huge limit: capped, then timed
        ("eth_estimateGas", {}),
    ],
)
def test_endless_call_is_stopped_and_the_chain_keeps_answering(
    loop_host: tuple[ChainHost, str], method: str, call: dict
) -> None:
    host, loop = loop_host
    someone = new_account().address
    answers: dict[str, object] = {}

    def looping_call() -> None:
        started = time.monotonic()
        answers["call"] = rpc(host.url, method, [{"to": loop, **call}, "latest"])
        answers["call_seconds"] = time.monotonic() - started

    caller = threading.Thread(target=looping_call)
    caller.start()
    time.sleep(0.3)  # the call now holds the chain
    # other clients, while it runs: reads that need the chain's lock wait at most one
    # call's time, and the head is answered at once
    waits = []
    while caller.is_alive():
        started = time.monotonic()
        assert rpc(host.url, "eth_getBalance", [someone, "latest"], timeout=30)["result"] == "0x0"
        waits.append(time.monotonic() - started)
        started = time.monotonic()
        assert rpc(host.url, "eth_blockNumber", timeout=30)["result"] == "0x1"
        assert time.monotonic() - started < 5.0  # (no lock: at once, on a quiet machine)
    caller.join()
    assert answers["call"]["error"] == {
        "code": -32005,
        "message": f"call stopped after {CALL_SECONDS:g} s (the host's limit per call)",
        "data": {"reason": "call_timeout"},
    }
    # margins for a loaded machine: unbounded, the call held the chain 14 to 40 s
    assert answers["call_seconds"] < CALL_SECONDS + 8.0
    assert waits and max(waits) < CALL_SECONDS + 8.0
    # and after it, the chain is free: reads and writes are answered at once
    started = time.monotonic()
    assert rpc(host.url, "eth_getBalance", [someone, "latest"])["result"] == "0x0"
    assert Sender(host.url).send()["result"].startswith("0x")
    assert time.monotonic() - started < 5.0


def test_call_gas_is_capped(tmp_path: Path) -> None:
    host = start(tmp_path, call_gas_cap=200_000, call_seconds=120)
    try:
        backend = open_backend("rpc", url=host.url)
        client = ChainClient(backend, new_account())
        probe, _ = client.deploy(load_artifact("ChainProbe"), "capped")
        sender = Sender(host.url)
        raw = sign_transaction(sender.key, 20_260, 0, 1_000_000, FREE, None, LOOP_CREATION)
        tx = rpc(host.url, "eth_sendRawTransaction", ["0x" + raw.hex()])["result"]
        loop = rpc(host.url, "eth_getTransactionReceipt", [tx])["result"]["contractAddress"]
        # the loop runs out of the capped gas long before the (here generous) time limit
        started = time.monotonic()
        out = rpc(host.url, "eth_call", [{"to": loop, "gas": hex(10**15)}, "latest"])
        assert out["error"]["code"] == 3 and time.monotonic() - started < 5.0
        # a huge gas limit on an ordinary call runs with the cap instead of failing
        label = probe.abi.encode_call("label", [])
        out = rpc(
            host.url,
            "eth_call",
            [{"to": probe.address, "data": "0x" + label.hex(), "gas": hex(2**64 - 1)}, "latest"],
        )
        assert probe.abi.decode_output("label", bytes.fromhex(out["result"][2:])) == "capped"
        backend.close()
    finally:
        host.stop()


def test_writes_are_rate_limited_per_account(tmp_path: Path) -> None:
    host = start(tmp_path, writes_per_second=0.25, write_burst=3, max_clock_ahead=3600)
    try:
        alice, bob = Sender(host.url), Sender(host.url)
        for _ in range(3):
            assert "result" in alice.send()
        refused = alice.send()
        error = refused["error"]
        assert error["code"] == -32005
        assert error["data"]["reason"] == "rate_limited"
        assert 0 < error["data"]["retryAfter"] <= 4.0
        assert "more than 0.25 transactions a second (burst 3)" in error["message"]
        assert rpc(host.url, "eth_blockNumber")["result"] == "0x3"  # nothing mined for it
        assert "result" in bob.send()  # another account is not held back
        time.sleep(error["data"]["retryAfter"] + 0.1)
        assert "result" in alice.send()  # the bucket refills
        assert alice.send()["error"]["data"]["reason"] == "rate_limited"
    finally:
        host.stop()


def test_the_chain_clock_stays_within_the_bound(tmp_path: Path) -> None:
    bound = 3
    host = start(tmp_path, max_clock_ahead=bound, writes_per_second=1000, write_burst=1000)
    try:
        senders = [Sender(host.url) for _ in range(4)]
        admitted = refused = 0
        leads = []
        deadline = time.monotonic() + 4.0
        i = 0
        while time.monotonic() < deadline:
            out = senders[i % 4].send()
            i += 1
            if "error" in out:
                assert out["error"]["code"] == -32005
                assert out["error"]["data"]["reason"] == "clock_ahead"
                refused += 1
                continue
            admitted += 1
            block = rpc(host.url, "eth_getBlockByNumber", ["latest", False])["result"]
            leads.append(int(block["timestamp"], 16) - time.time())
        # tight sends: a handful fill the bound, then about one a second gets through
        assert refused > 5
        assert bound <= admitted <= bound + 8  # burst, then one per second of the 4
        assert max(leads) <= bound + 1
        head = rpc(host.url, "eth_getBlockByNumber", ["latest", False])["result"]
        assert int(head["timestamp"], 16) - time.time() <= bound + 1
        # reads go on, and once the wall clock has caught up writes are admitted again
        time.sleep(bound + 1)
        assert all("result" in s.send() for s in senders[:2])
    finally:
        host.stop()


def test_a_chain_already_ahead_takes_one_write_a_second_and_gains_nothing(
    tmp_path: Path,
) -> None:
    """A chain whose clock ran ahead before the bound existed does not stop: it takes one
    transaction a second, each moving its clock and the wall clock alike."""
    sender = Sender("")

    def raw() -> bytes:
        tx = sign_transaction(sender.key, 20_260, sender.nonce, 21_000, FREE, sender.address, b"")
        sender.nonce += 1
        return tx

    with EmbeddedChain(tmp_path / "chain", genesis=GenesisSpec()) as chain:  # no limits
        for _ in range(30):
            chain.submit(raw())
        lead = chain.head().timestamp - time.time()
    assert lead > 20
    bounded = ChainLimits(max_clock_ahead_seconds=5, writes_per_second=None)
    with EmbeddedChain(tmp_path / "chain", limits=bounded) as chain:
        time.sleep(1.0)
        chain.submit(raw())  # a second since the last block: admitted
        with pytest.raises(WriteRefused) as refused:
            chain.submit(raw())
        assert refused.value.reason == "clock_ahead" and 0 < refused.value.retry_after <= 1
        sender.nonce -= 1  # not mined
        time.sleep(refused.value.retry_after + 0.05)
        chain.submit(raw())
        assert chain.head().timestamp - time.time() <= lead + 1  # the lead did not grow
        assert chain.block_number() == 32
