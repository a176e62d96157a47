"""The catalog by data type: a dataset's entry (theme, metadata, review cycle), its quality
status, and search over the network's catalog.

Entries come from the node's event index (:func:`node.sharing.views.datasets`); metadata
documents come from the owner's node, are checked against their anchored hash, and are kept
in the local document store (content-addressed, so a cached copy is as good as a fetched
one).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from node.errors import InvalidInput, TanlianError
from node.quality.documents import DocumentStore, digest
from node.quality.ledger import THEMES, QualityLedger
from node.quality.metadata import CatalogMetadata

logger = logging.getLogger(__name__)

#: quality statuses a search may filter on
QUALITY = ("passed", "errors-accepted", "undeclared", "review-overdue", "unpublished")


@dataclass(frozen=True)
class CatalogEntry:
    """What an owner states about a dataset besides its data: where it is filed, what it
    is (metadata), and how often it is updated and reviewed (seconds; 0: no cycle)."""

    theme: str
    metadata: CatalogMetadata | None = None
    update_interval: int = 0
    review_period: int = 0

    def __post_init__(self) -> None:
        if self.theme not in THEMES:
            raise InvalidInput(f"unknown theme {self.theme!r}: use one of {', '.join(THEMES)}")
        if self.metadata is not None and self.metadata.theme != self.theme:
            raise InvalidInput(
                f"the metadata files the dataset under {self.metadata.theme!r}, the command "
                f"under {self.theme!r}"
            )
        if self.update_interval < 0 or self.review_period < 0:
            raise InvalidInput("update interval and review period are not negative")


def describe(
    ledger: QualityLedger, docs: DocumentStore, dataset_id: bytes, entry: CatalogEntry
) -> None:
    """Anchor ``entry`` for a dataset the caller owns (the metadata stored first)."""
    if entry.metadata is not None:
        sha = docs.put_json("metadata", entry.metadata.model_dump(mode="json"))
    else:
        sha = docs.put_json("metadata", {"theme": entry.theme})
    ledger.set_metadata(dataset_id, entry.theme, sha)
    if entry.update_interval or entry.review_period:
        ledger.set_review_cycle(dataset_id, entry.update_interval, entry.review_period)


def quality_of(d: dict[str, Any], now: int, block_time: Callable[[int], int]) -> dict[str, Any]:
    """The quality status of a dataset view: its current version's validation, and whether
    its review is overdue (publishing a version counts as a review)."""
    if not d["versions"]:
        return {"status": "unpublished", "review": "none", "due_at": None}
    latest = d["versions"][-1]
    v = latest["validation"]
    status = (
        "undeclared" if v is None else ("passed" if v["error_count"] == 0 else "errors-accepted")
    )
    period = d["review_cycle"]["review_period"]
    review, due = "none", None
    if period:
        last = max(
            [latest["block"]]
            + [r["block"] for r in d["reviews"] if r["version"] == latest["version"]]
        )
        due = block_time(last) + period
        review = "overdue" if now > due else "ok"
    last_review = next(
        (r for r in reversed(d["reviews"]) if r["version"] == latest["version"]), None
    )
    return {
        "status": status,
        "version": latest["version"],
        "errors": 0 if v is None else v["error_count"],
        "error_kinds": "" if v is None else v["error_kinds"],
        "review": review,
        "due_at": due,
        "last_review_errors": None if last_review is None else last_review["error_count"],
    }


class MetadataUnavailable(TanlianError):
    code = "metadata_unavailable"
    http_status = 502


def resolve_metadata(
    docs: DocumentStore, sha256: str, fetch: Callable[[str], bytes] | None
) -> dict[str, Any] | None:
    """The metadata document of hash ``sha256``: from the local store, or fetched (from the
    owner's node) and checked against the hash before it is kept."""
    try:
        return docs.get_json(sha256)
    except TanlianError:
        pass
    if fetch is None:
        return None
    try:
        body = fetch(sha256)
    except TanlianError as exc:
        logger.warning("metadata %s unavailable: %s", sha256, exc)
        return None
    if "0x" + digest(body).hex() != sha256.lower():
        logger.warning("the owner's node served metadata that does not match %s", sha256)
        return None
    docs.put("metadata", body)
    return docs.get_json(sha256)


@dataclass(frozen=True)
class Search:
    theme: str | None = None
    keyword: str | None = None
    year: int | None = None
    adcode: str | None = None
    quality: str | None = None

    def __post_init__(self) -> None:
        if self.theme is not None and self.theme not in THEMES:
            raise InvalidInput(f"unknown theme {self.theme!r}: use one of {', '.join(THEMES)}")
        if self.quality is not None and self.quality not in QUALITY:
            raise InvalidInput(
                f"unknown quality status {self.quality!r}: use one of {', '.join(QUALITY)}"
            )

    def matches(self, entry: dict[str, Any]) -> bool:
        if self.theme is not None and entry["theme"] != self.theme:
            return False
        q = entry["quality"]
        if self.quality == "review-overdue":
            if q["review"] != "overdue":
                return False
        elif self.quality is not None and q["status"] != self.quality:
            return False
        m = entry.get("metadata")
        if self.keyword is not None:
            in_name = self.keyword.casefold() in entry["name"].casefold()
            meta = CatalogMetadata.model_validate(m) if m and "title_zh" in m else None
            if not in_name and not (meta is not None and meta.matches(self.keyword)):
                return False
        if self.year is not None or self.adcode is not None:
            if not m or "title_zh" not in m:
                return False
            if not CatalogMetadata.model_validate(m).covers(self.year, self.adcode):
                return False
        return True


def catalog(
    datasets: list[dict[str, Any]],
    docs: DocumentStore,
    *,
    now: int,
    block_time: Callable[[int], int],
    fetch: Callable[[str, str], bytes] | None = None,
    search: Search | None = None,
) -> list[dict[str, Any]]:
    """Catalog entries (dataset views with quality status and metadata), filtered.
    ``fetch(owner, sha256)`` reads a document from the owner's node."""
    out = []
    for d in datasets:
        entry = {**d, "quality": quality_of(d, now, block_time), "metadata": None}
        if d["metadata_sha256"]:
            owner_fetch = (lambda sha, o=d["owner"]: fetch(o, sha)) if fetch else None
            entry["metadata"] = resolve_metadata(docs, d["metadata_sha256"], owner_fetch)
        if search is None or search.matches(entry):
            out.append(entry)
    return out


_PERIOD = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 7 * 86_400}


def parse_period(text: str) -> int:
    """Seconds from ``90s``, ``15m``, ``12h``, ``30d``, ``2w`` or a frequency word
    (daily, weekly, monthly, quarterly, semiannual, annual); ``0`` for none."""
    from node.quality.metadata import FREQUENCIES

    t = text.strip().lower()
    if t in FREQUENCIES:
        return FREQUENCIES[t]
    if t == "0":
        return 0
    unit = _PERIOD.get(t[-1:])
    if unit is None or not t[:-1].isdigit():
        raise InvalidInput(
            f"period {text!r}: give a number with s, m, h, d or w (e.g. 30d), or one of "
            f"{', '.join(w for w in FREQUENCIES if w != 'irregular')}"
        )
    return int(t[:-1]) * unit
