"""An owner's node does not retry a key release that can never succeed (issue 14, item 8).

After a consumer rotates its encryption key, the owner's node re-releases the keys of the
consumer's RAW grants. It used to try an *expired* grant too, and again after every index
sync (five a second), each time a mined, reverted transaction that also ran the chain's
clock ahead. Here, on a running network, the transactions the owner sends are counted.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from nacl.public import PrivateKey

from node.network.orchestrator import LocalNetwork
from node.sharing.contracts import Mode, Policy, State
from node.sharing.service import publish_as
from tests.network.running import running_network

CSV = "district,year,gdp\n锦江区,2023,1342.5\n武侯区,2023,1428.0\n"


@pytest.fixture(scope="module")
def net(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalNetwork]:
    with running_network(tmp_path_factory.mktemp("retry")) as network:
        yield network


def wait_for(check, what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.1)


def releases_sent(net: LocalNetwork, owner: str, access: str, selector: str, first: int) -> int:
    """Transactions from ``owner`` calling AccessManager.release in blocks ``first``.."""

    def get(method: str, params: list) -> object:
        body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
        return requests.post(net.chain_url, json=body, timeout=10).json()["result"]

    head = int(get("eth_blockNumber", []), 16)
    count = 0
    for n in range(first, head + 1):
        for tx in get("eth_getBlockByNumber", [hex(n), True])["transactions"]:
            data = tx.get("input") or tx.get("data") or "0x"
            if (
                tx["from"].lower() == owner.lower()
                and (tx.get("to") or "").lower() == access.lower()
                and data.startswith(selector)
            ):
                count += 1
    return count


def test_an_expired_grant_is_not_released_again_after_a_key_rotation(
    net: LocalNetwork, tmp_path: Path
) -> None:
    path = tmp_path / "panel.csv"
    path.write_text(CSV, encoding="utf-8")
    with net.session("stats") as stats, net.session("analyst") as analyst:
        pub = publish_as(
            stats,
            path,
            name="retry-panel",
            classification="internal",
            policy=Policy(auto_approve_roles=("analyst",), raw_allowed=True),
        )
        sh = analyst.require_sharing()
        short = (
            sh.apply(pub.dataset_id, 1, "short", Mode.RAW, duration=60)
            .event("AccessRequested")
            .args["requestId"]
        )
        long = (
            sh.apply(pub.dataset_id, 1, "long", Mode.RAW, duration=86_400)
            .event("AccessRequested")
            .args["requestId"]
        )
        for rid in (short, long):
            wait_for(lambda rid=rid: sh.request(rid).state == State.RELEASED, f"{rid} released")
        # the short grant expires: one block per transaction, each a second after the last
        endpoint = net.department("analyst").endpoint
        while sh.is_usable(short):
            analyst.registry.set_endpoint(endpoint)
        access = sh.access.address
        selector = "0x" + sh.access.abi.encode_call("release", [0, b"", b"\x00" * 32])[:4].hex()
        old_key = analyst.keys.encryption_public_key
        new_key = bytes(PrivateKey.generate().public_key)
        try:
            rotated_at = analyst.registry.rotate_encryption_key(new_key).receipt.block_number
            # the live grant is re-released to the new key ...
            wait_for(lambda: sh.wrapped_key(long)[1] == new_key, "the live grant is re-released")
            time.sleep(3)  # ... about fifteen index syncs of the owner's node
            sent = releases_sent(net, stats.keys.address, access, selector, rotated_at + 1)
            # ... and the expired one is never tried: one release in all
            assert sent == 1
            assert sh.wrapped_key(short)[1] == old_key
        finally:
            restored_at = analyst.registry.rotate_encryption_key(old_key).receipt.block_number
        wait_for(lambda: sh.wrapped_key(long)[1] == old_key, "re-released to the old key")
        time.sleep(3)
        assert releases_sent(net, stats.keys.address, access, selector, restored_at + 1) == 1
