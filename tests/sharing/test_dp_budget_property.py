"""The privacy budget is exact end to end: for any sequence of queries on a DP grant, the ε
the mechanisms were actually given equals what AccessManager recorded as spent, which never
passes the grant's ceiling; δ likewise.

The DP gate runs in process on its real parts: the embedded chain with the deployed
registry, catalog and access manager, a SQLite store with an encrypted dataset published
through the real publish path, the access log. The mechanisms are spied on, not replaced:
every diffprivlib mechanism is built through ``DPMechanism.__init__`` and every quantile
through ``fast_quantile``; each answered cell is one call of ``dp_queries._one``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from typing import Any
from unittest import mock

import numpy as np
import pytest
from diffprivlib.mechanisms.base import DPMechanism
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from node.audit.log import AccessLog
from node.chain.backend import open_backend
from node.chain.client import ChainClient
from node.chain.indexer.indexer import EventIndexer
from node.db import create_schema, make_engine
from node.privacy import dp_queries
from node.privacy.budget import BudgetError, Delta, Epsilon
from node.privacy.dp_queries import parse_spec
from node.privacy.store import BlobStore, VersionStore
from node.registry.keystore import NodeKeys, generate_keys
from node.registry.registry import GenesisMember, deploy_registry
from node.sharing.contracts import ACCESS, Mode, Policy, Sharing, deploy_sharing
from node.sharing.gate import BudgetExhausted, DpGate, GateContext
from node.sharing.service import publish

KEYS = ["锦江区", "青羊区", "武侯区"]  # 武侯区 has no rows: empty cells are in every group-by
META = {
    "columns": {
        "enterprise": {},
        "district": {"keys": KEYS},
        "kwh": {"lower": 0, "upper": 5000},
        "units": {"lower": 0, "upper": 10, "integer": True},
    }
}


@dataclass
class World:
    gate: DpGate
    consumer: Sharing
    owner: Sharing
    indexer: EventIndexer
    dataset: bytes


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    home = tmp_path_factory.mktemp("dp-budget")
    backend = open_backend("embedded", home=home / "chain")
    owner_keys: NodeKeys = generate_keys()
    consumer_keys = generate_keys()
    regulator = ChainClient(backend, generate_keys().account)
    owner_client = ChainClient(backend, owner_keys.account)
    consumer_client = ChainClient(backend, consumer_keys.account)
    genesis = [
        GenesisMember(
            owner_client.address, "grid", ["provider"], owner_keys.encryption_public_key, "x"
        ),
        GenesisMember(
            consumer_client.address,
            "analyst",
            ["consumer", "analyst"],
            consumer_keys.encryption_public_key,
            "x",
        ),
        GenesisMember(regulator.address, "reg", ["regulator"], b"\x07" * 32, "x"),
    ]
    registry, _ = deploy_registry(regulator, genesis, 1)
    catalog, access = deploy_sharing(regulator, registry.address)
    owner = Sharing(owner_client, catalog.address, access.address)
    engine = make_engine(f"sqlite:///{home / 'node.db'}")
    create_schema(engine)
    blobs, versions = BlobStore(home / "blobs"), VersionStore(engine)
    rows = ["enterprise,district,kwh,units"] + [
        f"E{i},{KEYS[i % 2]},{(i * 37) % 5000},{i % 11}" for i in range(200)
    ]
    (home / "kwh.csv").write_text("\n".join(rows) + "\n")
    pub = publish(
        blobs,
        versions,
        owner,
        owner_keys,
        home / "kwh.csv",
        name="kwh",
        classification="restricted",
        # every example is a new grant on this one dataset: the lifetime ledger (tested in
        # tests/contracts/test_lifetime_budget.py) is set wide so that it never binds here
        policy=Policy(
            auto_approve_roles=("analyst",),
            raw_allowed=False,
            epsilon_ceiling=Epsilon(5000),
            lifetime_epsilon=Epsilon(1_000_000),
        ),
        dp_metadata=META,
    )
    indexer = EventIndexer(backend, engine)
    indexer.watch(access.address, ACCESS)
    gate = DpGate(
        GateContext(
            address=owner_client.address,
            sharing=owner,
            engine=engine,
            versions=versions,
            blobs=blobs,
            encryption_key=owner_keys.encryption_key,
            events=indexer,
            access_log=AccessLog(engine),
            head=backend.block_number,
            wait_synced=lambda block, _timeout: indexer.sync(block),  # in process: at once
        )
    )
    yield World(
        gate,
        Sharing(consumer_client, catalog.address, access.address),
        owner,
        indexer,
        pub.dataset_id,
    )
    backend.close()
    engine.dispose()


@contextmanager
def spied() -> Iterator[list[list[tuple[float, float]]]]:
    """Per answered cell, the (ε, δ) of each mechanism built for it; the real ones run."""
    cells: list[list[tuple[float, float]]] = []
    real_init, real_quantile, real_one = (
        DPMechanism.__init__,
        dp_queries.fast_quantile,
        dp_queries._one,
    )

    def init(self: DPMechanism, *, epsilon: float, delta: float, **kw: Any) -> None:
        cells[-1].append((epsilon, delta))
        real_init(self, epsilon=epsilon, delta=delta, **kw)

    def quantile(values: np.ndarray, q: float, epsilon: float, *a: Any, **kw: Any) -> float:
        cells[-1].append((epsilon, 0.0))  # the exponential mechanism: pure ε-DP
        return real_quantile(values, q, epsilon, *a, **kw)

    def one(*a: Any, **kw: Any) -> Any:
        cells.append([])
        return real_one(*a, **kw)

    with (
        mock.patch.object(DPMechanism, "__init__", init),
        mock.patch.object(dp_queries, "fast_quantile", quantile),
        mock.patch.object(dp_queries, "_one", one),
    ):
        yield cells


KINDS: dict[str, dict[str, Any]] = {
    "count": {},
    "sum": {"column": "kwh"},
    "integer sum": {"column": "units"},
    "mean": {"column": "kwh"},
    "variance": {"column": "kwh"},
    "histogram": {"column": "kwh", "bins": 4},
    "quantile": {"column": "kwh", "quantiles": [0.25, 0.5, 0.75]},
}
query = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(sorted(KINDS)),
        "milli": st.integers(min_value=1, max_value=1500),
        "group": st.booleans(),
        # how the consumer writes ε: a JSON number, decimal text, or a value finer than the
        # chain's unit (refused before anything runs)
        "form": st.sampled_from(["number", "text", "too fine"]),
    }
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ceiling=st.integers(min_value=1, max_value=3000), queries=st.lists(query, max_size=6))
def test_mechanisms_get_exactly_what_the_chain_charges_and_never_past_the_ceiling(
    world: World, ceiling: int, queries: list[dict[str, Any]]
) -> None:
    applied = world.consumer.apply(
        world.dataset, 1, "property", Mode.DP, Epsilon(ceiling), duration=86400
    )
    rid = applied.event("AccessRequested").args["requestId"]
    me = world.consumer.client.address
    charged = 0  # milli-ε, as the model of the contract counts
    given_eps: Fraction = Fraction(0)
    given_delta: Fraction = Fraction(0)
    for q in queries:
        kind = q["kind"]
        spec: dict[str, Any] = {"kind": kind.split()[-1], **KINDS[kind]}
        if q["group"]:
            spec["group_by"] = "district"
        milli = q["milli"]
        spec["epsilon"] = {
            "number": milli / 1000,
            "text": str(Epsilon(milli)),
            "too fine": f"{milli}.5e-3",
        }[q["form"]]
        before = world.owner.budget(rid)
        with spied() as cells:
            try:
                got = world.gate.query(rid, parse_spec(spec), me)
            except BudgetError as exc:
                assert q["form"] == "too fine" and exc.code == "budget_too_fine"
                assert cells == [] and world.owner.budget(rid) == before
                continue
            except BudgetExhausted:
                assert charged + milli > ceiling
                assert cells == [] and world.owner.budget(rid) == before
                continue
        assert q["form"] != "too fine" and charged + milli <= ceiling
        charged += milli
        assert got["epsilon_spent"] == milli / 1000
        # one cell per public key when grouped; the cells are disjoint (parallel
        # composition: the query's loss is its costliest cell), the mechanisms within a cell
        # compose in sequence
        assert len(cells) == (len(KEYS) if q["group"] else 1)
        assert all(cells)
        given_eps += max(sum(Fraction(e) for e, _ in cell) for cell in cells)
        given_delta += max(sum(Fraction(d) for _, d in cell) for cell in cells)
    budget = world.owner.budget(rid)
    assert budget.ceiling == Epsilon(ceiling)
    assert budget.spent == Epsilon(charged) <= budget.ceiling
    spent = budget.spent.exact()
    # what the mechanisms got is the charge, short only of each double's last bit (each is
    # the largest double not above its exact share), never above it
    assert given_eps <= spent
    assert given_eps >= spent * (1 - Fraction(1, 2**40))
    world.indexer.sync()
    spends = world.indexer.events(
        address=world.owner.access.address, event="BudgetSpent", args={"requestId": rid}
    )
    assert sum(int(e.args["epsilonMilli"]) for e in spends) == charged
    delta_on_chain = sum(Fraction(int(e.args["deltaNano"]), 10**9) for e in spends)
    assert given_delta == delta_on_chain  # pure ε-DP mechanisms: 0 given, 0 charged


def test_the_contract_wrapper_takes_only_exact_budgets(world: World) -> None:
    # a float would have to be rounded on its way to uint64 milli-ε: it is a type error
    with pytest.raises(TypeError, match="expected Epsilon"):
        world.owner.spend(1, 0.00149, Delta(0), b"\0" * 32, b"\0" * 32)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="expected Delta"):
        world.owner.spend(1, Epsilon(1), 1e-6, b"\0" * 32, b"\0" * 32)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="expected Epsilon"):
        world.consumer.apply(world.dataset, 1, "p", Mode.DP, 0.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="expected Epsilon"):
        Policy(epsilon_ceiling=2.0).as_abi()  # type: ignore[arg-type]
