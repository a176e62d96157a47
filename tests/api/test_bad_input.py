"""Bad input at every door of a node: huge bodies, deep or malformed JSON, NaN/Infinity,
negative and 2^256 numbers, out-of-range integers, path-like and Unicode names.

Every route of the app is probed (the list comes from the routers themselves), signed by a
member allowed to use it so that the input really reaches the route; each answer must be a
4xx in the one JSON error shape with a stable code, no traceback, and nothing the node stores
may change."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, unquote, urlencode

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from node.api.body import LIMIT_KEY, MAX_JSON_DEPTH
from node.api.main import ROUTERS
from node.peer.signing import sign_request
from tests.api.conftest import Actor, FullNode

ROUTES: list[APIRoute] = [r for router in ROUTERS for r in router.routes if isinstance(r, APIRoute)]
ROUTE_IDS = [f"{sorted(r.methods)[0]} {r.path}" for r in ROUTES]
CODE = re.compile(r"^[a-z][a-z0-9_]*$")

BAD_INTS = [
    "-1",
    "9223372036854775808",  # 2^63: past every 64-bit column
    str(2**256),
    "1" * 5000,  # past Python's integer-parsing digit limit
    "1.5",
    "nan",
    "inf",
    "",
    "１",  # a full-width digit
    "0x10",
]
BAD_NAMES = [
    "../../etc/passwd",
    "..",
    "\x00",  # NUL
    "锦江区",
    "\u202egpj.exe",
    "x" * 5000,
    "0x" + "0" * 64,
    "0x" + "g" * 64,
    "0x" + "0" * 63,
]
BAD_BOOLS = ["maybe", "2", "锦"]
#: routes authenticated by a ring signature in their body, not by an account signature
RING_SIGNED = {"/v1/feedback/anonymous"}
#: free text (a catalog keyword): empty, oversized, control characters
BAD_TEXT = ["", "x" * 5000, "\x00", "a\nb"]


def _signer(fn: FullNode, route: APIRoute) -> Actor:
    """Someone the route lets in: the grant's consumer for downloads and queries."""
    if route.path.endswith("/blob") or route.path == "/v1/query":
        return fn.consumer
    return fn.regulator


def _good(fn: FullNode) -> dict[str, str]:
    return {
        "address": fn.consumer.address,
        "dataset_id": fn.dataset_id,
        "version": "1",
        "request": str(fn.raw_grant),
        "request_id": str(fn.raw_grant),
        "seq": "1",
        "to_block": "1",
        "mine": "true",
        "incoming": "false",
        "sha256": "0x" + "ab" * 32,
        "owner": fn.owner.address,
        "feedback_id": "1",
        "joint_id": "1",
        "theme": "energy",
        "keyword": "kwh",
        "year": "2024",
        "adcode": "510104",
        "quality": "passed",
    }


def _params(route: APIRoute) -> tuple[list[str], list[str]]:
    """The route's path and query parameters, its dependencies' included."""
    path: dict[str, None] = {}
    query: dict[str, None] = {}

    def walk(d: Dependant) -> None:
        path.update(dict.fromkeys(p.name for p in d.path_params))
        query.update(dict.fromkeys(p.name for p in d.query_params))
        for sub in d.dependencies:
            walk(sub)

    walk(route.dependant)
    return list(path), list(query)


def _send(
    fn: FullNode,
    route: APIRoute,
    values: dict[str, str],
    *,
    body: bytes = b"",
    signed: bool = True,
    headers: dict[str, str] | None = None,
):
    path_names, query_names = _params(route)
    path = route.path
    for name in path_names:
        path = path.replace("{" + name + "}", quote(values[name], safe=""))
    query = urlencode({n: values[n] for n in query_names if n in values})
    method = sorted(route.methods)[0]
    # the node verifies the signature over the decoded path
    actor = _signer(fn, route) if signed and route.path != "/healthz" else None
    return fn.call(actor, method, path, query, body, headers=headers, signed_path=unquote(path))


def _refused(response, status: int | None = None, code: str | None = None) -> dict[str, Any]:
    """A 4xx in the error shape with a stable code, and no traceback."""
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:500])
    assert "Traceback" not in response.text and 'File "' not in response.text
    err = response.json()
    assert set(err) == {"code", "message", "detail"}, err
    assert CODE.match(err["code"]), err
    if status is not None:
        assert response.status_code == status, err
    if code is not None:
        assert err["code"] == code, err
    return err


# -- what the node stores, before and after --------------------------------------------------
def _stored(fn: FullNode) -> dict[str, Any]:
    node = fn.node
    (row,) = node.versions.anchored(fn.dataset_id)
    blob = node.blobs.path_for(bytes.fromhex(row.ciphertext_hash[2:]))
    return {
        "version": (row.version, row.ciphertext_hash, row.plaintext_hash, row.state),
        "blob": hashlib.sha256(blob.read_bytes()).hexdigest(),
        "log": node.access_log.entries(),
        "batches": node.access_log.batches(),
        "downloads": fn.app.state.downloads.all(),
        "usable": node.sharing.is_usable(fn.raw_grant) if node.sharing else None,
    }


@pytest.fixture(scope="module")
def stored_before(full_node: FullNode) -> Iterator[dict[str, Any]]:
    yield _stored(full_node)


# -- bodies --------------------------------------------------------------------------------
@pytest.mark.parametrize("route", ROUTES, ids=ROUTE_IDS)
def test_body_over_the_route_limit_is_refused_by_its_length(
    full_node: FullNode, stored_before: dict[str, Any], route: APIRoute
) -> None:
    limit = route.openapi_extra[LIMIT_KEY]
    big = b"{" + b" " * limit + b"}"
    for signed in (False, True):
        r = _send(full_node, route, _good(full_node), body=big, signed=signed)
        err = _refused(r, 413, "body_too_large")
        assert err["detail"] == {"limit": limit}


@pytest.mark.parametrize(
    "route",
    [r for r in ROUTES if r.path != "/healthz"],
    ids=[i for i in ROUTE_IDS if i != "GET /healthz"],
)
def test_streamed_body_past_the_limit_is_cut_off(
    full_node: FullNode, stored_before: dict[str, Any], route: APIRoute
) -> None:
    """No content-length (chunked): from a member, the node stops reading at the limit;
    unsigned, it reads none of it (issue 19: authenticate before reading)."""
    limit = route.openapi_extra[LIMIT_KEY]

    def chunks() -> Iterator[bytes]:
        for _ in range(limit // 1024 + 2):
            yield b" " * 1024

    r = _send(full_node, route, _good(full_node), body=chunks(), signed=False)  # type: ignore[arg-type]
    if route.path in RING_SIGNED:
        _refused(r, 413, "body_too_large")  # no account signature to wait for: cut off
        return
    _refused(r, 401, "auth_missing")
    # signed by a member (over another body: the stream is cut off before it is checked)
    path_names, query_names = _params(route)
    values = _good(full_node)
    path = route.path
    for name in path_names:
        path = path.replace("{" + name + "}", quote(values[name], safe=""))
    query = urlencode({n: values[n] for n in query_names if n in values})
    method = sorted(route.methods)[0]
    headers = sign_request(
        _signer(full_node, route).pk, method, unquote(path), query, b"", full_node.node.address
    )
    r = _send(full_node, route, values, body=chunks(), signed=False, headers=headers)  # type: ignore[arg-type]
    _refused(r, 413, "body_too_large")


QUERY_BODIES: dict[str, tuple[bytes, str | None]] = {
    "nesting bomb": (b"[" * 30_000 + b"]" * 30_000, "json_too_deep"),
    "deep in spec": (
        b'{"request": 1, "spec": {"a": ' + b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH + b"}}",
        "json_too_deep",
    ),
    "brackets in strings do not count": (
        b'{"request": 1, "spec": {"a": "' + b"[" * 5000 + b'"}, "x": 1}',
        "invalid_input",
    ),
    "brackets after an escaped quote do not count": (
        b'{"request": 1, "spec": {"a": "\\"' + b"{" * 5000 + b'\\\\"}, "x": 1}',
        "invalid_input",
    ),
    "malformed": (b'{"request": 1, "spec": {', "invalid_json"),
    "NaN": (b'{"request": 1, "spec": {"kind": "sum", "epsilon": NaN}}', "invalid_json"),
    "Infinity": (b'{"request": 1, "spec": {"epsilon": -Infinity}}', "invalid_json"),
    "2^256 request": (b'{"request": %d, "spec": {}}' % 2**256, "invalid_input"),
    "negative request": (b'{"request": -1, "spec": {}}', "invalid_input"),
    "fractional request": (b'{"request": 1.5, "spec": {}}', "invalid_input"),
    "5000-digit number": (b'{"request": ' + b"9" * 5000 + b', "spec": {}}', "invalid_json"),
    "array": (b"[1, 2]", "invalid_input"),
    "string": (b'"query"', "invalid_input"),
    "null": (b"null", "invalid_input"),
    "empty": (b"", "invalid_json"),
    "not UTF-8": (b'{"request": 1, "spec": {"kind": "\xff\xfe"}}', "invalid_json"),
    "extra field": (b'{"request": 1, "spec": {}, "admin": true}', "invalid_input"),
    "both targets": (b'{"request": 1, "dataset": "0x00", "spec": {}}', "invalid_input"),
    "path-like dataset": (
        b'{"dataset": "../../etc/passwd", "spec": {"kind": "count", "epsilon": 0.1}}',
        None,
    ),
    "Unicode dataset": (
        '{"dataset": "锦江区", "spec": {"kind": "count", "epsilon": 0.1}}'.encode(),
        None,
    ),
    "lone surrogate column": (
        b'{"request": 1, "mode": "dummy", "spec": {"kind": "sum", "column": "\\ud800", '
        b'"epsilon": 0.1}}',
        None,
    ),
    "epsilon 2^256": (
        b'{"request": 1, "spec": {"kind": "count", "epsilon": %d}}' % 2**256,
        None,
    ),
    "negative epsilon": (b'{"request": 1, "spec": {"kind": "count", "epsilon": -1}}', None),
}

REF = '{"dataset_id": "0x' + "0" * 64 + '", "version": %s}'
BLOBS_BODIES: dict[str, tuple[bytes, str | None]] = {
    "nesting bomb": (
        b"{" * 1 + b'"versions":' + b"[" * 40_000 + b"]" * 40_000 + b"}",
        "json_too_deep",
    ),
    "malformed": (b'{"versions": [', "invalid_json"),
    "NaN version": (('{"versions": [' + REF % "NaN" + "]}").encode(), "invalid_json"),
    "2^256 version": (('{"versions": [' + REF % str(2**256) + "]}").encode(), "invalid_input"),
    "negative version": (('{"versions": [' + REF % "-1" + "]}").encode(), "invalid_input"),
    "2^31 version": (('{"versions": [' + REF % str(2**31) + "]}").encode(), "invalid_input"),
    "too many": (
        ('{"versions": [' + ",".join([REF % "1"] * 1001) + "]}").encode(),
        "invalid_input",
    ),
    "none": (b'{"versions": []}', "invalid_input"),
    "path-like id": (
        b'{"versions": [{"dataset_id": "../../etc/passwd", "version": 1}]}',
        "invalid_input",
    ),
    "Unicode id": (
        '{"versions": [{"dataset_id": "锦江区", "version": 1}]}'.encode(),
        "invalid_input",
    ),
}


def _route(path: str) -> APIRoute:
    return next(r for r in ROUTES if r.path == path)


@pytest.mark.parametrize("case", QUERY_BODIES, ids=list(QUERY_BODIES))
def test_bad_query_bodies(full_node: FullNode, stored_before: dict[str, Any], case: str) -> None:
    body, code = QUERY_BODIES[case]
    r = _send(
        full_node, _route("/v1/query"), {}, body=body, headers={"content-type": "application/json"}
    )
    err = _refused(r, code=code)
    assert not err["code"].startswith("auth_"), err  # it got past the signature check
    # unsigned, the same body is refused by the signature check without being parsed
    r = _send(full_node, _route("/v1/query"), {}, body=body, signed=False)
    _refused(r, 401, "auth_missing")


@pytest.mark.parametrize("case", BLOBS_BODIES, ids=list(BLOBS_BODIES))
def test_bad_audit_blobs_bodies(
    full_node: FullNode, stored_before: dict[str, Any], case: str
) -> None:
    body, code = BLOBS_BODIES[case]
    r = _send(full_node, _route("/v1/audit/blobs"), {}, body=body)
    err = _refused(r, code=code)
    assert not err["code"].startswith("auth_"), err


# -- path and query parameters -------------------------------------------------------------
def _param_cases() -> list[tuple[APIRoute, str, str]]:
    cases = []
    for route in ROUTES:
        path_names, query_names = _params(route)
        for name in path_names + query_names:
            if name in ("dataset_id", "address", "sha256", "owner", "theme", "quality"):
                values = BAD_NAMES
            elif name == "keyword":
                values = BAD_TEXT
            elif name in ("mine", "incoming"):
                values = BAD_BOOLS
            else:
                values = BAD_INTS
            if name in path_names:
                values = [v for v in values if v]  # an empty segment is another route
            cases += [(route, name, v) for v in values]
    return cases


PARAM_CASES = _param_cases()


def test_every_route_with_parameters_is_probed() -> None:
    probed = {(sorted(r.methods)[0], r.path) for r, _, _ in PARAM_CASES}
    with_params = {(sorted(r.methods)[0], r.path) for r in ROUTES if any(_params(r))}
    assert probed == with_params and len(with_params) == 15


@pytest.mark.parametrize(
    ("route", "name", "value"),
    PARAM_CASES,
    ids=[f"{r.path} {n}={v[:20]!r}" for r, n, v in PARAM_CASES],
)
def test_bad_parameters(
    full_node: FullNode, stored_before: dict[str, Any], route: APIRoute, name: str, value: str
) -> None:
    values = {**_good(full_node), name: value}
    err = _refused(_send(full_node, route, values))
    assert err["code"] not in ("auth_bad_signature", "auth_missing"), err


def test_out_of_range_log_position_is_a_4xx(full_node: FullNode) -> None:
    """The review's example: a 64-bit overflow in a query parameter used to be a 500."""
    r = full_node.call(full_node.regulator, "GET", "/v1/audit/proof", "seq=9223372036854775808")
    err = _refused(r, 400, "invalid_input")
    assert err["detail"][0]["loc"] == ["query", "seq"]


def test_nothing_stored_was_harmed(full_node: FullNode, stored_before: dict[str, Any]) -> None:
    """Run last in this module: after every probe above, the store, the logs and the grant
    are as they were, and the consumer still downloads the exact ciphertext."""
    assert _stored(full_node) == stored_before
    path = f"/v1/datasets/{full_node.dataset_id}/versions/1/blob"
    r = full_node.call(full_node.consumer, "GET", path, f"request={full_node.raw_grant}")
    assert r.status_code == 200
    assert "0x" + hashlib.sha256(r.content).hexdigest() == stored_before["version"][1]
