"""``/healthz``: the one public route (no signature), what clients learn the audience from."""

from __future__ import annotations

from fastapi import APIRouter

import node
from node.api.body import no_body
from node.api.deps import Runtime
from node.api.schemas import Health
from node.errors import TanlianError

router = APIRouter(tags=["public"])


@router.get("/healthz", response_model=Health, openapi_extra=no_body())
def healthz(rt: Runtime) -> Health:
    try:
        head: int | None = rt.backend.block_number()
    except TanlianError:
        head = None
    return Health(
        status="ok"
        if head is not None and rt.last_sync_error is None and rt.settings_error is None
        else "degraded",
        name=rt.settings.name,
        address=rt.address,
        roles=list(rt.settings.roles),
        chain_id=rt.backend.chain_id,
        chain_head=head,
        indexed_block=rt.indexer.cursor(),
        registry=rt.registry.address if rt.registry else None,
        sync_error=rt.last_sync_error,
        settings_error=rt.settings_error,
        version=node.__version__,
    )
