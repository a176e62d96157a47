"""One backend conformance suite, run against embedded, served-embedded and anvil."""

from __future__ import annotations

import threading

import pytest
from eth_utils import keccak

from node.chain.artifacts import load_artifact
from node.chain.client import ChainClient, Contract, new_account
from node.chain.errors import ContractReverted
from node.chain.raw import receipt_logs
from tests.conftest import BackendUnderTest

KEY = "0x" + "ab" * 32


def _client(bt: BackendUnderTest) -> ChainClient:
    account = new_account()
    bt.fund(account.address)
    return ChainClient(bt.backend, account)


def _deploy(client: ChainClient, label: str = "conformance") -> Contract:
    probe, result = client.deploy(load_artifact("ChainProbe"), label)
    assert result.receipt.ok
    return probe


def test_deploy_records_code_and_constructor_state(any_backend: BackendUnderTest) -> None:
    client = _client(any_backend)
    probe, result = client.deploy(load_artifact("ChainProbe"), "héllo 碳链")
    assert result.receipt.contract_address == probe.address
    assert (
        any_backend.backend.get_code(probe.address) == load_artifact("ChainProbe").deployed_bytecode
    )
    assert client.call(probe, "label") == "héllo 碳链"
    # the constructor granted roles: two RoleGranted events, exact arguments
    granted = [e for e in result.events if e.event == "RoleGranted"]
    assert [(e.args["role"], e.args["account"], e.args["sender"]) for e in granted] == [
        (b"\x00" * 32, client.address, client.address),
        (keccak(text="WRITER_ROLE"), client.address, client.address),
    ]


def test_send_changes_state_and_emits_exact_event(any_backend: BackendUnderTest) -> None:
    client = _client(any_backend)
    probe = _deploy(client)
    before = any_backend.backend.block_number()
    result = client.transact(probe, "store", KEY, 42)
    receipt = result.receipt
    assert receipt.ok and receipt.gas_used > 21_000
    assert receipt.block_number == before + 1
    assert any_backend.backend.get_block(receipt.block_number).hash == receipt.block_hash
    (event,) = result.events
    assert event.event == "ValueStored"
    assert event.args == {"key": bytes.fromhex(KEY[2:]), "writer": client.address, "value": 42}
    assert event.tx_hash == receipt.tx_hash and event.address == probe.address
    assert client.call(probe, "valueOf", KEY) == 42
    assert client.call(probe, "writes") == 1


def test_transaction_revert_is_decoded_to_custom_error(any_backend: BackendUnderTest) -> None:
    client = _client(any_backend)
    probe = _deploy(client)
    with pytest.raises(ContractReverted) as info:
        client.transact(probe, "store", KEY, 0)
    assert info.value.error == "ZeroValue"
    assert info.value.error_args == {"caller": client.address}
    assert info.value.code == "contract_reverted"
    assert client.call(probe, "writes") == 0


def test_access_control_revert_names_account_and_role(any_backend: BackendUnderTest) -> None:
    owner = _client(any_backend)
    probe = _deploy(owner)
    stranger = _client(any_backend)
    with pytest.raises(ContractReverted) as info:
        stranger.transact(probe, "store", KEY, 7)
    assert info.value.error == "AccessControlUnauthorizedAccount"
    assert info.value.error_args == {
        "account": stranger.address,
        "neededRole": keccak(text="WRITER_ROLE"),
    }


def test_call_revert_is_decoded(any_backend: BackendUnderTest) -> None:
    client = _client(any_backend)
    probe = _deploy(client)
    with pytest.raises(ContractReverted) as info:
        client.call(probe, "emitBatch", 1, 0, 501)
    assert info.value.error == "BatchTooLarge"
    assert info.value.error_args == {"requested": 501, "limit": 500}


def test_logs_filter_by_address_and_indexed_topic(any_backend: BackendUnderTest) -> None:
    client = _client(any_backend)
    probe = _deploy(client)
    other = _deploy(client, "other")
    start = any_backend.backend.block_number() + 1
    client.transact(probe, "emitBatch", 7, 0, 5)
    client.transact(probe, "emitBatch", 8, 100, 3)
    client.transact(other, "emitBatch", 7, 200, 2)
    end = any_backend.backend.block_number()
    abi = probe.abi
    topic0 = abi.events["Pinged"].topic0
    tag7 = abi.topic_for("Pinged", "tag", 7)
    logs = any_backend.backend.get_logs(start, end, [probe.address], [[topic0], [tag7]])
    decoded = [abi.decode_log(log) for log in logs]
    assert [(d.args["tag"], d.args["seq"]) for d in decoded] == [(7, i) for i in range(5)]
    assert [d.log_index for d in decoded] == list(range(5))
    both = any_backend.backend.get_logs(
        start, end, [probe.address, other.address], [[topic0], [tag7]]
    )
    assert len(both) == 7
    assert any_backend.backend.get_logs(start, end, [probe.address], [None, [tag7]]) == logs


def test_concurrent_senders_in_one_process_get_distinct_nonces(
    any_backend: BackendUnderTest,
) -> None:
    client = _client(any_backend)
    probe = _deploy(client)
    errors: list[BaseException] = []

    def worker(base: int) -> None:
        try:
            for i in range(5):
                client.transact(probe, "store", "0x" + f"{base + i:064x}", base + i + 1)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(100 * t,)) for t in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert client.call(probe, "writes") == 20
    assert any_backend.backend.get_nonce(client.address) == 21  # deploy + 20 stores


def test_restart_keeps_chain(any_backend: BackendUnderTest) -> None:
    if any_backend.restart is None:
        pytest.skip(f"{any_backend.kind} keeps its chain in memory only")
    client = _client(any_backend)
    probe = _deploy(client)
    result = client.transact(probe, "store", KEY, 9)
    head = any_backend.backend.get_block("latest")
    backend = any_backend.restart()
    assert backend.get_block("latest") == head
    again = ChainClient(backend, client.account)
    assert again.call(probe, "valueOf", KEY) == 9
    assert backend.wait_for_receipt(result.receipt.tx_hash) == result.receipt
    # and it keeps accepting transactions from the same account
    assert again.transact(probe, "store", KEY, 10).receipt.block_number == head.number + 1


def test_raw_blocks_hash_to_the_blocks_and_hold_their_logs(any_backend: BackendUnderTest) -> None:
    """Blocks as stored, where a backend serves them (Tanlian's own chain): each header hashes
    to the block's hash, and the receipts hold exactly the logs ``get_logs`` reports."""
    client = _client(any_backend)
    probe = _deploy(client)
    start = any_backend.backend.block_number() + 1
    client.transact(probe, "emitBatch", 3, 0, 4)
    client.transact(probe, "store", KEY, 5)
    end = any_backend.backend.block_number()
    blocks = any_backend.backend.raw_blocks(start, end)
    if any_backend.kind == "anvil":
        assert blocks is None  # anvil does not serve blocks as stored: readers fall back
        return
    assert blocks is not None and len(blocks) == end - start + 1
    logs = []
    for number, block in zip(range(start, end + 1), blocks, strict=True):
        info = any_backend.backend.get_block(number)
        assert keccak(block.header) == info.hash
        assert len(block.transactions) == len(block.receipts) == 1
        logs += [
            (number, keccak(block.transactions[0]), address, topics, data)
            for address, topics, data in receipt_logs(block.receipts[0])
        ]
    expected = [
        (log.block_number, log.tx_hash, bytes.fromhex(log.address[2:]), log.topics, log.data)
        for log in any_backend.backend.get_logs(start, end, [probe.address])
    ]
    assert logs == expected and len(logs) == 5
