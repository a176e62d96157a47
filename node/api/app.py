"""The department node's FastAPI app.

Public: ``/healthz`` and the OpenAPI docs. Everything else needs a request signed by a
registered, active member (see ``node.api.signing``). Errors have one JSON shape,
``{"code", "message", "detail"}``, produced here and nowhere else.
"""

import logging
import time
from collections.abc import Iterator
from typing import Annotated, Any, Literal, Self

import orjson
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field, StringConstraints, model_validator
from starlette.exceptions import HTTPException as StarletteHTTPException

import node
from node.api.signing import (
    AuthForbidden,
    AuthNotActive,
    AuthUnknownAccount,
    SignedRequest,
    verify_request,
)
from node.audit.blob_frames import MAX_VERSIONS, error_frame, file_frames
from node.audit.digest import index_digest
from node.errors import NotFound, TanlianError
from node.privacy.downloads import DownloadLogStore
from node.privacy.dp_queries import parse_spec
from node.registry.directory import MemberView
from node.runtime import NodeRuntime
from node.sharing import views
from node.sharing.gate import DpGate, GateContext
from node.sharing.service import check_download

logger = logging.getLogger(__name__)


class RegistryNotConfigured(TanlianError):
    code = "registry_not_configured"
    http_status = 503


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
    version: str


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


def _error(status: int, code: str, message: str, detail: Any = None) -> JSONResponse:
    return JSONResponse(
        status_code=status, content={"code": code, "message": message, "detail": detail}
    )


def create_app(runtime: NodeRuntime) -> FastAPI:
    settings = runtime.settings
    downloads = DownloadLogStore(runtime.engine)
    app = FastAPI(
        title=f"Tanlian node {settings.name or runtime.address}",
        version=node.__version__,
        description="A Tanlian department node. Every route except /healthz needs a "
        "request signed by a registered, active member (x-tanlian-* headers).",
        responses={401: {"model": ErrorBody}, 403: {"model": ErrorBody}},
    )

    @app.exception_handler(TanlianError)
    async def tanlian_error(_: Request, exc: TanlianError) -> JSONResponse:
        return _error(exc.http_status, exc.code, exc.message, exc.detail)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
        return _error(400, "invalid_input", "request failed validation", problems)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return _error(exc.status_code, code, str(exc.detail))

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error")
        return _error(500, "internal_error", "internal error; see the node's log")

    own_address = runtime.address

    async def caller(request: Request) -> MemberView:
        """The registered, active member who signed this request."""
        headers = request.headers
        # Bodiless requests (most reads) skip waiting on the body stream.
        has_body = headers.get("content-length", "0") != "0" or "transfer-encoding" in headers
        body = await request.body() if has_body else b""
        signed: SignedRequest = verify_request(
            headers,
            request.method,
            request.url.path,
            request.url.query,
            body,
            audience=own_address,
            now=time.time(),
            max_skew=settings.api.max_clock_skew_seconds,
        )
        directory = runtime.directory
        if directory is None:
            raise RegistryNotConfigured("this node has no registry configured")
        member = directory.get(signed.account)
        if member is None:
            raise AuthUnknownAccount(f"{signed.account} is not a registered member")
        if member.status != "active":
            raise AuthNotActive(f"{signed.account} is {member.status}, not active")
        # Checked last so that refused requests do not fill the nonce table.
        runtime.nonces.use(signed.account, signed.nonce, signed.timestamp)
        return member

    Caller = Annotated[MemberView, Depends(caller)]

    @app.get("/healthz", response_model=Health, tags=["public"])
    def healthz() -> Health:
        try:
            head: int | None = runtime.backend.block_number()
        except TanlianError:
            head = None
        return Health(
            status="ok" if head is not None and runtime.last_sync_error is None else "degraded",
            name=settings.name,
            address=runtime.address,
            roles=list(settings.roles),
            chain_id=runtime.backend.chain_id,
            chain_head=head,
            indexed_block=runtime.indexer.cursor(),
            registry=runtime.registry.address if runtime.registry else None,
            sync_error=runtime.last_sync_error,
            version=node.__version__,
        )

    @app.get("/v1/nodes", response_model=MemberList, tags=["registry"])
    def list_nodes(_: Caller) -> MemberList:
        """Every member the registry knows, with status, roles, keys and endpoints."""
        assert runtime.directory is not None
        return MemberList(
            as_of_block=runtime.directory.as_of_block,
            members=[Member(**m.as_dict()) for m in runtime.directory.all()],
        )

    @app.get("/v1/nodes/me", response_model=Member, tags=["registry"])
    def me(who: Caller) -> Member:
        """The caller's own record, as this node sees it."""
        return Member(**who.as_dict())

    @app.get("/v1/nodes/{address}", response_model=Member, tags=["registry"])
    def one_node(address: str, _: Caller) -> Member:
        assert runtime.directory is not None
        from eth_utils import is_address, to_checksum_address

        if not is_address(address):
            raise NotFound(f"{address!r} is not an address")
        member = runtime.directory.get(to_checksum_address(address))
        if member is None:
            raise NotFound(f"no member {address}")
        return Member(**member.as_dict())

    # -- datasets and access ----------------------------------------------------------
    def sharing_views():
        if runtime.sharing is None:
            raise RegistryNotConfigured("this node has no data catalog configured")
        return runtime.sharing

    @app.get("/v1/datasets", tags=["sharing"])
    def list_datasets(_: Caller) -> dict[str, Any]:
        """Every dataset in the catalog with its policy and anchored versions."""
        sharing = sharing_views()
        return {
            "as_of_block": runtime.indexer.cursor(),
            "datasets": views.datasets(runtime.indexer, sharing.catalog.address),
        }

    @app.get("/v1/datasets/{dataset_id}", tags=["sharing"])
    def one_dataset(dataset_id: str, _: Caller) -> dict[str, Any]:
        sharing = sharing_views()
        for d in views.datasets(runtime.indexer, sharing.catalog.address):
            if d["dataset_id"] == dataset_id.lower():
                return d
        raise NotFound(f"no dataset {dataset_id}")

    @app.get("/v1/access", tags=["sharing"])
    def list_access(who: Caller, mine: bool = False, incoming: bool = False) -> dict[str, Any]:
        """Access requests; `mine`: the caller's own; `incoming`: on datasets this node owns."""
        sharing = sharing_views()
        reqs = views.requests(runtime.indexer, sharing.access.address)
        if mine:
            reqs = [r for r in reqs if r["consumer"] == who.address]
        if incoming:
            owned = {
                d["dataset_id"]
                for d in views.datasets(runtime.indexer, sharing.catalog.address)
                if d["owner"] == runtime.address
            }
            reqs = [r for r in reqs if r["dataset_id"] in owned]
        return {"as_of_block": runtime.indexer.cursor(), "requests": reqs}

    @app.get("/v1/datasets/{dataset_id}/versions/{version}/blob", tags=["sharing"])
    def download(dataset_id: str, version: int, request: int, who: Caller) -> StreamingResponse:
        """The encrypted blob of a version, for the consumer of a usable RAW grant."""
        sharing = sharing_views()
        try:
            ds_bytes = bytes.fromhex(dataset_id.removeprefix("0x"))
        except ValueError:
            raise NotFound(f"no dataset {dataset_id}") from None
        grant = check_download(sharing, request, who.address, ds_bytes, version, runtime.address)
        row = runtime.versions.find("0x" + ds_bytes.hex(), version)
        if row is None:
            raise NotFound(f"version {version} of {dataset_id} is not stored on this node")
        log_id = downloads.start(request, who.address, row.dataset_id, version, row.ciphertext_hash)
        blob = runtime.blobs.stream(bytes.fromhex(row.ciphertext_hash[2:]), chunk=1 << 20)

        started, head = time.time(), runtime.backend.block_number()

        def body():
            sent, outcome = 0, "aborted"
            try:
                for i, block in enumerate(blob):
                    # The grant must hold for the whole transfer, not only at its start.
                    if time.time() >= grant.expires_at or (
                        i % 16 == 15 and not sharing.is_usable(request)
                    ):
                        outcome = "grant ended during transfer"
                        return
                    yield block
                    sent += len(block)
                outcome = "completed"
            finally:
                downloads.finish(log_id, sent, outcome)
                runtime.access_log.append(
                    "download",
                    request_id=request,
                    consumer=who.address,
                    dataset_id=row.dataset_id,
                    version=version,
                    block=head,
                    started_at=round(started, 6),
                    bytes=sent,
                    outcome=outcome,
                    ciphertext_sha256=row.ciphertext_hash,
                )

        return StreamingResponse(
            body(),
            media_type="application/octet-stream",
            headers={
                "content-length": str(row.ciphertext_size),
                "x-tanlian-ciphertext-sha256": row.ciphertext_hash,
            },
        )

    gate = DpGate(
        GateContext(
            address=runtime.address,
            sharing=runtime.sharing,
            engine=runtime.engine,
            versions=runtime.versions,
            blobs=runtime.blobs,
            encryption_key=runtime.keys.encryption_key,
            events=runtime.indexer,
            access_log=runtime.access_log,
            head=runtime.backend.block_number,
            wait_synced=runtime.wait_synced,
        )
    )

    class QueryBody(BaseModel):
        model_config = {"extra": "forbid"}
        #: the DP grant (access request id), or else:
        request: int | None = None
        #: a dataset of this node (0x id): the caller's newest usable DP grant on it is used
        dataset: str | None = None
        spec: dict[str, Any]
        mode: Literal["answer", "estimate", "dummy"] = "answer"

        @model_validator(mode="after")
        def _one_target(self) -> Self:
            if (self.request is None) == (self.dataset is None):
                raise ValueError("give either request (a grant id) or dataset (0x… id)")
            return self

    @app.post("/v1/query", tags=["privacy"])
    def dp_query(body: QueryBody, who: Caller) -> dict[str, Any]:
        """A differentially private answer on a DP grant of a dataset this node owns.

        `estimate` returns the cost and the remaining budget; `dummy` runs the query on
        synthetic rows of the same schema; neither spends anything.
        """
        sharing_views()
        spec = parse_spec(body.spec)
        rid = body.request
        if rid is None:
            assert body.dataset is not None
            rid = gate.grant_for(body.dataset, who.address)
        if body.mode == "estimate":
            return {"request": rid, **gate.estimate(rid, spec, who.address)}
        if body.mode == "dummy":
            return {"request": rid, **gate.dummy(rid, spec, who.address)}
        return {"request": rid, **gate.query(rid, spec, who.address)}

    @app.get("/v1/query/archive", tags=["privacy"])
    def dp_archive(request: int, who: Caller) -> dict[str, Any]:
        """Answers given on a grant: for its consumer, this node and regulators."""
        sharing = sharing_views()
        consumer = sharing.request(request).consumer
        if who.address not in (consumer, runtime.address) and "regulator" not in who.roles:
            raise AuthForbidden("only the grant's consumer, its owner and regulators read this")
        return {
            "request": request,
            "budget": dict(zip(("ceiling", "spent"), sharing.budget(request), strict=True)),
            "answers": gate.archive(request),
        }

    def regulator_or_self(who: Any) -> None:
        if "regulator" not in who.roles and who.address != runtime.address:
            raise AuthForbidden("only regulators and this node's own account read the audit data")

    @app.get("/v1/audit/log", tags=["audit"])
    def audit_log(who: Caller) -> Response:
        """This node's access log and its anchored batches (regulators, this node)."""
        regulator_or_self(who)
        body = {
            "node": runtime.address,
            "entries": runtime.access_log.entries(),
            "batches": runtime.access_log.batches(),
        }
        # orjson directly: the log may hold 10^5 entries
        return Response(orjson.dumps(body), media_type="application/json")

    @app.post("/v1/audit/anchor", tags=["audit"])
    def audit_anchor(who: Caller) -> dict[str, Any]:
        """Anchor the unanchored access-log entries now (regulators, this node)."""
        regulator_or_self(who)
        return {"anchored_batches": runtime.anchor_log()}

    @app.get("/v1/audit/proof", tags=["audit"])
    def audit_proof(seq: int, who: Caller) -> dict[str, Any]:
        """One log entry with its Merkle inclusion proof against its anchored batch."""
        regulator_or_self(who)
        found = runtime.access_log.proof(seq)
        if found is None:
            raise NotFound(f"no log entry {seq}")
        return found

    @app.get("/v1/audit/index", tags=["audit"])
    def audit_index(to_block: int, who: Caller) -> dict[str, Any]:
        """A digest of this node's event index up to ``to_block``, to compare with a rebuild."""
        regulator_or_self(who)
        runtime.wait_synced(to_block, timeout=10)
        digest, count = index_digest(runtime.indexer.events(to_block=to_block))
        return {"cursor": runtime.indexer.cursor(), "digest": digest, "events": count}

    class VersionRef(BaseModel):
        model_config = {"extra": "forbid"}
        dataset_id: Annotated[str, StringConstraints(pattern=r"^0x[0-9a-fA-F]{64}$")]
        version: Annotated[int, Field(ge=1)]

    class BlobsBody(BaseModel):
        model_config = {"extra": "forbid"}
        versions: Annotated[list[VersionRef], Field(min_length=1, max_length=MAX_VERSIONS)]

    @app.post("/v1/audit/blobs", tags=["audit"])
    def audit_blobs(body: BlobsBody, who: Caller) -> StreamingResponse:
        """Many stored ciphertexts in one stream of frames, in the order asked (see
        ``node.audit.blob_frames``): for a regulator to hash against the chain."""
        if "regulator" not in who.roles:
            raise AuthForbidden("only regulators fetch ciphertexts for audit")
        wanted = [(v.dataset_id.lower(), v.version) for v in body.versions]
        rows = runtime.versions.find_many(wanted)

        def frames() -> Iterator[bytes]:
            for dataset_id, version in wanted:
                row = rows.get((dataset_id, version))
                if row is None:
                    yield error_frame(
                        "not_found", f"version {version} of {dataset_id} is not stored here"
                    )
                    continue
                path = runtime.blobs.path_for(bytes.fromhex(row.ciphertext_hash[2:]))
                try:
                    fh = open(path, "rb")  # noqa: SIM115 - closed below, after streaming
                except FileNotFoundError:
                    yield error_frame(
                        "not_found", f"the blob of {dataset_id} v{version} is missing"
                    )
                    continue
                with fh:
                    yield from file_frames(fh, path.name)

        return StreamingResponse(frames(), media_type="application/octet-stream")

    @app.get("/v1/downloads", tags=["sharing"])
    def list_downloads(who: Caller) -> dict[str, Any]:
        """Downloads this node served: for regulators and for this node's own account."""
        if "regulator" not in who.roles and who.address != runtime.address:
            raise AuthForbidden("only regulators and the owner read the download log")
        return {"downloads": downloads.all()}

    return app
