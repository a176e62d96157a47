"""ValueCommitments: anchored Pedersen commitments and totals checked with the EVM's
precompiles; exact custom errors and events, nothing changed by a refusal."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from node.chain.errors import ContractReverted
from node.commitments.contracts import CommitmentLedger, deploy_commitments, group_hash
from node.commitments.pedersen import MAX_VALUE, commit_all, encode, generator_h
from node.sharing.contracts import Policy
from tests.contracts.test_access_manager import World, build

N = 21888242871839275222246405745257275088548364400416034343698204186575808495617
VALUES = [1200, 0, 350, 77, 5000, MAX_VALUE]
DISTRICT = "district=510104"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[World, dict, dict]]:
    w = build(tmp_path_factory.mktemp("commit") / "chain", Policy(raw_allowed=True))
    contract = deploy_commitments(w.sharing["regulator"].client, w.registry.address)
    ledgers = {a: CommitmentLedger(s.client, contract.address) for a, s in w.sharing.items()}
    cset = commit_all(VALUES)
    r = ledgers["owner"].anchor(w.dataset, 1, "emission_kg", "kgCO2e", cset)
    set_id = r.event("CommitmentsAnchored").args["setId"]
    yield w, ledgers, {"cset": cset, "set_id": set_id, "anchored": r}
    w.backend.close()


def _revert(fn, *args) -> ContractReverted:
    with pytest.raises(ContractReverted) as exc:
        fn(*args)
    return exc.value


def test_the_contract_uses_the_same_generators(world) -> None:
    _, ledgers, _ = world
    g, h = ledgers["consumer"].generators()
    assert g == (1, 2)
    assert b"".join(c.to_bytes(32, "big") for c in h) == encode(generator_h())


def test_anchoring_emits_the_commitments_and_keeps_their_digest(world) -> None:
    w, ledgers, s = world
    cset = s["cset"]
    assert s["anchored"].event("CommitmentsAnchored").args == {
        "setId": s["set_id"],
        "owner": w.addr("owner"),
        "datasetId": w.dataset,
        "version": 1,
        "column": "emission_kg",
        "unit": "kgCO2e",
        "digest": cset.digest,
        "count": len(VALUES),
        "commitments": cset.packed,
    }
    assert s["set_id"] == ledgers["consumer"].set_id(w.addr("owner"), w.dataset, 1, "emission_kg")
    anchored = ledgers["consumer"].commitment_set(s["set_id"])
    assert (anchored.digest, anchored.count, anchored.owner) == (
        cset.digest,
        len(VALUES),
        w.addr("owner"),
    )
    assert anchored.anchored_at > 0
    assert anchored.anchored_block == s["anchored"].receipt.block_number


def test_a_total_is_recorded_when_it_opens_the_sum(world) -> None:
    _, ledgers, s = world
    cset, set_id = s["cset"], s["set_id"]
    rows = [0, 2, 5]
    total = sum(VALUES[i] for i in rows)
    blinding = cset.blinding_of(rows)
    assert ledgers["consumer"].check_total(set_id, cset.packed, rows, total, blinding)
    assert not ledgers["consumer"].check_total(set_id, cset.packed, rows, total - 1, blinding)
    r = ledgers["owner"].record_total(set_id, cset.packed, rows, total, blinding, DISTRICT)
    assert r.event("TotalRecorded").args == {
        "setId": set_id,
        "groupHash": group_hash(DISTRICT),
        "group": DISTRICT,
        "total": total,
        "blinding": blinding,
        "indexes": rows,
    }
    assert ledgers["regulator"].recorded_total(set_id, DISTRICT) == total
    assert ledgers["regulator"].recorded_total(set_id, "district=510105") is None


def _flip(packed: bytes, at: int) -> bytes:
    return packed[:at] + bytes([packed[at] ^ 1]) + packed[at + 1 :]


GROUP = "sector=industry"


@pytest.mark.parametrize(
    ("case", "error", "error_args"),
    [
        ("wrong-total", "TotalMismatch", lambda s, w: (s["set_id"], group_hash(GROUP))),
        ("wrong-blinding", "TotalMismatch", lambda s, w: (s["set_id"], group_hash(GROUP))),
        ("other-rows", "TotalMismatch", lambda s, w: (s["set_id"], group_hash(GROUP))),
        ("edited-commitments", "WrongCommitments", None),
        ("unsorted", "BadIndexes", lambda s, w: ()),
        ("repeated", "BadIndexes", lambda s, w: ()),
        ("past-the-end", "BadIndexes", lambda s, w: ()),
        ("no-rows", "BadIndexes", lambda s, w: ()),
        ("total-too-large", "OutOfRange", lambda s, w: ()),
        ("blinding-not-reduced", "OutOfRange", lambda s, w: ()),
        ("not-the-owner", "NotSetOwner", lambda s, w: (s["set_id"], w.addr("consumer"))),
        ("unknown-set", "UnknownSet", lambda s, w: (b"\x09" * 32,)),
    ],
)
def test_record_total_refusals(world, case: str, error: str, error_args) -> None:
    w, ledgers, s = world
    cset, set_id = s["cset"], s["set_id"]
    rows, packed, who = [1, 3, 4], cset.packed, "owner"
    total, blinding = sum(VALUES[i] for i in rows), cset.blinding_of(rows)
    if case == "wrong-total":
        total += 1
    elif case == "wrong-blinding":
        blinding = (blinding + 1) % N
    elif case == "other-rows":
        rows = [1, 3]
    elif case == "edited-commitments":
        packed = _flip(packed, 70)
    elif case == "unsorted":
        rows = [3, 1, 4]
    elif case == "repeated":
        rows = [1, 1, 3, 4]
    elif case == "past-the-end":
        rows = [1, 3, len(VALUES)]
    elif case == "no-rows":
        rows = []
    elif case == "total-too-large":
        total = 2**96
    elif case == "blinding-not-reduced":
        blinding += N
    elif case == "not-the-owner":
        who = "consumer"
    elif case == "unknown-set":
        set_id = b"\x09" * 32
    exc = _revert(ledgers[who].record_total, set_id, packed, rows, total, blinding, GROUP)
    assert exc.error == error
    if error_args is None:
        args = exc.error_args
        assert args["setId"] == set_id and args["anchored"] == cset.digest
        assert args["given"] != cset.digest
    else:
        assert tuple(exc.error_args.values()) == error_args(s, w)
    assert ledgers["owner"].recorded_total(s["set_id"], GROUP) is None


@pytest.mark.parametrize(
    ("who", "packed", "error", "error_args"),
    [
        ("owner", b"", "InvalidSet", lambda w: (0,)),
        ("owner", b"\x01" * 65, "InvalidSet", lambda w: (65,)),
        ("owner", b"\x00" * 64 * 4097, "InvalidSet", lambda w: (64 * 4097,)),
        ("suspended", b"\x00" * 64, "NotActiveMember", lambda w: (w.addr("suspended"),)),
        ("stranger", b"\x00" * 64, "NotActiveMember", lambda w: (w.addr("stranger"),)),
    ],
)
def test_anchor_refusals(world, who: str, packed: bytes, error: str, error_args) -> None:
    w, ledgers, _ = world
    ledger = ledgers[who]
    exc = _revert(
        ledger.client.transact,
        ledger.contract,
        "anchorCommitments",
        w.dataset,
        9,
        "c",
        "t",
        packed,
    )
    assert exc.error == error
    assert tuple(exc.error_args.values()) == error_args(w)


def test_a_set_is_anchored_once(world) -> None:
    w, ledgers, s = world
    exc = _revert(ledgers["owner"].anchor, w.dataset, 1, "emission_kg", "kgCO2e", s["cset"])
    assert exc.error == "SetExists"
    assert exc.error_args == {"setId": s["set_id"]}
    # the first anchoring stands
    assert ledgers["owner"].commitment_set(s["set_id"]).digest == s["cset"].digest


def test_a_commitment_off_the_curve_is_refused_by_the_precompile(world) -> None:
    w, ledgers, _ = world
    bogus = (1).to_bytes(32, "big") + (3).to_bytes(32, "big")  # (1, 3) is not on y^2 = x^3 + 3
    r = ledgers["reviewer"].client.transact(
        ledgers["reviewer"].contract, "anchorCommitments", w.dataset, 1, "x", "t", bogus
    )
    set_id = r.event("CommitmentsAnchored").args["setId"]
    exc = _revert(ledgers["reviewer"].record_total, set_id, bogus, [0], 1, 1, GROUP)
    assert exc.error == "PrecompileFailed"
