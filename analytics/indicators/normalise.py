"""Normalisation: bring indicators of different units onto one scale, best = high.

The COINr methods (``minmax``, ``zscore``, ``scaled``, ``rank``, ``prank``, ``borda``,
``fracmax``, ``dist2max``, ``dist2ref``, ``dist2targ``) follow COINr 1.1.14 exactly: the values
are multiplied by the indicator's direction first, so that for a negative indicator the lowest
raw value scores best. ``goalposts``, ``ref_ratio`` and ``categorical`` are stated on the raw
scale instead (their parameters say which raw value is good), so they apply the direction
themselves.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from analytics.errors import ComputationError, InvalidData, InvalidPipeline


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MinMax(_Spec):
    method: Literal["minmax"]
    range: tuple[float, float] = (0.0, 100.0)


class ZScore(_Spec):
    method: Literal["zscore"]
    mean_sd: tuple[float, float] = (0.0, 1.0)


class Scaled(_Spec):
    method: Literal["scaled"]
    npara: tuple[float, float] = (0.0, 100.0)
    scale: float = 100.0


class Rank(_Spec):
    method: Literal["rank", "prank", "borda", "fracmax", "dist2max"]


class Dist2Ref(_Spec):
    method: Literal["dist2ref"]
    ref_unit: str
    cap_max: bool = False


class Dist2Targ(_Spec):
    method: Literal["dist2targ"]
    target: float | None = None  # else the indicator's target in the framework
    cap_max: bool = False
    scale: float = 1.0


class GoalpostSpec(_Spec):
    method: Literal["goalposts"]
    worst: float | None = None  # else the indicator's goalposts in the framework
    best: float | None = None
    scale: float = 100.0
    truncate: bool = True


class RefRatio(_Spec):
    method: Literal["ref_ratio"]
    reference: float | None = None  # else the indicator's reference value
    scale: float = 100.0
    cap: float | None = None


class Categorical(_Spec):
    """Scores by class: ``scores[k]`` for ``bins[k-1] <= x < bins[k]`` (``scores`` has one more)."""

    method: Literal["categorical"]
    bins: list[float]
    scores: list[float]

    @model_validator(mode="after")
    def _shape(self) -> Categorical:
        if len(self.scores) != len(self.bins) + 1:
            raise ValueError("categorical: give one more score than bins")
        if any(a >= b for a, b in zip(self.bins, self.bins[1:], strict=False)):
            raise ValueError("categorical: bins must increase strictly")
        return self


Spec = Annotated[
    MinMax | ZScore | Scaled | Rank | Dist2Ref | Dist2Targ | GoalpostSpec | RefRatio | Categorical,
    Field(discriminator="method"),
]
_ADAPTER: TypeAdapter[Any] = TypeAdapter(Spec)


def parse_spec(raw: Mapping[str, Any], where: str) -> Any:
    """A validated spec; errors name ``where`` (the step or the indicator)."""
    try:
        return _ADAPTER.validate_python(dict(raw))
    except ValidationError as exc:
        msg = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'][1:]) or 'method'}: {e['msg']}"
            for e in exc.errors()
        )
        raise InvalidPipeline(f"{where}: {msg}") from None


def _rank(x: pd.Series) -> pd.Series:
    return x.rank(method="min", na_option="keep")


def _range(x: pd.Series, code: str) -> tuple[float, float]:
    lo, hi = x.min(), x.max()
    if not np.isfinite(lo) or lo == hi:
        raise ComputationError(f"normalise {code}: the values have no range (all equal or missing)")
    return float(lo), float(hi)


def normalise_series(
    x: pd.Series,
    spec: Any,
    *,
    direction: int = 1,
    target: float | None = None,
    reference: float | None = None,
    goalposts: tuple[float, float] | None = None,
) -> pd.Series:
    """One indicator normalised by ``spec`` (a parsed spec)."""
    code = str(x.name)
    m = spec.method
    if m in ("goalposts", "ref_ratio", "categorical"):
        return _raw_scale(x.astype(float), spec, code, direction, reference, goalposts)
    x = x.astype(float) * direction
    if m == "minmax":
        lo, hi = _range(x, code)
        a, b = spec.range
        return (x - lo) / (hi - lo) * (b - a) + a
    if m == "zscore":
        sd = x.std(ddof=1)
        if not sd > 0:
            raise ComputationError(f"normalise {code}: standard deviation is zero")
        return (x - x.mean()) / sd * spec.mean_sd[1] + spec.mean_sd[0]
    if m == "scaled":
        a, b = spec.npara
        return (x - a) / (b - a) * spec.scale
    if m == "rank":
        return _rank(x)
    if m == "borda":
        return _rank(x) - 1
    if m == "prank":
        return (_rank(x) - 1) / (x.notna().sum() - 1)
    if m == "fracmax":
        return x / x.max()
    if m == "dist2max":
        lo, hi = _range(x, code)
        return 1 - (hi - x) / (hi - lo)
    if m == "dist2ref":
        if spec.ref_unit not in x.index:
            raise InvalidData(
                f"normalise {code}: reference unit {spec.ref_unit} is not in the data"
            )
        ref = x[spec.ref_unit]
        y = 1 - (ref - x) / (ref - x.min())
        return y.clip(upper=1) if spec.cap_max else y
    if m == "dist2targ":
        targ = spec.target if spec.target is not None else target
        if targ is None:
            raise InvalidData(f"normalise {code}: dist2targ needs a target (framework or spec)")
        # COINr flips the target with the data, then measures from the minimum.
        targ = targ * direction
        lo = x.min()
        y = (x - lo) / (targ - lo)
        return (y.clip(upper=1) if spec.cap_max else y) * spec.scale
    raise InvalidPipeline(f"normalise {code}: unknown method {m}")


def _raw_scale(
    x: pd.Series,
    spec: Any,
    code: str,
    direction: int,
    reference: float | None,
    goalposts: tuple[float, float] | None,
) -> pd.Series:
    if spec.method == "goalposts":
        worst = spec.worst if spec.worst is not None else (goalposts or (None, None))[0]
        best = spec.best if spec.best is not None else (goalposts or (None, None))[1]
        if worst is None or best is None or worst == best:
            raise InvalidData(f"normalise {code}: goalposts need distinct worst and best values")
        y = (x - worst) / (best - worst)
        return (y.clip(0, 1) if spec.truncate else y) * spec.scale
    if spec.method == "ref_ratio":
        ref = spec.reference if spec.reference is not None else reference
        if ref is None or ref == 0:
            raise InvalidData(f"normalise {code}: ref_ratio needs a non-zero reference value")
        y = x / ref if direction == 1 else ref / x.where(x != 0)
        return (y.clip(upper=spec.cap) if spec.cap is not None else y) * spec.scale
    # categorical: the class index of each value, then its score
    idx = np.searchsorted(np.asarray(spec.bins, dtype=float), x.to_numpy(), side="right")
    scores = np.asarray(spec.scores, dtype=float)[idx]
    return pd.Series(np.where(x.isna(), np.nan, scores), index=x.index, name=x.name)


def normalise(
    data: pd.DataFrame,
    spec: Any,
    *,
    directions: Mapping[str, int],
    overrides: Mapping[str, Any] | None = None,
    targets: Mapping[str, float | None] | None = None,
    references: Mapping[str, float | None] | None = None,
    goalposts: Mapping[str, tuple[float, float] | None] | None = None,
) -> pd.DataFrame:
    """Every column normalised: by its override spec when it has one, else by ``spec``."""
    overrides = overrides or {}
    out = {}
    for code in data.columns:
        out[code] = normalise_series(
            data[code],
            overrides.get(code, spec),
            direction=int(directions.get(code, 1)),
            target=(targets or {}).get(code),
            reference=(references or {}).get(code),
            goalposts=(goalposts or {}).get(code),
        )
    return pd.DataFrame(out, index=data.index)
