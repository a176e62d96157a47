"""`audit trail --from D --to D`: inclusive dates in an explicit zone (Beijing unless told),
unknown datasets and consumers are errors, and the order never depends on which clock an
entry came from."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from node.audit.trail import parse_time, trail
from node.audit.verify import AuditResult, ChainFacts
from node.chain.indexer.indexer import IndexedEvent
from node.errors import InvalidInput, NotFound

BEIJING = ZoneInfo("Asia/Shanghai")
OWNER = "0x" + "11" * 20
CONSUMER = "0x" + "22" * 20
DATASET = "0x" + "ab" * 32


def _at(text: str) -> int:
    return int(dt.datetime.fromisoformat(text).timestamp())


def _event(block: int, event: str, args: dict) -> IndexedEvent:
    return IndexedEvent(
        block, f"0xb{block}", f"0x{block:064x}", 0, OWNER, "DataCatalog", event, args
    )


@pytest.fixture
def result() -> AuditResult:
    # 23:30 on 25 November in Beijing is 15:30 UTC: the same day only in Beijing time
    times = {1: _at("2026-11-25T23:30:00+08:00"), 2: _at("2026-11-26T00:30:00+08:00")}
    facts = ChainFacts(
        head=2,
        times=times,
        events=[
            _event(1, "DatasetCreated", {"datasetId": DATASET, "owner": OWNER, "name": "air"}),
            _event(2, "VersionPublished", {"datasetId": DATASET, "version": 1}),
        ],
        names={OWNER: "eco", CONSUMER: "analyst"},
        owners={DATASET: OWNER},
    )
    return AuditResult(head=2, findings=[], checks={}, counts={}, logs={}, facts=facts)


def test_to_a_date_includes_that_whole_day_in_beijing_time(result: AuditResult) -> None:
    lo, hi = parse_time("2026-11-25"), parse_time("2026-11-25", end=True)
    rows = trail(result, dataset=DATASET, start=lo, end=hi)
    assert [r["what"] for r in rows] == ["dataset created"]
    assert rows[0]["when"] == "2026-11-25T23:30:00+08:00"
    next_day = trail(
        result,
        dataset=DATASET,
        start=parse_time("2026-11-26"),
        end=parse_time("2026-11-26", end=True),
    )
    assert [r["what"] for r in next_day] == ["version published"]
    # another zone, said explicitly: in UTC both events are on the 25th
    utc = ZoneInfo("UTC")
    both = trail(
        result,
        dataset=DATASET,
        start=parse_time("2026-11-25", zone=utc),
        end=parse_time("2026-11-25", end=True, zone=utc),
        zone=utc,
    )
    assert [r["when"] for r in both] == ["2026-11-25T15:30:00+00:00", "2026-11-25T16:30:00+00:00"]
    # an exact end time is inclusive too
    exact = parse_time("2026-11-25T23:30:00+08:00", end=True)
    assert len(trail(result, dataset=DATASET, end=exact)) == 1


def test_unknown_dataset_or_consumer_and_reversed_bounds_are_errors(
    result: AuditResult,
) -> None:
    with pytest.raises(NotFound, match="no dataset"):
        trail(result, dataset="0x" + "cd" * 32)
    with pytest.raises(NotFound, match="no department 'nobody'"):
        trail(result, consumer="nobody")
    assert trail(result, consumer="analyst") == trail(result, consumer=CONSUMER.upper())
    with pytest.raises(InvalidInput, match="--from is after --to"):
        trail(
            result,
            dataset=DATASET,
            start=parse_time("2026-11-26"),
            end=parse_time("2026-11-25", end=True),
        )
    with pytest.raises(InvalidInput, match="is not a time"):
        parse_time("soon")


def _log(seq: int, kind: str, at: str, block: int | None, **detail: object) -> dict:
    return {
        "seq": seq,
        "kind": kind,
        "at": _at(at),
        "dataset_id": DATASET,
        "request_id": 7,
        "consumer": CONSUMER,
        "batch": None,
        "detail": {"block": block, **detail},
    }


def test_chain_time_running_ahead_does_not_reorder_what_happened(result: AuditResult) -> None:
    # The chain's clock runs ahead of the nodes' (each block at least 1 s after its parent):
    # block 2 says 00:30 while the node served the download of block 2's version at 00:10 by
    # its own clock. By time alone the download would come before the publication it serves.
    facts = result.facts
    assert facts is not None
    facts.times[3] = _at("2026-11-26T00:31:00+08:00")
    facts.events.append(
        _event(3, "VersionPublished", {"datasetId": DATASET, "version": 2}),
    )
    result.logs["0x" + "33" * 20] = [
        _log(2, "download", "2026-11-26T00:10:05+08:00", 2, bytes=10, outcome="completed"),
        _log(1, "download_intent", "2026-11-26T00:10:00+08:00", 2),
        _log(3, "download", "2026-11-26T00:05:00+08:00", None, bytes=0, outcome="aborted"),
    ]
    rows = trail(result, dataset=DATASET)
    assert [r["what"] for r in rows] == [
        "dataset created",
        "version published",  # block 2, by the chain's clock 00:30
        "download started",  # both acting on block 2, by the node's clock 00:10
        "download served",
        "version published",  # block 3
        "download served",  # a log entry that names no block comes last
    ]
    assert rows[2]["when"] == "2026-11-26T00:10:00+08:00"
    assert [r["evidence"] for r in rows[2:4]] == [
        f"log {'0x' + '33' * 20}#1 (unanchored)",
        f"log {'0x' + '33' * 20}#2 (unanchored)",
    ]
    assert rows[5]["evidence"].endswith("#3 (unanchored)")
    # the same facts in another order give the same trail
    result.logs["0x" + "33" * 20].reverse()
    facts.events.reverse()
    assert trail(result, dataset=DATASET) == rows
