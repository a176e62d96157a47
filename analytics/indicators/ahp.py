"""Analytic hierarchy process (AHP): priorities, consistency and group judgments.

A pairwise comparison matrix ``A`` holds judgments ``a_ij`` = how many times criterion ``i`` is
as important as criterion ``j`` (Saaty's 1–9 scale and reciprocals), with ``a_ii = 1`` and
``a_ji = 1 / a_ij``. From it this module derives:

* priorities (:func:`weights`) by the principal right eigenvector (Saaty), the row geometric
  mean, or the mean of the column-normalised matrix;
* Saaty's consistency index and ratio (:func:`consistency`) and, for an inconsistent matrix, the
  one judgment whose change helps most (:func:`suggest_revision`);
* group priorities (:func:`group`) by aggregating individual judgments (AIJ) or individual
  priorities (AIP), following Forman & Peniwati (1998), "Aggregating individual judgments and
  priorities with the analytic hierarchy process", EJOR 108(1), 165–169;
* matrices from a CSV file (:func:`read_matrix`) and from survey answers coded as in the R
  package ahpsurvey (:func:`read_survey`).

Every deliberate error is an :class:`~analytics.errors.AnalyticsError`: bad files and values
raise :class:`~analytics.errors.InvalidData`, bad parameters
:class:`~analytics.errors.InvalidPipeline`, numerical failures
:class:`~analytics.errors.ComputationError`.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
import pandas as pd

from analytics.errors import ComputationError, InvalidData, InvalidPipeline
from analytics.tables import read_text

__all__ = [
    "SAATY_RANDOM_INDEX",
    "SAATY_SCALE",
    "AhpResult",
    "Consistency",
    "GroupResult",
    "PairwiseMatrix",
    "Revision",
    "aggregate_aij",
    "aggregate_aip",
    "analyse",
    "consistency",
    "group",
    "read_matrix",
    "read_survey",
    "round_to_saaty_scale",
    "suggest_revision",
    "weights",
]

Method = Literal["eigen", "geometric", "colnorm"]
Aggregate = Literal["aij", "aip"]
AipMean = Literal["geometric", "arithmetic"]

METHODS: tuple[str, ...] = ("eigen", "geometric", "colnorm")
AGGREGATES: tuple[str, ...] = ("aij", "aip")
AIP_MEANS: tuple[str, ...] = ("geometric", "arithmetic")

#: Saaty's random consistency index by matrix order (Saaty's table for n = 1..15).
SAATY_RANDOM_INDEX: Mapping[int, float] = MappingProxyType(
    {
        1: 0.0,
        2: 0.0,
        3: 0.58,
        4: 0.90,
        5: 1.12,
        6: 1.24,
        7: 1.32,
        8: 1.41,
        9: 1.45,
        10: 1.49,
        11: 1.51,
        12: 1.48,
        13: 1.56,
        14: 1.57,
        15: 1.59,
    }
)

#: Saaty's fundamental scale with reciprocals: 1/9, 1/8, …, 1/2, 1, 2, …, 9.
SAATY_SCALE: tuple[float, ...] = tuple(
    [1.0 / k for k in range(9, 1, -1)] + [float(k) for k in range(1, 10)]
)

DEFAULT_THRESHOLD = 0.1
# A judgment and its mirror must multiply to 1 within this relative tolerance; hand-typed
# decimals such as 0.333 for 1/3 fail it on purpose (write 1/3 or leave the lower cell blank).
RECIPROCAL_TOLERANCE = 1e-6

_LOG_SCALE = np.log(np.asarray(SAATY_SCALE))


# -- the matrix ----------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class PairwiseMatrix:
    """A validated positive reciprocal pairwise comparison matrix.

    ``values[i, j]`` is how many times ``names[i]`` is as important as ``names[j]``. Construction
    checks that the matrix is square and matches ``names``, that the names are unique and
    non-empty, that every entry is a positive finite number, that the diagonal is 1 and that
    ``values[j, i] * values[i, j] == 1`` within a relative 1e-6. The stored array is a read-only
    float copy whose lower triangle is the exact reciprocal of the upper one, so that later
    arithmetic sees a truly reciprocal matrix. Compare two matrices through ``names`` and
    ``values`` (there is no ``==``: arrays have no single truth value).
    """

    names: tuple[str, ...]
    values: np.ndarray

    def __post_init__(self) -> None:
        names = tuple(self.names)
        values = _checked_values(names, self.values, "matrix")
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "values", values)

    @property
    def n(self) -> int:
        return len(self.names)

    def to_frame(self) -> pd.DataFrame:
        """The matrix as a DataFrame labelled by criterion on both axes."""
        return pd.DataFrame(self.values.copy(), index=list(self.names), columns=list(self.names))


def _checked_values(names: tuple[str, ...], raw: Any, where: str) -> np.ndarray:
    """Validate ``raw`` against ``names``; return a read-only, exactly reciprocal float copy."""
    if not names:
        raise InvalidData(f"{where}: no criteria")
    for name in names:
        if not isinstance(name, str) or not name.strip():
            raise InvalidData(f"{where}: criterion names must be non-empty text, got {name!r}")
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise InvalidData(f"{where}: criterion {name!r} appears more than once")
        seen.add(name)
    try:
        values = np.array(raw, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InvalidData(f"{where}: values are not numbers ({exc})") from exc
    n = len(names)
    if values.shape != (n, n):
        raise InvalidData(
            f"{where}: values have shape {values.shape}, expected ({n}, {n}) for {n} criteria"
        )
    for i in range(n):
        for j in range(n):
            value = values[i, j]
            if not math.isfinite(value) or value <= 0:
                raise InvalidData(
                    f"{where}: cell (row {names[i]!r}, column {names[j]!r}) is {value:g}; "
                    "judgments must be positive finite numbers"
                )
    for i in range(n):
        if abs(values[i, i] - 1.0) > RECIPROCAL_TOLERANCE:
            raise InvalidData(
                f"{where}: diagonal cell (row {names[i]!r}, column {names[i]!r}) is "
                f"{values[i, i]:g}; a criterion compared with itself must be 1"
            )
    for i in range(n):
        for j in range(i + 1, n):
            product = values[i, j] * values[j, i]
            if abs(product - 1.0) > RECIPROCAL_TOLERANCE:
                raise InvalidData(
                    f"{where}: cell (row {names[j]!r}, column {names[i]!r}) is "
                    f"{values[j, i]:g} but should be 1/{values[i, j]:g} = "
                    f"{1.0 / values[i, j]:.6g}, the reciprocal of cell (row {names[i]!r}, "
                    f"column {names[j]!r})"
                )
    exact = np.eye(n) + np.triu(values, 1)
    lower = np.tril_indices(n, -1)
    exact[lower] = 1.0 / values.T[lower]
    exact.setflags(write=False)
    return exact


# -- priorities ----------------------------------------------------------------------------------
def _check_method(method: str) -> None:
    if method not in METHODS:
        raise InvalidPipeline(
            f"unknown AHP weighting method {method!r}; expected one of {', '.join(METHODS)}"
        )


def _principal(values: np.ndarray) -> tuple[float, np.ndarray]:
    """Perron root and its eigenvector normalised to sum 1."""
    eigenvalues, eigenvectors = np.linalg.eig(values)
    k = int(np.argmax(eigenvalues.real))
    vector = eigenvectors[:, k].real
    total = vector.sum()
    # The Perron vector of a positive matrix has one sign throughout, and eig may return it
    # negated; dividing by the sum fixes the sign. A zero sum or a mixed sign means eig failed.
    if total == 0 or not math.isfinite(total):
        raise ComputationError("the principal eigenvector could not be computed")
    vector = vector / total
    if not np.all(vector > 0):
        raise ComputationError("the principal eigenvector is not strictly positive")
    return float(eigenvalues[k].real), vector


def _priority_vector(values: np.ndarray, method: str) -> np.ndarray:
    if method == "eigen":
        return _principal(values)[1]
    if method == "geometric":
        rows = np.exp(np.log(values).mean(axis=1))
        return rows / rows.sum()
    column_normalised = values / values.sum(axis=0)
    return column_normalised.mean(axis=1)


def weights(matrix: PairwiseMatrix, method: Method = "eigen") -> pd.Series:
    """Priorities of the criteria, a Series indexed by name that sums to 1.

    ``eigen``: Saaty's principal right eigenvector (the eigenvalue of largest real part).
    ``geometric``: the geometric mean of each row (logarithmic least squares), normalised.
    ``colnorm``: each column divided by its sum, then the mean of each row. All three agree on a
    perfectly consistent matrix.
    """
    _check_method(method)
    vector = _priority_vector(matrix.values, method)
    return pd.Series(vector, index=pd.Index(matrix.names, name="criterion"), name="weight")


# -- consistency ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Consistency:
    """Saaty's consistency measures of one matrix."""

    n: int
    lambda_max: float
    ci: float
    ri: float
    cr: float
    consistent: bool
    threshold: float


def _check_threshold(threshold: float) -> None:
    if not isinstance(threshold, int | float) or not math.isfinite(threshold) or threshold < 0:
        raise InvalidPipeline(
            f"consistency threshold must be a finite number >= 0, got {threshold!r}"
        )


def _random_index(n: int, table: Mapping[int, float] | None) -> float:
    table = SAATY_RANDOM_INDEX if table is None else table
    if n not in table:
        known = ", ".join(str(k) for k in sorted(table))
        raise InvalidData(
            f"no random index for n={n} criteria (the table covers n = {known}); "
            "pass a random_index table that includes it"
        )
    ri = float(table[n])
    if n >= 3 and (not math.isfinite(ri) or ri <= 0):
        raise InvalidData(f"random index for n={n} is {ri:g}; it must be a positive number")
    return ri


def _consistency_of(
    values: np.ndarray, random_index: Mapping[int, float] | None, threshold: float
) -> Consistency:
    n = values.shape[0]
    ri = _random_index(n, random_index)
    lambda_max = _principal(values)[0]
    if n <= 2:
        # Every reciprocal matrix of order 1 or 2 is consistent; RI is 0 there, so CR is defined
        # as 0 rather than 0/0.
        ci = cr = 0.0
    else:
        # lambda_max >= n holds exactly for positive reciprocal matrices; a value a few ulps
        # below n is rounding, not negative inconsistency.
        ci = max((lambda_max - n) / (n - 1), 0.0)
        cr = ci / ri
    return Consistency(
        n=n,
        lambda_max=lambda_max,
        ci=ci,
        ri=ri,
        cr=cr,
        consistent=cr <= threshold,
        threshold=float(threshold),
    )


def consistency(
    matrix: PairwiseMatrix,
    random_index: Mapping[int, float] | None = None,
    threshold: float = DEFAULT_THRESHOLD,
) -> Consistency:
    """Saaty's λmax, CI = (λmax − n)/(n − 1) and CR = CI / RI(n); consistent when CR <= threshold.

    ``random_index`` maps the order n to RI(n); by default Saaty's table for n = 1..15. An n
    missing from the table raises :class:`InvalidData`. For n <= 2, CI and CR are 0.
    """
    _check_threshold(threshold)
    return _consistency_of(matrix.values, random_index, threshold)


# -- revision ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Revision:
    """One judgment to reconsider: cell (row, column) and the value the priorities imply."""

    row: str
    column: str
    current: float
    implied: float
    suggested: float
    cr_before: float
    cr_after: float

    def to_json(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "column": self.column,
            "current": self.current,
            "implied": self.implied,
            "suggested": self.suggested,
            "cr_before": self.cr_before,
            "cr_after": self.cr_after,
        }


def round_to_saaty_scale(ratio: float) -> float:
    """The value of Saaty's scale (1/9 … 1 … 9) nearest to a positive ``ratio``.

    Nearest on a logarithmic axis, so that rounding commutes with taking reciprocals: 1.4 rounds
    to 1 and 1/1.4 to 1 as well, where a linear distance would send 1/1.4 to 1/2. Ratios beyond
    the scale round to 9 or 1/9.
    """
    if not math.isfinite(ratio) or ratio <= 0:
        raise InvalidData(f"cannot round {ratio!r} to Saaty's scale: it must be a positive number")
    return SAATY_SCALE[int(np.argmin(np.abs(_LOG_SCALE - math.log(ratio))))]


def _best_revision(
    matrix: PairwiseMatrix,
    before: Consistency,
    random_index: Mapping[int, float] | None,
) -> Revision | None:
    values = matrix.values
    implied_by = _principal(values)[1]
    best: Revision | None = None
    n = matrix.n
    for i in range(n):
        for j in range(i + 1, n):
            implied = float(implied_by[i] / implied_by[j])
            suggested = round_to_saaty_scale(implied)
            if math.isclose(suggested, values[i, j], rel_tol=1e-9):
                continue
            trial = values.copy()
            trial[i, j] = suggested
            trial[j, i] = 1.0 / suggested
            after = _consistency_of(trial, random_index, before.threshold).cr
            if after < before.cr and (best is None or after < best.cr_after):
                best = Revision(
                    row=matrix.names[i],
                    column=matrix.names[j],
                    current=float(values[i, j]),
                    implied=implied,
                    suggested=suggested,
                    cr_before=before.cr,
                    cr_after=after,
                )
    return best


def suggest_revision(
    matrix: PairwiseMatrix,
    *,
    threshold: float = DEFAULT_THRESHOLD,
    random_index: Mapping[int, float] | None = None,
) -> Revision | None:
    """The single judgment whose change lowers CR most, or None.

    Method (not Harker's): with the current eigenvector priorities ``w``, each upper-triangle
    judgment ``a_ij`` in turn is replaced by ``w_i / w_j`` rounded to the nearest value of
    Saaty's scale or its reciprocal (nearest on a logarithmic axis), ``a_ji`` by its reciprocal,
    and CR is recomputed. The pair with the lowest resulting CR is returned, with the current,
    implied (unrounded) and suggested values and CR before and after. None when the matrix is
    already consistent (CR <= threshold) or when no single rounded change lowers CR.
    """
    _check_threshold(threshold)
    before = _consistency_of(matrix.values, random_index, threshold)
    if before.consistent:
        return None
    return _best_revision(matrix, before, random_index)


# -- one matrix, end to end ----------------------------------------------------------------------
def _weights_json(series: pd.Series) -> dict[str, float]:
    return {str(name): float(value) for name, value in series.items()}


@dataclass(frozen=True, eq=False)
class AhpResult:
    """Priorities and consistency of one matrix."""

    weights: pd.Series
    method: str
    lambda_max: float
    ci: float
    cr: float
    consistent: bool
    revision: Revision | None

    def to_json(self) -> dict[str, Any]:
        return {
            "weights": _weights_json(self.weights),
            "lambda_max": self.lambda_max,
            "ci": self.ci,
            "cr": self.cr,
            "consistent": self.consistent,
            "method": self.method,
            "revision": None if self.revision is None else self.revision.to_json(),
        }


def analyse(
    matrix: PairwiseMatrix,
    method: Method = "eigen",
    random_index: Mapping[int, float] | None = None,
    threshold: float = DEFAULT_THRESHOLD,
) -> AhpResult:
    """Weights by ``method``, Saaty's consistency, and a suggested revision when inconsistent.

    λmax, CI and CR always come from the principal eigenvalue, whichever ``method`` derives the
    weights: that is how Saaty's RI table was computed.
    """
    _check_method(method)
    _check_threshold(threshold)
    measured = _consistency_of(matrix.values, random_index, threshold)
    revision = None if measured.consistent else _best_revision(matrix, measured, random_index)
    return AhpResult(
        weights=weights(matrix, method),
        method=method,
        lambda_max=measured.lambda_max,
        ci=measured.ci,
        cr=measured.cr,
        consistent=measured.consistent,
        revision=revision,
    )


# -- groups --------------------------------------------------------------------------------------
def _check_group(matrices: Sequence[PairwiseMatrix]) -> tuple[str, ...]:
    if len(matrices) == 0:
        raise InvalidData("no expert matrices to aggregate")
    names = matrices[0].names
    for index, matrix in enumerate(matrices):
        if matrix.names != names:
            raise InvalidData(
                f"expert at index {index} compares criteria {list(matrix.names)} but the expert "
                f"at index 0 compares {list(names)}; all experts must use the same criteria in "
                "the same order"
            )
    return names


def _expert_weights(expert_weights: Sequence[float] | None, count: int) -> np.ndarray:
    if expert_weights is None:
        return np.full(count, 1.0 / count)
    try:
        given = np.array(expert_weights, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InvalidPipeline(f"expert weights are not numbers ({exc})") from exc
    if given.shape != (count,):
        raise InvalidPipeline(f"{given.size} expert weights given for {count} experts")
    for index, value in enumerate(given):
        if not math.isfinite(value) or value <= 0:
            raise InvalidPipeline(
                f"expert weight at index {index} is {value:g}; expert weights must be positive"
            )
    return given / given.sum()


def aggregate_aij(
    matrices: Sequence[PairwiseMatrix], expert_weights: Sequence[float] | None = None
) -> PairwiseMatrix:
    """Aggregation of individual judgments: the element-wise (weighted) geometric mean.

    The geometric mean is the only mean that keeps the group matrix reciprocal (Aczél & Saaty
    1983); ``expert_weights`` (positive, any scale) make it a weighted geometric mean.
    """
    names = _check_group(matrices)
    share = _expert_weights(expert_weights, len(matrices))
    logs = np.stack([np.log(matrix.values) for matrix in matrices])
    combined = np.exp(np.tensordot(share, logs, axes=1))
    return PairwiseMatrix(names, combined)


def _check_aip_mean(mean: str) -> None:
    if mean not in AIP_MEANS:
        raise InvalidPipeline(f"unknown AIP mean {mean!r}; expected one of {', '.join(AIP_MEANS)}")


def aggregate_aip(
    matrices: Sequence[PairwiseMatrix],
    method: Method = "eigen",
    expert_weights: Sequence[float] | None = None,
    mean: AipMean = "geometric",
) -> pd.Series:
    """Aggregation of individual priorities: each expert's weights by ``method``, then a mean.

    By default the (weighted) geometric mean of the priority vectors, renormalised to sum 1, as
    in Forman & Peniwati (1998), who accept either mean for AIP; ``mean="arithmetic"`` gives the
    weighted arithmetic mean (already summing to 1), which is what ahpsurvey's
    ``ahp.aggpref(method="arithmetic")`` reports. Note that ahpsurvey's geometric aggregation
    does not renormalise, so its printed figures sum to slightly less than 1.
    """
    _check_method(method)
    _check_aip_mean(mean)
    names = _check_group(matrices)
    share = _expert_weights(expert_weights, len(matrices))
    priorities = np.stack([_priority_vector(matrix.values, method) for matrix in matrices])
    if mean == "geometric":
        combined = np.exp(share @ np.log(priorities))
        combined = combined / combined.sum()
    else:
        combined = share @ priorities
    return pd.Series(combined, index=pd.Index(names, name="criterion"), name="weight")


@dataclass(frozen=True, eq=False)
class GroupResult:
    """Group priorities of several experts.

    ``dropped`` holds 0-based indices into the input list; ``expert_cr`` holds every expert's CR
    in input order, dropped or not. ``matrix``, ``lambda_max``, ``ci``, ``cr``, ``consistent``
    and ``revision`` describe the aggregated matrix and exist for AIJ only (None for AIP).
    """

    weights: pd.Series
    method: str
    aggregate: str
    aip_mean: str | None
    experts: int
    dropped: tuple[int, ...]
    expert_cr: tuple[float, ...]
    matrix: PairwiseMatrix | None
    lambda_max: float | None
    ci: float | None
    cr: float | None
    consistent: bool | None
    revision: Revision | None

    def to_json(self) -> dict[str, Any]:
        return {
            "weights": _weights_json(self.weights),
            "lambda_max": self.lambda_max,
            "ci": self.ci,
            "cr": self.cr,
            "consistent": self.consistent,
            "method": self.method,
            "aggregate": self.aggregate,
            "aip_mean": self.aip_mean,
            "revision": None if self.revision is None else self.revision.to_json(),
            "experts": self.experts,
            "dropped": list(self.dropped),
            "expert_cr": list(self.expert_cr),
        }


def group(
    matrices: Sequence[PairwiseMatrix],
    aggregate: Aggregate = "aij",
    method: Method = "eigen",
    drop_inconsistent: bool = False,
    threshold: float = DEFAULT_THRESHOLD,
    random_index: Mapping[int, float] | None = None,
    expert_weights: Sequence[float] | None = None,
    aip_mean: AipMean = "geometric",
) -> GroupResult:
    """Group priorities by AIJ (:func:`aggregate_aij`) or AIP (:func:`aggregate_aip`).

    Every expert's CR is computed; with ``drop_inconsistent`` the experts whose CR exceeds
    ``threshold`` are left out (with their expert weights) before aggregating, and leaving none
    raises :class:`InvalidData`. ``aip_mean`` applies to AIP only.
    """
    if aggregate not in AGGREGATES:
        raise InvalidPipeline(
            f"unknown aggregation {aggregate!r}; expected one of {', '.join(AGGREGATES)}"
        )
    _check_method(method)
    _check_threshold(threshold)
    _check_aip_mean(aip_mean)
    _check_group(matrices)
    share = _expert_weights(expert_weights, len(matrices))
    measured = [_consistency_of(m.values, random_index, threshold) for m in matrices]
    keep = [i for i, c in enumerate(measured) if c.consistent or not drop_inconsistent]
    dropped = tuple(sorted(set(range(len(matrices))) - set(keep)))
    if not keep:
        raise InvalidData(
            f"all {len(matrices)} experts have CR above {threshold:g}; dropping inconsistent "
            "experts leaves none to aggregate"
        )
    kept = [matrices[i] for i in keep]
    kept_share = [float(share[i]) for i in keep]
    common: dict[str, Any] = {
        "method": method,
        "aggregate": aggregate,
        "experts": len(matrices),
        "dropped": dropped,
        "expert_cr": tuple(c.cr for c in measured),
    }
    if aggregate == "aip":
        return GroupResult(
            weights=aggregate_aip(kept, method, kept_share, aip_mean),
            aip_mean=aip_mean,
            matrix=None,
            lambda_max=None,
            ci=None,
            cr=None,
            consistent=None,
            revision=None,
            **common,
        )
    combined = aggregate_aij(kept, kept_share)
    overall = _consistency_of(combined.values, random_index, threshold)
    revision = None if overall.consistent else _best_revision(combined, overall, random_index)
    return GroupResult(
        weights=weights(combined, method),
        aip_mean=None,
        matrix=combined,
        lambda_max=overall.lambda_max,
        ci=overall.ci,
        cr=overall.cr,
        consistent=overall.consistent,
        revision=revision,
        **common,
    )


# -- files ---------------------------------------------------------------------------------------
def _read_rows(path: Path) -> list[list[str]]:
    # UTF-8 (a spreadsheet's BOM removed, or it would stick to the first header cell) or GBK
    text, _ = read_text(path, "matrix")
    try:
        return [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text, newline=""))]
    except csv.Error as exc:
        raise InvalidData(f"{path}: not a readable CSV file ({exc})") from exc


def _parse_judgment(text: str) -> float:
    """A number such as ``3``, ``0.25`` or a fraction ``1/3``; ValueError otherwise."""
    if "/" in text:
        numerator, _, denominator = text.partition("/")
        return float(numerator) / float(denominator)
    return float(text)


def read_matrix(path: Path) -> PairwiseMatrix:
    """Read a pairwise comparison matrix from a CSV file.

    Layout: the header row holds the criterion names after a first cell that is ignored (empty
    or any label); each following row starts with a criterion name, in the same order as the
    header, followed by its judgments. Cells hold numbers or fractions (``1/3``). Blank cells
    are allowed on and below the diagonal only: a blank diagonal cell means 1 and a blank lower
    cell ``a_ji`` means ``1 / a_ij``, so a file may give just the upper triangle. Filled cells
    must be positive, the diagonal 1, and mirrored cells reciprocal within a relative 1e-6.
    Blank lines are skipped. Every problem raises :class:`InvalidData` naming the cell.
    """
    rows = [row for row in _read_rows(path) if any(row)]
    if not rows:
        raise InvalidData(f"{path}: the file is empty")
    header, body = rows[0], rows[1:]
    names = tuple(header[1:])
    n = len(names)
    if n == 0:
        raise InvalidData(f"{path}: the header row names no criteria after its first cell")
    for position, name in enumerate(names, start=2):
        if not name:
            raise InvalidData(f"{path}: header column {position} has no criterion name")
    if len(body) != n:
        raise InvalidData(
            f"{path}: the header names {n} criteria but {len(body)} matrix rows follow; "
            "the matrix must be square"
        )
    values = np.full((n, n), np.nan)
    for i, row in enumerate(body):
        label = row[0]
        if label != names[i]:
            raise InvalidData(
                f"{path}: row {i + 1} is named {label!r} but column {i + 1} is {names[i]!r}; "
                "rows and columns must name the same criteria in the same order"
            )
        cells = row[1:]
        if len(cells) != n:
            raise InvalidData(
                f"{path}: row {label!r} has {len(cells)} values, expected {n}; "
                "the matrix must be square"
            )
        for j, text in enumerate(cells):
            where = f"{path}: cell (row {label!r}, column {names[j]!r})"
            if not text:
                if j > i:
                    raise InvalidData(f"{where} is blank; cells above the diagonal must be filled")
                continue
            try:
                value = _parse_judgment(text)
            except (ValueError, ZeroDivisionError):
                raise InvalidData(f"{where} is {text!r}, not a number") from None
            if not math.isfinite(value) or value <= 0:
                raise InvalidData(f"{where} is {text!r}; judgments must be positive numbers")
            values[i, j] = value
    for i in range(n):
        if math.isnan(values[i, i]):
            values[i, i] = 1.0
        for j in range(i):
            if math.isnan(values[i, j]):
                values[i, j] = 1.0 / values[j, i]
    return PairwiseMatrix(names, _checked_values(names, values, str(path)))


def _split_columns(columns: Sequence[str], path: Path) -> list[tuple[str, str]]:
    """Split ``a_b`` column names into criterion pairs.

    Names containing ``_`` are allowed when unambiguous: a column with several underscores is
    split at the one place where both halves (failing that, one half) are names already known
    from other columns.
    """
    pairs: dict[int, tuple[str, str]] = {}
    known: set[str] = set()
    for index, column in enumerate(columns):
        parts = column.split("_")
        if len(parts) == 2 and all(parts):
            pairs[index] = (parts[0], parts[1])
            known.update(parts)
        elif len(parts) < 2:
            raise InvalidData(
                f"{path}: column {column!r} is not a pair of criteria named 'a_b' (e.g. cult_fam)"
            )
    pending = [index for index in range(len(columns)) if index not in pairs]
    progress = True
    while pending and progress:
        progress = False
        for index in list(pending):
            column = columns[index]
            splits = [
                (column[:cut], column[cut + 1 :])
                for cut in range(len(column))
                if column[cut] == "_" and column[:cut] and column[cut + 1 :]
            ]
            both = [split for split in splits if split[0] in known and split[1] in known]
            either = [split for split in splits if split[0] in known or split[1] in known]
            chosen = both if both else either
            if len(chosen) == 1:
                pairs[index] = chosen[0]
                known.update(chosen[0])
                pending.remove(index)
                progress = True
    if pending:
        column = columns[pending[0]]
        raise InvalidData(
            f"{path}: column {column!r} cannot be split unambiguously into two criterion names"
        )
    return [pairs[index] for index in range(len(columns))]


def read_survey(path: Path) -> list[PairwiseMatrix]:
    """Read AHP survey answers, one pairwise matrix per respondent (data row).

    Coding, as in the R package ahpsurvey (``ahp.mat(..., negconvert = TRUE)``): a column named
    ``a_b`` compares criteria ``a`` and ``b``; a negative value −k means ``a`` is k times as
    important as ``b`` (``a_ab = k``), a positive value k means ``b`` is k times as important as
    ``a`` (``a_ab = 1/k``); 1 and −1 both mean equal importance. This is ahpsurvey's published
    behaviour: its ``ahp.mat`` source negates the data under ``negconvert = TRUE`` and then turns
    the (now negative) values into reciprocals, and its vignette states "if culture is more
    important than house by 2 units on the Saaty scale, the dataset will code it as -2"; the
    project's data README describes the same coding.

    Criteria are ordered by first appearance in the column names. Every pair of criteria must
    have exactly one column (``a_b`` or ``b_a``); every value must be a number with 1 <= |v| <= 9.
    Problems raise :class:`InvalidData` naming the 1-based data row and the column.
    """
    rows = [row for row in _read_rows(path) if any(row)]
    if not rows:
        raise InvalidData(f"{path}: the file is empty")
    columns, body = rows[0], rows[1:]
    for position, column in enumerate(columns, start=1):
        if not column:
            raise InvalidData(f"{path}: header column {position} is blank")
    pairs = _split_columns(columns, path)
    names: list[str] = []
    for left, right in pairs:
        for name in (left, right):
            if name not in names:
                names.append(name)
    if len(names) < 2:
        raise InvalidData(f"{path}: the columns compare fewer than two criteria")
    position = {name: index for index, name in enumerate(names)}
    owner: dict[frozenset[str], str] = {}
    for column, (left, right) in zip(columns, pairs, strict=True):
        if left == right:
            raise InvalidData(f"{path}: column {column!r} compares {left!r} with itself")
        key = frozenset((left, right))
        if key in owner:
            raise InvalidData(
                f"{path}: columns {owner[key]!r} and {column!r} both compare {left!r} and "
                f"{right!r}; each pair must appear exactly once"
            )
        owner[key] = column
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            if frozenset((first, second)) not in owner:
                raise InvalidData(
                    f"{path}: no column compares {first!r} and {second!r} "
                    f"(expected {first}_{second})"
                )
    if not body:
        raise InvalidData(f"{path}: the file has a header but no answers")
    n = len(names)
    matrices: list[PairwiseMatrix] = []
    for number, row in enumerate(body, start=1):
        if len(row) != len(columns):
            raise InvalidData(
                f"{path}: data row {number} has {len(row)} values, expected {len(columns)}"
            )
        values = np.ones((n, n))
        for column, (left, right), text in zip(columns, pairs, row, strict=True):
            where = f"{path}: data row {number}, column {column!r}"
            if not text:
                raise InvalidData(f"{where} is blank; missing answers are not supported")
            try:
                answer = float(text)
            except ValueError:
                raise InvalidData(f"{where} is {text!r}, not a number") from None
            if not math.isfinite(answer) or not 1 <= abs(answer) <= 9:
                raise InvalidData(
                    f"{where} is {text!r}; answers must lie in -9..-1 or 1..9 (Saaty's scale)"
                )
            judgment = -answer if answer < 0 else 1.0 / answer
            i, j = position[left], position[right]
            values[i, j] = judgment
            values[j, i] = 1.0 / judgment
        matrices.append(PairwiseMatrix(tuple(names), values))
    return matrices


def read_random_index(path: Path) -> dict[int, float]:
    """A random-index table from a CSV with columns ``n`` and ``ri`` (e.g. ahpsurvey's values)."""
    rows = _read_rows(path)
    if not rows or [c.strip().lower() for c in rows[0][:2]] != ["n", "ri"]:
        raise InvalidData(f"{path}: the header must be 'n,ri'")
    table: dict[int, float] = {}
    for line, row in enumerate(rows[1:], start=2):
        try:
            n, ri = int(row[0]), float(row[1])
        except (ValueError, IndexError):
            raise InvalidData(f"{path}: line {line} is not 'n,ri' numbers: {row}") from None
        if n < 1 or not np.isfinite(ri) or ri < 0 or (n >= 3 and ri == 0):
            raise InvalidData(f"{path}: line {line}: ri must be positive for n >= 3, got {ri}")
        if n in table:
            raise InvalidData(f"{path}: line {line}: n = {n} appears twice")
        table[n] = ri
    return table
