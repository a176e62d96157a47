"""Datasets, access requests, RAW downloads and the download log."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from starlette.types import Send

from node.api.body import no_body
from node.api.deps import (
    Caller,
    Downloads,
    OwnerOrRegulator,
    PurposeRequest,
    RawGrant,
    RequestId,
    RequestPath,
    Runtime,
    SharingDep,
    VersionNo,
)
from node.api.schemas import (
    AccessList,
    AccessRequest,
    Dataset,
    DatasetList,
    DownloadList,
    PurposeAnswer,
)
from node.errors import NotFound
from node.sharing import purposes, views
from node.sharing.download import FRAME, Served, log_intent, log_outcome, stream_while_usable

router = APIRouter(tags=["sharing"])

BINARY = {200: {"content": {"application/octet-stream": {}}, "description": "ciphertext"}}


class FrameByFrame(StreamingResponse):
    """Asks its iterator for the next frame only once the socket has taken the previous one.

    The server waits for its write buffer to drain at the start of each ``send`` (uvicorn
    does), so an empty send before each frame means the grant check made when the frame is
    read happens as that frame is about to be written, not one frame ahead of it."""

    async def stream_response(self, send: Send) -> None:
        start = {"type": "http.response.start", "status": self.status_code}
        await send({**start, "headers": self.raw_headers})  # type: ignore[typeddict-item]
        frames = aiter(self.body_iterator)
        while True:
            await send({"type": "http.response.body", "body": b"", "more_body": True})
            try:
                frame = await anext(frames)
            except StopAsyncIteration:
                break
            await send({"type": "http.response.body", "body": frame, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})


@router.get("/v1/datasets", response_model=DatasetList, openapi_extra=no_body())
def list_datasets(_: Caller, rt: Runtime, sharing: SharingDep) -> DatasetList:
    """Every dataset in the catalog with its policy and anchored versions."""
    return DatasetList(
        as_of_block=rt.indexer.cursor(),
        datasets=[Dataset(**d) for d in views.datasets(rt.indexer, sharing.catalog.address)],
    )


@router.get("/v1/datasets/{dataset_id}", response_model=Dataset, openapi_extra=no_body())
def one_dataset(dataset_id: str, _: Caller, rt: Runtime, sharing: SharingDep) -> Dataset:
    """One dataset by its 0x id."""
    for d in views.datasets(rt.indexer, sharing.catalog.address):
        if d["dataset_id"] == dataset_id.lower():
            return Dataset(**d)
    raise NotFound(f"no dataset {dataset_id}")


@router.get(
    "/v1/access",
    response_model=AccessList,
    response_model_exclude_unset=True,
    openapi_extra=no_body(),
)
def list_access(
    who: Caller, rt: Runtime, sharing: SharingDep, mine: bool = False, incoming: bool = False
) -> AccessList:
    """Access requests; `mine`: the caller's own; `incoming`: on datasets this node owns."""
    reqs = views.requests(rt.indexer, sharing.access.address)
    if mine:
        reqs = [r for r in reqs if r["consumer"] == who.address]
    if incoming:
        owned = {
            d["dataset_id"]
            for d in views.datasets(rt.indexer, sharing.catalog.address)
            if d["owner"] == rt.address
        }
        reqs = [r for r in reqs if r["dataset_id"] in owned]
    for r in reqs:
        r["requested_at"] = rt.block_time(r["history"][0][0])
    return AccessList(as_of_block=rt.indexer.cursor(), requests=[AccessRequest(**r) for r in reqs])


@router.get(
    "/v1/access/{request_id}/purpose", response_model=PurposeAnswer, openapi_extra=no_body()
)
def request_purpose(request_id: RequestPath, req: PurposeRequest, rt: Runtime) -> PurposeAnswer:
    """The purpose text of an application this node's department filed (its hash is on
    chain): for the applicant, the dataset's owner, reviewers and regulators."""
    digest = "0x" + req.purpose_hash.hex()
    text = purposes.find(rt.engine, digest)
    if text is None:
        raise NotFound(f"this node holds no purpose text for request {request_id}")
    return PurposeAnswer(request_id=request_id, purpose=text, purpose_hash=digest)


@router.get(
    "/v1/datasets/{dataset_id}/versions/{version}/blob",
    response_class=FrameByFrame,
    responses=BINARY,
    openapi_extra=no_body(),
)
def download(
    dataset_id: str,
    version: VersionNo,
    request: RequestId,
    grant: RawGrant,
    who: Caller,
    rt: Runtime,
    sharing: SharingDep,
    downloads: Downloads,
) -> FrameByFrame:
    """The encrypted blob of a version, for the consumer of a usable RAW grant; the grant is
    checked again before every 1 MiB sent; the download is logged before its first byte and
    again however it ends."""
    row = rt.versions.find("0x" + grant.dataset_id.hex(), version)
    if row is None:
        raise NotFound(f"version {version} of {dataset_id} is not stored on this node")
    # the intent is on disk before the first byte leaves: a node killed mid-stream keeps it
    intent = log_intent(
        rt.access_log,
        downloads,
        request_id=request,
        consumer=who.address,
        row=row,
        block=rt.backend.block_number(),
    )
    frames = rt.blobs.stream(bytes.fromhex(row.ciphertext_hash[2:]), chunk=FRAME)

    def log(served: Served) -> None:
        log_outcome(rt.access_log, downloads, intent, served)

    return FrameByFrame(
        stream_while_usable(frames, sharing, grant, rt.backend.block_number, log),
        media_type="application/octet-stream",
        headers={
            "content-length": str(row.ciphertext_size),
            "x-tanlian-ciphertext-sha256": row.ciphertext_hash,
        },
    )


@router.get("/v1/downloads", response_model=DownloadList, openapi_extra=no_body())
def list_downloads(_: OwnerOrRegulator, downloads: Downloads) -> DownloadList:
    """Downloads this node served: for regulators and for this node's own account."""
    return DownloadList(downloads=downloads.all())
