"""Who may call what: the only place the node's API decides authorization.

``caller`` authenticates (signature over the bounded raw body, registry membership, replay);
``regulator``, ``owner_or_regulator``, ``raw_grant``, ``archive_reader`` and
``purpose_reader`` authorize on top
of it. Routes take these as ``Annotated`` parameters, so a test can swap any of them with
``app.dependency_overrides``. JSON bodies are parsed by :func:`json_body`, which runs after
``caller``: nothing a caller sends is parsed before its signature is verified.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

from fastapi import Depends, Path, Query, Request
from pydantic import BaseModel

from node.api.body import read_body, validated
from node.chain.errors import ContractReverted
from node.errors import NotFound, TanlianError
from node.peer.signing import (
    AuthForbidden,
    AuthNotActive,
    AuthUnknownAccount,
    check_headers,
    verify_signature,
)
from node.privacy.downloads import DownloadLogStore
from node.registry.directory import MemberView
from node.runtime import NodeRuntime
from node.sharing.contracts import RequestInfo, Sharing
from node.sharing.gate import DpGate
from node.sharing.service import check_download

M = TypeVar("M", bound=BaseModel)

#: request ids and log positions are 64-bit in the node's tables (chain ids are far below)
RequestId = Annotated[int, Query(ge=0, le=2**63 - 1, description="access request id")]
RequestPath = Annotated[int, Path(ge=0, le=2**63 - 1, description="access request id")]
#: version numbers are 32-bit columns in the node's tables
VersionNo = Annotated[int, Path(ge=1, le=2**31 - 1)]


class RegistryNotConfigured(TanlianError):
    code = "registry_not_configured"
    http_status = 503


# -- the node's parts -------------------------------------------------------------------
# Dependencies that only look something up are coroutines: FastAPI runs a plain function
# dependency on a worker thread, so every request, the cheapest read included, would wait
# for a thread that a DP spend or a download's grant check may be holding.
async def get_runtime(request: Request) -> NodeRuntime:
    return request.app.state.runtime


Runtime = Annotated[NodeRuntime, Depends(get_runtime)]


async def get_sharing(rt: Runtime) -> Sharing:
    if rt.sharing is None:
        raise RegistryNotConfigured("this node has no data catalog configured")
    return rt.sharing


SharingDep = Annotated[Sharing, Depends(get_sharing)]


async def get_gate(request: Request) -> DpGate:
    return request.app.state.gate


Gate = Annotated[DpGate, Depends(get_gate)]


async def get_downloads(request: Request) -> DownloadLogStore:
    return request.app.state.downloads


Downloads = Annotated[DownloadLogStore, Depends(get_downloads)]


# -- authentication ---------------------------------------------------------------------
async def caller(request: Request, rt: Runtime) -> MemberView:
    """The registered, active member who signed this request.

    Everything that needs no body is checked before any of it is read (headers, audience,
    clock, the claimed account's membership): a stranger's body is refused unread."""
    headers = check_headers(
        request.headers,
        audience=rt.address,
        now=time.time(),
        max_skew=rt.settings.api.max_clock_skew_seconds,
    )
    if rt.directory is None:
        raise RegistryNotConfigured("this node has no registry configured")
    member = rt.directory.get(headers.account)
    if member is None:
        raise AuthUnknownAccount(f"{headers.account} is not a registered member")
    if member.status != "active":
        raise AuthNotActive(f"{headers.account} is {member.status}, not active")
    body = await read_body(request)
    signed = verify_signature(
        headers,
        request.method,
        # the percent-decoded path, as the client signed it: request.url.path re-escapes
        # characters such as "\\", "?" and "#", so a signed request for such a path failed
        request.scope["path"],
        request.url.query,
        body,
    )
    # Checked last so that refused requests do not fill the nonce table.
    rt.nonces.use(signed.account, signed.nonce, signed.timestamp)
    return member


Caller = Annotated[MemberView, Depends(caller)]


def json_body(model: type[M]) -> Callable[..., Awaitable[M]]:
    """A dependency giving the body as ``model``: parsed only once ``caller`` has verified
    the signature over its bytes (and the body's size was bounded while reading them)."""

    async def parse(request: Request, _: Caller) -> M:
        return validated(model, await read_body(request))

    return parse


# -- authorization ----------------------------------------------------------------------
async def regulator(who: Caller) -> MemberView:
    if "regulator" not in who.roles:
        raise AuthForbidden("only regulators may use this route")
    return who


Regulator = Annotated[MemberView, Depends(regulator)]


async def owner_or_regulator(who: Caller, rt: Runtime) -> MemberView:
    """A regulator, or this node's own account (its operator's CLI)."""
    if "regulator" not in who.roles and who.address != rt.address:
        raise AuthForbidden("only regulators and this node's own account may use this route")
    return who


OwnerOrRegulator = Annotated[MemberView, Depends(owner_or_regulator)]


def raw_grant(
    dataset_id: str,
    version: VersionNo,
    request: RequestId,
    who: Caller,
    rt: Runtime,
    sharing: SharingDep,
) -> RequestInfo:
    """The caller's usable RAW grant on exactly this dataset version of this node."""
    try:
        ds_bytes = bytes.fromhex(dataset_id.removeprefix("0x"))
    except ValueError:
        raise NotFound(f"no dataset {dataset_id}") from None
    return check_download(sharing, request, who.address, ds_bytes, version, rt.address)


RawGrant = Annotated[RequestInfo, Depends(raw_grant)]


def archive_reader(request: RequestId, who: Caller, rt: Runtime, sharing: SharingDep) -> int:
    """The grant whose DP answers the caller may read: its consumer, this node, regulators."""
    consumer = sharing.request(request).consumer
    if who.address not in (consumer, rt.address) and "regulator" not in who.roles:
        raise AuthForbidden("only the grant's consumer, its owner and regulators read this")
    return request


ArchiveGrant = Annotated[int, Depends(archive_reader)]


def purpose_reader(request_id: RequestPath, who: Caller, rt: Runtime, sharing: SharingDep):
    """An application filed by this node's department, whose purpose the caller may read:
    the applicant itself, the dataset's owner, a reviewer (an active provider other than
    the applicant) or a regulator."""
    try:
        req = sharing.request(request_id)
    except ContractReverted as exc:
        if exc.error == "UnknownRequest":
            raise NotFound(f"no access request {request_id}") from None
        raise
    if req.consumer != rt.address:
        raise NotFound(f"request {request_id} was not filed by this node's department")
    if who.address not in (req.consumer, req.owner) and not (
        "regulator" in who.roles or "provider" in who.roles
    ):
        raise AuthForbidden(
            "only the applicant, the dataset's owner, reviewers and regulators read a purpose"
        )
    return req


PurposeRequest = Annotated[RequestInfo, Depends(purpose_reader)]
