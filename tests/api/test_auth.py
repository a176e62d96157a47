"""The node API's signed-request layer: every refusal, with its status and stable code."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from node.api.main import create_app
from node.chain.client import ChainClient
from node.peer.signing import sign_request
from node.registry.identity import init_node
from node.registry.keystore import KEYSTORE_FILE, generate_keys, unlock
from node.registry.registry import GenesisMember, Registry, deploy_registry
from node.runtime import NodeRuntime
from node.settings import load_settings
from tests.api.actors import Actor

PASSWORD = "correct horse battery staple"


@dataclass
class Env:
    node: NodeRuntime
    http: TestClient
    regulator: Actor
    member: Actor
    pending: Actor
    stranger: Actor

    def signed(
        self,
        actor: Actor,
        method: str = "GET",
        path: str = "/v1/nodes/me",
        query: str = "",
        body: bytes = b"",
        **overrides: object,
    ) -> dict[str, str]:
        return sign_request(
            actor.pk,
            method,
            path,
            query,
            body,
            overrides.pop("audience", self.node.address),
            **overrides,
        )  # type: ignore[arg-type]

    def get(self, headers: dict[str, str], path: str = "/v1/nodes/me", query: str = ""):
        return self.http.get(path + (f"?{query}" if query else ""), headers=headers)

    def sync(self) -> None:
        self.node.sync()


@pytest.fixture
def env(tmp_path: Path, db_url: str) -> Iterator[Env]:
    home = tmp_path / "node"
    init_node(
        home, name="drc", roles=["regulator"], endpoint="http://127.0.0.1:8601", password=PASSWORD
    )
    node_keys = unlock(home / KEYSTORE_FILE, PASSWORD)
    regulator, member, pending, stranger = (Actor(generate_keys()) for _ in range(4))
    settings = load_settings(home, database_url=db_url)
    # deploy the registry on the node's own embedded chain
    boot = NodeRuntime(settings, node_keys)
    contract, _ = deploy_registry(
        boot.client,
        [
            GenesisMember(regulator.address, "reg", ["regulator"], b"\x01" * 32, "http://r"),
            GenesisMember(node_keys.address, "drc", ["regulator"], b"\x02" * 32, "http://n"),
        ],
        1,
    )
    for who, name in ((member, "member"), (pending, "pending")):
        Registry(ChainClient(boot.backend, who.keys.account), contract.address).register(
            name, ["consumer"], b"\x03" * 32, "http://m"
        )
    Registry(ChainClient(boot.backend, regulator.keys.account), contract.address).approve(
        member.address
    )
    boot.close()
    node = NodeRuntime(
        load_settings(home, database_url=db_url, contracts={"registry": contract.address}),
        node_keys,
    )
    node.sync()
    with TestClient(create_app(node)) as http:
        e = Env(node, http, regulator, member, pending, stranger)
        yield e
    e.node.close()


def _error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"code", "message", "detail"}
    assert body["code"] == code


def test_signed_request_by_active_member_is_served(env: Env) -> None:
    r = env.get(env.signed(env.member))
    assert r.status_code == 200
    assert r.json()["address"] == env.member.address and r.json()["status"] == "active"
    listing = env.get(env.signed(env.member, path="/v1/nodes"), "/v1/nodes").json()
    assert {m["name"] for m in listing["members"]} == {"reg", "drc", "member", "pending"}


def test_public_routes_need_no_signature(env: Env) -> None:
    health = env.http.get("/healthz").json()
    assert health["address"] == env.node.address and health["status"] == "ok"
    assert env.http.get("/docs").status_code == 200
    assert "/v1/nodes/me" in env.http.get("/openapi.json").json()["paths"]


def test_missing_and_partial_headers(env: Env) -> None:
    _error(env.get({}), 401, "auth_missing")
    headers = env.signed(env.member)
    del headers["x-tanlian-signature"]
    _error(env.get(headers), 401, "auth_malformed")
    bad = env.signed(env.member)
    bad["x-tanlian-signature"] = "0x1234"
    _error(env.get(bad), 401, "auth_malformed")
    bad = env.signed(env.member)
    bad["x-tanlian-nonce"] = "not-hex!"
    _error(env.get(bad), 401, "auth_malformed")


@pytest.mark.parametrize("tamper", ["path", "query", "method", "body", "account"])
def test_tampered_requests_fail_signature(env: Env, tamper: str) -> None:
    if tamper == "path":
        r = env.get(env.signed(env.member, path="/v1/nodes"), "/v1/nodes/me")
    elif tamper == "query":
        r = env.get(env.signed(env.member, query="a=1"), query="a=2")
    elif tamper == "method":
        r = env.http.post("/v1/nodes/me", headers=env.signed(env.member))
        assert r.status_code == 405  # no such route; the shape is still ours
        assert r.json()["code"] == "method_not_allowed"
        return
    elif tamper == "body":
        r = env.http.request(
            "GET", "/v1/nodes/me", content=b"x", headers=env.signed(env.member, body=b"y")
        )
    else:
        headers = env.signed(env.member)
        headers["x-tanlian-account"] = env.regulator.address
        r = env.get(headers)
    _error(r, 401, "auth_bad_signature")


def test_stale_and_future_timestamps(env: Env) -> None:
    now = int(time.time())
    _error(env.get(env.signed(env.member, timestamp=now - 3600)), 401, "auth_stale")
    _error(env.get(env.signed(env.member, timestamp=now + 3600)), 401, "auth_stale")
    assert env.get(env.signed(env.member, timestamp=now - 30)).status_code == 200


def test_replay_is_refused_even_after_restart(env: Env) -> None:
    headers = env.signed(env.member)
    assert env.get(headers).status_code == 200
    _error(env.get(headers), 401, "auth_replayed")
    # a restarted node (same database) still remembers the nonce
    env.node.close()
    env.node = NodeRuntime(env.node.settings, env.node.keys)
    env.node.sync()
    with TestClient(create_app(env.node)) as http:
        _error(http.get("/v1/nodes/me", headers=headers), 401, "auth_replayed")


def test_request_for_another_node_is_refused(env: Env) -> None:
    headers = env.signed(env.member, audience=env.regulator.address)
    _error(env.get(headers), 401, "auth_wrong_audience")


def test_unknown_pending_and_suspended_accounts_are_forbidden(env: Env) -> None:
    _error(env.get(env.signed(env.stranger)), 403, "auth_unknown_account")
    _error(env.get(env.signed(env.pending)), 403, "auth_not_active")
    Registry(
        ChainClient(env.node.backend, env.regulator.keys.account), env.node.registry.address
    ).suspend(env.member.address, "test")
    env.sync()
    _error(env.get(env.signed(env.member)), 403, "auth_not_active")


def test_unknown_route_and_bad_address_keep_the_error_shape(env: Env) -> None:
    _error(env.http.get("/v1/nope"), 404, "not_found")
    r = env.get(env.signed(env.member, path="/v1/nodes/0x12"), "/v1/nodes/0x12")
    _error(r, 404, "not_found")
