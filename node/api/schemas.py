"""What the node's routes take and answer: one pydantic model per body and per response.

Models of records built elsewhere (the event index, the DP gate, the logs) allow extra
fields, so a field added there reaches the client without being dropped here; ε values are
``int | float`` so that an exact integer unit passes through unchanged.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from node.audit.blob_frames import MAX_VERSIONS

Epsilon = int | float
Delta = int | float


class Open(BaseModel):
    """A record produced by another module: its extra fields are kept."""

    model_config = ConfigDict(extra="allow")


# -- errors and health ------------------------------------------------------------------
class ErrorBody(BaseModel):
    code: str
    message: str
    detail: Any = None


class Health(BaseModel):
    status: str
    name: str | None
    address: str
    roles: list[str]
    chain_id: int
    chain_head: int | None
    indexed_block: int
    registry: str | None
    sync_error: str | None
    #: node.toml was edited in a way the running node has not applied (restart it)
    settings_error: str | None = None
    version: str


# -- registry ---------------------------------------------------------------------------
class Member(BaseModel):
    address: str
    name: str
    roles: list[str]
    encryption_key: str
    endpoint: str
    status: str
    approvals: int
    registered_block: int
    updated_block: int
    approved_by: list[str]


class MemberList(BaseModel):
    as_of_block: int
    members: list[Member]


# -- sharing ----------------------------------------------------------------------------
class Policy(Open):
    auto_approve_roles: list[str]
    reviewer_approvals: int
    raw_allowed: bool
    epsilon_ceiling: Epsilon
    lifetime_epsilon: Epsilon
    lifetime_delta: Delta
    department_epsilon: Epsilon
    department_delta: Delta


class DerivedFrom(Open):
    dataset_id: str
    version: int
    profile_hash: str
    k_anonymity: int


class VersionValidation(BaseModel):
    table_schema_sha256: str
    report_sha256: str
    error_count: int
    #: "constraint-error=3;type-error=1"; empty when the file passed
    error_kinds: str


class ReviewCycle(BaseModel):
    #: seconds between updates and between reviews (0: none)
    update_interval: int
    review_period: int


class ReviewRecord(BaseModel):
    version: int
    report_sha256: str
    error_count: int
    block: int
    tx: str


class FeedbackRecord(Open):
    feedback_id: int
    version: int
    category: str
    filer: str | None
    anonymous: bool
    text_sha256: str
    key_image: str | None
    ring_sha256: str | None
    state: str
    answer_sha256: str | None
    corrected_version: int | None
    history: list[tuple[int, str, str]]
    #: the texts, where the node could read them (from the owner's node, checked by hash)
    text: str | None = None
    answer: str | None = None


class DatasetVersion(Open):
    version: int
    plaintext_sha256: str
    ciphertext_sha256: str
    schema_hash: str
    size: int
    block: int
    tx: str
    #: digest of the DP metadata the owner's gate answers with (zero: no DP queries)
    dp_metadata_hash: str
    derived_from: DerivedFrom | None
    #: the check against the declared Table Schema at publish (None: no schema declared)
    validation: VersionValidation | None = None


class Dataset(Open):
    dataset_id: str
    name: str
    owner: str
    classification: str
    policy: Policy
    versions: list[DatasetVersion]
    created_block: int
    theme: str = "others"
    metadata_sha256: str | None = None
    review_cycle: ReviewCycle | None = None
    reviews: list[ReviewRecord] = []
    feedback: list[FeedbackRecord] = []


class QualityStatus(BaseModel):
    #: passed, errors-accepted, undeclared or unpublished
    status: str
    version: int | None = None
    errors: int = 0
    error_kinds: str = ""
    #: ok, overdue or none (no review cycle)
    review: str
    due_at: int | None
    last_review_errors: int | None = None


class CatalogEntry(Dataset):
    quality: QualityStatus
    #: the owner's catalog metadata (checked against metadata_sha256), when readable
    metadata: dict[str, Any] | None


class Catalog(BaseModel):
    as_of_block: int
    now: int
    datasets: list[CatalogEntry]


class FeedbackList(BaseModel):
    as_of_block: int
    feedback: list[FeedbackRecord]


class FeedbackKeys(BaseModel):
    as_of_block: int
    keys: dict[str, str]


class FeedbackText(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1, max_length=4000)


class FeedbackFiledAnswer(BaseModel):
    feedback_id: int
    tx: str
    text_sha256: str


class DatasetList(BaseModel):
    as_of_block: int
    datasets: list[Dataset]


class AccessRequest(Open):
    request_id: int
    dataset_id: str
    consumer: str
    version: int
    mode: str
    epsilon: Epsilon
    duration: int
    state: str
    approvals: list[str]
    expires_at: int | None
    requested_tx: str
    #: (block, what happened, transaction)
    history: list[tuple[int, str, str]]
    automatic: bool | None = Field(default=None, description="set once authorized")
    #: keccak-256 of the purpose text, which the applicant's node serves
    purpose_hash: str | None = None
    #: unix time of the block that holds the application
    requested_at: int | None = None


class PurposeAnswer(BaseModel):
    request_id: int
    purpose: str
    purpose_hash: str


class AccessList(BaseModel):
    as_of_block: int
    requests: list[AccessRequest]


class Download(Open):
    #: the download's number on this node: its access-log entries name it (``download``)
    id: int
    request_id: int
    consumer: str
    dataset_id: str
    version: int
    ciphertext_sha256: str
    bytes: int
    started_at: float
    finished_at: float | None
    completed: bool
    outcome: str


class DownloadList(BaseModel):
    downloads: list[Download]


# -- privacy gate -----------------------------------------------------------------------
class QueryBody(BaseModel):
    """``POST /v1/query``: a DP query on a grant, or on the caller's newest usable DP grant
    on a dataset of this node."""

    model_config = ConfigDict(extra="forbid")
    #: the DP grant (access request id), or else:
    request: Annotated[int, Field(ge=0, le=2**63 - 1)] | None = None
    #: a dataset of this node (0x id): the caller's newest usable DP grant on it is used
    dataset: Annotated[str, StringConstraints(max_length=66)] | None = None
    spec: dict[str, Any]
    mode: Literal["answer", "estimate", "dummy"] = "answer"

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        if (self.request is None) == (self.dataset is None):
            raise ValueError("give either request (a grant id) or dataset (0x… id)")
        return self


class QueryEstimate(Open):
    request: int
    epsilon: Epsilon
    remaining: Epsilon
    fits: bool
    queries_of_this_kind_left: int


class QueryDummy(Open):
    request: int
    answer: Any
    dummy: bool
    epsilon_spent: Epsilon


class QueryAnswer(Open):
    request: int
    answer: Any
    epsilon_spent: Epsilon
    remaining: Epsilon
    spend_tx: str
    result_sha256: str


class Budget(Open):
    ceiling: Epsilon
    spent: Epsilon


class ArchivedAnswer(Open):
    spec: dict[str, Any]
    epsilon: Epsilon
    result: Any
    query_sha256: str
    result_sha256: str
    spend_tx: str
    answered_at: float
    consumer: str


class QueryArchive(BaseModel):
    request: int
    budget: Budget
    answers: list[ArchivedAnswer]


# -- audit ------------------------------------------------------------------------------
class LogEntry(Open):
    seq: int
    at: float
    kind: str
    request_id: int | None
    consumer: str | None
    dataset_id: str | None
    version: int | None
    detail: dict[str, Any]
    entry_hash: str
    batch: int | None
    leaf: int | None


class LogBatch(Open):
    seq: int
    root: str
    count: int
    first_at: int
    last_at: int
    tx: str


class AuditLog(BaseModel):
    node: str
    entries: list[LogEntry]
    batches: list[LogBatch]


class Anchored(BaseModel):
    anchored_batches: list[int]


class LogProof(BaseModel):
    entry: LogEntry
    batch: int | None
    #: leaves in the batch (absent while the entry is not anchored yet)
    size: int | None = None
    proof: list[str]


class IndexDigest(BaseModel):
    cursor: int
    digest: str
    events: int


class StoredDpMetadata(BaseModel):
    dataset_id: str
    version: int
    #: the DP metadata exactly as this node stores it (the regulator hashes it itself)
    dp_metadata: dict[str, Any]


class DpMetadataList(BaseModel):
    versions: list[StoredDpMetadata]


class VersionRef(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dataset_id: Annotated[str, StringConstraints(pattern=r"^0x[0-9a-fA-F]{64}$")]
    version: Annotated[int, Field(ge=1, le=2**31 - 1)]


class BlobsBody(BaseModel):
    """``POST /v1/audit/blobs``: the versions whose ciphertexts a regulator wants."""

    model_config = ConfigDict(extra="forbid")
    versions: Annotated[list[VersionRef], Field(min_length=1, max_length=MAX_VERSIONS)]
