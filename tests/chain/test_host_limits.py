"""What one client can make a chain host do (issue 14, items 8 and 9), on real hosts.

* A call that loops forever is stopped by the host's time per call (and its gas cap),
  and the chain's lock is free again for every other client.
* Writes are rate-limited per sender account, and the chain's clock never runs more than
  the bound ahead of the wall clock however fast transactions arrive: past it, writes share
  one block a second (and the node's client sends a refused write again when told).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from eth_keys import keys

from node.chain.artifacts import load_artifact
from node.chain.backend import open_backend
from node.chain.client import ChainClient, new_account, sign_transaction
from node.chain.embedded.chain import EmbeddedChain, GenesisSpec, Queued
from node.chain.embedded.host import ChainHost, start_chain_host
from node.chain.embedded.limits import CALL_SECONDS, ChainLimits
from node.chain.errors import NotFoundOnChain, WriteRefused

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


def receipt(url: str, tx_hash: str, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out = rpc(url, "eth_getTransactionReceipt", [tx_hash])["result"]
        if out is not None:
            return out
        time.sleep(0.05)
    raise AssertionError(f"no receipt for {tx_hash}")


def test_writes_past_the_clock_bound_share_a_block_a_second(tmp_path: Path) -> None:
    """Four accounts writing as fast as they can: every write is taken, the chain's clock
    stays within the bound, and past it blocks carry several writes each."""
    bound = 3
    host = start(tmp_path, max_clock_ahead=bound, writes_per_second=1000, write_burst=1000)
    try:
        senders = [Sender(host.url) for _ in range(4)]
        hashes: list[str] = []
        errors: list[dict] = []
        leads: list[float] = []

        def write(sender: Sender, until: float) -> None:
            while time.monotonic() < until:
                out = sender.send()
                if "error" in out:
                    errors.append(out["error"])
                    return
                hashes.append(out["result"])
                block = rpc(host.url, "eth_getBlockByNumber", ["latest", False])["result"]
                leads.append(int(block["timestamp"], 16) - time.time())

        until = time.monotonic() + 4.0
        threads = [threading.Thread(target=write, args=(s, until)) for s in senders]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        receipts = [receipt(host.url, h) for h in hashes]
        assert all(r["status"] == "0x1" for r in receipts)
        per_block: dict[str, int] = {}
        for r in receipts:
            per_block[r["blockNumber"]] = per_block.get(r["blockNumber"], 0) + 1
        # one block a write would have taken len(hashes) seconds of chain time
        assert len(hashes) > 4 * (bound + 8)
        assert max(per_block.values()) > 1
        assert max(leads) <= bound + 1
        head = rpc(host.url, "eth_getBlockByNumber", ["latest", False])["result"]
        assert int(head["timestamp"], 16) - time.time() <= bound + 1
        # a block's receipts count their gas as Ethereum does: cumulative, in order
        block = max(per_block, key=per_block.__getitem__)
        inside = sorted(
            (r for r in receipts if r["blockNumber"] == block),
            key=lambda r: int(r["transactionIndex"], 16),
        )
        used = 0
        for r in inside:
            used += int(r["gasUsed"], 16)
            assert int(r["cumulativeGasUsed"], 16) == used
    finally:
        host.stop()


def raw_sender() -> tuple[Sender, Callable[..., bytes]]:
    sender = Sender("")

    def raw(gas: int = 21_000) -> bytes:
        tx = sign_transaction(sender.key, 20_260, sender.nonce, gas, FREE, sender.address, b"")
        sender.nonce += 1
        return tx

    return sender, raw


def test_a_chain_already_ahead_queues_writes_until_the_wall_clock_catches_up(
    tmp_path: Path,
) -> None:
    """A chain whose clock ran ahead before the bound existed gains nothing more: a write
    waits in the pending block until its time is within the bound."""
    _, raw = raw_sender()
    with EmbeddedChain(tmp_path / "chain", genesis=GenesisSpec()) as chain:  # no limits
        for _ in range(8):
            chain.submit(raw())
    bounded = ChainLimits(max_clock_ahead_seconds=2, writes_per_second=None)
    with EmbeddedChain(tmp_path / "chain", limits=bounded) as chain:
        lead = chain.head().timestamp - time.time()
        assert lead > 4
        queued = [chain.submit(raw()) for _ in range(3)]
        assert all(isinstance(q, Queued) for q in queued)
        assert chain.block_number() == 8  # not mined yet
        assert chain.get_nonce(bytes.fromhex(Sender("").address[2:]), "pending") == 0
        with pytest.raises(NotFoundOnChain):
            chain.get_receipt(queued[0].tx_hash)
        started = time.monotonic()
        assert all(chain.wait_mined(q.tx_hash, timeout=lead + 5) for q in queued)
        waited = time.monotonic() - started
        assert lead - 2 - 1.5 < waited < lead + 1  # until the lead was back at the bound
        assert chain.block_number() == 9  # all three in one block
        assert chain.head().timestamp - time.time() <= 2 + 1


def test_a_full_pending_block_refuses_with_a_retry_time(tmp_path: Path) -> None:
    sender, raw = raw_sender()
    bounded = ChainLimits(max_clock_ahead_seconds=1, writes_per_second=None)
    # a block is filled to its gas target (100,000) only: three transfers that reserve
    # 50,000 gas each and use 21,000 (the fourth would need 63,000 + 50,000)
    spec = GenesisSpec(gas_limit=200_000)
    with EmbeddedChain(tmp_path / "chain", genesis=spec) as chain:
        for _ in range(6):  # no bound yet: the clock runs ahead
            chain.submit(raw(50_000))
    with EmbeddedChain(tmp_path / "chain", limits=bounded) as chain:
        assert isinstance(chain.submit(raw(50_000)), Queued)  # sealed in about 4 s
        for _ in range(2):
            assert isinstance(chain.submit(raw(50_000)), Queued)
        with pytest.raises(WriteRefused) as refused:
            chain.submit(raw(50_000))
        sender.nonce -= 1  # not taken
        assert refused.value.reason == "block_full" and 0 < refused.value.retry_after <= 6.1
        time.sleep(refused.value.retry_after)
        chain.submit(raw(50_000))  # the block was sealed: room again
        # the pending nonce counts queued writes (a client's next nonce)
        assert chain.get_nonce(bytes.fromhex(sender.address[2:]), "pending") == sender.nonce


def test_a_pending_block_is_sealed_on_close_and_survives_the_restart(tmp_path: Path) -> None:
    _, raw = raw_sender()
    bounded = ChainLimits(max_clock_ahead_seconds=1, writes_per_second=None)
    with EmbeddedChain(tmp_path / "chain", genesis=GenesisSpec(), limits=bounded) as chain:
        while not isinstance(out := chain.submit(raw()), Queued):
            pass
    with EmbeddedChain(tmp_path / "chain") as chain:
        assert chain.get_receipt(out.tx_hash)["status"] == 1


def test_the_client_sends_again_when_the_host_says_when(tmp_path: Path) -> None:
    """A refused write (rate limit) is sent again by the node's client after retryAfter."""
    host = start(tmp_path, writes_per_second=4, write_burst=2)
    try:
        client = ChainClient(open_backend("rpc", url=host.url), new_account())
        probe, _ = client.deploy(load_artifact("ChainProbe"), "retried")
        started = time.monotonic()
        for i in range(5):
            client.transact(probe, "emitBatch", 1, i, 1)
        assert time.monotonic() - started > 0.5  # it had to wait for the bucket
        assert client.call(probe, "label") == "retried"
    finally:
        host.stop()
