"""Differentially private answers computed on the owner's node (compute-to-data).

A query is a JSON spec — count, sum, mean, variance, histogram or quantile(s) of one
column, optionally grouped by a column and filtered on columns whose values are public.
Everything that shapes the noise comes from the dataset's metadata, never from the query or
the data: numeric bounds, and the public keys of grouping and filter columns. A query that
needs metadata the owner did not declare is refused. diffprivlib supplies the mechanisms;
its privacy-leak warnings are raised as errors; integer counts use the geometric mechanism.

Cost: a query costs the ε it asks for, an exact :class:`~node.privacy.budget.Epsilon` (whole
milli-ε, what the chain charges), and δ 0: every mechanism here is pure ε-DP. Its mechanisms
run at that ε, never above it (:meth:`Epsilon.for_mechanism`). Grouping by a column with
declared public keys splits the data into disjoint parts, so by parallel composition the
whole group-by costs that ε once, not once per group.

Every cell is answered the same way whatever its rows: a group with no rows, or whose values
are all missing, gets a noisy answer of the same shape at the same cost, so that whether a
cell is empty is never learned from an error (see :func:`_one`).

This module is pure computation; the gate that locks, checks and spends the budget on
chain around it is built on top.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from node.errors import InvalidInput, TanlianError, describe_validation
from node.privacy.budget import BUDGET_ERRORS, ZERO_DELTA, BudgetTooLarge, Charge, Epsilon

#: the most one query may ask for
MAX_QUERY_EPSILON = Epsilon.parse("10")


class QueryRefused(TanlianError):
    code = "dp_query_refused"
    http_status = 422


class ColumnMeta(BaseModel):
    """What the owner declares public about a column."""

    model_config = {"extra": "forbid"}

    lower: float | None = None
    upper: float | None = None
    integer: bool = False
    #: public values of a categorical column: it may then be grouped and filtered on
    keys: list[str] | None = None

    @model_validator(mode="after")
    def _bounds(self) -> ColumnMeta:
        if (self.lower is None) != (self.upper is None):
            raise ValueError("give both lower and upper bounds, or neither")
        if self.lower is not None and self.upper is not None and self.upper <= self.lower:
            raise ValueError("upper bound must be above lower bound")
        return self


class DatasetMeta(BaseModel):
    model_config = {"extra": "forbid"}

    columns: dict[str, ColumnMeta]
    #: an upper bound on the rows any one group can hold (for mean/variance); optional
    max_rows: int | None = Field(default=None, gt=0)

    def digest(self) -> bytes:
        """SHA-256 of the canonical metadata, anchored on chain with its version: the gate
        answers only with metadata of the anchored digest."""
        return hashlib.sha256(
            json.dumps(
                self.model_dump(), sort_keys=True, separators=(",", ":"), ensure_ascii=False
            ).encode()
        ).digest()


class Filter(BaseModel):
    model_config = {"extra": "forbid"}

    column: str
    values: list[str] = Field(min_length=1)


class QuerySpec(BaseModel):
    model_config = {"extra": "forbid"}

    kind: Literal["count", "sum", "mean", "variance", "histogram", "quantile"]
    column: str | None = None
    epsilon: Epsilon
    quantiles: list[float] | None = None
    bins: int | None = Field(default=None, ge=1, le=1000)
    group_by: str | None = None
    filters: list[Filter] = []

    @field_validator("epsilon")
    @classmethod
    def _at_most(cls, eps: Epsilon) -> Epsilon:
        if eps > MAX_QUERY_EPSILON:
            raise PydanticCustomError(
                BudgetTooLarge.code, f"one query may ask for ε {MAX_QUERY_EPSILON} at most"
            )
        return eps

    @model_validator(mode="after")
    def _shape(self) -> QuerySpec:
        if self.kind != "count" and not self.column:
            raise ValueError(f"a {self.kind} query needs a column")
        if self.kind == "quantile":
            if not self.quantiles or any(not 0 <= q <= 1 for q in self.quantiles):
                raise ValueError("quantile queries need quantiles between 0 and 1")
        elif self.quantiles is not None:
            raise ValueError("quantiles apply to quantile queries only")
        if self.kind == "histogram" and not self.bins:
            raise ValueError("histogram queries need bins")
        return self

    def digest(self) -> bytes:
        """Hash of the canonical spec (what goes on chain with the spend)."""
        return hashlib.sha256(
            json.dumps(self.model_dump(), sort_keys=True, separators=(",", ":")).encode()
        ).digest()


def parse_spec(data: dict[str, Any]) -> QuerySpec:
    try:
        return QuerySpec.model_validate(data)
    except ValidationError as exc:
        problems = describe_validation(exc, "query")
        # a budget that cannot be charged exactly keeps its own code (budget_too_fine, …)
        budget = next((e["type"] for e in exc.errors() if e["type"] in BUDGET_ERRORS), None)
        error = BUDGET_ERRORS[budget] if budget is not None else InvalidInput
        raise error(f"invalid query: {problems}") from None


def cost(spec: QuerySpec, meta: DatasetMeta) -> Charge:
    """What the query will be charged (checks it against the metadata first): its ε, once
    for a group-by over disjoint public keys, and δ 0 (pure ε-DP mechanisms only)."""
    _check(spec, meta)
    return Charge(spec.epsilon, ZERO_DELTA)


def _check(spec: QuerySpec, meta: DatasetMeta) -> None:
    def col(name: str) -> ColumnMeta:
        if name not in meta.columns:
            raise QueryRefused(f"column {name!r} is not declared in the dataset's metadata")
        return meta.columns[name]

    if spec.column is not None and spec.kind != "count":
        c = col(spec.column)
        if c.lower is None:
            raise QueryRefused(
                f"column {spec.column!r} has no declared bounds; a {spec.kind} query needs them"
            )
    for f in spec.filters:
        keys = col(f.column).keys
        if not keys:
            raise QueryRefused(f"column {f.column!r} has no public keys: it cannot be filtered on")
        unknown = [v for v in f.values if v not in keys]
        if unknown:
            raise QueryRefused(f"filter values {unknown} are not public keys of {f.column!r}")
    if spec.group_by is not None and not col(spec.group_by).keys:
        raise QueryRefused(f"column {spec.group_by!r} has no public keys: it cannot be grouped by")


@contextmanager
def leak_warnings_refused() -> Iterator[None]:
    """diffprivlib's PrivacyLeakWarning (bounds or ranges taken from the data) becomes a
    refusal: an answer whose noise was calibrated on the data itself never leaves."""
    from diffprivlib.utils import PrivacyLeakWarning

    with warnings.catch_warnings():
        warnings.simplefilter("error", PrivacyLeakWarning)
        try:
            yield
        except PrivacyLeakWarning as exc:
            raise QueryRefused(f"the query would leak privacy: {exc}") from None


def answer(
    spec: QuerySpec,
    meta: DatasetMeta,
    data: dict[str, np.ndarray],
    rng: np.random.Generator | None = None,
) -> dict[str, Any]:
    """The DP answer of ``spec`` over ``data`` (column name → array)."""
    _check(spec, meta)
    seed = None if rng is None else int(rng.integers(0, 2**31 - 1))
    # No filter, no group: work on the column itself, without copying 10^7 values.
    mask: np.ndarray | None = None
    for f in spec.filters:
        hit = np.isin(data[f.column].astype(str), f.values)
        mask = hit if mask is None else mask & hit
    with leak_warnings_refused():
        if spec.group_by is None:
            return {"value": _one(spec, meta, data, mask, seed)}
        keys = meta.columns[spec.group_by].keys or []
        groups = data[spec.group_by].astype(str)
        # Disjoint groups from public keys: each gets the full ε (parallel composition),
        # and a group with no rows is answered too, so absence leaks nothing.
        return {
            "groups": {
                k: _one(
                    spec,
                    meta,
                    data,
                    (groups == k) if mask is None else mask & (groups == k),
                    None if seed is None else seed + i,
                )
                for i, k in enumerate(keys)
            }
        }


def _one(
    spec: QuerySpec,
    meta: DatasetMeta,
    data: dict[str, np.ndarray],
    mask: np.ndarray | None,
    seed: int | None,
) -> Any:
    # imported here: diffprivlib (with scikit-learn and SciPy) costs every node process over
    # a second at start, and most nodes never answer a DP query
    from diffprivlib import tools as dp
    from diffprivlib.accountant import BudgetAccountant
    from diffprivlib.mechanisms import Geometric

    # the largest double not above the ε charged: the mechanism never gets more than is paid
    eps = spec.epsilon.for_mechanism()
    if spec.kind == "count":
        true = len(next(iter(data.values()))) if mask is None else int(mask.sum())
        mech = Geometric(epsilon=eps, sensitivity=1, random_state=seed)
        return max(0, int(mech.randomise(true)))
    c = meta.columns[spec.column or ""]
    bounds = (c.lower, c.upper)
    column = data[spec.column or ""]
    values = column if mask is None else column[mask]
    if values.dtype.kind != "f":
        values = values.astype(float)
    # A missing value (NaN: an empty or non-numeric CSV cell) is left out of its cell; a cell
    # of nothing but those is an empty cell. (NaN would otherwise come out as the answer.)
    missing = np.isnan(values)
    if missing.any():
        values = values[~missing]
    if values.size == 0 and spec.kind in ("mean", "variance"):
        # diffprivlib calibrates these on the cell's row count and divides by zero on an empty
        # cell: failing there, before the spend, told the consumer which cells are empty for
        # free. The empty cell is answered as a cell of one row at the middle of the bounds:
        # the same mechanism, ε and shape, noise over the bounds, and the same distribution as
        # the answer for a one-row cell holding that value.
        values = np.array([(c.lower + c.upper) / 2])  # type: ignore[operator]
    # The budget is accounted on chain; diffprivlib's default accountant would keep every
    # spend of the process in one list that only grows, so each call gets its own.
    acct = BudgetAccountant()
    # diffprivlib clips to the bounds itself; the quantile below clips on its own too
    if spec.kind == "sum":
        if c.integer:
            values = np.rint(values).astype(int)
            bounds = (int(c.lower), int(c.upper))
        return float(dp.sum(values, epsilon=eps, bounds=bounds, random_state=seed, accountant=acct))
    if spec.kind == "mean":
        return float(
            dp.mean(values, epsilon=eps, bounds=bounds, random_state=seed, accountant=acct)
        )
    if spec.kind == "variance":
        return float(dp.var(values, epsilon=eps, bounds=bounds, random_state=seed, accountant=acct))
    if spec.kind == "histogram":
        # clipped, so that values beyond the bounds land in the edge bins, not nowhere
        counts, edges = dp.histogram(
            np.clip(values, *bounds),
            epsilon=eps,
            bins=spec.bins,
            range=bounds,
            random_state=seed,
            accountant=acct,
        )
        return {"counts": [max(0, int(x)) for x in counts], "edges": [float(e) for e in edges]}
    qs = spec.quantiles or []
    # The ε is shared between the quantiles asked for (sequential composition); the values
    # are sorted once for all of them.
    rng = np.random.default_rng(seed)
    ordered = np.sort(values)
    np.clip(ordered, *bounds, out=ordered)
    share = spec.epsilon.for_mechanism(len(qs))  # never above ε/len(qs), summing to ≤ ε
    return [fast_quantile(ordered, q, share, bounds, rng, presorted=True) for q in qs]


def fast_quantile(
    values: np.ndarray,
    q: float,
    epsilon: float,
    bounds: tuple[float, float],
    rng: np.random.Generator,
    *,
    presorted: bool = False,
) -> float:  # presorted: ``values`` already sorted and clipped to ``bounds``
    """The exponential-mechanism quantile of diffprivlib.tools.quantile, vectorized.

    Same mechanism and guarantee (Smith 2011; diffprivlib's own construction): the sorted,
    clipped values and the bounds cut [lower, upper] into k+1 intervals; interval i has
    utility -|i - q·k| (sensitivity 1) and is drawn with probability proportional to its
    length × exp(ε·utility/2); the answer is uniform inside it. diffprivlib builds Python
    lists of k elements for this; here it is a few numpy passes in log space.
    """
    lo, hi = bounds
    k = values.size
    if presorted:
        s = values  # sorted and clipped by the caller, and only read here
    else:
        s = np.sort(values)
        np.clip(s, lo, hi, out=s)
    # log-weight of interval i (between z_i and z_{i+1}, z = [lo, s..., hi]), built in place:
    # log(length_i) - ε·|i - q·k| / 2
    logw = np.empty(k + 1)
    if k:
        logw[0] = s[0] - lo
        np.subtract(s[1:], s[:-1], out=logw[1:k])
        logw[k] = hi - s[-1]
    else:
        logw[0] = hi - lo
    with np.errstate(divide="ignore"):
        np.log(logw, out=logw)
    rank = np.arange(k + 1, dtype=float)
    rank -= q * k
    np.abs(rank, out=rank)
    rank *= -epsilon / 2
    logw += rank
    logw -= logw.max()
    np.exp(logw, out=logw)
    np.cumsum(logw, out=logw)
    idx = min(int(np.searchsorted(logw, rng.random() * logw[-1], side="right")), k)
    left = lo if idx == 0 else s[idx - 1]
    right = hi if idx == k else s[idx]
    return float(left + rng.random() * (right - left))
