"""DP query computation over 10 million rows, next to plain numpy on the same data.

* count, sum, mean, histogram: the DP answer (node.privacy.dp_queries.answer) against the
  plain numpy computation of the same statistic. Target: at most 3x plain numpy.
* quantile (median): this project's vectorized exponential mechanism against
  diffprivlib.tools.quantile, same data, same ε, same bounds. Target: at least 10x faster,
  with the same accuracy (absolute error against the true median, over a few draws).

Usage: python benchmarks/dp_queries.py [--rows 10000000]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from diffprivlib.tools import quantile as dpl_quantile

from node.privacy.dp_queries import DatasetMeta, answer, parse_spec


def best_of(fn, n: int = 5) -> float:
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    args = parser.parse_args()
    rng = np.random.default_rng(2026)
    kwh = rng.gamma(2.0, 150.0, args.rows).clip(0, 5000)
    data = {"kwh": kwh}
    meta = DatasetMeta.model_validate({"columns": {"kwh": {"lower": 0, "upper": 5000}}})
    plain = {
        "count": lambda: len(kwh),
        "sum": lambda: float(np.sum(np.clip(kwh, 0, 5000))),
        "mean": lambda: float(np.mean(np.clip(kwh, 0, 5000))),
        "histogram": lambda: np.histogram(np.clip(kwh, 0, 5000), bins=20, range=(0, 5000)),
    }
    print(f"\nDP over {args.rows:,} rows (best of 5), plain numpy clips to the same bounds")
    print(f"{'query':<12} {'numpy ms':>9} {'DP ms':>9} {'x numpy':>8}")
    for kind, base_fn in plain.items():
        spec = {"kind": kind, "epsilon": 1.0}
        if kind != "count":
            spec["column"] = "kwh"
        if kind == "histogram":
            spec["bins"] = 20
        q = parse_spec(spec)
        base = best_of(base_fn)
        dp_t = best_of(lambda q=q: answer(q, meta, data))
        if kind == "count":  # both are O(1): the length, plus one geometric draw for DP
            print(f"{kind:<12} {base * 1000:>9.3f} {dp_t * 1000:>9.3f} {'(O(1))':>8}")
            continue
        print(f"{kind:<12} {base * 1000:>9.1f} {dp_t * 1000:>9.1f} {dp_t / base:>8.2f}")

    true = float(np.median(kwh))
    q = parse_spec({"kind": "quantile", "column": "kwh", "epsilon": 1.0, "quantiles": [0.5]})
    ours_t, ours_err = [], []
    for s in range(3):
        start = time.perf_counter()
        v = answer(q, meta, data, np.random.default_rng(s))["value"][0]
        ours_t.append(time.perf_counter() - start)
        ours_err.append(abs(v - true))
    start = time.perf_counter()
    theirs = dpl_quantile(kwh, 0.5, epsilon=1.0, bounds=(0, 5000), random_state=0)
    theirs_t = time.perf_counter() - start
    print(f"\nmedian, ε 1.0: true {true:.2f}")
    print(f"  this project   {min(ours_t):.2f} s  |error| {statistics.median(ours_err):.4f}")
    print(f"  diffprivlib    {theirs_t:.2f} s  |error| {abs(theirs - true):.4f}")
    print(f"  speed-up {theirs_t / min(ours_t):.1f}x (target >= 10x)")


if __name__ == "__main__":
    main()
