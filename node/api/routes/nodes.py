"""``/v1/nodes``: the registry as this node's index tells it."""

from __future__ import annotations

from eth_utils import is_address, to_checksum_address
from fastapi import APIRouter

from node.api.body import no_body
from node.api.deps import Caller, RegistryNotConfigured, Runtime
from node.api.schemas import Member, MemberList
from node.errors import NotFound
from node.registry.directory import MemberDirectory

router = APIRouter(prefix="/v1/nodes", tags=["registry"])


def _directory(rt: Runtime) -> MemberDirectory:
    if rt.directory is None:  # caller has refused the request already; kept for typing
        raise RegistryNotConfigured("this node has no registry configured")
    return rt.directory


# The member directory is in memory: these routes run on the event loop, so that they
# never wait for a worker thread held by a chain call (a download's grant check, a DP spend).
@router.get("", response_model=MemberList, openapi_extra=no_body())
async def list_nodes(_: Caller, rt: Runtime) -> MemberList:
    """Every member the registry knows, with status, roles, keys and endpoints."""
    directory = _directory(rt)
    return MemberList(
        as_of_block=directory.as_of_block,
        members=[Member(**m.as_dict()) for m in directory.all()],
    )


@router.get("/me", response_model=Member, openapi_extra=no_body())
async def me(who: Caller) -> Member:
    """The caller's own record, as this node sees it."""
    return Member(**who.as_dict())


@router.get("/{address}", response_model=Member, openapi_extra=no_body())
async def one_node(address: str, _: Caller, rt: Runtime) -> Member:
    """One member's record by its account address."""
    if not is_address(address):
        raise NotFound(f"{address!r} is not an address")
    member = _directory(rt).get(to_checksum_address(address))
    if member is None:
        raise NotFound(f"no member {address}")
    return Member(**member.as_dict())
