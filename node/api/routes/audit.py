"""``/v1/audit``: this node's access log, its proofs and index digest, and ciphertexts for
a regulator to hash."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

import orjson
from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response, StreamingResponse

from node.api.body import json_request, no_body
from node.api.deps import OwnerOrRegulator, Regulator, Runtime, json_body
from node.api.schemas import (
    Anchored,
    AuditLog,
    BlobsBody,
    DpMetadataList,
    IndexDigest,
    LogProof,
    StoredDpMetadata,
)
from node.audit.blob_frames import error_frame, file_frames
from node.audit.digest import index_digest
from node.errors import NotFound

router = APIRouter(prefix="/v1/audit", tags=["audit"])

#: up to MAX_VERSIONS (1000) references of about 100 bytes each
BLOBS_MAX_BODY = 256 << 10


@router.get("/log", response_model=AuditLog, openapi_extra=no_body())
def audit_log(_: OwnerOrRegulator, rt: Runtime) -> Response:
    """This node's access log and its anchored batches (regulators, this node)."""
    body = {
        "node": rt.address,
        "entries": rt.access_log.entries(),
        "batches": rt.access_log.batches(),
    }
    # orjson directly (the model above documents it): the log may hold 10^5 entries
    return Response(orjson.dumps(body), media_type="application/json")


@router.post("/anchor", response_model=Anchored, openapi_extra=no_body())
def audit_anchor(_: OwnerOrRegulator, rt: Runtime) -> Anchored:
    """Anchor the unanchored access-log entries now (regulators, this node)."""
    return Anchored(anchored_batches=rt.anchor_log())


@router.get(
    "/proof", response_model=LogProof, response_model_exclude_unset=True, openapi_extra=no_body()
)
def audit_proof(
    seq: Annotated[int, Query(ge=0, le=2**31 - 1)], _: OwnerOrRegulator, rt: Runtime
) -> LogProof:
    """One log entry with its Merkle inclusion proof against its anchored batch."""
    found = rt.access_log.proof(seq)
    if found is None:
        raise NotFound(f"no log entry {seq}")
    return LogProof(**found)


@router.get("/index", response_model=IndexDigest, openapi_extra=no_body())
def audit_index(
    to_block: Annotated[int, Query(ge=0, le=2**63 - 1)], _: OwnerOrRegulator, rt: Runtime
) -> IndexDigest:
    """A digest of this node's event index up to ``to_block``, to compare with a rebuild."""
    rt.wait_synced(to_block, timeout=10)
    digest, count = index_digest(rt.indexer.events(to_block=to_block))
    return IndexDigest(cursor=rt.indexer.cursor(), digest=digest, events=count)


@router.get("/dp-metadata", response_model=DpMetadataList, openapi_extra=no_body())
def audit_dp_metadata(_: Regulator, rt: Runtime) -> DpMetadataList:
    """The DP metadata stored for every anchored version that has some (regulators): to be
    checked against the digest anchored with each version."""
    return DpMetadataList(
        versions=[
            StoredDpMetadata(dataset_id=r.dataset_id, version=r.version, dp_metadata=r.dp_metadata)
            for r in rt.versions.anchored()
            if r.dp_metadata is not None
        ]
    )


@router.post(
    "/blobs",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/octet-stream": {}}, "description": "frames"}},
    openapi_extra=json_request(BlobsBody, BLOBS_MAX_BODY),
)
def audit_blobs(
    _: Regulator, body: Annotated[BlobsBody, Depends(json_body(BlobsBody))], rt: Runtime
) -> StreamingResponse:
    """Many stored ciphertexts in one stream of frames, in the order asked (see
    ``node.audit.blob_frames``): for a regulator to hash against the chain."""
    wanted = [(v.dataset_id.lower(), v.version) for v in body.versions]
    rows = rt.versions.find_many(wanted)

    def frames() -> Iterator[bytes]:
        for dataset_id, version in wanted:
            row = rows.get((dataset_id, version))
            if row is None:
                yield error_frame(
                    "not_found", f"version {version} of {dataset_id} is not stored here"
                )
                continue
            path = rt.blobs.path_for(bytes.fromhex(row.ciphertext_hash[2:]))
            try:
                fh = open(path, "rb")  # noqa: SIM115 - closed below, after streaming
            except FileNotFoundError:
                yield error_frame("not_found", f"the blob of {dataset_id} v{version} is missing")
                continue
            with fh:
                yield from file_frames(fh, path.name)

    return StreamingResponse(frames(), media_type="application/octet-stream")
