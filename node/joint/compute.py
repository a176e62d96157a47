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
from node.joint.spec import MAX_INTEGER_TOTAL, OLS_GRID, JointSpec, Measure


class JointInputInvalid(InvalidInput):
    code = "joint_input_invalid"


def _rows(spec: JointSpec, index: int, frame: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """The domain cell of each kept row (rows outside the domain or the input's public
    filter are dropped) and the kept rows."""
    inp = spec.inputs[index]
    needed = [*spec.key, *inp.where, *(c for m in inp.measures() for c in m.terms)]
    missing = sorted({c for c in needed if c not in frame.columns})
    if missing:
        raise JointInputInvalid(f"the dataset has no column {', '.join(missing)}")
    keep = pd.Series(True, index=frame.index)
    for column, values in inp.where.items():
        keep &= frame[column].astype(str).isin(values)
    frame = frame[keep]
    keys = frame[spec.key].astype(str)
    cells = pd.Series(list(zip(*(keys[c] for c in spec.key), strict=True)), index=frame.index)
    cell = cells.map({k: n for n, k in enumerate(spec.domain)})
    inside = cell.notna()
    return cell[inside].astype(int).to_numpy(), frame[inside]


def _values(frame: pd.DataFrame, measure: Measure) -> np.ndarray:
    total = np.zeros(len(frame))
    for column, factor in measure.terms.items():
        values = pd.to_numeric(frame[column], errors="coerce")
        if values.isna().any():
            raise JointInputInvalid(f"column {column} has values that are not numbers")
        total += values.to_numpy(dtype=float) * float(factor)
    return total


def owner_vector(spec: JointSpec, index: int, frame: pd.DataFrame) -> list[int] | list[float]:
    """Input ``index``'s vector from its owner's rows (clipped, quantized, by domain cell)."""
    inp = spec.inputs[index]
    cell, rows = _rows(spec, index, frame)
    cells = len(spec.domain)
    if spec.op == "ols":
        y_scale = sum(spec.inputs[n].bound for n in spec.responses())
        out: list[float] = []
        for m in inp.measures():
            per_key = np.zeros(cells)
            np.add.at(per_key, cell, _values(rows, m))
            scale = m.bound if inp.role == "x" else y_scale
            out += (np.clip(per_key, m.lo, m.hi) / scale).tolist()
        return out
    if spec.op == "histogram":
        counts, _ = np.histogram(_values(rows, inp.measures()[0]), bins=np.asarray(spec.bins))
        return [int(c) for c in counts]
    counts = np.bincount(cell, minlength=cells).astype(np.int64)
    if spec.op == "count":
        return counts.tolist()
    clipped = np.clip(_values(rows, inp.measures()[0]), inp.lo, inp.hi)
    units = np.rint(clipped / float(spec.resolution)).astype(np.int64)
    sums = np.zeros(cells, dtype=np.int64)
    np.add.at(sums, cell, units)
    if np.abs(sums).max(initial=0) * len(spec.inputs) > MAX_INTEGER_TOTAL:
        raise JointInputInvalid("the totals are too large for the resolution; use a coarser one")
    return (sums.tolist() + counts.tolist()) if spec.op == "mean" else sums.tolist()


#: inputs are committed to as integers in [0, 2^64): signed values shifted by 2^63, OLS's
#: scaled reals first put on a 2^-40 grid (the commitment fixes the input, not its precision)
COMMIT_OFFSET = 2**63
COMMIT_FRACTION_BITS = 40


def committed_form(spec: JointSpec, vector: list[int] | list[float]) -> tuple[list[int], str]:
    """The integers an owner commits to for its input ``vector``, and their unit."""
    if spec.op == "ols":
        scaled = [round(float(x) * 2**COMMIT_FRACTION_BITS) for x in vector]
        unit = f"input*2^{COMMIT_FRACTION_BITS}+2^63"
    else:
        scaled = [int(x) for x in vector]
        unit = "input+2^63"
    if any(abs(v) >= COMMIT_OFFSET for v in scaled):
        raise JointInputInvalid("an input value is too large to commit to")
    return [v + COMMIT_OFFSET for v in scaled], unit


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
        xs = spec.x_columns()
        y_scale = sum(spec.inputs[n].bound for n in spec.responses())
        coef = [opened[0] * y_scale] + [
            opened[1 + j] * y_scale / m.bound for j, (_n, m) in enumerate(xs)
        ]
        names = ["intercept"] + [f"x{j + 1}:{m.label}" for j, (_n, m) in enumerate(xs)]
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
