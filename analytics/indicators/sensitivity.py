"""Monte Carlo uncertainty of the ranks: weights, normalisation and aggregation drawn at random.

Every run perturbs each weight by a factor drawn from U(1 − noise, 1 + noise), picks one of the
alternative normalisations and one of the aggregation methods, and recomputes the index. The
runs are computed together: the normalised alternatives are computed once, then each level of
the hierarchy is one array operation over (runs × units × children) through the same
:func:`~analytics.indicators.aggregate.weighted_mean` that a single run uses.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from analytics.errors import InvalidPipeline
from analytics.indicators.aggregate import METHODS, weighted_mean
from analytics.indicators.framework import Framework
from analytics.indicators.normalise import normalise, parse_spec
from analytics.indicators.pipeline import PipelineResult, normalise_input, normalise_kwargs


@dataclass(frozen=True)
class Uncertainty:
    """What varies between runs."""

    weight_noise: float = 0.25
    normalisations: tuple[str, ...] = ("nominal",)
    aggregations: tuple[str, ...] = ("amean",)

    def __post_init__(self) -> None:
        if not 0 <= self.weight_noise < 1:
            raise InvalidPipeline("monte carlo: weight_noise must be in [0, 1)")
        bad = [m for m in self.aggregations if m not in METHODS]
        if bad or not self.aggregations:
            raise InvalidPipeline(
                f"monte carlo: aggregations must be among {', '.join(METHODS)}; got {bad or 'none'}"
            )
        if not self.normalisations:
            raise InvalidPipeline("monte carlo: give at least one normalisation")


@dataclass(frozen=True)
class MonteCarloResult:
    """Per unit: nominal rank, median rank, 5–95 % interval; per factor: first-order share."""

    ranks: np.ndarray  # (runs, units)
    units: tuple[str, ...]
    nominal: pd.Series
    choices: pd.DataFrame  # per run: normalisation, aggregation
    summary: pd.DataFrame
    first_order: dict[str, float]


def draw_index(
    variants: Sequence[np.ndarray],
    framework: Framework,
    weights: Mapping[str, float],
    variant_of_run: np.ndarray,
    method_of_run: Sequence[str],
    factors: np.ndarray,
    codes: Sequence[str],
    dat_thresh: float | None = None,
) -> np.ndarray:
    """Index scores of every run, ``(runs, units)``.

    ``variants[v]`` is the (units × indicators) normalised data of alternative ``v``;
    ``factors`` (runs × len(codes)) multiply the weights of ``codes``; ``dat_thresh`` blanks
    an aggregate whose share of children present is below it, as the pipeline does.
    """
    col = {c: i for i, c in enumerate(codes)}
    leaf = {c: i for i, c in enumerate(framework.indicator_codes)}
    stack = np.stack(variants)  # (V, U, I)
    methods = np.asarray(method_of_run)
    used = [m for m in METHODS if np.any(methods == m)]
    scores: dict[str, np.ndarray] = {}

    def child(code: str) -> np.ndarray:
        if code in scores:
            return scores[code]
        return stack[variant_of_run, :, leaf[code]]  # (R, U)

    for _, groups in framework.aggregates_by_level():
        for g in groups:
            kids = [c.code for c in g.children]
            x = np.stack([child(k) for k in kids], axis=-1)  # (R, U, C)
            base = np.array([weights.get(k, 1.0) for k in kids])
            w = (factors[:, [col[k] for k in kids]] * base)[:, None, :]  # (R, 1, C)
            y = np.full(x.shape[:2], np.nan)
            for m in used:
                pick = methods == m
                y[pick] = weighted_mean(x[pick], w[pick], m)
            if dat_thresh is not None:
                y = np.where((~np.isnan(x)).mean(axis=-1) < dat_thresh, np.nan, y)
            scores[g.code] = y
    return scores[framework.index_code]


def monte_carlo(
    normalise_variant: Callable[[str], pd.DataFrame],
    framework: Framework,
    weights: Mapping[str, float],
    uncertainty: Uncertainty,
    *,
    runs: int = 1000,
    seed: int = 0,
    dat_thresh: float | None = None,
) -> MonteCarloResult:
    """Ranks of ``runs`` random runs; run 0 is forced to the nominal choices.

    ``normalise_variant(name)`` returns the normalised (units × indicators) data of one
    alternative; it is called once per alternative, not once per run.
    """
    if runs < 1:
        raise InvalidPipeline("monte carlo: runs must be at least 1")
    rng = np.random.default_rng(seed)
    frames = [normalise_variant(n) for n in uncertainty.normalisations]
    units = tuple(frames[0].index.astype(str))
    variants = [f.loc[:, framework.indicator_codes].to_numpy(dtype=float) for f in frames]
    for name, v in zip(uncertainty.normalisations, variants, strict=True):
        if any(m != "amean" for m in uncertainty.aggregations) and np.nanmin(v) <= 0:
            raise InvalidPipeline(
                f"monte carlo: normalisation {name} gives scores <= 0, which the geometric "
                "and harmonic means cannot take; use a positive range such as 1-100"
            )
    codes = [n.code for n, p in framework.nodes() if p is not None]
    noise = uncertainty.weight_noise
    factors = rng.uniform(1 - noise, 1 + noise, size=(runs, len(codes)))
    vrun = rng.integers(0, len(variants), size=runs)
    arun = rng.integers(0, len(uncertainty.aggregations), size=runs)
    factors[0], vrun[0], arun[0] = 1.0, 0, 0
    methods = [uncertainty.aggregations[i] for i in arun]
    index = draw_index(variants, framework, weights, vrun, methods, factors, codes, dat_thresh)
    ranks = rankdata(-index, method="min", axis=1, nan_policy="omit")
    nominal = pd.Series(ranks[0], index=list(units), name="nominal_rank")
    choices = pd.DataFrame(
        {
            "normalisation": [uncertainty.normalisations[i] for i in vrun],
            "aggregation": methods,
        }
    )
    return MonteCarloResult(
        ranks=ranks,
        units=units,
        nominal=nominal,
        choices=choices,
        summary=summarise(ranks, units),
        first_order=first_order(ranks, choices),
    )


def summarise(ranks: np.ndarray, units: Sequence[str]) -> pd.DataFrame:
    """Per unit: nominal rank (run 0), median, 5 % and 95 % quantiles, mean |shift|."""
    # A unit without a score has no rank in any run: its summary is NaN, not a warning.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        q05, q50, q95 = np.nanquantile(ranks, [0.05, 0.5, 0.95], axis=0)
        shift = np.nanmean(np.abs(ranks - ranks[0]), axis=0)
    out = pd.DataFrame(
        {
            "uCode": list(units),
            "nominal_rank": ranks[0],
            "median_rank": q50,
            "rank_q05": q05,
            "rank_q95": q95,
            "mean_abs_shift": shift,
        }
    )
    return out.sort_values(["median_rank", "nominal_rank", "uCode"], ignore_index=True)


def first_order(ranks: np.ndarray, choices: pd.DataFrame) -> dict[str, Any]:
    """Share of the variance of the mean rank shift explained by each method choice.

    The output of a run is its mean absolute rank shift from the nominal ranks; a factor's
    first-order index is Var(E[shift | factor]) / Var(shift), the correlation ratio. Weights
    are continuous and many, so their share is what the method choices leave unexplained.
    """
    shift = np.nanmean(np.abs(ranks - ranks[0]), axis=1)
    var = float(np.var(shift))
    out: dict[str, Any] = {}
    for factor in ("normalisation", "aggregation"):
        if var == 0 or choices[factor].nunique() < 2:
            out[factor] = 0.0
            continue
        means = pd.Series(shift).groupby(choices[factor].to_numpy()).transform("mean")
        out[factor] = float(np.var(means.to_numpy()) / var)
    return out


def parse_alternative(text: str) -> tuple[str, Any]:
    """``method[:a:b]`` (e.g. ``minmax:1:100``, ``zscore:10:1``, ``prank``) → (name, spec)."""
    method, *args = text.split(":")
    raw: dict[str, Any] = {"method": method}
    if args:
        try:
            pair = tuple(float(a) for a in args)
        except ValueError:
            raise InvalidPipeline(f"monte carlo: {text!r}: parameters must be numbers") from None
        if len(pair) != 2:
            raise InvalidPipeline(f"monte carlo: {text!r}: give two parameters (method:a:b)")
        key = {"minmax": "range", "zscore": "mean_sd", "scaled": "npara"}.get(method)
        if key is None:
            raise InvalidPipeline(f"monte carlo: {method} takes no parameters here")
        raw[key] = pair
    return text, parse_spec(raw, f"monte carlo alternative {text!r}")


def monte_carlo_of(
    res: PipelineResult,
    *,
    alternatives: Sequence[str] = (),
    aggregations: Sequence[str] = (),
    weight_noise: float = 0.25,
    runs: int = 1000,
    seed: int = 0,
) -> MonteCarloResult:
    """Monte Carlo around a finished pipeline run (its latest period when it has several).

    The nominal choices are the pipeline's own normalisation, weights and aggregation;
    ``alternatives`` add normalisations (``method[:a:b]``) and ``aggregations`` methods.
    """
    p = res.pipeline
    if "normalise" not in p.steps or "aggregate" not in p.steps:
        raise InvalidPipeline("monte carlo: the pipeline needs normalise and aggregate steps")
    nominal_agg = p.steps["aggregate"].method
    if not isinstance(nominal_agg, str):
        raise InvalidPipeline("monte carlo: use one aggregation method for every level")
    data = normalise_input(res)
    specs: dict[str, Any] = {"nominal": p.steps["normalise"]["spec"]}
    specs.update(parse_alternative(a) for a in alternatives)
    kw = normalise_kwargs(p)

    def variant(name: str) -> pd.DataFrame:
        # normalised as the pipeline did (over all periods when pooled), then the latest period
        if "Time" not in data.index.names:
            return normalise(data, specs[name], **kw)
        last = data.index.get_level_values("Time").max()
        if p.time_scope == "pooled":
            return normalise(data, specs[name], **kw).xs(last, level="Time")
        return normalise(data.xs(last, level="Time"), specs[name], **kw)

    aggs = (nominal_agg, *[a for a in aggregations if a != nominal_agg])
    return monte_carlo(
        variant,
        p.framework,
        res.weights,
        Uncertainty(weight_noise, tuple(specs), aggs),
        runs=runs,
        seed=seed,
        dat_thresh=p.steps["aggregate"].dat_thresh,
    )
