"""``/v1/joint``: this node's part in joint queries (MPC over several owners' datasets).

Only the joint query's consumer drives a run, and only on a node that is one of its
participants on chain; every body is checked against the query hash the consumer proposed.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, ConfigDict, Field

from node.api.body import json_request
from node.api.deps import Caller, json_body
from node.joint.spec import parse_spec

router = APIRouter(prefix="/v1/joint", tags=["joint"])

#: a spec lists its public domain (up to 10,000 keys) and the parties' certificates
JOINT_MAX_BODY = 2 << 20
JointId = Annotated[int, Path(ge=1, le=2**63 - 1, description="joint query id")]


class PrepareBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    attempt: int = Field(ge=0, le=2**32 - 1)
    spec: dict[str, Any]


class PartyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    pid: int = Field(ge=0, le=64)
    cert: str = Field(max_length=8192)
    endpoint: str = Field(max_length=300)


class RunBody(PrepareBody):
    parties: list[PartyIn] = Field(min_length=2, max_length=17)


class AckBody(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PreparedParty(BaseModel):
    """This owner's party for the run: its id, run certificate and endpoint."""

    pid: int
    cert: str
    endpoint: str


class RunDone(BaseModel):
    joint: int
    attempt: int
    pid: int
    ran: bool
    #: where this owner's time went (decrypt_and_reduce, checks_before_party, noise, party)
    seconds: dict[str, float]


class Acknowledged(BaseModel):
    joint: int
    result_sha256: str
    #: the acknowledge transaction; None when this node had acknowledged already
    tx: str | None


async def get_joint(request: Request) -> Any:
    """The node's JointOwner, made at the first joint request: its modules (pandas, the
    MPC party) load then, not at every node start."""
    state = request.app.state
    if getattr(state, "joint", None) is None:
        from node.joint.service import JointOwner

        state.joint = JointOwner(state.runtime)
    return state.joint


Joint = Annotated[Any, Depends(get_joint)]


@router.post(
    "/{joint_id}/prepare",
    response_model=PreparedParty,
    openapi_extra=json_request(PrepareBody, JOINT_MAX_BODY),
)
def prepare(
    joint_id: JointId,
    who: Caller,
    body: Annotated[PrepareBody, Depends(json_body(PrepareBody))],
    joint: Joint,
) -> dict[str, Any]:
    """Spend this owner's ε on its grant and join the run with a fresh certificate."""
    return joint.prepare(who.address, joint_id, body.attempt, parse_spec(body.spec))


@router.post(
    "/{joint_id}/run", response_model=RunDone, openapi_extra=json_request(RunBody, JOINT_MAX_BODY)
)
def run(
    joint_id: JointId,
    who: Caller,
    body: Annotated[RunBody, Depends(json_body(RunBody))],
    joint: Joint,
) -> dict[str, Any]:
    """Run this owner's party of a prepared run; answers when the run ends."""
    return joint.run(
        who.address,
        joint_id,
        body.attempt,
        parse_spec(body.spec),
        [p.model_dump() for p in body.parties],
    )


@router.post(
    "/{joint_id}/acknowledge",
    response_model=Acknowledged,
    openapi_extra=json_request(AckBody, 1024),
)
def acknowledge(
    joint_id: JointId,
    who: Caller,
    _: Annotated[AckBody, Depends(json_body(AckBody))],
    joint: Joint,
) -> dict[str, Any]:
    """Log the result hash the consumer recorded for a completed query."""
    return joint.acknowledge(who.address, joint_id)
