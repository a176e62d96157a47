"""Monte Carlo of ranks: the batched runs equal runs computed one at a time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from analytics.errors import InvalidPipeline
from analytics.indicators.aggregate import aggregate
from analytics.indicators.normalise import normalise
from analytics.indicators.pipeline import load_pipeline, normalise_input, normalise_kwargs, run
from analytics.indicators.sensitivity import (
    Uncertainty,
    draw_index,
    monte_carlo,
    monte_carlo_of,
    parse_alternative,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "analytics" / "examples"


@pytest.fixture(scope="module")
def gmean_run():
    return run(load_pipeline(EXAMPLES / "asem_minmax1_100_gmean.yaml"))


def test_nominal_run_is_the_pipeline_s_own(gmean_run) -> None:
    mc = monte_carlo_of(gmean_run, alternatives=["zscore:50:10"], aggregations=["amean"], runs=50)
    ranks = gmean_run.results.set_index("uCode")["rank"]
    assert mc.nominal.to_dict() == {u: int(ranks[u]) for u in mc.units}
    assert mc.ranks.shape == (50, 51)


def test_batched_runs_equal_single_runs(gmean_run) -> None:
    p = gmean_run.pipeline
    fw = p.framework
    data = normalise_input(gmean_run)
    kw = normalise_kwargs(p)
    specs = [p.steps["normalise"]["spec"], parse_alternative("minmax:10:110")[1]]
    variants = [normalise(data, s, **kw) for s in specs]
    rng = np.random.default_rng(5)
    codes = [n.code for n, parent in fw.nodes() if parent is not None]
    runs = 7
    factors = rng.uniform(0.5, 1.5, size=(runs, len(codes)))
    vrun = rng.integers(0, 2, size=runs)
    methods = ["gmean", "amean", "hmean", "gmean", "amean", "amean", "hmean"]
    batched = draw_index(
        [v[fw.indicator_codes].to_numpy() for v in variants],
        fw,
        gmean_run.weights,
        vrun,
        methods,
        factors,
        codes,
    )
    for r in range(runs):
        weights = {c: gmean_run.weights.get(c, 1.0) * factors[r, i] for i, c in enumerate(codes)}
        single = aggregate(variants[vrun[r]], fw, weights, methods[r])[fw.index_code]
        np.testing.assert_allclose(batched[r], single.to_numpy(), rtol=1e-12)


def test_no_uncertainty_means_no_spread(gmean_run) -> None:
    mc = monte_carlo_of(gmean_run, weight_noise=0.0, runs=20)
    assert (mc.summary["rank_q05"] == mc.summary["rank_q95"]).all()
    assert (mc.summary["mean_abs_shift"] == 0).all()
    assert mc.first_order == {"normalisation": 0.0, "aggregation": 0.0}


def test_same_seed_same_draws_and_intervals_hold_the_median(gmean_run) -> None:
    a = monte_carlo_of(gmean_run, aggregations=["amean"], runs=200, seed=3)
    b = monte_carlo_of(gmean_run, aggregations=["amean"], runs=200, seed=3)
    c = monte_carlo_of(gmean_run, aggregations=["amean"], runs=200, seed=4)
    np.testing.assert_array_equal(a.ranks, b.ranks)
    assert not np.array_equal(a.ranks, c.ranks)
    s = a.summary
    assert ((s["rank_q05"] <= s["median_rank"]) & (s["median_rank"] <= s["rank_q95"])).all()
    assert (a.ranks.min(axis=1) == 1).all() and (a.ranks.max(axis=1) <= 51).all()
    assert set(a.choices["aggregation"]) == {"gmean", "amean"}


def test_methods_that_cannot_take_the_scores_are_refused(gmean_run) -> None:
    with pytest.raises(InvalidPipeline, match="prank gives scores <= 0"):
        monte_carlo_of(gmean_run, alternatives=["prank"], runs=5)
    with pytest.raises(InvalidPipeline, match="two parameters"):
        parse_alternative("minmax:1")
    with pytest.raises(InvalidPipeline, match="aggregations must be among"):
        Uncertainty(aggregations=("median",))
    with pytest.raises(InvalidPipeline, match="runs must be at least 1"):
        monte_carlo(
            lambda n: normalise_input(gmean_run),
            gmean_run.pipeline.framework,
            {},
            Uncertainty(),
            runs=0,
        )


def test_nominal_run_equals_a_pooled_panel_pipeline_s_latest_ranks() -> None:
    chengdu = Path(__file__).resolve().parents[2] / "analytics" / "frameworks"
    res = run(load_pipeline(chengdu / "chengdu_districts.yaml"))
    assert res.pipeline.time_scope == "pooled"
    mc = monte_carlo_of(res, runs=20)
    latest = res.results[res.results["Time"] == res.results["Time"].max()]
    ranks = latest.set_index("uCode")["rank"]
    assert mc.nominal.to_dict() == {u: int(ranks[u]) for u in mc.units}
