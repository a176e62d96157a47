"""Pure functions around the secure part of a joint run: each owner's input vector and noise
share before it, the consumer's result after it.

An owner reduces its own rows to one vector over the public domain (or bins) in the clear,
on its own node: nothing in that vector is another party's. What the parties compute
together is only the sum over owners (and, for OLS, the products across them).
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from node.errors import InvalidInput
from node.joint import noise
from node.joint.spec import MAX_INTEGER_TOTAL, OLS_GRID, JointSpec


class JointInputInvalid(InvalidInput):
    code = "joint_input_invalid"


def _keyed(spec: JointSpec, frame: pd.DataFrame, column: str | None) -> pd.DataFrame:
    missing = [c for c in [*spec.key, *([column] if column else [])] if c not in frame.columns]
    if missing:
        raise JointInputInvalid(f"the dataset has no column {', '.join(missing)}")
    keys = frame[spec.key].astype(str)
    where = pd.Series(list(zip(*(keys[c] for c in spec.key), strict=True)), index=frame.index)
    out = pd.DataFrame({"cell": where})
    if column:
        values = pd.to_numeric(frame[column], errors="coerce")
        if values.isna().any():
            raise JointInputInvalid(f"column {column} has values that are not numbers")
        out["value"] = values.astype(float)
    index = {k: n for n, k in enumerate(spec.domain)}
    out["cell"] = out["cell"].map(index)
    return out.dropna(subset=["cell"]).astype({"cell": int})


def owner_vector(spec: JointSpec, index: int, frame: pd.DataFrame) -> list[int] | list[float]:
    """Input ``index``'s vector from its owner's rows (clipped, quantized, by domain cell)."""
    inp = spec.inputs[index]
    rows = _keyed(spec, frame, inp.column)
    cells = len(spec.domain)
    if spec.op == "ols":
        per_key = np.zeros(cells)
        np.add.at(per_key, rows["cell"].to_numpy(), rows["value"].to_numpy())
        scale = (
            inp.bound if inp.role == "x" else sum(spec.inputs[n].bound for n in spec.responses())
        )
        return (np.clip(per_key, inp.lo, inp.hi) / scale).tolist()
    if spec.op == "histogram":
        counts, _ = np.histogram(rows["value"].to_numpy(), bins=np.asarray(spec.bins))
        return [int(c) for c in counts]
    counts = np.bincount(rows["cell"].to_numpy(), minlength=cells).astype(np.int64)
    if spec.op == "count":
        return counts.tolist()
    clipped = np.clip(rows["value"].to_numpy(), inp.lo, inp.hi)
    units = np.rint(clipped / float(spec.resolution)).astype(np.int64)
    sums = np.zeros(cells, dtype=np.int64)
    np.add.at(sums, rows["cell"].to_numpy(), units)
    if np.abs(sums).max(initial=0) * len(spec.inputs) > MAX_INTEGER_TOTAL:
        raise JointInputInvalid("the totals are too large for the resolution; use a coarser one")
    return (sums.tolist() + counts.tolist()) if spec.op == "mean" else sums.tolist()


def noise_share(spec: JointSpec, rng: np.random.Generator | None = None) -> list[int] | list[float]:
    """This owner's share of the run's noise (zeros when the spec asks for none)."""
    owners = len(spec.inputs)
    if spec.op == "ols":
        d = spec.ols_dimension()
        size = d * (d + 1) // 2 - 1
        if not spec.noise:
            return [0.0] * size
        grid = noise.share(spec.noise_scales()[0], owners, size, rng)
        return [float(Fraction(int(g)) * OLS_GRID) for g in grid]
    if not spec.noise:
        return [0] * spec.length()
    scales = spec.noise_scales()
    if spec.op == "mean":
        cells = len(spec.domain)
        return (
            noise.share(scales[0], owners, cells, rng).tolist()
            + noise.share(scales[1], owners, cells, rng).tolist()
        )
    return noise.share(scales[0], owners, spec.length(), rng).tolist()


def noise_bounds(spec: JointSpec, failure: float = 1e-6) -> dict[str, Any]:
    """The stated bound: every opened cell is within ± this of the noiseless value, except
    with probability ``failure``; in the result's own units."""
    scales = spec.noise_scales()
    if spec.op == "ols":
        return {"gram_entry": float(noise.bound(scales[0], 64, failure) * OLS_GRID)}
    cells = spec.length()
    unit = spec.resolution if spec.op in ("sum", "mean") else Decimal(1)
    out = {"cell": str(noise.bound(scales[0], cells, failure) * unit)}
    if spec.op == "mean":
        out["count"] = str(noise.bound(scales[1], cells, failure))
    return out


def finish(spec: JointSpec, opened: list[Any]) -> dict[str, Any]:
    """The consumer's result from the opened values."""
    if spec.op == "ols":
        xs, ys = spec.regressors(), spec.responses()
        y_scale = sum(spec.inputs[n].bound for n in ys)
        coef = [opened[0] * y_scale] + [
            opened[1 + j] * y_scale / spec.inputs[n].bound for j, n in enumerate(xs)
        ]
        names = ["intercept"] + [f"x{j + 1}:{spec.inputs[n].column}" for j, n in enumerate(xs)]
        return {"op": "ols", "coefficients": dict(zip(names, coef, strict=True))}
    if spec.op == "histogram":
        return {"op": "histogram", "bins": spec.bins, "counts": [int(v) for v in opened]}
    cells = len(spec.domain)
    rows: list[dict[str, Any]] = []
    for n, key in enumerate(spec.domain):
        row: dict[str, Any] = {"key": list(key)}
        if spec.op == "count":
            row["count"] = int(opened[n])
        elif spec.op == "sum":
            row["sum"] = str(int(opened[n]) * spec.resolution)
        else:
            total = int(opened[n]) * spec.resolution
            count = int(opened[cells + n])
            row["sum"] = str(total)
            row["count"] = count
            # a noised count below 1 has no meaningful mean
            row["mean"] = str(total / count) if count >= 1 else None
        rows.append(row)
    return {"op": spec.op, "key": spec.key, "cells": rows}
