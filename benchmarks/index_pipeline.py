"""The indicator engine at the issue's size: 23 units × 60 indicators × 15 years.

A SYNTHETIC panel (seeded) with a seven-area, 21-system hierarchy runs the full pipeline
over every year (carry-forward imputation, screening, treatment, min-max 1-100,
geometric mean), then the Monte Carlo of ranks on the latest year with weight noise, three
normalisations and two aggregations:

* one Monte Carlo run, and 1,000 runs, in the same process (target: 1,000 ≤ 20 × one);
* the baseline: 1,000 runs done one at a time through the pipeline's own aggregate, each
  on one of the three normalised tables computed once beforehand (as the batched form does),
  timed on 50 runs and scaled (what the vectorised form saves).

Each figure is the best of --repeat timings.

Usage: python benchmarks/index_pipeline.py [--units 23 --indicators 60 --years 15 --runs 1000]
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd
from timing import best

from analytics.indicators.aggregate import aggregate
from analytics.indicators.framework import parse_framework
from analytics.indicators.normalise import normalise, parse_spec
from analytics.indicators.pipeline import (
    AggregateParams,
    ImputeParams,
    Pipeline,
    ScreenParams,
    TreatParams,
    normalise_input,
    normalise_kwargs,
    run,
)
from analytics.indicators.sensitivity import monte_carlo_of, parse_alternative


def framework(indicators: int) -> dict:
    areas, per_area = 7, 3
    systems = [{"code": f"S{a}{s}", "children": []} for a in range(areas) for s in range(per_area)]
    for i in range(indicators):
        systems[i % len(systems)]["children"].append(
            {"code": f"X{i:02d}", "direction": 1 if i % 4 else -1}
        )
    return {
        "name": "bench",
        "index": {
            "code": "INDEX",
            "children": [
                {"code": f"A{a}", "children": systems[a * per_area : (a + 1) * per_area]}
                for a in range(areas)
            ],
        },
    }


def panel(units: int, indicators: int, years: int, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    base = rng.lognormal(3, 1, size=(units, indicators))
    trend = rng.normal(0.03, 0.02, size=(units, indicators))
    rows = []
    for t in range(years):
        values = base * (1 + trend) ** t * rng.lognormal(0, 0.05, size=base.shape)
        values[rng.random(values.shape) < 0.02] = np.nan  # 2 % missing, filled forward
        frame = pd.DataFrame(values, columns=[f"X{i:02d}" for i in range(indicators)])
        frame.insert(0, "Time", 2010 + t)
        frame.insert(0, "uCode", [f"U{u:02d}" for u in range(units)])
        rows.append(frame)
    return pd.concat(rows, ignore_index=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--units", type=int, default=23)
    ap.add_argument("--indicators", type=int, default=60)
    ap.add_argument("--years", type=int, default=15)
    ap.add_argument("--runs", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()

    fw = parse_framework(framework(args.indicators))
    data = panel(args.units, args.indicators, args.years)
    p = Pipeline(
        name="bench",
        framework=fw,
        data=data,
        steps={
            "impute": ImputeParams(method="carry_forward"),
            "screen": ScreenParams(dat_thresh=0.5),
            "treat": TreatParams(),
            "normalise": {
                "spec": parse_spec({"method": "minmax", "range": [1, 100]}, "bench"),
                "indicators": {},
            },
            "aggregate": AggregateParams(method="gmean"),
        },
        time="all",
    )
    t_pipe, res = best(lambda: run(p), args.repeat)
    print(
        f"pipeline: {args.units} units x {args.indicators} indicators x {args.years} years, "
        f"all steps, every year: {t_pipe * 1000:.1f} ms"
    )
    latest = Pipeline(**{**p.__dict__, "time": "latest"})
    res = run(latest)
    kw = dict(alternatives=["minmax:10:100", "zscore:50:10"], aggregations=["amean"])
    t1, _ = best(lambda: monte_carlo_of(res, runs=1, seed=1, **kw), args.repeat)
    tn, mc = best(lambda: monte_carlo_of(res, runs=args.runs, seed=1, **kw), args.repeat)

    # baseline: the same kind of runs one at a time through the single-run functions
    data_n = normalise_input(res)
    nkw = normalise_kwargs(latest)
    specs = [latest.steps["normalise"]["spec"]] + [
        parse_alternative(a)[1] for a in kw["alternatives"]
    ]
    rng = np.random.default_rng(2)
    codes = [n.code for n, parent in fw.nodes() if parent is not None]
    sample = 50

    normalised = [normalise(data_n, spec, **nkw) for spec in specs]

    def loop() -> None:
        for _ in range(sample):
            w = {c: res.weights.get(c, 1.0) * rng.uniform(0.75, 1.25) for c in codes}
            norm = normalised[rng.integers(0, 3)]
            agg = aggregate(norm, fw, w, ("gmean", "amean")[rng.integers(0, 2)])
            agg[fw.index_code].rank(ascending=False, method="min")

    t_loop, _ = best(loop, max(1, args.repeat // 2))
    t_loop_n = t_loop / sample * args.runs
    print(f"monte carlo, 1 run:            {t1 * 1000:8.1f} ms")
    print(f"monte carlo, {args.runs} runs:       {tn * 1000:8.1f} ms")
    print(f"  ratio {args.runs} runs / 1 run: {tn / t1:8.1f}x   (target <= 20x)")
    print(
        f"baseline, {args.runs} runs one at a time (from {sample}): {t_loop_n * 1000:8.1f} ms"
        f"   -> vectorised is {t_loop_n / tn:.0f}x faster"
    )
    widest = mc.summary.assign(width=mc.summary.rank_q95 - mc.summary.rank_q05).nlargest(3, "width")
    print(
        "widest 5-95 % rank intervals:",
        widest[["uCode", "nominal_rank", "rank_q05", "rank_q95"]].to_dict("records"),
    )


if __name__ == "__main__":
    main()
