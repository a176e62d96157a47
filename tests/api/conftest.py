"""A whole department node for API tests: registry, catalog, access manager and audit log
deployed on its own embedded chain, one dataset published, a released RAW grant, the
access log anchored; served through FastAPI's TestClient (SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from node.api.main import create_app
from node.audit.contracts import deploy_audit
from node.chain.client import ChainClient
from node.peer.signing import sign_request
from node.registry.identity import init_node
from node.registry.keystore import KEYSTORE_FILE, generate_keys, unlock
from node.registry.registry import GenesisMember, deploy_registry
from node.runtime import NodeRuntime
from node.settings import load_settings
from node.sharing.contracts import Mode, Policy, Sharing, deploy_sharing
from node.sharing.service import publish
from tests.api.actors import Actor

PASSWORD = "correct horse battery staple"
CSV = "enterprise,district,kwh\nE1,锦江区,100\nE2,青羊区,250\n"
DP_META = {
    "columns": {
        "enterprise": {},
        "district": {"keys": ["锦江区", "青羊区"]},
        "kwh": {"lower": 0, "upper": 10_000},
    }
}


@dataclass
class FullNode:
    node: NodeRuntime
    app: FastAPI
    http: TestClient
    owner: Actor  # the node's own account (a provider)
    regulator: Actor
    consumer: Actor  # an analyst with a released RAW grant
    dataset_id: str
    raw_grant: int

    def sharing_as(self, actor: Actor) -> Sharing:
        s = self.node.sharing
        assert s is not None
        return Sharing(
            ChainClient(self.node.backend, actor.keys.account), s.catalog.address, s.access.address
        )

    def call(
        self,
        actor: Actor | None,
        method: str,
        path: str,
        query: str = "",
        body: bytes = b"",
        headers: dict[str, str] | None = None,
        *,
        signed_path: str | None = None,
    ):
        """A request signed by ``actor`` (unsigned when None) over exactly these bytes;
        ``signed_path``: the path as the node decodes it, when ``path`` is percent-encoded."""
        signed = (
            {}
            if actor is None
            else sign_request(actor.pk, method, signed_path or path, query, body, self.node.address)
        )
        return self.http.request(
            method,
            path + (f"?{query}" if query else ""),
            content=body,
            headers={**signed, **(headers or {})},
        )


def _database(kind: str, tmp: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp / 'node.db'}"
        return
    admin = request.getfixturevalue("pg_admin_url")
    name = f"tanlian_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"{admin.rsplit('/', 1)[0]}/{name}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def full_node(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FullNode]:
    tmp = tmp_path_factory.mktemp("full-node")
    db = _database(request.param, tmp, request)
    db_url = next(db)
    home = tmp / "stats"
    init_node(
        home, name="stats", roles=["provider"], endpoint="http://127.0.0.1:8602", password=PASSWORD
    )
    owner = Actor(unlock(home / KEYSTORE_FILE, PASSWORD))
    regulator, consumer = Actor(generate_keys()), Actor(generate_keys())
    boot = NodeRuntime(load_settings(home, database_url=db_url), owner.keys)
    genesis = [
        GenesisMember(regulator.address, "drc", ["regulator"], b"\x01" * 32, "http://r"),
        GenesisMember(
            owner.address, "stats", ["provider"], owner.keys.encryption_public_key, "http://s"
        ),
        GenesisMember(
            consumer.address,
            "analyst",
            ["consumer", "analyst"],
            consumer.keys.encryption_public_key,
            "http://a",
        ),
    ]
    registry, _ = deploy_registry(boot.client, genesis, 1)
    catalog, access = deploy_sharing(boot.client, registry.address)
    audit = deploy_audit(boot.client, registry.address)
    boot.close()
    contracts = {
        "registry": registry.address,
        "catalog": catalog.address,
        "access": access.address,
        "audit": audit.address,
    }
    node = NodeRuntime(load_settings(home, database_url=db_url, contracts=contracts), owner.keys)
    node.sync()
    data = tmp / "kwh.csv"
    data.write_text(CSV)
    assert node.sharing is not None
    pub = publish(
        node.blobs,
        node.versions,
        node.sharing,
        owner.keys,
        data,
        name="kwh",
        policy=Policy(auto_approve_roles=("analyst",), raw_allowed=True),
        dp_metadata=DP_META,
    )
    consumer_sharing = Sharing(
        ChainClient(node.backend, consumer.keys.account), catalog.address, access.address
    )
    rid = (
        consumer_sharing.apply(pub.dataset_id, 1, "index", Mode.RAW, duration=3600)
        .event("AccessRequested")
        .args["requestId"]
    )
    node.sync()  # the node releases the key to the consumer
    assert node.sharing.is_usable(rid)
    node.access_log.append("approval", request_id=rid, block=1, ref="fixture")
    node.anchor_log()
    app = create_app(node)
    with TestClient(app, raise_server_exceptions=False) as http:
        yield FullNode(
            node, app, http, owner, regulator, consumer, "0x" + pub.dataset_id.hex(), rid
        )
    node.close()
    next(db, None)
