"""A download's two access-log entries on both databases: the intent, committed with its
download-log row before any byte, and the outcome; a restart closes what a stop cut off."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from node.audit.log import AccessLog
from node.db import create_schema, durable_session, make_engine
from node.privacy.downloads import DownloadLogStore
from node.privacy.models import DownloadLog, StoredVersion
from node.sharing.download import (
    COMPLETED,
    INTERRUPTED,
    Served,
    close_interrupted,
    log_intent,
    log_outcome,
)

ROW = StoredVersion(dataset_id="0x" + "ab" * 32, version=2, ciphertext_hash="0x" + "cd" * 32)
CONSUMER = "0x" + "12" * 20


@pytest.fixture
def stores(db_url: str):
    engine = make_engine(db_url)
    create_schema(engine)
    yield AccessLog(engine), DownloadLogStore(engine)
    engine.dispose()


def test_the_intent_lands_with_its_row_and_the_outcome_names_it(stores) -> None:
    log, downloads = stores
    intent = log_intent(log, downloads, request_id=7, consumer=CONSUMER, row=ROW, block=41)
    (entry,) = log.entries()
    assert (entry["seq"], entry["kind"], entry["request_id"]) == (intent.seq, "download_intent", 7)
    assert entry["detail"] == {
        "block": 41,
        "download": intent.log_id,
        "ciphertext_sha256": ROW.ciphertext_hash,
    }
    (row,) = downloads.all()
    assert (row["id"], row["outcome"], row["version"]) == (intent.log_id, "started", 2)
    log_outcome(log, downloads, intent, Served(sent=123, outcome=COMPLETED))
    log_outcome(log, downloads, intent, Served(sent=5, outcome=COMPLETED))  # once only
    _, outcome = log.entries()
    assert outcome["kind"] == "download"
    assert {k: outcome["detail"][k] for k in ("bytes", "outcome", "intent", "download")} == {
        "bytes": 123,
        "outcome": COMPLETED,
        "intent": intent.seq,
        "download": intent.log_id,
    }
    assert (downloads.all()[0]["outcome"], downloads.all()[0]["bytes"]) == (COMPLETED, 123)
    assert close_interrupted(log, downloads) == 0


def test_a_failed_intent_leaves_neither_row_nor_entry(stores) -> None:
    log, downloads = stores
    with pytest.raises(RuntimeError), durable_session(downloads.engine) as s:
        downloads.start(7, CONSUMER, ROW.dataset_id, 2, ROW.ciphertext_hash, session=s)
        log.append("download_intent", request_id=7, session=s)
        raise RuntimeError("the process fails before the commit")
    assert log.entries() == [] and downloads.all() == []


def test_a_download_cut_off_by_a_stop_is_closed_at_the_next_start(stores) -> None:
    log, downloads = stores
    intent = log_intent(log, downloads, request_id=7, consumer=CONSUMER, row=ROW, block=41)
    assert close_interrupted(log, downloads) == 1
    _, outcome = log.entries()
    assert (outcome["detail"]["outcome"], outcome["detail"]["intent"]) == (INTERRUPTED, intent.seq)
    assert outcome["detail"]["block"] == 41  # judged at the intent's block
    assert downloads.all()[0]["outcome"] == INTERRUPTED
    assert close_interrupted(log, downloads) == 0


def test_the_intent_commit_is_synced_on_sqlite(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'node.db'}")
    create_schema(engine)
    try:
        with durable_session(engine) as s:
            assert s.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
            s.add(DownloadLog(request_id=1, consumer=CONSUMER, dataset_id="0x", version=1,
                              ciphertext_hash="0x", started_at=0.0))  # fmt: skip
        with engine.connect() as conn:  # the pooled connection is back to the node's NORMAL
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1
        with Session(engine) as s:
            assert s.query(DownloadLog).count() == 1
    finally:
        engine.dispose()
