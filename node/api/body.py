"""Request bodies: bounded before they are read, parsed only after the signature is checked.

No route declares a FastAPI body parameter (FastAPI would parse the body before any
dependency runs, so before the signature check). Instead the ``caller`` dependency reads the
raw bytes through :func:`read_body`, refused by ``content-length`` before a byte is read and
capped while streaming, verifies the signature over them, and only then does the route's
body dependency parse them with :func:`parse_json` (nesting bounded before the parser sees
them) and validate them with pydantic.

Each route's limit is declared on the route (``openapi_extra``, see :func:`json_request` and
:func:`no_body`), so it is in ``/openapi.json`` too.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from node.errors import InvalidInput, TanlianError

#: openapi_extra key holding a route's body limit in bytes
LIMIT_KEY = "x-tanlian-max-body-bytes"
#: routes that take no body: a body is signed over but never used
NO_BODY_LIMIT = 1 << 10
#: JSON bodies are flat records; deeper nesting is refused before parsing
MAX_JSON_DEPTH = 32

M = TypeVar("M", bound=BaseModel)
#: models whose JSON schemas the OpenAPI document needs (see node.api.main)
BODY_MODELS: list[type[BaseModel]] = []


class BodyTooLarge(TanlianError):
    code = "body_too_large"
    http_status = 413


class MalformedJson(InvalidInput):
    code = "invalid_json"


class JsonTooDeep(InvalidInput):
    code = "json_too_deep"


def no_body() -> dict[str, Any]:
    """``openapi_extra`` of a route that takes no body."""
    return {LIMIT_KEY: NO_BODY_LIMIT}


def json_request(model: type[BaseModel], max_bytes: int) -> dict[str, Any]:
    """``openapi_extra`` of a route whose body is ``model`` as JSON of at most ``max_bytes``."""
    BODY_MODELS.append(model)
    return {
        LIMIT_KEY: max_bytes,
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}
            },
        },
    }


def route_limit(request: Request) -> int:
    route = request.scope.get("route")
    extra = getattr(route, "openapi_extra", None) or {}
    return int(extra.get(LIMIT_KEY, NO_BODY_LIMIT))


def declared_length(request: Request) -> None:
    """Refuse a body whose declared length is over the route's limit, before reading any
    of it (an app-wide dependency: it runs first on every route, /healthz included)."""
    limit = route_limit(request)
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(
            f"the body is {declared} bytes; this route takes at most {limit}",
            detail={"limit": limit},
        )


async def read_body(request: Request) -> bytes:
    """The raw body, at most the route's limit: refused by its declared length before any
    of it is read, and cut off while streaming when no length (or a false one) was given."""
    cached = getattr(request.state, "raw_body", None)
    if cached is not None:
        return cached
    declared_length(request)
    limit = route_limit(request)
    declared = request.headers.get("content-length")
    body = b""
    if declared not in (None, "0") or "transfer-encoding" in request.headers:
        parts: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                raise BodyTooLarge(
                    f"the body exceeds this route's limit of {limit} bytes",
                    detail={"limit": limit},
                )
            parts.append(chunk)
        body = b"".join(parts)
    request.state.raw_body = body
    return body


def body_unread(request: Request) -> bool:
    """Whether the request came with a body that :func:`read_body` has not read."""
    sent = request.headers.get("content-length") not in (None, "0") or (
        "transfer-encoding" in request.headers
    )
    return sent and getattr(request.state, "raw_body", None) is None


# A JSON string (escapes included); brackets inside strings do not nest.
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def json_depth(raw: bytes) -> int:
    """The deepest nesting of arrays and objects in ``raw``, without parsing it (linear)."""
    brackets = _STRING.sub(b"", raw).translate(None, _NOT_BRACKETS)
    return max(accumulate(_STEP[b] for b in brackets), default=0)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(raw: bytes, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """``raw`` as JSON: nesting over ``max_depth`` is refused before parsing (the eth
    libraries raise Python's recursion limit, so the C decoder's own guard no longer holds);
    NaN and ±Infinity are refused; integers stay exact."""
    depth = json_depth(raw)
    if depth > max_depth:
        raise JsonTooDeep(
            f"the body nests {depth} levels deep; at most {max_depth} are allowed",
            detail={"limit": max_depth},
        )
    try:
        return json.loads(raw, parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        # ValueError covers JSONDecodeError and integers past Python's digit limit
        raise MalformedJson(f"the body is not valid JSON: {exc}") from None


def validated(model: type[M], raw: bytes) -> M:
    """``raw`` parsed by :func:`parse_json` and validated as ``model`` (400 with each
    problem, in the shape FastAPI's own validation errors have)."""
    data = parse_json(raw)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [{"loc": ["body", *e["loc"]], "msg": e["msg"]} for e in exc.errors()]
        raise InvalidInput("request failed validation", detail=problems) from None
