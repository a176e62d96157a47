"""The catalog by data type, quality documents, and feedback (named and anonymous)."""

from __future__ import annotations

import logging
import time
from typing import Annotated, Any

from eth_utils import to_checksum_address
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from node.api.body import json_request, no_body, read_body, validated
from node.api.deps import Caller, Runtime, SharingDep, json_body
from node.api.schemas import (
    Catalog,
    CatalogEntry,
    FeedbackFiledAnswer,
    FeedbackKeys,
    FeedbackList,
    FeedbackRecord,
    FeedbackText,
)
from node.chain.errors import ContractReverted
from node.errors import InvalidInput, NotFound, TanlianError
from node.peer.client import NodeClient
from node.quality import catalog as cat
from node.quality.documents import DocumentStore, digest
from node.quality.feedback import AnonymousFeedback, active_consumers, check_anonymous, text_hash
from node.quality.ledger import QualityLedger, category_code
from node.quality.metadata import dcat_jsonld
from node.runtime import NodeRuntime
from node.sharing import views
from node.sharing.contracts import Sharing

logger = logging.getLogger(__name__)
router = APIRouter(tags=["quality"])

Sha256 = Annotated[str, Path(pattern=r"^0x[0-9a-fA-F]{64}$", description="SHA-256, 0x hex")]
DatasetIdQ = Annotated[str | None, Query(pattern=r"^0x[0-9a-fA-F]{64}$")]
#: documents are served as the exact bytes anchored (JSON, but hashed as bytes)
DOCUMENT = "application/octet-stream"
#: a ring of at most 64 keys and its signature (~9 KB as hex), 4000 characters of text
#: (up to 24 KB JSON-escaped)
ANONYMOUS_LIMIT = 48 * 1024


class DocumentMismatch(TanlianError):
    code = "document_mismatch"
    http_status = 502


class FeedbackRefused(TanlianError):
    code = "feedback_refused"
    http_status = 409


def _docs(rt: NodeRuntime) -> DocumentStore:
    return DocumentStore(rt.engine)


def _fetcher(rt: NodeRuntime):
    """Reads a document from the node of ``owner`` (signed as this node)."""

    def fetch(owner: str, sha256: str) -> bytes:
        if owner == rt.address or rt.directory is None:
            raise NotFound(f"no document {sha256}")
        member = rt.directory.get(owner)
        if member is None or not member.endpoint:
            raise NotFound(f"{owner} has no endpoint to read {sha256} from")
        with NodeClient(member.endpoint, rt.keys.account.key, timeout=5.0) as c:
            return c.document(sha256)

    return fetch


def chain_now(rt: NodeRuntime) -> int:
    """The time due dates are reckoned against: the indexed head block's timestamp (blocks
    mined in a burst run ahead of the clock), or the clock if that is later."""
    return max(int(time.time()), rt.block_time(rt.indexer.cursor()))


def _entries(rt: NodeRuntime, sharing: Sharing, search: cat.Search | None) -> list[dict[str, Any]]:
    return cat.catalog(
        views.datasets(rt.indexer, sharing.catalog.address),
        _docs(rt),
        now=chain_now(rt),
        block_time=rt.block_time,
        fetch=_fetcher(rt),
        search=search,
    )


@router.get("/v1/catalog", response_model=Catalog, openapi_extra=no_body())
def catalog(
    _: Caller,
    rt: Runtime,
    sharing: SharingDep,
    theme: str | None = None,
    keyword: Annotated[
        str | None, Query(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f]+$")
    ] = None,
    year: Annotated[int | None, Query(ge=1900, le=2200)] = None,
    adcode: Annotated[str | None, Query(pattern=r"^5101\d{2}$")] = None,
    quality: str | None = None,
) -> Catalog:
    """The network's datasets with theme, metadata and quality status; filtered by theme,
    keyword (names, titles, descriptions, keywords), coverage (year, admin-unit code) and
    quality status (passed, errors-accepted, undeclared, review-overdue, unpublished)."""
    search = cat.Search(theme, keyword, year, adcode, quality)
    return Catalog(
        as_of_block=rt.indexer.cursor(),
        now=chain_now(rt),
        datasets=[CatalogEntry(**e) for e in _entries(rt, sharing, search)],
    )


@router.get(
    "/v1/catalog/dcat",
    response_model=dict[str, Any],
    response_class=JSONResponse,
    responses={200: {"content": {"application/ld+json": {}}, "description": "DCAT JSON-LD"}},
    openapi_extra=no_body(),
)
def catalog_dcat(_: Caller, rt: Runtime, sharing: SharingDep) -> JSONResponse:
    """The catalog as DCAT JSON-LD (every dataset, its metadata and distributions)."""
    doc = dcat_jsonld(_entries(rt, sharing, None), base=f"urn:tanlian:{sharing.catalog.address}")
    return JSONResponse(doc, media_type="application/ld+json")


@router.get(
    "/v1/documents/{sha256}",
    responses={200: {"content": {"application/octet-stream": {}}, "description": "the bytes"}},
    openapi_extra=no_body(),
)
def document(
    sha256: Sha256,
    _: Caller,
    rt: Runtime,
    owner: Annotated[str | None, Query(pattern=r"^0x[0-9a-fA-F]{40}$")] = None,
) -> Response:
    """A quality document (Table Schema, report, metadata, feedback text, answer, ring):
    the exact bytes whose SHA-256 is anchored. None of them is secret. One this node does
    not hold is read from ``owner``'s node, checked against the hash and kept."""
    docs = _docs(rt)
    try:
        return Response(docs.get(sha256)[1], media_type=DOCUMENT)
    except NotFound:
        if owner is None:
            raise
    body = _fetcher(rt)(to_checksum_address(owner), sha256)
    if digest(body) != bytes.fromhex(sha256[2:]):
        raise DocumentMismatch(f"{owner}'s node served a document that is not {sha256}")
    docs.put("fetched", body)
    return Response(body, media_type=DOCUMENT)


def _with_texts(rt: NodeRuntime, owner: str, f: dict[str, Any]) -> dict[str, Any]:
    docs, fetch = _docs(rt), _fetcher(rt)
    out = dict(f)
    for field, sha in (("text", f["text_sha256"]), ("answer", f["answer_sha256"])):
        if sha is None:
            continue
        try:
            out[field] = docs.get(sha)[1].decode()
            continue
        except NotFound:
            pass
        try:
            body = fetch(owner, sha)
        except TanlianError:
            continue
        if digest(body) == bytes.fromhex(sha[2:]):
            docs.put("feedback" if field == "text" else "answer", body)
            out[field] = body.decode()
    return out


@router.get("/v1/feedback/keys", response_model=FeedbackKeys, openapi_extra=no_body())
def feedback_keys(_: Caller, rt: Runtime, sharing: SharingDep) -> FeedbackKeys:
    """Every member's registered feedback ring key (ed25519, 0x hex)."""
    keys = views.feedback_keys(rt.indexer, sharing.catalog.address)
    return FeedbackKeys(
        as_of_block=rt.indexer.cursor(), keys={a: "0x" + k.hex() for a, k in keys.items()}
    )


@router.get("/v1/feedback", response_model=FeedbackList, openapi_extra=no_body())
def list_feedback(
    _: Caller, rt: Runtime, sharing: SharingDep, dataset_id: DatasetIdQ = None
) -> FeedbackList:
    """Feedback on every dataset (or one), with its texts where they can be read."""
    out = []
    known = views.datasets(rt.indexer, sharing.catalog.address)
    if dataset_id is not None and all(d["dataset_id"] != dataset_id.lower() for d in known):
        raise NotFound(f"no dataset {dataset_id}")
    for d in known:
        if dataset_id is not None and d["dataset_id"] != dataset_id.lower():
            continue
        out += [
            FeedbackRecord(**_with_texts(rt, d["owner"], f), dataset_id=d["dataset_id"])
            for f in d["feedback"]
        ]
    return FeedbackList(as_of_block=rt.indexer.cursor(), feedback=out)


@router.post(
    "/v1/feedback/{feedback_id}/text",
    response_model=FeedbackFiledAnswer,
    openapi_extra=json_request(FeedbackText, 16 * 1024),
)
def named_text(
    feedback_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    who: Caller,
    rt: Runtime,
    sharing: SharingDep,
    body: Annotated[FeedbackText, Depends(json_body(FeedbackText))],
) -> FeedbackFiledAnswer:
    """The text of named feedback its filer anchored on chain: kept when the caller is the
    filer, the dataset is this node's and the text has the anchored hash."""
    ledger = QualityLedger(sharing)
    try:
        f = ledger.feedback(feedback_id)
    except ContractReverted:
        raise NotFound(f"there is no feedback {feedback_id}") from None
    ds = sharing.dataset(bytes.fromhex(f["dataset_id"][2:]))
    if ds is None or ds["owner"] != rt.address:
        raise NotFound(f"feedback {feedback_id} is on a dataset this node does not own")
    if f["filer"] != who.address:
        raise FeedbackRefused(f"feedback {feedback_id} was not filed by {who.address}")
    sha = "0x" + text_hash(body.text).hex()
    if sha != f["text_sha256"]:
        raise InvalidInput(f"the text's SHA-256 is {sha}; feedback {feedback_id} anchored another")
    _docs(rt).put("feedback", body.text.encode())
    return FeedbackFiledAnswer(feedback_id=feedback_id, tx="", text_sha256=sha)


async def anonymous_body(request: Request) -> AnonymousFeedback:
    """The body, bounded before it is read; its ring signature is its authentication."""
    return validated(AnonymousFeedback, await read_body(request))


@router.post(
    "/v1/feedback/anonymous",
    response_model=FeedbackFiledAnswer,
    openapi_extra=json_request(AnonymousFeedback, ANONYMOUS_LIMIT),
)
def anonymous(
    body: Annotated[AnonymousFeedback, Depends(anonymous_body)],
    rt: Runtime,
    sharing: SharingDep,
) -> FeedbackFiledAnswer:
    """Feedback signed for the ring of a dataset's active consumers (no account signature:
    it would name the filer). The ring must hold only feedback keys of consumers with a
    live grant on the dataset; the signature must verify; the member's key image must not
    have filed on this version before (the catalog refuses it twice). This node keeps the
    text, ring and signature and files the feedback on chain."""
    raw_id = bytes.fromhex(body.dataset_id[2:])
    ds = sharing.dataset(raw_id)
    if ds is None or ds["owner"] != rt.address:
        raise NotFound(f"dataset {body.dataset_id} is not this node's: send it to its owner")
    if not 1 <= body.version <= ds["versions"]:
        raise NotFound(f"dataset {body.dataset_id} has no version {body.version}")
    consumers = active_consumers(
        views.requests(rt.indexer, sharing.access.address), body.dataset_id, chain_now(rt)
    )
    keys = views.feedback_keys(rt.indexer, sharing.catalog.address)
    allowed = {keys[c] for c in consumers if c in keys}
    key_image, ring_doc = check_anonymous(body, allowed)
    ledger = QualityLedger(sharing)
    args = (raw_id, body.version, body.category, text_hash(body.text), key_image, digest(ring_doc))
    try:
        # refused (a second filing by the same member) before anything is stored
        sharing.client.call(
            sharing.catalog,
            "fileAnonymousFeedback",
            raw_id,
            body.version,
            category_code(body.category),
            args[3],
            key_image,
            args[5],
        )
    except ContractReverted as exc:
        raise FeedbackRefused(str(exc)) from None
    docs = _docs(rt)
    docs.put("feedback", body.text.encode())
    docs.put("ring", ring_doc)
    try:
        tx = ledger.file_anonymous_feedback(*args)
    except ContractReverted as exc:
        raise FeedbackRefused(str(exc)) from None
    fid = tx.event("FeedbackFiled").args["feedbackId"]
    logger.info("filed anonymous feedback %d on %s v%d", fid, body.dataset_id, body.version)
    return FeedbackFiledAnswer(feedback_id=fid, tx=tx.tx_hash, text_sha256="0x" + args[3].hex())
