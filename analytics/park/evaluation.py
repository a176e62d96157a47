"""One call for the whole park workflow (the CLI's entry point): :func:`evaluate`."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analytics.errors import InvalidData
from analytics.park.framework import (
    dimension_ahp,
    indicator_table,
    load_park_framework,
)
from analytics.park.readers import PARK_KEYS, review_item, validate_parks, validate_reviews
from analytics.park.review import (
    DEFAULT_MAX_DISAGREEMENTS,
    DEFAULT_MIN_SCORE,
    EXPERT_COLUMNS,
    _detail,
    _final_table,
    _finalise,
    expert_review,
    select_best,
)
from analytics.park.scoring import (
    dimension_scores,
    indicator_scores,
    total_index,
    zero_carbon_check,
)

__all__ = ["ParkEvaluation", "evaluate"]

TABLES = (
    "indicator_scores",
    "dimension_scores",
    "self_scores",
    "expert",
    "final",
    "selected",
    "zero_carbon",
)


def _plain(value: Any) -> Any:
    """A JSON-ready Python value: NaN/NA → None, numpy scalars → int/float/bool."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        number = float(value)
        return number if math.isfinite(number) else None
    return value


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [
        {str(k): _plain(v) for k, v in row.items()}
        for row in frame.astype(object).to_dict("records")
    ]


@dataclass(frozen=True, eq=False)
class ParkEvaluation:
    """Every table of one evaluation; each has ``park_id`` (or ``park``) as a column.

    * ``indicator_scores``: park × indicator self-evaluated scores 0–100 (``park_id`` first);
    * ``dimension_scores``: one row per park × dimension — self, final, weight and flags;
    * ``self_scores``: the self-evaluation — dimension scores and total per park;
    * ``expert``: :func:`~analytics.park.review.expert_review` (empty without reviews);
    * ``final``: final dimension scores, total, counts of flags, ranks;
    * ``selected``: :func:`~analytics.park.review.select_best`;
    * ``zero_carbon``: which national zero-carbon thresholds each park meets, ``all_met``.
    """

    framework: str
    weights: pd.Series
    ahp_cr: float
    indicator_scores: pd.DataFrame
    dimension_scores: pd.DataFrame
    self_scores: pd.DataFrame
    expert: pd.DataFrame
    final: pd.DataFrame
    selected: pd.DataFrame
    zero_carbon: pd.DataFrame
    synthetic: bool = False

    def to_json(self) -> dict[str, Any]:
        """Plain dicts, lists, str, int, float, bool and None only."""
        out: dict[str, Any] = {
            "framework": self.framework,
            "weights": {str(k): float(v) for k, v in self.weights.items()},
            "ahp_cr": float(self.ahp_cr),
            "synthetic": bool(self.synthetic),
        }
        out.update({name: _records(getattr(self, name)) for name in TABLES})
        return out


def _check_review_keys(reviews: pd.DataFrame, parks: pd.Index, items: set[str], item: str) -> None:
    for number, (park, code) in enumerate(zip(reviews["park"], reviews[item], strict=True), 1):
        if park not in parks:
            raise InvalidData(f"reviews: data row {number}: park {park!r} is not in the park table")
        if code not in items:
            raise InvalidData(
                f"reviews: data row {number} (park {park}), column {item}: {code!r} is not a "
                f"{item} of the framework"
            )


def _marked(frame: pd.DataFrame) -> pd.Series:
    return frame["synthetic"].astype(str).str.strip().str.lower() == "yes"


def _mark_synthetic(table: pd.DataFrame, reviews: pd.DataFrame | None) -> pd.DataFrame:
    """The park table with ``synthetic`` = yes for every park whose own row or any of whose
    expert reviews is marked synthetic (no: neither is). Unchanged when no input says."""
    has_parks = "synthetic" in table.columns
    has_reviews = reviews is not None and "synthetic" in reviews.columns
    if not has_parks and not has_reviews:
        return table
    marked = set(table.loc[_marked(table), "park_id"]) if has_parks else set()
    if has_reviews:
        marked |= set(reviews.loc[_marked(reviews), "park"])
    return table.assign(synthetic=["yes" if p in marked else "no" for p in table["park_id"]])


def evaluate(
    parks: pd.DataFrame,
    reviews: pd.DataFrame | None,
    framework_path: Path | None = None,
    ahp_path: Path | None = None,
    per_type: int = 2,
    *,
    min_score: float = DEFAULT_MIN_SCORE,
    max_disagreements: int = DEFAULT_MAX_DISAGREEMENTS,
) -> ParkEvaluation:
    """Self-evaluation → expert review → final scores → selection, in one call.

    ``parks``: the park table (:func:`~analytics.park.readers.read_parks` or
    :func:`~analytics.park.demo_data.demo_parks`); ``reviews``: expert scores
    (:func:`~analytics.park.readers.read_reviews`) or None, when the self-evaluation stands.
    ``framework_path`` / ``ahp_path`` default to the shipped framework and ILLUSTRATIVE AHP
    matrix. Every review must name a park of the table and a dimension (or indicator) of the
    framework. A park is ``synthetic = "yes"`` in every output when its row or any of its
    reviews is marked so; ``synthetic`` is True when any park is.
    """
    framework = load_park_framework(framework_path)
    result = dimension_ahp(ahp_path, framework)
    weights = result.weights
    table = validate_parks(parks, framework)
    keyed = table.set_index("park_id")
    ind = indicator_scores(keyed, framework)
    dims = [d.code for d in framework.root.children]

    expert = None
    checked = None
    if reviews is not None:
        checked = validate_reviews(reviews)
        item = review_item(checked)
        items = set(dims) if item == "dimension" else set(indicator_table(framework)["code"])
        _check_review_keys(checked, keyed.index, items, item)
        if not checked.empty:
            own = dimension_scores(ind, framework) if item == "dimension" else ind
            expert = expert_review(checked, own)

    table = _mark_synthetic(table, checked)
    self_dims, final_dims, flags, _ = _finalise(ind, expert, framework, weights)
    self_scores = table[list(PARK_KEYS)].join(
        self_dims.assign(
            total=total_index(self_dims, weights),
            dimensions_scored=self_dims.notna().sum(axis=1).astype("int64"),
        ),
        on="park_id",
    )
    final = _final_table(self_dims, final_dims, flags, weights, table)
    selected = select_best(final, per_type, min_score, max_disagreements)
    zero = zero_carbon_check(keyed).reset_index()
    zero.insert(1, "name", table["name"].to_numpy())
    synthetic = "synthetic" in table.columns and bool((table["synthetic"] == "yes").any())
    if expert is None:
        expert = pd.DataFrame(columns=list(EXPERT_COLUMNS))
    return ParkEvaluation(
        framework=framework.name,
        weights=weights,
        ahp_cr=float(result.cr),
        indicator_scores=ind.reset_index(),
        dimension_scores=_detail(self_dims, final_dims, flags, framework, weights),
        self_scores=self_scores.reset_index(drop=True),
        expert=expert,
        final=final,
        selected=selected,
        zero_carbon=zero,
        synthetic=synthetic,
    )
