"""The evaluation workflow: self-evaluation → expert re-assessment → final scores → selection.

1. **Self-evaluation** (:func:`self_evaluation`): each park reports its own indicator values;
   they are scored against the goalposts into dimension scores and a total index.
2. **Expert re-assessment** (:func:`expert_review`): several experts score each park's
   dimensions (or indicators) 0–100. Per park × item the scores are aggregated (mean, median,
   sample standard deviation, range, coefficient of variation). The ``consensus`` is the mean
   (or the median if asked). Rules:

   * ``disagreement`` when the range (max − min) is **greater than** 25 points or the
     coefficient of variation (sample sd / mean) is **greater than** 0.2 — the range catches
     one far-off expert on a high score, the CV a spread that is large relative to a low score.
     A single expert never disagrees (range 0, CV undefined).
   * ``self_overrated`` when the self-evaluation exceeds the consensus by **more than** 15
     points (``gap`` = self − consensus).

3. **Final scores** (:func:`final_scores`): wherever experts reviewed an item, their consensus
   *replaces* the self-evaluated score — the review exists to correct self-assessment; items no
   expert reviewed keep the self-evaluated score. With indicator-level reviews the dimension
   scores are recomputed from the corrected indicators. The total index is recomputed with the
   AHP weights and parks are ranked within their type (1 = best; ties share the better rank).
4. **Selection** (:func:`select_best`): per park type the best ``per_type`` parks (default 2)
   whose total is at least ``min_score`` (default 60) and whose unresolved disagreements cover
   at most ``max_disagreements`` dimensions (default 2). A disagreement is "unresolved" while
   it is flagged in the review table: resolving one means the experts re-score, and the
   workflow is run again on the revised table. Ties at the cut are broken by park id.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import pandas as pd

from analytics.errors import InvalidData, InvalidPipeline
from analytics.indicators.framework import Framework
from analytics.park.framework import dimension_table, indicator_table
from analytics.park.readers import PARK_KEYS, review_item, validate_parks, validate_reviews
from analytics.park.scoring import dimension_scores, score_park, total_index

__all__ = [
    "DEFAULT_CV_THRESHOLD",
    "DEFAULT_MAX_DISAGREEMENTS",
    "DEFAULT_MIN_SCORE",
    "DEFAULT_OVERRATE_THRESHOLD",
    "DEFAULT_RANGE_THRESHOLD",
    "EXPERT_COLUMNS",
    "dimension_detail",
    "expert_review",
    "final_scores",
    "select_best",
    "self_evaluation",
]

DEFAULT_RANGE_THRESHOLD = 25.0
DEFAULT_CV_THRESHOLD = 0.2
DEFAULT_OVERRATE_THRESHOLD = 15.0
DEFAULT_MIN_SCORE = 60.0
DEFAULT_MIN_DIMENSIONS = 8  # of the ten: two may be not applicable to a park type
DEFAULT_MAX_DISAGREEMENTS = 2

#: The columns of :func:`expert_review` for dimension reviews (``indicator`` replaces
#: ``dimension`` for indicator reviews).
EXPERT_COLUMNS: tuple[str, ...] = (
    "park",
    "dimension",
    "experts",
    "mean",
    "median",
    "std",
    "min",
    "max",
    "range",
    "cv",
    "consensus",
    "disagreement",
    "self",
    "gap",
    "self_overrated",
)

Consensus = Literal["mean", "median"]


def _keyed(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.set_index("park_id") if "park_id" in frame.columns else frame.copy()
    out.index = out.index.astype(str)
    out.index.name = "park_id"
    return out


def self_evaluation(
    parks: pd.DataFrame, framework: Framework, dimension_weights: pd.Series
) -> pd.DataFrame:
    """Step 1: the parks' own values scored — ``park_id``, ``name``, ``type``, one column per
    dimension, ``total`` and ``dimensions_scored``, in the parks' order."""
    table = validate_parks(parks, framework)
    scores = score_park(table, framework, dimension_weights)
    dims = [d.code for d in framework.root.children]
    out = scores[[*dims, "total", "dimensions_scored"]].reset_index()
    return table[list(PARK_KEYS)].merge(out, on="park_id", how="left")


def _check_positive(name: str, value: float) -> None:
    if not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
        raise InvalidPipeline(f"{name} must be a finite number >= 0, got {value!r}")


def expert_review(
    reviews: pd.DataFrame,
    self_scores: pd.DataFrame | None = None,
    *,
    consensus: Consensus = "mean",
    range_threshold: float = DEFAULT_RANGE_THRESHOLD,
    cv_threshold: float = DEFAULT_CV_THRESHOLD,
    overrate_threshold: float = DEFAULT_OVERRATE_THRESHOLD,
) -> pd.DataFrame:
    """Step 2: expert scores aggregated per park × item (dimension or indicator).

    ``reviews`` has columns ``park``, ``expert``, ``dimension`` (or ``indicator``) and
    ``score`` (0–100). ``self_scores`` (optional) is a park × item table of self-evaluated
    scores, indexed by park id or with a ``park_id`` column (e.g. :func:`self_evaluation`).

    Columns: ``park``, the item column, ``experts``, ``mean``, ``median``, ``std`` (sample,
    ddof 1; NaN for one expert), ``min``, ``max``, ``range``, ``cv`` (std / mean; NaN when
    undefined, infinite for a spread around a mean of 0), ``consensus`` (the mean or median),
    ``disagreement`` (range > ``range_threshold`` or cv > ``cv_threshold``), ``self``, ``gap``
    (self − consensus) and ``self_overrated`` (gap > ``overrate_threshold``). Rows follow the
    first appearance of each park and item in ``reviews``.
    """
    if consensus not in ("mean", "median"):
        raise InvalidPipeline(f"consensus must be 'mean' or 'median', got {consensus!r}")
    _check_positive("range_threshold", range_threshold)
    _check_positive("cv_threshold", cv_threshold)
    _check_positive("overrate_threshold", overrate_threshold)
    table = validate_reviews(reviews)
    item = review_item(table)
    grouped = table.groupby(["park", item], sort=False)["score"]
    out = grouped.agg(
        experts="size", mean="mean", median="median", std="std", min="min", max="max"
    ).reset_index()
    out["experts"] = out["experts"].astype("int64")
    out["range"] = out["max"] - out["min"]
    mean, std = out["mean"].to_numpy(), out["std"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        cv = np.where(mean != 0, std / mean, np.where(std > 0, np.inf, np.nan))
    out["cv"] = cv
    out["consensus"] = out[consensus]
    # NaN comparisons are False, so a lone expert is judged by the range alone.
    out["disagreement"] = (out["range"] > range_threshold) | (out["cv"] > cv_threshold)
    own = np.full(len(out), np.nan)
    if self_scores is not None:
        keyed = _keyed(self_scores)
        for position, (park, code) in enumerate(zip(out["park"], out[item], strict=True)):
            if park in keyed.index and code in keyed.columns:
                value = pd.to_numeric(pd.Series([keyed.at[park, code]]), errors="coerce")[0]
                own[position] = float(value)
    out["self"] = own
    out["gap"] = out["self"] - out["consensus"]
    out["self_overrated"] = (out["gap"] > overrate_threshold).astype(bool)
    return out


def _flags(
    expert: pd.DataFrame | None, framework: Framework, parks: pd.Index
) -> tuple[str | None, pd.DataFrame, pd.DataFrame]:
    """(item column, consensus park × item wide, flags per park × dimension).

    Flags: ``reviewed``, ``disagreement``, ``self_overrated`` per dimension; with indicator
    reviews a dimension carries a flag when any of its indicators does.
    """
    dims = [d.code for d in framework.root.children]
    empty = pd.DataFrame(False, index=parks, columns=dims)
    flags = {"reviewed": empty.copy(), "disagreement": empty.copy(), "overrated": empty.copy()}
    if expert is None or expert.empty:
        return None, pd.DataFrame(index=parks), pd.concat(flags, axis=1)
    item = review_item(expert, "expert review")
    need = ["park", item, "consensus", "disagreement", "self_overrated"]
    missing = [c for c in need if c not in expert.columns]
    if missing:
        raise InvalidData(f"expert review lacks column(s) {', '.join(missing)}")
    if item == "dimension":
        owner = {d: d for d in dims}
    else:
        meta = indicator_table(framework)
        owner = dict(zip(meta["code"], meta["dimension"], strict=True))
    for number, (park, code) in enumerate(zip(expert["park"], expert[item], strict=True), 1):
        if park not in parks:
            raise InvalidData(f"expert review row {number}: park {park!r} is not in the park table")
        if code not in owner:
            raise InvalidData(
                f"expert review row {number} (park {park}): {item} {code!r} is not in the framework"
            )
    wide = expert.pivot(index="park", columns=item, values="consensus").reindex(parks)
    for row in expert.itertuples(index=False):
        park, dimension = row.park, owner[getattr(row, item)]
        flags["reviewed"].at[park, dimension] = True
        if bool(row.disagreement):
            flags["disagreement"].at[park, dimension] = True
        if bool(row.self_overrated):
            flags["overrated"].at[park, dimension] = True
    return item, wide, pd.concat(flags, axis=1)


def _finalise(
    ind_scores: pd.DataFrame,
    expert: pd.DataFrame | None,
    framework: Framework,
    dimension_weights: pd.Series,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(self dimension scores, final dimension scores, flags, final indicator scores)."""
    ind = _keyed(ind_scores)
    item, wide, flags = _flags(expert, framework, ind.index)
    self_dims = dimension_scores(ind, framework)
    final_ind = ind.copy()
    if item == "indicator":
        final_ind = wide.reindex(columns=ind.columns).combine_first(ind)[ind.columns]
        final_dims = dimension_scores(final_ind, framework)
    else:
        final_dims = self_dims.copy()
        if item == "dimension":
            final_dims = wide.reindex(columns=self_dims.columns).combine_first(self_dims)
            final_dims = final_dims[self_dims.columns]
    total_index(final_dims, dimension_weights)  # validates the weights before any output
    return self_dims, final_dims, flags, final_ind


def final_scores(
    indicator_scores: pd.DataFrame,
    expert: pd.DataFrame | None,
    framework: Framework,
    dimension_weights: pd.Series,
    parks: pd.DataFrame,
) -> pd.DataFrame:
    """Step 3: self-evaluated scores with the expert consensus laid over them, totals, ranks.

    ``indicator_scores`` are the self-evaluated indicator scores (park × indicator, by park id);
    ``expert`` is :func:`expert_review`'s output (or None: the self-evaluation stands);
    ``parks`` gives ``park_id``, ``name`` and ``type`` (a ``synthetic`` column is carried).

    Columns: ``park_id``, ``name``, ``type``, the final dimension scores, ``total``,
    ``self_total``, ``dimensions_scored``, ``reviewed`` / ``disagreements`` / ``overrated``
    (counts of dimensions), ``rank_in_type`` and ``rank`` (1 = best, nullable integers).
    """
    self_dims, final_dims, flags, _ = _finalise(
        indicator_scores, expert, framework, dimension_weights
    )
    return _final_table(self_dims, final_dims, flags, dimension_weights, parks)


def _final_table(
    self_dims: pd.DataFrame,
    final_dims: pd.DataFrame,
    flags: pd.DataFrame,
    dimension_weights: pd.Series,
    parks: pd.DataFrame,
) -> pd.DataFrame:
    meta = _keyed(parks)
    missing = [c for c in ("name", "type") if c not in meta.columns]
    if missing:
        raise InvalidData(f"parks: missing column(s) {', '.join(missing)}")
    unknown = [p for p in final_dims.index if p not in meta.index]
    if unknown:
        raise InvalidData(f"park {unknown[0]!r} has scores but is not in the park table")
    out = final_dims.copy()
    out["total"] = total_index(final_dims, dimension_weights)
    out["self_total"] = total_index(self_dims, dimension_weights)
    out["dimensions_scored"] = final_dims.notna().sum(axis=1).astype("int64")
    out["reviewed"] = flags["reviewed"].sum(axis=1).astype("int64")
    out["disagreements"] = flags["disagreement"].sum(axis=1).astype("int64")
    out["overrated"] = flags["overrated"].sum(axis=1).astype("int64")
    extras = ["synthetic"] if "synthetic" in meta.columns else []
    out = meta.loc[out.index, ["name", "type", *extras]].join(out)
    out["rank_in_type"] = out.groupby("type")["total"].rank(ascending=False, method="min")
    out["rank"] = out["total"].rank(ascending=False, method="min")
    out = out.astype({"rank_in_type": "Int64", "rank": "Int64"})
    columns = [c for c in out.columns if c not in extras] + extras
    return out[columns].reset_index()


def dimension_detail(
    indicator_scores: pd.DataFrame,
    expert: pd.DataFrame | None,
    framework: Framework,
    dimension_weights: pd.Series,
) -> pd.DataFrame:
    """One row per park × dimension: ``park_id``, ``dimension``, ``name_zh``, ``name_en``,
    ``weight``, ``self``, ``final``, ``reviewed``, ``disagreement``, ``self_overrated``."""
    self_dims, final_dims, flags, _ = _finalise(
        indicator_scores, expert, framework, dimension_weights
    )
    return _detail(self_dims, final_dims, flags, framework, dimension_weights)


def _detail(
    self_dims: pd.DataFrame,
    final_dims: pd.DataFrame,
    flags: pd.DataFrame,
    framework: Framework,
    dimension_weights: pd.Series,
) -> pd.DataFrame:
    names = dimension_table(framework).set_index("code")
    rows = []
    for park in final_dims.index:
        for dimension in final_dims.columns:
            rows.append(
                {
                    "park_id": park,
                    "dimension": dimension,
                    "name_zh": names.at[dimension, "name_zh"],
                    "name_en": names.at[dimension, "name_en"],
                    "weight": float(dimension_weights[dimension]),
                    "self": float(self_dims.at[park, dimension]),
                    "final": float(final_dims.at[park, dimension]),
                    "reviewed": bool(flags["reviewed"].at[park, dimension]),
                    "disagreement": bool(flags["disagreement"].at[park, dimension]),
                    "self_overrated": bool(flags["overrated"].at[park, dimension]),
                }
            )
    return pd.DataFrame(rows)


def select_best(
    final: pd.DataFrame,
    per_type: int = 2,
    min_score: float = DEFAULT_MIN_SCORE,
    max_disagreements: int = DEFAULT_MAX_DISAGREEMENTS,
    min_dimensions: int = DEFAULT_MIN_DIMENSIONS,
) -> pd.DataFrame:
    """Step 4: the best ``per_type`` parks of each type among the eligible ones.

    Eligible: a total of at least ``min_score``, unresolved disagreement on at most
    ``max_disagreements`` dimensions (``final['disagreements']``; a table without that column
    counts none), and a score on at least ``min_dimensions`` dimensions — the total averages
    the dimensions a park reported, so a park that reports only its best two must not win.
    Within a type parks are taken by total, highest first, ties by park id.
    Columns: ``type``, ``selection_rank`` (1..per_type), ``park_id``, ``name``, ``total``,
    ``rank_in_type``, ``disagreements`` (and ``synthetic`` when present), ordered by type.
    """
    if isinstance(per_type, bool) or not isinstance(per_type, int) or per_type < 1:
        raise InvalidPipeline(f"per_type must be an integer >= 1, got {per_type!r}")
    _check_positive("min_score", min_score)
    if isinstance(max_disagreements, bool) or not isinstance(max_disagreements, int):
        raise InvalidPipeline(f"max_disagreements must be an integer, got {max_disagreements!r}")
    if max_disagreements < 0:
        raise InvalidPipeline(f"max_disagreements must be >= 0, got {max_disagreements}")
    missing = [c for c in ("park_id", "name", "type", "total") if c not in final.columns]
    if missing:
        raise InvalidData(f"final scores lack column(s) {', '.join(missing)}")
    table = final.copy()
    if "disagreements" not in table.columns:
        table["disagreements"] = 0
    if "rank_in_type" not in table.columns:
        table["rank_in_type"] = table.groupby("type")["total"].rank(ascending=False, method="min")
    total = pd.to_numeric(table["total"], errors="coerce")
    covered = (
        table["dimensions_scored"] >= min_dimensions
        if "dimensions_scored" in table.columns
        else pd.Series(True, index=table.index)
    )
    eligible = table[(total >= min_score) & (table["disagreements"] <= max_disagreements) & covered]
    ordered = eligible.sort_values(
        ["type", "total", "park_id"], ascending=[True, False, True], kind="stable"
    )
    chosen = ordered.groupby("type", sort=False).head(per_type).copy()
    chosen["selection_rank"] = chosen.groupby("type", sort=False).cumcount() + 1
    columns = ["type", "selection_rank", "park_id", "name", "total", "rank_in_type"]
    columns += ["disagreements", *(["synthetic"] if "synthetic" in chosen.columns else [])]
    return chosen[columns].reset_index(drop=True)
