"""The regulator's commitment_totals check over events as the index keeps them (integers
past 2^53 as text, bytes as 0x hex): a consistent chain gives no finding; a total or a set
that does not match gives a critical one."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eth_utils import keccak

from node.audit.commitments import check_commitment_totals
from node.chain.indexer.indexer import IndexedEvent
from node.commitments.pedersen import MAX_VALUE, commit_all

ADDRESS = "0x" + "ab" * 20
OWNER = "0x" + "cd" * 20
SET = "0x" + "11" * 32


@dataclass
class Facts:
    events: list[IndexedEvent]


@dataclass
class Auditor:
    events: list[IndexedEvent]
    contracts: dict[str, str] = field(default_factory=lambda: {"commitments": ADDRESS})
    found: list[tuple] = field(default_factory=list)

    @property
    def facts(self) -> Facts:
        return Facts(self.events)

    def find(self, kind: str, severity: str, account: Any, message: str, **evidence: Any) -> None:
        self.found.append((kind, severity, evidence))


def _event(name: str, args: dict[str, Any], n: int) -> IndexedEvent:
    return IndexedEvent(
        n, "0x" + "00" * 32, "0x" + f"{n:064x}", 0, ADDRESS, "ValueCommitments", name, args
    )


def _text(v: int) -> Any:
    return str(v) if v >= 2**53 else v


def _events(values: list[int], total_delta: int = 0, digest_ok: bool = True) -> list[IndexedEvent]:
    cset = commit_all(values)
    digest = cset.digest if digest_ok else keccak(b"other")
    rows = list(range(len(values)))
    return [
        _event(
            "CommitmentsAnchored",
            {
                "setId": SET,
                "owner": OWNER,
                "commitments": "0x" + cset.packed.hex(),
                "digest": "0x" + digest.hex(),
            },
            1,
        ),
        _event(
            "TotalRecorded",
            {
                "setId": SET,
                "group": "district=510104",
                "total": _text(sum(values) + total_delta),
                "blinding": _text(cset.blinding_of(rows)),
                "indexes": rows,
            },
            2,
        ),
    ]


def test_consistent_events_give_no_finding() -> None:
    auditor = Auditor(_events([5, MAX_VALUE, 7]))
    assert check_commitment_totals(auditor) == 2
    assert auditor.found == []


def test_a_total_that_does_not_open_is_critical() -> None:
    auditor = Auditor(_events([5, 6, 7], total_delta=1))
    assert check_commitment_totals(auditor) == 2
    assert [(k, s) for k, s, _ in auditor.found] == [("total_does_not_open", "critical")]
    assert auditor.found[0][2]["group"] == "district=510104"


def test_points_that_do_not_hash_to_the_digest_are_critical() -> None:
    auditor = Auditor(_events([5, 6, 7], digest_ok=False))
    check_commitment_totals(auditor)
    assert [(k, s) for k, s, _ in auditor.found] == [
        ("commitments_do_not_match_digest", "critical")
    ]


def test_no_contract_no_check() -> None:
    auditor = Auditor(_events([1, 2]), contracts={})
    assert check_commitment_totals(auditor) == 0 and auditor.found == []
