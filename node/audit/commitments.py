"""The regulator's check of value commitments: every anchored set's points must hash to
the digest the contract keeps, and every recorded total must open the sum of its rows'
points with its blinding, re-checked here from the chain's events alone."""

from __future__ import annotations

from typing import Any

from node.commitments.errors import CommitmentError
from node.commitments.pedersen import set_digest, total_matches, unpack


def _int(value: Any) -> int:
    return int(value)  # the index keeps integers past 2^53 as decimal text


def _bytes(value: Any) -> bytes:
    return bytes.fromhex(value[2:]) if isinstance(value, str) else bytes(value)


def check_commitment_totals(auditor: Any) -> int:
    """Findings on the auditor; the number of sets and totals checked."""
    address = (auditor.contracts.get("commitments") or "").lower()
    if not address:
        return 0
    sets: dict[str, list[bytes] | None] = {}
    checked = 0
    for e in auditor.facts.events:
        if e.address.lower() != address:
            continue
        a = e.args
        if e.event == "CommitmentsAnchored":
            checked += 1
            packed = _bytes(a["commitments"])
            try:
                ok = set_digest(packed) == _bytes(a["digest"])
                points = unpack(packed)
            except CommitmentError:
                ok, points = False, []
            sets[a["setId"]] = points if ok else None
            if not ok:
                auditor.find(
                    "commitments_do_not_match_digest",
                    "critical",
                    a["owner"],
                    "the anchored commitments do not hash to the digest the contract keeps",
                    set_id=a["setId"],
                    tx=e.tx_hash,
                )
        elif e.event == "TotalRecorded":
            checked += 1
            points = sets.get(a["setId"])
            if points is None:
                continue  # its set was found above, or it would not have been recorded
            indexes = [_int(i) for i in a["indexes"]]
            try:
                opens = total_matches(points, indexes, _int(a["total"]), _int(a["blinding"]))
            except (CommitmentError, IndexError):
                opens = False
            if not opens:
                auditor.find(
                    "total_does_not_open",
                    "critical",
                    None,
                    f"the total recorded for {a['group']} does not open its rows' commitments",
                    set_id=a["setId"],
                    group=a["group"],
                    total=str(a["total"]),
                    tx=e.tx_hash,
                )
    return checked
