"""ABI helper: reverts, arguments and events decode exactly."""

from __future__ import annotations

import pytest
from eth_abi import encode
from eth_utils import function_signature_to_4byte_selector
from hypothesis import given, settings
from hypothesis import strategies as st

from node.chain.artifacts import load_artifact
from node.errors import InvalidInput

ABI = load_artifact("ChainProbe").abi


@pytest.mark.parametrize(
    ("data", "name", "args"),
    [
        (
            function_signature_to_4byte_selector("Error(string)") + encode(["string"], ["no"]),
            "Error",
            {"message": "no"},
        ),
        (
            function_signature_to_4byte_selector("Panic(uint256)") + encode(["uint256"], [0x11]),
            "Panic",
            {"code": 0x11},
        ),
        (
            function_signature_to_4byte_selector("BatchTooLarge(uint256,uint256)")
            + encode(["uint256", "uint256"], [9, 5]),
            "BatchTooLarge",
            {"requested": 9, "limit": 5},
        ),
        (b"", "EmptyRevert", {"data": b""}),
        (b"\x01\x02", "UnknownError", {"data": b"\x01\x02"}),
        (
            b"\xde\xad\xbe\xef" + b"\x00" * 32,
            "UnknownError",
            {"data": b"\xde\xad\xbe\xef" + b"\x00" * 32},
        ),
        # a known selector with undecodable arguments is reported raw, not guessed
        (
            function_signature_to_4byte_selector("Error(string)") + b"\x01",
            "UnknownError",
            {"data": function_signature_to_4byte_selector("Error(string)") + b"\x01"},
        ),
    ],
)
def test_decode_revert(data: bytes, name: str, args: dict) -> None:
    assert ABI.decode_revert(data) == (name, args)


@pytest.mark.parametrize(
    ("fn", "args", "message"),
    [
        ("store", ["0x01"], "takes 2 arguments"),
        ("store", ["0xzz", 1], "bad arguments"),
        ("store", ["0x" + "00" * 32, -1], "bad arguments"),
        ("nope", [], "no function"),
    ],
)
def test_bad_call_arguments_are_invalid_input(fn: str, args: list, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        ABI.encode_call(fn, args)


def test_encode_accepts_hex_and_bytes_alike() -> None:
    assert ABI.encode_call("valueOf", ["0x" + "ab" * 32]) == ABI.encode_call(
        "valueOf", [b"\xab" * 32]
    )


def test_addresses_inside_structs_are_checksummed() -> None:
    from eth_abi import encode

    from node.chain.abi import ContractABI

    abi = ContractABI(
        [
            {
                "type": "function",
                "name": "f",
                "inputs": [],
                "stateMutability": "view",
                "outputs": [
                    {
                        "name": "r",
                        "type": "tuple",
                        "components": [
                            {"name": "a", "type": "address"},
                            {
                                "name": "t",
                                "type": "tuple",
                                "components": [
                                    {"name": "b", "type": "address"},
                                    {"name": "n", "type": "uint8"},
                                ],
                            },
                            {"name": "l", "type": "address[]"},
                        ],
                    }
                ],
            }
        ]
    )
    raw = encode(
        ["(address,(address,uint8),address[])"],
        [("0x" + "ab" * 20, ("0x" + "cd" * 20, 7), ["0x" + "ef" * 20])],
    )
    a, (b, n), lst = abi.decode_output("f", raw)
    assert n == 7
    from eth_utils import to_checksum_address

    assert a == to_checksum_address("0x" + "ab" * 20)
    assert b == to_checksum_address("0x" + "cd" * 20)
    assert lst == [to_checksum_address("0x" + "ef" * 20)]


def _raw_log(abi, name: str, values: dict):
    from eth_utils import keccak

    from node.chain.backend import RawLog

    event = abi.events[name]
    sig = f"{name}({','.join(event.types)})"
    topics = [keccak(text=sig)]
    data_types, data_values = [], []
    for n, t, indexed in zip(event.names, event.types, event.indexed, strict=True):
        if indexed:
            topics.append(encode([t], [values[n]]))
        else:
            data_types.append(t)
            data_values.append(values[n])
    return RawLog(
        "0x" + "11" * 20,
        tuple(topics),
        encode(data_types, data_values),
        7,
        b"\x01" * 32,
        b"\x02" * 32,
        0,
        3,
    )


@settings(max_examples=60, deadline=None)
@given(
    rid=st.integers(0, 2**256 - 1),
    milli=st.integers(0, 2**64 - 1),
    h=st.binary(min_size=32, max_size=32),
    who=st.binary(min_size=20, max_size=20),
    flag=st.booleans(),
)
def test_fast_event_decoding_equals_the_general_decoder(rid, milli, h, who, flag) -> None:
    # events of static arguments take a word-slicing path; it must agree with eth_abi's
    from node.chain.abi import ContractABI

    cases = {
        "AccessManager": [
            (
                "BudgetSpent",
                {
                    "requestId": rid,
                    "epsilonMilli": milli,
                    "deltaNano": milli,
                    "spentMilli": milli,
                    "queryHash": h,
                    "resultHash": h,
                },
            ),
            (
                "AccessApproved",
                {
                    "requestId": rid,
                    "approver": "0x" + who.hex(),
                    "isOwner": flag,
                    "approvals": milli % 256,
                },
            ),
        ],
        "AuditLog": [
            (
                "LogBatchAnchored",
                {
                    "node": "0x" + who.hex(),
                    "seq": milli,
                    "root": h,
                    "count": milli % 2**32,
                    "firstAt": milli,
                    "lastAt": milli,
                },
            ),
        ],
    }
    for artifact, events in cases.items():
        fast = ContractABI(load_artifact(artifact).abi.abi)
        slow = ContractABI(load_artifact(artifact).abi.abi)
        for name, values in events:
            event = slow.events[name]
            slow._fast[(event.name, tuple(event.types))] = None  # force eth_abi
            log = _raw_log(fast, name, values)
            a, b = fast.decode_log(log), slow.decode_log(log)
            assert a == b and a is not None
            assert fast._fast[(event.name, tuple(event.types))] is not None  # took the fast path
