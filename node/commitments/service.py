"""Commit to a published column, record totals over it, and check them from the chain.

The owner's node reads its own stored version (checked against the anchored hashes), takes
one column of integers in a stated unit, commits to every row, and keeps the blinding
factors sealed to its own encryption key in its database (never in a plain file). The row
is stored, durably, before the commitments are anchored, so a crash in between loses
nothing: running the command again anchors what was stored. Totals by a group column are
recorded on chain, where the contract checks each against the commitments; any member
re-checks every recorded total from the chain's events alone (:func:`check_totals`).
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
from nacl.public import SealedBox
from sqlalchemy.orm import Session

from node.chain.artifacts import load_artifact
from node.commitments.contracts import (
    MAX_COMMITMENTS,
    VALUE_COMMITMENTS,
    CommitmentLedger,
)
from node.commitments.errors import CommitmentError, InvalidValue
from node.commitments.models import CommittedColumn
from node.commitments.pedersen import (
    MAX_VALUE,
    POINT_BYTES,
    CommitmentSet,
    commit,
    commit_all,
    encode,
    set_digest,
    total_matches,
    unpack,
)
from node.db import durable_session
from node.errors import InvalidInput, NotFound
from node.privacy.store import read_plaintext

_DIGITS = re.compile(r"^[0-9]{1,20}$")
#: blocks per log query (a served chain bounds the range of one query)
_LOG_WINDOW = 5_000


class NotCommitted(CommitmentError):
    code = "not_found"
    http_status = 404


@dataclass(frozen=True)
class Committed:
    set_id: str
    rows: int
    unit: str
    tx: str | None
    #: whether an earlier run had already anchored it
    already: bool


@dataclass(frozen=True)
class RecordedTotal:
    group: str
    total: int
    rows: int
    tx: str | None
    ok: bool = True


def _version_row(session: Any, dataset_id: bytes, version: int | None):
    sharing = session.require_sharing()
    ds = sharing.dataset(dataset_id)
    if ds is None:
        raise NotFound(f"no dataset 0x{dataset_id.hex()}")
    if ds["owner"].lower() != session.keys.address.lower():
        raise InvalidInput(f"only its owner commits to {ds['name']}'s values")
    version = ds["versions"] if version is None else version
    row = session.versions.find("0x" + dataset_id.hex(), version)
    if row is None:
        raise NotFound(f"{ds['name']} v{version} is not in this node's store")
    return ds, version, row


def _frame(session: Any, row: Any, columns: list[str]) -> pd.DataFrame:
    data = read_plaintext(session.blobs, row, session.keys.encryption_key)
    frame = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, encoding="utf-8")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InvalidInput(
            f"{row.name} v{row.version} has no column {missing[0]!r} "
            f"(its columns: {', '.join(frame.columns)})"
        )
    return frame


def _values(frame: pd.DataFrame, column: str, unit: str) -> list[int]:
    values = []
    for i, cell in enumerate(frame[column].tolist(), start=2):
        if not _DIGITS.match(cell) or int(cell) > MAX_VALUE:
            raise InvalidValue(
                f"row {i}, column {column}: {cell!r} is not a whole number of {unit} "
                f"between 0 and 2^64-1 (commit to an integer unit, e.g. kg rather than t)"
            )
        values.append(int(cell))
    if not 1 <= len(values) <= MAX_COMMITMENTS:
        raise InvalidValue(f"a column of 1 to {MAX_COMMITMENTS} rows can be committed to")
    return values


def commit_column(
    session: Any, dataset_id: bytes, column: str, unit: str, *, version: int | None = None
) -> Committed:
    """Commit to ``column`` of the dataset's version (default: the latest) and anchor it."""
    if not unit.strip() or len(unit) > 64:
        raise InvalidInput("name the values' unit (1 to 64 characters), e.g. kgCO2e")
    ledger: CommitmentLedger = session.require_commitments()
    _, version, row = _version_row(session, dataset_id, version)
    return _commit_and_anchor(
        session.engine,
        session.keys,
        ledger,
        dataset_id,
        version,
        column,
        unit,
        lambda: _values(_frame(session, row, [column]), column, unit),
    )


def commit_once(
    engine: Any,
    keys: Any,
    key: str,
    dataset_id: bytes,
    version: int,
    label: str,
    unit: str,
    values: list[int],
) -> bytes:
    """Commit to ``values`` once under ``key`` (stored durably, the blindings sealed) and
    return the packed commitments. A later call (a retried run) must give the same values,
    checked to open the stored commitments, or it is refused with :class:`InputChanged`:
    what a node feeds a joint query is fixed this way at its first run."""
    packed, _unit, _tx = _stored_or_new(
        engine, keys, key, dataset_id, version, label, unit, lambda: values, check=True
    )
    return packed


class InputChanged(CommitmentError):
    code = "input_changed"
    http_status = 409


def _blindings(sealed: bytes, key: Any) -> list[int]:
    opened = SealedBox(key).decrypt(sealed)
    return [int.from_bytes(opened[i : i + 32], "big") for i in range(0, len(opened), 32)]


def stored_set(engine: Any, key: Any, set_id: str) -> CommitmentSet | None:
    """The commitments this node stored under ``set_id`` with their blindings opened
    (``key``: the node's encryption key), or None."""
    with Session(engine) as db:
        stored = db.get(CommittedColumn, set_id)
    if stored is None:
        return None
    blindings = _blindings(stored.sealed_blindings, key)
    return CommitmentSet(tuple(unpack(stored.packed)), tuple(blindings))


def _opens(packed: bytes, sealed: bytes, key: Any, values: list[int]) -> bool:
    blindings = _blindings(sealed, key)
    points = unpack(packed)
    return len(values) == len(points) == len(blindings) and all(
        encode(commit(v, r)) == p for v, r, p in zip(values, blindings, points, strict=True)
    )


def _stored_or_new(
    engine: Any,
    keys: Any,
    key: str,
    dataset_id: bytes,
    version: int,
    column: str,
    unit: str,
    values: Callable[[], list[int]],
    *,
    check: bool,
) -> tuple[bytes, str, str | None]:
    """(packed commitments, unit, anchoring tx) stored under ``key``, committed to and
    stored durably first if there are none; with ``check``, stored ones must open to
    ``values``."""
    with Session(engine) as db:
        stored = db.get(CommittedColumn, key)
        if stored is not None:
            packed, unit, tx = stored.packed, stored.unit, stored.anchored_tx
            sealed = stored.sealed_blindings
    if stored is not None:
        if check and not _opens(packed, sealed, keys.encryption_key, values()):
            raise InputChanged(
                f"the values given under {column!r} are not the ones committed to before "
                "(they cannot change between runs)"
            )
        return packed, unit, tx
    cset = commit_all(values())
    sealed = SealedBox(keys.encryption_key.public_key).encrypt(
        b"".join(r.to_bytes(32, "big") for r in cset.blindings)
    )
    with durable_session(engine) as db:
        db.add(
            CommittedColumn(
                set_id=key,
                dataset_id="0x" + dataset_id.hex(),
                version=version,
                column=column,
                unit=unit,
                packed=cset.packed,
                sealed_blindings=sealed,
            )
        )
    return cset.packed, unit, None


def _commit_and_anchor(
    engine: Any,
    keys: Any,
    ledger: CommitmentLedger,
    dataset_id: bytes,
    version: int,
    column: str,
    unit: str,
    values: Callable[[], list[int]],
) -> Committed:
    """Commit, store (durably, blindings sealed) and then anchor; a set stored by an
    earlier run is anchored as it is, not committed to afresh."""
    set_id = ledger.set_id(keys.address, dataset_id, version, column)
    key = "0x" + set_id.hex()
    packed, unit, tx = _stored_or_new(
        engine, keys, key, dataset_id, version, column, unit, values, check=False
    )
    rows = len(packed) // POINT_BYTES
    if ledger.exists(set_id):
        return Committed(key, rows, unit, tx, True)
    result = ledger.anchor(
        dataset_id, version, column, unit, CommitmentSet(tuple(unpack(packed)), ())
    )
    with durable_session(engine) as db:
        db.get(CommittedColumn, key).anchored_tx = result.tx_hash
    return Committed(key, rows, unit, result.tx_hash, False)


def record_totals(
    session: Any,
    dataset_id: bytes,
    column: str,
    group_by: str,
    *,
    version: int | None = None,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> list[RecordedTotal]:
    """Record the total of ``column`` per value of ``group_by`` on chain (each checked by
    the contract against the commitments); a total recorded before is left as it is."""
    ledger: CommitmentLedger = session.require_commitments()
    _, version, row = _version_row(session, dataset_id, version)
    set_id = ledger.set_id(session.keys.address, dataset_id, version, column)
    with Session(session.engine) as db:
        stored = db.get(CommittedColumn, "0x" + set_id.hex())
    anchored = ledger.find_set(set_id)
    if stored is None or anchored is None:
        raise NotCommitted(
            f"{row.name} v{version} column {column!r} is not committed to yet: "
            "run `tanlian commit anchor` first"
        )
    if set_digest(stored.packed) != anchored.digest:
        raise CommitmentError("the stored commitments are not the anchored ones")
    blindings = _blindings(stored.sealed_blindings, session.keys.encryption_key)
    frame = _frame(session, row, [column, group_by])
    values = _values(frame, column, stored.unit)
    cset = CommitmentSet(tuple(unpack(stored.packed)), tuple(blindings))
    groups: dict[str, list[int]] = {}
    for i, g in enumerate(frame[group_by].tolist()):
        groups.setdefault(f"{group_by}={g}", []).append(i)
    out = []
    for n, (group, indexes) in enumerate(sorted(groups.items())):
        total = sum(values[i] for i in indexes)
        if ledger.recorded_total(set_id, group) is not None:
            out.append(RecordedTotal(group, total, len(indexes), None))
        else:
            r = ledger.record_total(
                set_id, cset.packed, indexes, total, cset.blinding_of(indexes), group
            )
            out.append(RecordedTotal(group, total, len(indexes), r.tx_hash))
        progress(n + 1, len(groups))
    return out


def check_totals(
    ledger: CommitmentLedger, owner: str, dataset_id: bytes, version: int, column: str
) -> tuple[dict[str, Any], list[RecordedTotal]]:
    """Every total recorded on the set, re-checked off chain from the chain's events: the
    anchored points against their digest, each total against the points of its rows."""
    set_id = ledger.set_id(owner, dataset_id, version, column)
    anchored = ledger.commitment_set(set_id)  # UnknownSet if none
    events = _events(ledger, set_id, anchored.anchored_block)
    anchoring = [e for e in events if e.event == "CommitmentsAnchored"]
    if len(anchoring) != 1:
        raise CommitmentError(f"the anchoring event of set 0x{set_id.hex()} is not on chain")
    packed = anchoring[0].args["commitments"]
    if set_digest(packed) != anchored.digest:
        raise CommitmentError("the anchored commitments do not hash to the anchored digest")
    points = unpack(packed)
    checked = []
    for e in events:
        if e.event != "TotalRecorded":
            continue
        a = e.args
        indexes = list(a["indexes"])
        ok = total_matches(points, indexes, a["total"], a["blinding"])
        checked.append(RecordedTotal(a["group"], a["total"], len(indexes), None, ok))
    info = {
        "set_id": "0x" + set_id.hex(),
        "rows": anchored.count,
        "unit": anchoring[0].args["unit"],
        "anchored_block": anchored.anchored_block,
    }
    return info, checked


def _events(ledger: CommitmentLedger, set_id: bytes, start: int) -> list[Any]:
    backend = ledger.client.backend
    abi = load_artifact(VALUE_COMMITMENTS).abi
    head = backend.block_number()
    out = []
    for lo in range(start, head + 1, _LOG_WINDOW):
        hi = min(head, lo + _LOG_WINDOW - 1)
        for log in backend.get_logs(lo, hi, [ledger.address], [None, [set_id]]):
            decoded = abi.decode_log(log)
            if decoded is not None:
                out.append(decoded)
    return out
