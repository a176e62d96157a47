"""DP answers: seeded accuracy within the mechanisms' theoretical scale, and every refusal."""

from __future__ import annotations

import numpy as np
import pytest
from diffprivlib import tools as dp

from node.errors import InvalidInput
from node.privacy.budget import ZERO_DELTA, Charge, Epsilon
from node.privacy.dp_queries import (
    DatasetMeta,
    QueryRefused,
    answer,
    cost,
    leak_warnings_refused,
    parse_spec,
)

META = DatasetMeta.model_validate(
    {
        "columns": {
            "kwh": {"lower": 0, "upper": 1000},
            "units": {"lower": 0, "upper": 10, "integer": True},
            "district": {"keys": ["锦江区", "青羊区", "金牛区"]},
            "enterprise": {},
        }
    }
)


def data(n: int = 20_000, seed: int = 1) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        "kwh": rng.uniform(0, 1000, n),
        "units": rng.integers(0, 11, n),
        "district": rng.choice(["锦江区", "青羊区", "金牛区"], n),
        "enterprise": np.array([f"E{i}" for i in range(n)]),
    }


def test_count_error_within_geometric_scale() -> None:
    d = data()
    spec = parse_spec({"kind": "count", "epsilon": 0.5})
    errors = [answer(spec, META, d, np.random.default_rng(s))["value"] - 20_000 for s in range(200)]
    # geometric with ε = 0.5: P(|noise| > t) ≈ 2·e^{-εt}/(1+e^{-ε}); 95 % within ~5.2
    within = np.mean(np.abs(errors) <= np.log(2 / 0.05 / (1 + np.exp(-0.5))) / 0.5 + 1)
    assert within >= 0.9
    assert all(float(e).is_integer() for e in errors)


def test_mean_error_within_laplace_95_percent_bound() -> None:
    d = data()
    spec = parse_spec({"kind": "mean", "column": "kwh", "epsilon": 1.0})
    true = d["kwh"].mean()
    errors = np.array(
        [answer(spec, META, d, np.random.default_rng(s))["value"] - true for s in range(200)]
    )
    # the sum's Laplace noise has scale (upper - lower)/ε' and the count's 1/ε', with ε'
    # half the budget each: the mean's error is about scale/n; 95 % of Laplace is 3·scale
    bound = 3 * (1000 / 0.5) / 20_000 + 3 * 500 * (1 / 0.5) / 20_000
    assert np.mean(np.abs(errors) <= bound) >= 0.9
    assert abs(errors.mean()) < bound / 3  # unbiased enough


def test_sum_of_integer_column_and_histogram_and_quantiles() -> None:
    d = data()
    rng = np.random.default_rng(7)
    s = answer(parse_spec({"kind": "sum", "column": "units", "epsilon": 1.0}), META, d, rng)
    assert abs(s["value"] - d["units"].sum()) < 10 * 10 / 1.0
    h = answer(
        parse_spec({"kind": "histogram", "column": "kwh", "epsilon": 1.0, "bins": 4}), META, d, rng
    )["value"]
    assert len(h["counts"]) == 4 and h["edges"][0] == 0 and h["edges"][-1] == 1000
    assert abs(sum(h["counts"]) - 20_000) < 100
    q = answer(
        parse_spec({"kind": "quantile", "column": "kwh", "epsilon": 2.0, "quantiles": [0.5]}),
        META,
        d,
        rng,
    )["value"]
    assert abs(q[0] - 500) < 50


def test_group_by_public_keys_answers_every_key_and_costs_once() -> None:
    d = data()
    spec = parse_spec(
        {
            "kind": "count",
            "epsilon": 1.0,
            "group_by": "district",
            "filters": [{"column": "district", "values": ["锦江区", "青羊区"]}],
        }
    )
    out = answer(spec, META, d, np.random.default_rng(3))["groups"]
    assert set(out) == {"锦江区", "青羊区", "金牛区"}
    assert out["金牛区"] <= 20  # filtered out: only noise remains
    # parallel composition over disjoint public keys; pure ε-DP, so δ 0
    assert cost(spec, META) == Charge(Epsilon.parse("1"), ZERO_DELTA)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"kind": "sum", "column": "enterprise", "epsilon": 1}, "no declared bounds"),
        ({"kind": "mean", "column": "nope", "epsilon": 1}, "not declared"),
        ({"kind": "count", "epsilon": 1, "group_by": "enterprise"}, "no public keys"),
        (
            {"kind": "count", "epsilon": 1, "filters": [{"column": "kwh", "values": ["1"]}]},
            "no public keys",
        ),
        (
            {
                "kind": "count",
                "epsilon": 1,
                "filters": [{"column": "district", "values": ["武侯区"]}],
            },
            "not public keys",
        ),
    ],
)
def test_refusals(spec: dict, message: str) -> None:
    with pytest.raises(QueryRefused, match=message):
        answer(parse_spec(spec), META, data(100))


@pytest.mark.parametrize(
    "spec",
    [
        {"kind": "median", "column": "kwh", "epsilon": 1},
        {"kind": "mean", "epsilon": 1},
        {"kind": "mean", "column": "kwh", "epsilon": 0},
        {"kind": "quantile", "column": "kwh", "epsilon": 1, "quantiles": [1.5]},
        {"kind": "histogram", "column": "kwh", "epsilon": 1},
        {"kind": "count", "epsilon": 1, "extra": True},
    ],
)
def test_malformed_specs_are_invalid_input(spec: dict) -> None:
    with pytest.raises(InvalidInput, match="invalid query"):
        parse_spec(spec)


def test_spec_digest_is_canonical() -> None:
    a = parse_spec({"kind": "mean", "column": "kwh", "epsilon": 1})
    b = parse_spec({"epsilon": 1.0, "column": "kwh", "kind": "mean"})
    assert a.digest() == b.digest() and len(a.digest()) == 32


def test_fast_quantile_matches_diffprivlib_in_distribution() -> None:
    from diffprivlib.tools import quantile as dpl_quantile

    from node.privacy.dp_queries import fast_quantile

    rng = np.random.default_rng(11)
    values = rng.normal(500, 100, 5_000).clip(0, 1000)
    ours = np.array(
        [fast_quantile(values, 0.5, 0.5, (0, 1000), np.random.default_rng(s)) for s in range(300)]
    )
    theirs = np.array(
        [
            dpl_quantile(values, 0.5, epsilon=0.5, bounds=(0, 1000), random_state=s)
            for s in range(300)
        ]
    )
    true = np.median(values)
    # same mechanism: the error distributions agree (medians and spreads within noise)
    assert abs(np.median(np.abs(ours - true)) - np.median(np.abs(theirs - true))) < 2.0
    assert abs(np.percentile(ours, 90) - np.percentile(theirs, 90)) < 5.0
    assert ((ours >= 0) & (ours <= 1000)).all()


def test_fast_quantile_extremes_and_empty() -> None:
    from node.privacy.dp_queries import fast_quantile

    rng = np.random.default_rng(5)
    values = np.linspace(0, 100, 1001)
    lows = [fast_quantile(values, 0.0, 5.0, (0, 100), rng) for _ in range(50)]
    highs = [fast_quantile(values, 1.0, 5.0, (0, 100), rng) for _ in range(50)]
    assert np.median(lows) < 2 and np.median(highs) > 98
    empty = fast_quantile(np.array([]), 0.5, 1.0, (0, 100), rng)
    assert 0 <= empty <= 100  # no data: uniform over the bounds, still private


@pytest.mark.parametrize(
    "leaky",
    [
        pytest.param(lambda x: dp.mean(x, epsilon=1.0), id="mean without bounds"),
        pytest.param(lambda x: dp.var(x, epsilon=1.0), id="variance without bounds"),
        pytest.param(lambda x: dp.sum(x, epsilon=1.0), id="sum without bounds"),
        pytest.param(lambda x: dp.histogram(x, epsilon=1.0, bins=4), id="histogram without range"),
    ],
)
def test_a_privacy_leak_warning_refuses_the_answer(leaky) -> None:
    # diffprivlib warns (it does not fail) when it takes bounds from the data; the guard that
    # wraps every answer() turns its real warning into a refusal, so no value comes out.
    got = []
    with pytest.raises(QueryRefused, match="leak privacy"), leak_warnings_refused():
        got.append(leaky(np.arange(100.0)))
    assert got == []
