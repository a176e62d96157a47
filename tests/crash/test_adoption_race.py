"""The running node's adoption of a stored version and the publish that anchored it can both
mark the row: whichever comes second must not replace the publish's transaction hash."""

from __future__ import annotations

from pathlib import Path

from node.db import create_schema, make_engine
from node.privacy.store import VersionStore


def _row(versions: VersionStore) -> int:
    return versions.add(
        name="panel",
        dataset_id="0x" + "11" * 32,
        version=None,
        format="csv",
        plaintext_hash="0x" + "22" * 32,
        ciphertext_hash="0x" + "33" * 32,
        schema_hash="0x" + "44" * 32,
        plaintext_size=10,
        ciphertext_size=50,
        sealed_data_key=b"k" * 80,
    )


def test_adoption_after_the_publish_keeps_its_transaction(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'node.db'}")
    create_schema(engine)
    versions = VersionStore(engine)
    row = _row(versions)
    tx = "0x" + "ab" * 32
    versions.mark_anchored(row, "0x" + "11" * 32, 1, tx)  # the publish itself
    versions.mark_anchored(row, "0x" + "11" * 32, 1, "recovered")  # the node, a moment late
    (stored,) = versions.anchored()
    assert (stored.version, stored.anchor_tx, stored.state) == (1, tx, "anchored")
    # the other order: the node adopts first, the publish's own hash then replaces the mark
    other = _row(versions)
    versions.mark_anchored(other, "0x" + "11" * 32, 2, "recovered")
    versions.mark_anchored(other, "0x" + "11" * 32, 2, tx)
    assert versions.anchored()[1].anchor_tx == tx
    engine.dispose()
