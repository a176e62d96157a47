"""The department node's FastAPI app: its parts, its one error mapping, its routers.

Public: ``/healthz`` and the OpenAPI docs. Everything else needs a request signed by a
registered, active member (``node.peer.signing``, checked in ``node.api.deps``). Errors have
one JSON shape, ``{"code", "message", "detail"}``, produced here and nowhere else.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

import node
from node.api.body import BODY_MODELS, BodyTooLarge, body_unread, declared_length
from node.api.routes import audit, health, joint, nodes, quality, query, sharing
from node.api.schemas import ErrorBody
from node.errors import TanlianError
from node.runtime import NodeRuntime
from node.sharing.gate import DpGate, GateContext

logger = logging.getLogger(__name__)
ROUTERS = (
    health.router,
    nodes.router,
    sharing.router,
    quality.router,
    query.router,
    joint.router,
    audit.router,
)


def error_response(status: int, code: str, message: str, detail: Any = None) -> JSONResponse:
    return JSONResponse(
        status_code=status, content={"code": code, "message": message, "detail": detail}
    )


#: worker threads for sync routes: most of their time is spent waiting for the chain host
#: (grant checks, spends) or a client's socket, not on the CPU; anyio's 40 queued cheap reads
#: behind 40 such waits under 200 clients (p99 of seconds in benchmarks/load.py)
WORKER_THREADS = 128


@asynccontextmanager
async def _lifespan(_: FastAPI) -> AsyncIterator[None]:
    anyio.to_thread.current_default_thread_limiter().total_tokens = WORKER_THREADS
    yield


def create_app(runtime: NodeRuntime) -> FastAPI:
    app = FastAPI(
        lifespan=_lifespan,
        title=f"Tanlian node {runtime.settings.name or runtime.address}",
        version=node.__version__,
        description="A Tanlian department node. Every route except /healthz needs a "
        "request signed by a registered, active member (x-tanlian-* headers).",
        responses={
            400: {"model": ErrorBody},
            401: {"model": ErrorBody},
            403: {"model": ErrorBody},
            413: {"model": ErrorBody},
        },
        dependencies=[Depends(declared_length)],
    )
    app.state.runtime = runtime
    app.state.gate = DpGate(
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
    app.state.downloads = runtime.downloads
    app.state.joint = None  # made at the first joint request (routes/joint.py)

    @app.exception_handler(TanlianError)
    async def tanlian_error(request: Request, exc: TanlianError) -> JSONResponse:
        response = error_response(exc.http_status, exc.code, exc.message, exc.detail)
        if isinstance(exc, BodyTooLarge) or body_unread(request):
            # the rest of a refused body (or all of a stranger's) is not read: the connection
            # closes after the answer
            response.headers["connection"] = "close"
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [{"loc": list(e["loc"]), "msg": e["msg"]} for e in exc.errors()]
        return error_response(400, "invalid_input", "request failed validation", problems)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return error_response(exc.status_code, code, str(exc.detail))

    @app.exception_handler(Exception)
    async def unexpected(_: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error")
        return error_response(500, "internal_error", "internal error; see the node's log")

    for router in ROUTERS:
        app.include_router(router)
    _document_bodies(app)
    return app


def _document_bodies(app: FastAPI) -> None:
    """Put the JSON schemas of the bodies routes parse themselves (see ``node.api.body``)
    into the OpenAPI document's components, where their ``requestBody`` refers."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = generate()  # which keeps it in app.openapi_schema
            schemas = doc.setdefault("components", {}).setdefault("schemas", {})
            for model in BODY_MODELS:
                schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
                schemas.update(schema.pop("$defs", {}))
                schemas[model.__name__] = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
