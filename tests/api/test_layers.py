"""The node's layering: who imports whom, authorization in one place, bodies never parsed
by FastAPI before the signature check."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
from fastapi.routing import APIRoute

from node.api import deps
from node.api.body import LIMIT_KEY
from node.api.main import ROUTERS
from node.registry.directory import MemberView
from tests.api.conftest import Actor, FullNode

ROOT = Path(__file__).resolve().parents[2]
#: the node's serve entry point: the one module outside node.api that builds the app
SERVE_ENTRY = "cli/node_cmd.py"


def _module_imports(path: Path, *, top_level_only: bool) -> set[str]:
    """Absolute ``node.*`` modules imported by ``path`` (only module-level statements when
    ``top_level_only``: imports inside functions run later and cannot form import cycles)."""
    tree = ast.parse(path.read_text())
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    found: set[str] = set()
    for n in nodes:
        if isinstance(n, ast.Import):
            found |= {a.name for a in n.names}
        elif isinstance(n, ast.ImportFrom) and n.level == 0 and n.module:
            found.add(n.module)
            found |= {f"{n.module}.{a.name}" for a in n.names}
    return {m for m in found if m == "node" or m.startswith("node.")}


def _package(module: str) -> str:
    """node.api.routes.x -> node.api; node.runtime -> node.runtime"""
    return ".".join(module.split(".")[:2])


def _files(*dirs: str) -> list[Path]:
    return [p for d in dirs for p in (ROOT / d).rglob("*.py")]


def test_nothing_outside_node_api_imports_it_but_the_serve_entry() -> None:
    offenders = [
        str(p.relative_to(ROOT))
        for p in _files("node", "cli", "analytics")
        if not p.is_relative_to(ROOT / "node" / "api")
        and str(p.relative_to(ROOT)) != SERVE_ENTRY
        and any(_package(m) == "node.api" for m in _module_imports(p, top_level_only=False))
    ]
    assert offenders == []
    assert "node.api.main" in _module_imports(ROOT / SERVE_ENTRY, top_level_only=False)


def test_the_request_protocol_depends_on_nothing_but_the_error_root() -> None:
    for p in _files("node/peer"):
        used = {_package(m) for m in _module_imports(p, top_level_only=False)}
        assert used <= {"node.peer", "node.errors"}, (p.name, used)


def test_no_import_cycle_between_packages() -> None:
    graph: dict[str, set[str]] = defaultdict(set)
    for p in _files("node"):
        rel = p.relative_to(ROOT)
        source = _package(".".join(rel.with_suffix("").parts))
        for m in _module_imports(p, top_level_only=True):
            if _package(m) != source and m != "node":
                graph[source].add(_package(m))
    assert "node.peer" in graph["node.sharing"]  # the scan sees the imports it should
    cycles: list[list[str]] = []

    def visit(pkg: str, path: list[str]) -> None:
        for nxt in sorted(graph[pkg]):
            if nxt in path:
                cycles.append([*path[path.index(nxt) :], nxt])
            elif len(path) < 20:
                visit(nxt, [*path, nxt])

    for pkg in list(graph):
        visit(pkg, [pkg])
    assert cycles == []


@pytest.mark.parametrize(
    "package",
    sorted(
        {
            _package(".".join(p.relative_to(ROOT).with_suffix("").parts))
            for p in _files("node")
            if p.name != "__init__.py" or p.parent != ROOT / "node"
        }
    ),
)
def test_each_package_imports_on_its_own(package: str) -> None:
    """A fresh interpreter importing one package first: a cycle shows up as a partially
    initialized module."""
    mods = sorted(
        ".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for p in _files(*package.split(".")[:1])
        if _package(".".join(p.relative_to(ROOT).with_suffix("").parts)) == package
    )
    code = "import importlib, sys\nfor m in sys.argv[1:]: importlib.import_module(m)"
    done = subprocess.run(
        [sys.executable, "-c", code, *mods], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]


def test_every_route_declares_its_body_limit_and_answer(full_node: FullNode) -> None:
    routes = [r for router in ROUTERS for r in router.routes if isinstance(r, APIRoute)]
    # 17th: GET /v1/access/{request_id}/purpose; 18th: GET /v1/audit/dp-metadata; 19th-25th:
    # the catalog, its DCAT export, quality documents and feedback (keys, list, text, anonymous);
    # 26th-28th: joint queries (prepare, run, acknowledge)
    assert len(routes) == 28
    for r in routes:
        # FastAPI parses a declared body before any dependency (so before the signature
        # check): no route may declare one; bodies go through node.api.deps.json_body.
        assert r.body_field is None, r.path
        assert LIMIT_KEY in (r.openapi_extra or {}), r.path
        binary = "application/octet-stream" in str(r.responses.get(200, {}))
        assert r.response_model is not None or binary, r.path
    doc = full_node.http.get("/openapi.json").json()
    query = doc["paths"]["/v1/query"]["post"]
    ref = query["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert ref == "#/components/schemas/QueryBody"
    assert "VersionRef" in doc["components"]["schemas"]  # a nested body model, resolvable
    assert query[LIMIT_KEY] == 64 << 10


def _view(actor: Actor, roles: list[str]) -> MemberView:
    return MemberView(actor.address, "test", roles, "0x" + "00" * 32, "http://t", "active")


def test_routes_are_testable_with_dependency_overrides(full_node: FullNode) -> None:
    """Authorization is decided by the dependencies alone: swap the authenticated caller
    and the same unsigned request is allowed or refused by role."""
    app, http = full_node.app, full_node.http
    try:
        app.dependency_overrides[deps.caller] = lambda: _view(full_node.consumer, ["consumer"])
        refused = http.get("/v1/audit/proof", params={"seq": 1})
        assert (refused.status_code, refused.json()["code"]) == (403, "auth_forbidden")
        assert http.get("/v1/downloads").json()["code"] == "auth_forbidden"
        assert http.get("/v1/nodes/me").json()["address"] == full_node.consumer.address

        app.dependency_overrides[deps.caller] = lambda: _view(full_node.regulator, ["regulator"])
        proof = http.get("/v1/audit/proof", params={"seq": 1})
        assert proof.status_code == 200 and proof.json()["entry"]["seq"] == 1
        assert http.get("/v1/downloads").status_code == 200

        # the authorization dependency itself, replaced: everyone is a regulator
        app.dependency_overrides[deps.caller] = lambda: _view(full_node.consumer, ["consumer"])
        app.dependency_overrides[deps.owner_or_regulator] = lambda: _view(
            full_node.consumer, ["consumer"]
        )
        assert http.get("/v1/audit/proof", params={"seq": 1}).status_code == 200
    finally:
        app.dependency_overrides.clear()
    # and without overrides the signature is required again
    assert http.get("/v1/audit/proof", params={"seq": 1}).json()["code"] == "auth_missing"
