"""The park index framework: ten dimensions, their indicators, AHP weights, zero-carbon thresholds.

The hierarchy lives in ``data/park_framework.yaml`` in the schema of
:mod:`analytics.indicators.framework` (index → dimension → indicator). On top of that schema
the park index needs every indicator to carry goalposts that agree with its direction, and the
indicators of the national zero-carbon park thresholds (:data:`ZERO_CARBON_THRESHOLDS`) to have
the threshold as their ``best`` goalpost; :func:`check_park_framework` enforces both.

Dimension weights come from an AHP pairwise matrix (``data/dimension_ahp.csv``: ILLUSTRATIVE
expert judgments, to be replaced by the stakeholder survey's) through
:func:`analytics.indicators.ahp.analyse`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd

from analytics.errors import InvalidData, InvalidFramework
from analytics.indicators import ahp
from analytics.indicators.framework import Framework, load_framework

__all__ = [
    "DIMENSION_AHP",
    "FRAMEWORK",
    "RESERVED_COLUMNS",
    "ZERO_CARBON_THRESHOLDS",
    "Threshold",
    "check_park_framework",
    "dimension_ahp",
    "dimension_table",
    "dimension_weights",
    "indicator_table",
    "load_park_framework",
]

DATA = Path(__file__).resolve().parent / "data"
FRAMEWORK = DATA / "park_framework.yaml"
DIMENSION_AHP = DATA / "dimension_ahp.csv"

#: Column names of the park and score tables; no framework code may take one of them.
RESERVED_COLUMNS = frozenset(
    {"park_id", "name", "type", "total", "self_total", "all_met", "synthetic"}
)


@dataclass(frozen=True)
class Threshold:
    """One national zero-carbon park threshold: ``indicator`` ``comparison`` ``value``."""

    indicator: str
    comparison: Literal["<=", ">="]
    value: float
    label: str

    def met(self, x: pd.Series) -> pd.Series:
        """True where ``x`` meets the threshold (inclusive); a missing value does not."""
        # A relative tolerance of 1e-9 keeps values that equal the threshold up to floating
        # point (e.g. 0.1 + 0.1) on the meeting side; it is far below any reported precision.
        tol = 1e-9 * max(1.0, abs(self.value))
        values = pd.to_numeric(x, errors="coerce").astype(float)
        ok = values <= self.value + tol if self.comparison == "<=" else values >= self.value - tol
        return ok.fillna(False).astype(bool)


#: The national zero-carbon park construction thresholds (国家级零碳园区建设指标, NDRC et al.
#: 2025 notice), as given in the project issue. Order: as in the framework file.
ZERO_CARBON_THRESHOLDS: tuple[Threshold, ...] = (
    Threshold("co2_per_energy", "<=", 0.2, "CO2 per unit of energy <= 0.2 t CO2/tce"),
    Threshold("solid_waste_reuse", ">=", 80.0, "industrial solid waste reuse >= 80 %"),
    Threshold("waste_heat_reuse", ">=", 50.0, "waste heat/cold/pressure reuse >= 50 %"),
    Threshold("water_reuse", ">=", 80.0, "industrial water reuse >= 80 %"),
    Threshold("clean_energy_share", ">=", 90.0, "clean energy share >= 90 %"),
)


def check_park_framework(framework: Framework, origin: str = "park framework") -> Framework:
    """``framework`` unchanged if it fits the park index, else :class:`InvalidFramework`.

    Requirements: index → dimensions → indicators (every child of the index has children, all
    of them indicators); every indicator has goalposts, with ``best > worst`` for direction 1
    and ``best < worst`` for direction −1; no code is one of :data:`RESERVED_COLUMNS`; and an
    indicator named in :data:`ZERO_CARBON_THRESHOLDS` has the threshold as its ``best``
    goalpost and the matching direction (so a full score means the threshold is met).
    """
    thresholds = {t.indicator: t for t in ZERO_CARBON_THRESHOLDS}
    for dimension in framework.root.children:
        if not dimension.children:
            raise InvalidFramework(
                f"{origin}: {dimension.code} sits under the index but has no indicators; the park "
                "index needs index → dimension → indicator"
            )
        for indicator in dimension.children:
            code = indicator.code
            if indicator.children:
                raise InvalidFramework(
                    f"{origin}: {code} under dimension {dimension.code} has children; the park "
                    "index has exactly two levels below the index"
                )
            gp = indicator.goalposts
            if gp is None:
                raise InvalidFramework(
                    f"{origin}: indicator {code} needs goalposts {{worst, best}}"
                )
            if (gp.best - gp.worst) * (indicator.direction or 1) <= 0:
                raise InvalidFramework(
                    f"{origin}: indicator {code} has direction {indicator.direction} but goalposts "
                    f"worst {gp.worst:g}, best {gp.best:g}; best must be "
                    f"{'above' if indicator.direction == 1 else 'below'} worst"
                )
            threshold = thresholds.get(code)
            if threshold is not None:
                direction = -1 if threshold.comparison == "<=" else 1
                if indicator.direction != direction or not math.isclose(gp.best, threshold.value):
                    raise InvalidFramework(
                        f"{origin}: indicator {code} carries the zero-carbon threshold "
                        f"{threshold.comparison} {threshold.value:g}: it needs direction "
                        f"{direction} and best goalpost {threshold.value:g}"
                    )
    for node, _ in framework.nodes():
        if node.code in RESERVED_COLUMNS:
            raise InvalidFramework(f"{origin}: code {node.code!r} is reserved for a table column")
    return framework


def load_park_framework(path: Path | None = None) -> Framework:
    """The park framework from ``path`` (default: the shipped ten-dimension file), checked."""
    path = Path(path) if path is not None else FRAMEWORK
    return check_park_framework(load_framework(path), str(path))


def indicator_table(framework: Framework) -> pd.DataFrame:
    """One row per indicator: code, dimension, names, unit, direction, worst, best, weight."""
    rows = []
    for dimension in framework.root.children:
        for ind in dimension.children:
            gp = ind.goalposts
            rows.append(
                {
                    "code": ind.code,
                    "dimension": dimension.code,
                    "name_zh": ind.name_zh,
                    "name_en": ind.name_en,
                    "unit": ind.unit or "",
                    "direction": int(ind.direction or 1),
                    "worst": float(gp.worst) if gp else math.nan,
                    "best": float(gp.best) if gp else math.nan,
                    "weight": float(ind.weight),
                }
            )
    return pd.DataFrame(rows)


def dimension_table(framework: Framework) -> pd.DataFrame:
    """One row per dimension, in framework order: code, name_zh, name_en, indicators (count)."""
    return pd.DataFrame(
        [
            {
                "code": d.code,
                "name_zh": d.name_zh,
                "name_en": d.name_en,
                "indicators": len(d.children),
            }
            for d in framework.root.children
        ]
    )


def dimension_ahp(
    ahp_path: Path | None = None, framework: Framework | None = None
) -> ahp.AhpResult:
    """AHP of the dimension matrix (default: the shipped ILLUSTRATIVE one), checked.

    The matrix must compare exactly the framework's dimensions (any order) and be acceptably
    consistent (Saaty's CR <= 0.1); otherwise :class:`InvalidData`, with the judgment to
    revise when AHP suggests one. The weights are reordered to the framework's dimensions.
    """
    path = Path(ahp_path) if ahp_path is not None else DIMENSION_AHP
    framework = framework if framework is not None else load_park_framework()
    result = ahp.analyse(ahp.read_matrix(path))
    dims = [d.code for d in framework.root.children]
    names = list(result.weights.index)
    if sorted(names) != sorted(dims):
        missing = sorted(set(dims) - set(names))
        extra = sorted(set(names) - set(dims))
        raise InvalidData(
            f"{path}: the matrix must compare the framework's dimensions; "
            f"missing {missing or 'none'}, unknown {extra or 'none'}"
        )
    if not result.consistent:
        hint = ""
        if result.revision is not None:
            r = result.revision
            hint = (
                f"; consider cell (row {r.row!r}, column {r.column!r}) = {r.suggested:g} "
                f"instead of {r.current:g} (CR would be {r.cr_after:.3f})"
            )
        raise InvalidData(f"{path}: judgments are inconsistent, CR {result.cr:.3f} > 0.1{hint}")
    weights = result.weights.reindex(dims)
    weights.index.name = "dimension"
    return ahp.AhpResult(
        weights=weights,
        method=result.method,
        lambda_max=result.lambda_max,
        ci=result.ci,
        cr=result.cr,
        consistent=result.consistent,
        revision=result.revision,
    )


def dimension_weights(
    ahp_path: Path | None = None, framework: Framework | None = None
) -> pd.Series:
    """Dimension weights (sum 1) indexed by dimension code in framework order; see
    :func:`dimension_ahp`."""
    return dimension_ahp(ahp_path, framework).weights
