"""What an owner feeds a joint query is committed to once: the commitments are stored
durably with their blindings sealed, the same input again gives the same commitments, a
changed one is refused and nothing stored moves."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from nacl.public import PrivateKey, SealedBox
from sqlalchemy.orm import Session

from node.commitments.models import CommittedColumn
from node.commitments.pedersen import commit, encode, unpack
from node.commitments.service import InputChanged, commit_once
from node.db import create_schema, make_engine

KEY = "0x" + "ab" * 32
VALUES = [2**63 + 1234, 2**63 - 5, 2**63]


def _args(tmp_path: Path):
    engine = make_engine(f"sqlite:///{tmp_path / 'node.db'}")
    create_schema(engine)
    keys = SimpleNamespace(address="0x" + "01" * 20, encryption_key=PrivateKey.generate())
    return engine, keys, (engine, keys, KEY, b"\x07" * 32, 1, "joint:7", "input+2^63")


def test_the_input_is_committed_once_and_cannot_change(tmp_path: Path) -> None:
    engine, keys, args = _args(tmp_path)
    packed = commit_once(*args, VALUES)
    assert len(packed) == 64 * len(VALUES)
    # the stored blindings open the commitments to exactly these values
    with Session(engine) as db:
        row = db.get(CommittedColumn, KEY)
        sealed = row.sealed_blindings
        assert (row.column, row.unit, row.packed) == ("joint:7", "input+2^63", packed)
    opened = SealedBox(keys.encryption_key).decrypt(sealed)
    blindings = [int.from_bytes(opened[i : i + 32], "big") for i in range(0, len(opened), 32)]
    assert [encode(commit(v, r)) for v, r in zip(VALUES, blindings, strict=True)] == unpack(packed)

    assert commit_once(*args, VALUES) == packed  # a retry: the same commitments
    for changed in ([VALUES[0] + 1, *VALUES[1:]], VALUES[:2], [*VALUES, 0]):
        with pytest.raises(InputChanged, match="cannot change between runs"):
            commit_once(*args, changed)
    with Session(engine) as db:
        rows = db.query(CommittedColumn).all()
        assert [(r.set_id, r.packed, r.sealed_blindings) for r in rows] == [(KEY, packed, sealed)]


def test_an_input_outside_the_committed_range_is_refused_before_anything_is_stored(
    tmp_path: Path,
) -> None:
    from node.commitments.errors import InvalidValue

    engine, _keys, args = _args(tmp_path)
    with pytest.raises(InvalidValue):
        commit_once(*args, [1, -1])
    with Session(engine) as db:
        assert db.query(CommittedColumn).count() == 0
