"""The catalog's quality record from Python: validations, review cycles and reviews, themes
and metadata, feedback keys and feedback.

Hashes, counts and decisions only: the Table Schema, the reports, the metadata and the
feedback texts stay in the owner's document store (:mod:`node.quality.documents`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from eth_utils import to_checksum_address

from node.chain.client import TxResult
from node.chain.errors import explain_revert
from node.errors import InvalidInput

#: the ledger's subdirectories, by code (DataCatalog.MAX_THEME is the last)
THEMES = (
    "energy",
    "emissions",
    "environment",
    "transport",
    "buildings",
    "socioeconomic",
    "spatial",
    "others",
)
#: feedback categories, by code (DataCatalog.MAX_CATEGORY is the last)
CATEGORIES = ("accuracy", "completeness", "timeliness", "consistency", "format", "other")
ZERO = b"\x00" * 32

explain_revert(
    "KeyImageUsed",
    lambda a: "this ring member already filed feedback on that version (linkable signature)",
)
explain_revert(
    "NotLatestVersion",
    lambda a: f"a review checks the current version, {a['latest']}, not {a['version']}",
)
explain_revert("UnknownFeedback", lambda a: f"there is no feedback {a['feedbackId']}")
explain_revert(
    "WrongFeedbackState",
    lambda a: f"feedback {a['feedbackId']} is {FeedbackState(a['state']).label}",
)
explain_revert(
    "NotACorrection",
    lambda a: (
        f"version {a['correctedVersion']} does not correct feedback {a['feedbackId']}: "
        "give a later, published version"
    ),
)
explain_revert(
    "NotFeedbackParty",
    lambda a: (
        "only the dataset's owner (with a corrected version), or the named filer once the "
        "feedback is answered, may resolve it"
    ),
)
explain_revert("NotMember", lambda a: "this account is not an active member of the network")


class FeedbackState(IntEnum):
    NONE = 0
    OPEN = 1
    ANSWERED = 2
    RESOLVED = 3

    @property
    def label(self) -> str:
        return "does not exist" if self is FeedbackState.NONE else self.name.lower()


def theme_code(name: str) -> int:
    try:
        return THEMES.index(name)
    except ValueError:
        raise InvalidInput(f"unknown theme {name!r}: use one of {', '.join(THEMES)}") from None


def category_code(name: str) -> int:
    try:
        return CATEGORIES.index(name)
    except ValueError:
        raise InvalidInput(
            f"unknown feedback category {name!r}: use one of {', '.join(CATEGORIES)}"
        ) from None


@dataclass(frozen=True)
class Validation:
    table_schema_hash: bytes
    report_hash: bytes
    error_count: int
    error_kinds: str = ""

    def as_abi(self) -> tuple[bytes, bytes, int]:
        return (self.table_schema_hash, self.report_hash, self.error_count)


@dataclass(frozen=True)
class ReviewStatus:
    update_interval: int
    review_period: int
    reviewed_at: int
    due_at: int

    def overdue(self, now: int) -> bool:
        return self.due_at != 0 and now > self.due_at


class QualityLedger:
    """One account's handle on the catalog's quality functions."""

    def __init__(self, sharing: Any) -> None:
        # a node.sharing.contracts.Sharing (its client and catalog): not imported, since
        # sharing builds on this package (publish validates with it)
        self.client = sharing.client
        self.catalog = sharing.catalog

    def _tx(self, fn: str, *args: Any) -> TxResult:
        return self.client.transact(self.catalog, fn, *args)

    def publish_validated_version(
        self,
        dataset_id: bytes,
        plaintext_hash: bytes,
        ciphertext_hash: bytes,
        schema_hash: bytes,
        size: int,
        dp_metadata_hash: bytes,
        validation: Validation,
    ) -> TxResult:
        return self._tx(
            "publishValidatedVersion",
            dataset_id,
            plaintext_hash,
            ciphertext_hash,
            schema_hash,
            size,
            dp_metadata_hash,
            validation.as_abi(),
            validation.error_kinds,
        )

    def record_review(
        self, dataset_id: bytes, version: int, report_hash: bytes, errors: int
    ) -> TxResult:
        return self._tx("recordReview", dataset_id, version, report_hash, errors)

    def set_review_cycle(
        self, dataset_id: bytes, update_interval: int, review_period: int
    ) -> TxResult:
        return self._tx("setReviewCycle", dataset_id, update_interval, review_period)

    def set_metadata(self, dataset_id: bytes, theme: str, metadata_hash: bytes) -> TxResult:
        return self._tx("setMetadata", dataset_id, theme_code(theme), metadata_hash)

    def set_feedback_key(self, key: bytes) -> TxResult:
        return self._tx("setFeedbackKey", key)

    def file_feedback(
        self, dataset_id: bytes, version: int, category: str, text_hash: bytes
    ) -> TxResult:
        return self._tx("fileFeedback", dataset_id, version, category_code(category), text_hash)

    def file_anonymous_feedback(
        self,
        dataset_id: bytes,
        version: int,
        category: str,
        text_hash: bytes,
        key_image: bytes,
        ring_hash: bytes,
    ) -> TxResult:
        return self._tx(
            "fileAnonymousFeedback",
            dataset_id,
            version,
            category_code(category),
            text_hash,
            key_image,
            ring_hash,
        )

    def answer(self, feedback_id: int, answer_hash: bytes) -> TxResult:
        return self._tx("answerFeedback", feedback_id, answer_hash)

    def resolve(self, feedback_id: int, corrected_version: int = 0) -> TxResult:
        return self._tx("resolveFeedback", feedback_id, corrected_version)

    # -- views -------------------------------------------------------------------------
    def now(self) -> int:
        """The chain's time: its head block's timestamp, or the clock if that is later.
        Blocks mined in a burst carry timestamps ahead of the clock (each one at least a
        second after its parent), and due times are reckoned in block time."""
        return max(int(time.time()), int(self.client.backend.get_block("latest").timestamp))

    def version_count(self, dataset_id: bytes) -> int | None:
        """How many versions ``dataset_id`` has (None: no such dataset)."""
        owner, _name, _cls, _policy, versions = self.client.call(
            self.catalog, "dataset", dataset_id
        )
        return None if int(owner, 16) == 0 else versions

    def plaintext_hash(self, dataset_id: bytes, version: int) -> bytes:
        return self.client.call(self.catalog, "versionOf", dataset_id, version)[0]

    def validation(self, dataset_id: bytes, version: int) -> Validation | None:
        schema, report, errors = self.client.call(self.catalog, "validationOf", dataset_id, version)
        if schema == ZERO:
            return None
        return Validation(schema, report, errors)

    def review_status(self, dataset_id: bytes) -> ReviewStatus:
        (update, period), reviewed, due = self.client.call(self.catalog, "reviewStatus", dataset_id)
        return ReviewStatus(update, period, reviewed, due)

    def metadata_of(self, dataset_id: bytes) -> tuple[str, bytes | None]:
        theme, digest = self.client.call(self.catalog, "metadataOf", dataset_id)
        return THEMES[theme], (None if digest == ZERO else digest)

    def feedback_key(self, account: str) -> bytes | None:
        key = self.client.call(self.catalog, "feedbackKeyOf", to_checksum_address(account))
        return None if key == ZERO else key

    def feedback(self, feedback_id: int) -> dict[str, Any]:
        d, version, category, state, filer, text, image, answer, corrected = self.client.call(
            self.catalog, "feedback", feedback_id
        )
        return {
            "feedback_id": feedback_id,
            "dataset_id": "0x" + d.hex(),
            "version": version,
            "category": CATEGORIES[category],
            "state": FeedbackState(state).label,
            "filer": None if int(filer, 16) == 0 else filer,
            "text_sha256": "0x" + text.hex(),
            "key_image": None if image == ZERO else "0x" + image.hex(),
            "answer_sha256": None if answer == ZERO else "0x" + answer.hex(),
            "corrected_version": corrected or None,
        }
