"""Contract refusals in the user's terms: state names, ε, days and Beijing time instead of
enum numbers, milli-ε and seconds (the raw error stays in ``error`` and ``error_args``)."""

from __future__ import annotations

import pytest
from eth_utils import to_checksum_address

import node.registry.registry  # registers the registry's words
import node.sharing.contracts  # noqa: F401  registers the access manager's words
from node.chain.errors import ContractReverted, learn_name, named


@pytest.mark.parametrize(
    ("error", "args", "said"),
    [
        ("WrongState", {"requestId": 7, "actual": 4}, "request 7 is already released"),
        (
            "WrongState",
            {"requestId": 7, "actual": 1},
            "request 7 is still pending (not yet authorized)",
        ),
        ("InvalidDuration", {"duration": 400 * 86400}, "an access of 400 days is not allowed"),
        ("InvalidDuration", {"duration": 7200}, "an access of 2 hours is not allowed"),
        (
            "BudgetExceeded",
            {"requestId": 3, "asked": 200, "remaining": 50},
            "request 3: ε 0.2 asked, only ε 0.05 left",
        ),
        (
            "Expired",
            {"requestId": 3, "expiresAt": 1764900000},
            "request 3 expired at 2025-12-05T10:00:00+08:00",
        ),
        (
            "WrongStatus",
            {"account": "0xAb", "expected": 1, "actual": 3},
            "member 0xAb is suspended; this needs it pending",
        ),
    ],
)
def test_refusals_are_said_in_the_users_terms(error: str, args: dict, said: str) -> None:
    exc = ContractReverted(error, args)
    assert exc.message == f"{said} (contract error {error})"
    assert (exc.error, exc.error_args) == (error, args)


def test_an_unknown_shape_keeps_the_raw_error() -> None:
    # AccessManager's AlreadyApproved has no regulator: the registry's words do not apply
    exc = ContractReverted("AlreadyApproved", {"requestId": 1, "account": "0xAb"})
    assert exc.message == "contract reverted with AlreadyApproved(requestId=1, account=0xAb)"
    # bytes (dataset ids, hashes) are shown as 0x hex, never as Python's b'\\x..'
    raw = ContractReverted("DatasetExists", {"datasetId": b"\xab" * 32})
    assert raw.message == f"contract reverted with DatasetExists(datasetId=0x{'ab' * 32})"
    assert raw.detail["args"] == {"datasetId": "0x" + "ab" * 32}


def test_members_the_registry_was_read_for_are_named() -> None:
    account = "0x" + "5e" * 20
    exc = ContractReverted("WrongStatus", {"account": account, "expected": 1, "actual": 2})
    assert exc.message.startswith(f"member {account} is active")  # a name never read
    learn_name(account, "eco")
    exc = ContractReverted("WrongStatus", {"account": account, "expected": 1, "actual": 2})
    assert exc.message == (
        f"member eco ({account}) is active; this needs it pending (contract error WrongStatus)"
    )
    checksummed = to_checksum_address(account)  # the chain's spelling of the same account
    assert named(checksummed) == f"eco ({checksummed})"
