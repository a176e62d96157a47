"""``/v1/query``: differentially private answers on DP grants of this node's datasets."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from node.api.body import json_request, no_body
from node.api.deps import ArchiveGrant, Caller, Gate, SharingDep, json_body
from node.api.schemas import QueryAnswer, QueryArchive, QueryBody, QueryDummy, QueryEstimate
from node.privacy.dp_queries import parse_spec

router = APIRouter(prefix="/v1/query", tags=["privacy"])

#: a query is a short JSON record; 64 KiB leaves room for long group key lists
QUERY_MAX_BODY = 64 << 10


@router.post(
    "",
    response_model=QueryAnswer | QueryEstimate | QueryDummy,
    openapi_extra=json_request(QueryBody, QUERY_MAX_BODY),
)
def dp_query(
    who: Caller,
    body: Annotated[QueryBody, Depends(json_body(QueryBody))],
    gate: Gate,
    _: SharingDep,
) -> QueryAnswer | QueryEstimate | QueryDummy:
    """A differentially private answer on a DP grant of a dataset this node owns.

    `estimate` returns the cost and the remaining budget; `dummy` runs the query on
    synthetic rows of the same schema; neither spends anything.
    """
    spec = parse_spec(body.spec)
    rid = body.request
    if rid is None:
        assert body.dataset is not None  # QueryBody requires one of the two
        rid = gate.grant_for(body.dataset, who.address)
    if body.mode == "estimate":
        return QueryEstimate(request=rid, **gate.estimate(rid, spec, who.address))
    if body.mode == "dummy":
        return QueryDummy(request=rid, **gate.dummy(rid, spec, who.address))
    return QueryAnswer(request=rid, **gate.query(rid, spec, who.address))


@router.get("/archive", response_model=QueryArchive, openapi_extra=no_body())
def dp_archive(request: ArchiveGrant, gate: Gate, sharing: SharingDep) -> QueryArchive:
    """Answers given on a grant: for its consumer, this node and regulators."""
    ceiling, spent = sharing.budget(request)
    return QueryArchive(
        request=request,
        budget={"ceiling": ceiling.as_json(), "spent": spent.as_json()},
        answers=gate.archive(request),
    )
