"""A composite-indicator pipeline, configured in a YAML file and run step by step.

    name: asem_example
    framework: data/asem_iMeta.csv        # YAML framework or COINr iMeta; relative to this file
    data: data/asem_iData.csv             # uCode, [Time], groups, denominators, indicators
    time: latest                          # latest | all | a period
    steps:
      - denominate: {}
      - impute: {method: group_mean, group: EurAsia_group}
      - screen: {dat_thresh: 0.9}
      - treat: {winmax: 5}
      - normalise: {method: minmax, range: [0, 100]}
      - weight: {method: given}
      - aggregate: {method: amean}

Every step is optional; their order is fixed (denominate → impute → screen → treat → normalise
→ weight → aggregate) because each consumes what the one before produces. The run keeps every
intermediate data set under COINr's names (Raw, Denominated, Imputed, Screened, Treated,
Normalised, Aggregated).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from analytics.errors import InvalidData, InvalidPipeline
from analytics.indicators import weighting
from analytics.indicators.aggregate import METHODS, aggregate, rank_desc
from analytics.indicators.denominate import denominate
from analytics.indicators.framework import Framework, load_framework
from analytics.indicators.impute import impute
from analytics.indicators.normalise import normalise, parse_spec
from analytics.indicators.screen import screen
from analytics.indicators.treat import treat, treatment_table
from analytics.tables import (
    describe_errors,
    read_csv_frame,
    staged_dir,
    write_csv_atomic,
    write_json_atomic,
)

STEP_ORDER = ("denominate", "impute", "screen", "treat", "normalise", "weight", "aggregate")


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DenominateParams(_Params):
    denominators: dict[str, str] | None = None  # else the framework's
    scale_factors: dict[str, float] = Field(default_factory=dict)


class ImputeParams(_Params):
    method: Literal["mean", "median", "group_mean", "group_median", "carry_forward"]
    group: str | None = None


class ScreenParams(_Params):
    dat_thresh: float = Field(default=2 / 3, ge=0, le=1)
    nonzero_thresh: float = Field(default=0.05, ge=0, le=1)
    unit_screen: Literal["byNA", "byNZ", "byBoth"] = "byNA"
    exclude: list[str] = Field(default_factory=list)


class TreatParams(_Params):
    winmax: int = Field(default=5, ge=0)
    skew_thresh: float = 2.0
    kurt_thresh: float = 3.5
    log_fallback: bool = True
    exclude: list[str] = Field(default_factory=list)


class WeightParams(_Params):
    method: Literal["given", "equal", "ahp", "pca"] = "given"
    matrices: dict[str, str] = Field(default_factory=dict)  # ahp: group → matrix CSV
    surveys: dict[str, str] = Field(default_factory=dict)  # ahp: group → survey CSV
    ahp_method: Literal["eigen", "geometric", "colnorm"] = "eigen"
    group_aggregate: Literal["aij", "aip"] = "aij"
    drop_inconsistent: bool = True
    max_cr: float | None = 0.1


class AggregateParams(_Params):
    method: str | dict[int, str] = "amean"  # one method, or level → method
    dat_thresh: float | None = Field(default=None, ge=0, le=1)

    @field_validator("method")
    @classmethod
    def _known(cls, v: str | dict[int, str]) -> str | dict[int, str]:
        bad = [m for m in ([v] if isinstance(v, str) else v.values()) if m not in METHODS]
        if bad:
            raise ValueError(f"unknown method {bad[0]!r}; use {', '.join(METHODS)}")
        return v


class GeneratedData(_Params):
    """A built-in SYNTHETIC panel, overlaid by whichever of ``panels`` exist."""

    generate: Literal["chengdu"]
    seed: int = 2024
    first_year: int = 2015
    last_year: int = 2024
    panels: dict[str, str] = Field(default_factory=dict)


class PipelineFile(_Params):
    name: str
    description: str = ""
    framework: str
    variant: str | None = None
    data: str | GeneratedData
    time: Literal["latest", "all"] | int = "latest"
    time_scope: Literal["period", "pooled"] = "period"
    steps: list[dict[str, Any]]


@dataclass(frozen=True)
class Pipeline:
    """A parsed pipeline: the framework, the raw data and each step's parameters."""

    name: str
    framework: Framework
    data: pd.DataFrame
    steps: dict[str, Any]
    time: str | int = "latest"
    time_scope: str = "period"
    base: Path = Path(".")
    description: str = ""
    provenance: dict[str, str] = field(default_factory=dict)
    #: uCode, Time and per source column: True where the value is generated (None: no
    #: generated panel in this pipeline)
    synthetic: pd.DataFrame | None = None
    #: whether a person gave panels (else a generated panel is the demo, labelled as such)
    user_panels: bool = False


@dataclass
class PipelineResult:
    """Every data set of the run, indexed by uCode (and Time when the run spans periods)."""

    pipeline: Pipeline
    dsets: dict[str, pd.DataFrame] = field(default_factory=dict)
    weights: dict[str, float] = field(default_factory=dict)
    screening: pd.DataFrame | None = None
    treatment: pd.DataFrame | None = None
    results: pd.DataFrame | None = None

    @property
    def normalised(self) -> pd.DataFrame:
        return self.dsets["Normalised"]

    @property
    def aggregated(self) -> pd.DataFrame:
        return self.dsets["Aggregated"]


def _parse_steps(raw: list[dict[str, Any]], origin: str) -> dict[str, Any]:
    models: dict[str, type[_Params]] = {
        "denominate": DenominateParams,
        "impute": ImputeParams,
        "screen": ScreenParams,
        "treat": TreatParams,
        "weight": WeightParams,
        "aggregate": AggregateParams,
    }
    steps: dict[str, Any] = {}
    for i, item in enumerate(raw, 1):
        if not isinstance(item, dict) or len(item) != 1:
            raise InvalidPipeline(f"{origin}: step {i} must be one mapping like 'normalise: {{…}}'")
        name, params = next(iter(item.items()))
        if name not in STEP_ORDER:
            raise InvalidPipeline(
                f"{origin}: step {i} {name!r} is not one of {', '.join(STEP_ORDER)}"
            )
        if name in steps:
            raise InvalidPipeline(f"{origin}: step {name} appears twice")
        params = params or {}
        if not isinstance(params, dict):
            raise InvalidPipeline(f"{origin}: step {name} takes a mapping of parameters")
        if name == "normalise":
            per = params.get("indicators") or {}
            global_spec = {k: v for k, v in params.items() if k != "indicators"}
            steps[name] = {
                "spec": parse_spec(global_spec or {"method": "minmax"}, f"{origin}: normalise"),
                "indicators": {
                    code: parse_spec(s, f"{origin}: normalise.indicators.{code}")
                    for code, s in per.items()
                },
            }
            continue
        try:
            steps[name] = models[name].model_validate(params)
        except ValidationError as exc:
            raise InvalidPipeline(
                f"{origin}: step {name}: {describe_errors(exc, 'pipeline')}"
            ) from None
    order = [s for s in STEP_ORDER if s in steps]
    given_order = [next(iter(item)) for item in raw]
    if given_order != order:
        raise InvalidPipeline(f"{origin}: steps must come in the order {' → '.join(STEP_ORDER)}")
    if "aggregate" in steps and "normalise" not in steps:
        raise InvalidPipeline(f"{origin}: aggregate needs a normalise step before it")
    return steps


def read_data(path: Path) -> pd.DataFrame:
    """The unit data (CSV): a ``uCode`` column, optionally ``Time``, then any columns."""
    data = read_csv_frame(path, "data file", ["uCode"], text_columns=["uCode"])
    if data["uCode"].isna().any():
        raise InvalidData(
            f"{path}: line {int(data['uCode'].isna().to_numpy().argmax()) + 2} has no uCode"
        )
    if "Time" in data.columns:
        time = pd.to_numeric(data["Time"], errors="coerce")
        if time.isna().any():
            line = int(time.isna().to_numpy().argmax()) + 2
            raise InvalidData(
                f"{path}: line {line}: Time {data['Time'].iloc[line - 2]!r} is not a number"
            )
        data["Time"] = time.astype("int64") if (time % 1 == 0).all() else time
    keys = ["uCode", "Time"] if "Time" in data.columns else ["uCode"]
    dup = data.duplicated(keys)
    if dup.any():
        i = int(dup.to_numpy().argmax())
        where = ", ".join(f"{k} {data[k].iloc[i]}" for k in keys)
        raise InvalidData(f"{path}: line {i + 2} repeats {where}")
    return data


def load_pipeline(
    path: Path,
    panels: Mapping[str, Path] | None = None,
    *,
    columns: Mapping[str, str] | None = None,
    allow_synthetic: bool = False,
) -> Pipeline:
    """Read and validate a pipeline file, its framework and its data.

    ``panels`` (name → CSV) overlay a generated panel, as the pipeline's own ``panels`` do;
    ``columns`` renames their columns and ``allow_synthetic`` lets generated values fill what
    they leave out (see :func:`generated_data`).
    """
    path = Path(path)
    if not path.is_file():
        raise InvalidPipeline(f"pipeline file {path} does not exist")
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InvalidPipeline(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(doc, dict):
        raise InvalidPipeline(f"{path}: expected a mapping with name, framework, data, steps")
    try:
        spec = PipelineFile.model_validate(doc)
    except ValidationError as exc:
        raise InvalidPipeline(f"{path}: {describe_errors(exc, 'pipeline')}") from None
    base = path.parent
    steps = _parse_steps(spec.steps, str(path))
    fw = load_framework(base / spec.framework, variant=spec.variant)
    provenance: dict[str, str] = {}
    synthetic = None
    if isinstance(spec.data, str):
        data = read_data(base / spec.data)
    else:
        data, provenance, synthetic = generated_data(
            fw,
            spec.variant,
            spec.data,
            base,
            panels or {},
            columns=columns,
            allow_synthetic=allow_synthetic,
        )
    return Pipeline(
        name=spec.name,
        framework=fw,
        data=data,
        steps=steps,
        time=spec.time,
        time_scope=spec.time_scope,
        base=base,
        description=spec.description,
        provenance=provenance,
        synthetic=synthetic,
        user_panels=bool(panels),
    )


#: Panel columns that label a row rather than carry a value; a panel may hold any of them.
PANEL_LABELS = frozenset(
    {
        "district",
        "district_zh",
        "district_en",
        "name",
        "name_zh",
        "name_en",
        "name_pinyin",
        "uName",
        "uName_zh",
        "city",
        "notes",
        "synthetic",
    }
)
#: A panel row saying it is generated (the pilot's demo panels say ``synthetic = yes``).
_SYNTHETIC_MARKS = frozenset({"yes", "true", "1", "y", "是"})


def generated_data(
    fw: Framework,
    variant: str | None,
    spec: GeneratedData,
    base: Path,
    panels: Mapping[str, Path],
    *,
    columns: Mapping[str, str] | None = None,
    allow_synthetic: bool = False,
) -> tuple[pd.DataFrame, dict[str, str], pd.DataFrame]:
    """The generated panel with the real panels laid over it, where each column came from,
    and which cells hold generated values.

    A panel named in the pipeline is used when its file exists (the pilot's downloads exist
    only after ``make demo``); one given in ``panels`` (the CLI's ``--panel``) must exist, its
    columns are renamed by ``columns`` (``{"GDP": "gdp_bn_yuan", "人口": "population_10k"}``)
    and each of its value columns must be one the framework reads. When any panel is given, a
    framework column left (in any unit and year) to the generated SYNTHETIC panel is an error
    unless ``allow_synthetic``: generated numbers are never passed off as a department's own.

    The third frame (uCode, Time, then one column per framework source column) is True where
    the value is generated, or comes from a panel row that says ``synthetic = yes``.
    """
    from analytics.indicators import chengdu

    if variant is None:
        raise InvalidPipeline("data: a generated panel needs the framework 'variant'")
    generated = chengdu.generate_panel(
        fw, variant, years=range(spec.first_year, spec.last_year + 1), seed=spec.seed
    )
    needed = chengdu.source_columns(fw)
    found: dict[str, pd.DataFrame] = {}
    for name, rel in spec.panels.items():
        path = base / rel
        if path.is_file() and name not in panels:
            found[name] = _read_panel(path, name, needed, {})
    for name, path in panels.items():
        found[name] = _read_panel(Path(path), name, needed, columns or {})
    merged, provenance = chengdu.merge_panels(generated, found)
    synthetic = _synthetic_cells(generated, found, needed)
    if panels and not allow_synthetic:
        left = {c: int(synthetic[c].sum()) for c in needed if synthetic[c].any()}
        if left:
            cells = len(synthetic)
            listed = ", ".join(
                c if n == cells else f"{c} ({n} of {cells} unit-years)" for c, n in left.items()
            )
            raise InvalidData(
                f"the panels give no real values for {len(left)} of the {len(needed)} columns "
                f"the index reads: {listed}. Give them in a --panel, or pass --allow-synthetic "
                "to fill them with generated SYNTHETIC values (every output row that uses one "
                "is flagged)"
            )
    return merged, provenance, synthetic


def _synthetic_cells(
    generated: pd.DataFrame, panels: Mapping[str, pd.DataFrame], needed: Sequence[str]
) -> pd.DataFrame:
    """True where the merged panel's value is generated or from a row marked synthetic.

    The flags are merged exactly as the values are (:func:`chengdu.merge_panels`): 1.0 for a
    generated cell, 0.0 for a panel's real value, 1.0 for a panel value of a synthetic row."""
    from analytics.indicators import chengdu

    flags = generated.copy()
    for col in needed:
        # a gap the generator leaves is missing, not synthetic: nothing is made up there
        flags[col] = np.where(generated[col].isna(), 0.0, 1.0)
    flag_panels = {}
    for name, panel in panels.items():
        marked = (
            panel["synthetic"].astype(str).str.strip().str.lower().isin(_SYNTHETIC_MARKS)
            if "synthetic" in panel.columns
            else pd.Series(False, index=panel.index)
        )
        flag = panel[["adcode", "year"]].copy()
        for col in (c for c in panel.columns if c in needed):
            flag[col] = np.where(panel[col].isna(), np.nan, marked.astype(float))
        flag_panels[name] = flag
    merged, _ = chengdu.merge_panels(flags, flag_panels)
    out = merged[["uCode", "Time"]].copy()
    for col in needed:
        out[col] = merged[col].astype(float) != 0.0
    return out


def _read_panel(
    path: Path, name: str, expected: Sequence[str], columns: Mapping[str, str]
) -> pd.DataFrame:
    """A panel CSV (UTF-8 or GBK) with its columns renamed by ``columns``; a column that holds
    numbers but is not one of ``expected`` is an error naming the expected columns."""
    from analytics.indicators import chengdu

    frame = read_csv_frame(path, f"panel {name}", text_columns=["adcode"])
    frame.columns = [str(c).strip() for c in frame.columns]
    frame = frame.rename(columns=dict(columns))
    if frame.columns.has_duplicates:
        dup = frame.columns[frame.columns.duplicated()][0]
        raise InvalidData(f"panel {name} ({path}): two columns are named (or mapped to) {dup!r}")
    keys = [k for k in ("adcode", "year") if k not in frame.columns]
    if keys:
        raise InvalidData(
            f"panel {name} ({path}): no column {' or '.join(keys)}; a panel needs adcode and "
            "year (map other names with --column, e.g. --column 行政区划代码=adcode "
            "--column 年份=year)"
        )
    # the pilot's panels' own columns are known even where this framework reads none
    known = {*expected, *chengdu.PILOT_COLUMNS}
    unknown = [
        c
        for c in frame.columns
        if c not in ("adcode", "year", *known, *PANEL_LABELS)
        and pd.to_numeric(frame[c], errors="coerce").notna().any()
    ]
    if unknown:
        own = chengdu.PILOT_DATASETS.get(name)
        choices = list(own) if own is not None else list(expected)
        raise InvalidData(
            f"panel {name} ({path}): column(s) {', '.join(unknown)} match no column the index "
            f"reads; expected {', '.join(choices)}. Map other names with --column THEIRS=OURS, "
            "e.g. --column 'GDP=gdp_bn_yuan' --column '人口=population_10k'"
        )
    return frame


def indicator_frame(framework: Framework, data: pd.DataFrame) -> pd.DataFrame:
    """The indicator columns, from each indicator's source (a column or a formula) or its code."""
    cols = {}
    for ind in framework.indicators:
        src = ind.source
        try:
            if src is not None and src.formula is not None:
                raw = data.eval(src.formula, engine="python")
            else:
                raw = data[src.column if src is not None else ind.code]
        except KeyError as exc:
            raise InvalidData(f"indicator {ind.code}: column {exc} is not in the data") from None
        except (SyntaxError, NameError, TypeError, ValueError, ZeroDivisionError) as exc:
            raise InvalidData(
                f"indicator {ind.code}: formula cannot be evaluated ({exc})"
            ) from None
        values = pd.to_numeric(raw, errors="coerce")
        if src is None or src.formula is None:
            infinite = np.isinf(values.to_numpy(dtype=float, na_value=np.nan))
            if infinite.any():
                where = values.index[int(infinite.argmax())]
                raise InvalidData(f"indicator {ind.code}: unit {where} has an infinite value")
        bad = values.isna() & raw.notna()
        if bad.any():
            where = bad.idxmax()
            raise InvalidData(
                f"indicator {ind.code}: unit {where} has a value that is not a number: "
                f"{raw[where]!r}"
            )
        cols[ind.code] = values.replace([np.inf, -np.inf], np.nan).astype(float)
    return pd.DataFrame(cols, index=data.index)


def _per_period(
    frame: pd.DataFrame, scope: str, fn: Callable[[pd.DataFrame], pd.DataFrame]
) -> pd.DataFrame:
    return pd.concat([fn(part) for part in _split(frame, scope)])


def run(p: Pipeline) -> PipelineResult:
    """Run every configured step; each data set is kept under COINr's name."""
    fw, data, steps = p.framework, p.data.copy(), p.steps
    timed = "Time" in data.columns
    period = None
    if timed and p.time != "all":
        period = data["Time"].max() if p.time == "latest" else p.time
        if period not in set(data["Time"]):
            raise InvalidData(f"time {period} is not a period of the data")
        if "impute" not in steps:
            # nothing borrows from other periods: keep only the one asked for
            data = data[data["Time"] == period]
    units = sorted(set(p.data["uCode"]))
    data = data.set_index(["uCode", "Time"] if timed else ["uCode"]).sort_index()
    if timed:
        # every unit in every period: a unit missing a year is then imputed, screened out
        # or shown without a score, never silently left out
        grid = pd.MultiIndex.from_product(
            [units, sorted(set(data.index.get_level_values("Time")))], names=["uCode", "Time"]
        )
        if len(grid) > len(data):
            data = data.reindex(grid)
            labels = [c for c in data.columns if not pd.api.types.is_numeric_dtype(data[c])]
            if labels:
                # group labels (uName, EurAsia_group …) belong to the unit, not to the year
                by_unit = data[labels].groupby(level="uCode")
                data[labels] = by_unit.ffill().fillna(by_unit.bfill())
    res = PipelineResult(pipeline=p)
    x = indicator_frame(fw, data)
    res.dsets["Raw"] = x
    if "denominate" in steps:
        st = steps["denominate"]
        denoms = st.denominators or {
            i.code: i.denominator for i in fw.indicators if i.denominator is not None
        }
        x = denominate(x, denoms, data, st.scale_factors)
        res.dsets["Denominated"] = x
    if "impute" in steps:
        st = steps["impute"]
        groups = None
        if st.group is not None:
            if st.group not in data.columns:
                raise InvalidData(f"impute: group column {st.group} is not in the data")
            groups = data[st.group]
        time = pd.Series(data.index.get_level_values("Time"), index=data.index) if timed else None
        units = pd.Series(data.index.get_level_values("uCode"), index=data.index)
        x = impute(x, st.method, groups=groups, time=time, units=units)
        res.dsets["Imputed"] = x
    if period is not None:
        # one period: index by unit alone, as COINr's coins are
        res.dsets = {
            k: v[v.index.get_level_values("Time") == period].droplevel("Time")
            for k, v in res.dsets.items()
        }
        x = next(reversed(res.dsets.values()))
    if "screen" in steps:
        st = steps["screen"]
        kept, summaries = [], []
        for part in _split(x, "period"):
            k, s = screen(
                part,
                dat_thresh=st.dat_thresh,
                nonzero_thresh=st.nonzero_thresh,
                unit_screen=st.unit_screen,
                exclude=tuple(st.exclude),
            )
            kept.append(k)
            summaries.append(s)
        x = pd.concat(kept)
        res.screening = pd.concat(summaries)
        if x.empty:
            raise InvalidData("screen: no unit has enough data at this threshold")
        res.dsets["Screened"] = x
    if "treat" in steps:
        st = steps["treat"]
        reports = []

        def _treat(part: pd.DataFrame) -> pd.DataFrame:
            out, rep = treat(
                part,
                winmax=st.winmax,
                skew_thresh=st.skew_thresh,
                kurt_thresh=st.kurt_thresh,
                log_fallback=st.log_fallback,
                exclude=tuple(st.exclude),
            )
            reports.append(treatment_table(rep))
            return out

        x = _per_period(x, p.time_scope, _treat)
        res.treatment = pd.concat(reports, ignore_index=True)
        res.dsets["Treated"] = x
    if "normalise" in steps:
        st = steps["normalise"]
        kw = normalise_kwargs(p)
        x = _per_period(x, p.time_scope, lambda part: normalise(part, st["spec"], **kw))
        res.dsets["Normalised"] = x
    res.weights = _weights(p, x)
    if "aggregate" in steps:
        st = steps["aggregate"]
        agg = _per_period(
            x,
            "period",
            lambda part: aggregate(part, fw, res.weights, st.method, dat_thresh=st.dat_thresh),
        )
        res.dsets["Aggregated"] = agg
        res.results = results_table(agg, fw.index_code)
    return res


def normalise_kwargs(p: Pipeline) -> dict[str, Any]:
    """What normalisation needs besides the data: directions, per-indicator specs and values."""
    fw = p.framework
    overrides = {
        i.code: parse_spec(i.normalise, f"framework indicator {i.code}")
        for i in fw.indicators
        if i.normalise
    }
    if "normalise" in p.steps:
        overrides.update(p.steps["normalise"]["indicators"])
    return {
        "directions": {i.code: i.direction or 1 for i in fw.indicators},
        "overrides": overrides,
        "targets": {i.code: i.target for i in fw.indicators},
        "references": {i.code: i.reference for i in fw.indicators},
        "goalposts": {
            i.code: (i.goalposts.worst, i.goalposts.best) if i.goalposts else None
            for i in fw.indicators
        },
    }


def normalise_input(res: PipelineResult) -> pd.DataFrame:
    """The data set the normalisation step read (the last one before Normalised)."""
    names = [n for n in res.dsets if n not in ("Normalised", "Aggregated")]
    return res.dsets[names[-1]]


def _split(x: pd.DataFrame, scope: str) -> list[pd.DataFrame]:
    if scope == "pooled" or "Time" not in x.index.names:
        return [x]
    return [part for _, part in x.groupby(level="Time", sort=True)]


def _weights(p: Pipeline, normalised: pd.DataFrame) -> dict[str, float]:
    st = p.steps.get("weight")
    fw = p.framework
    if st is None or st.method == "given":
        return weighting.given(fw)
    if st.method == "equal":
        return weighting.equal(fw)
    if st.method == "ahp":
        if not st.matrices and not st.surveys:
            raise InvalidPipeline(
                "weight: method ahp needs 'matrices: {GROUP: matrix.csv}' or "
                "'surveys: {GROUP: survey.csv}'"
            )
        return weighting.from_ahp(
            fw,
            {g: p.base / m for g, m in st.matrices.items()},
            surveys={g: p.base / m for g, m in st.surveys.items()},
            method=st.ahp_method,
            max_cr=st.max_cr,
            aggregate=st.group_aggregate,
            drop_inconsistent=st.drop_inconsistent,
        )
    return weighting.from_pca(fw, normalised)


def results_table(aggregated: pd.DataFrame, index_code: str) -> pd.DataFrame:
    """uCode, [Time,] index, rank — sorted by rank within each period."""
    frame = aggregated[[index_code]].rename(columns={index_code: "index"}).reset_index()
    if "Time" in frame.columns:
        frame["rank"] = frame.groupby("Time")["index"].transform(
            lambda s: s.rank(ascending=False, method="min")
        )
        frame["rank"] = frame["rank"].astype("Int64")
        return frame.sort_values(["Time", "rank", "uCode"], ignore_index=True)
    frame["rank"] = rank_desc(frame["index"]).to_numpy()
    return frame.sort_values(["rank", "uCode"], ignore_index=True)


def _by_source(provenance: Mapping[str, str]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for column, source in sorted(provenance.items()):
        grouped.setdefault(source, []).append(column)
    return grouped


def synthetic_flags(res: PipelineResult, rows: pd.DataFrame) -> pd.Series | None:
    """For each output row (uCode[, Time]), whether its score rests on generated values.

    ``yes``: the unit's own values (in that period, or an earlier one imputation may carry
    forward) include generated ones; ``others``: its own values are real, but generated values
    of other units enter its normalised score; ``no``: nothing generated was used. None when
    the pipeline had no generated panel."""
    p = res.pipeline
    if p.synthetic is None:
        return None
    cols = [c for c in p.synthetic.columns if c not in ("uCode", "Time")]
    per_cell = p.synthetic.assign(any_=p.synthetic[cols].any(axis=1))
    per_cell = per_cell[per_cell["uCode"].isin(set(rows["uCode"].astype(str)))]
    if not per_cell["any_"].any():
        return pd.Series("no", index=rows.index)
    carried = "impute" in p.steps

    def own(code: str, time: Any) -> bool:
        mine = per_cell[per_cell["uCode"] == str(code)]
        if time is not None:
            mine = mine[mine["Time"] <= time] if carried else mine[mine["Time"] == time]
        return bool(mine["any_"].any())

    latest = p.data["Time"].max() if p.time == "latest" else p.time
    period = None if p.time == "all" else latest
    times = rows["Time"] if "Time" in rows.columns else pd.Series(period, index=rows.index)
    return pd.Series(
        ["yes" if own(c, t) else "others" for c, t in zip(rows["uCode"], times, strict=True)],
        index=rows.index,
    )


def _flagged(res: PipelineResult, frame: pd.DataFrame) -> pd.DataFrame:
    flags = synthetic_flags(res, frame)
    return frame if flags is None else frame.assign(synthetic=flags)


def unit_names(res: PipelineResult, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the units' Chinese and English names after ``uCode``, when the data
    has both (the Chengdu panels take them from the shared admin-unit table)."""
    data = res.pipeline.data
    if not {"uName_zh", "uName"} <= set(data.columns) or "uCode" not in frame.columns:
        return frame
    names = data.drop_duplicates("uCode").set_index("uCode")[["uName_zh", "uName"]]
    at = list(frame.columns).index("uCode") + 1
    out = frame.copy()
    for offset, col in enumerate(("uName_zh", "uName")):
        out.insert(at + offset, col, out["uCode"].astype(str).map(names[col]).to_numpy())
    return out


def write_outputs(res: PipelineResult, out: Path) -> dict[str, Path]:
    """normalised.csv, aggregated.csv, results.csv (COINr's layout) and the run's details,
    written together or not at all (:func:`staged_dir`)."""
    with staged_dir(out) as tmp:
        written = _write_outputs(res, tmp)
    return {name: out / name for name in written}


def _write_outputs(res: PipelineResult, out: Path) -> dict[str, Path]:
    files: dict[str, Path] = {}

    def put(name: str, frame: pd.DataFrame) -> None:
        files[name] = write_csv_atomic(frame, out / name)

    if "Normalised" in res.dsets:
        put("normalised.csv", _flagged(res, res.normalised.reset_index()))
    if "Aggregated" in res.dsets:
        put("aggregated.csv", _flagged(res, res.aggregated.reset_index()))
    if res.results is not None:
        put("results.csv", unit_names(res, _flagged(res, res.results)))
    if res.treatment is not None:
        put("treatment.csv", res.treatment)
    if res.screening is not None:
        put("screening.csv", res.screening.reset_index())
    shares = weighting.normalised_weights(res.pipeline.framework, res.weights)
    put(
        "weights.csv",
        pd.DataFrame(
            {
                "iCode": list(shares),
                "weight": [res.weights.get(c, 1.0) for c in shares],
                "share": list(shares.values()),
            }
        ),
    )
    # the key to the code columns above: each indicator's and aggregate's names and unit
    put("indicators.csv", res.pipeline.framework.meta())
    summary = {
        "pipeline": res.pipeline.name,
        "framework": res.pipeline.framework.name,
        "units": int(res.dsets["Raw"].index.get_level_values("uCode").nunique()),
        "indicators": len(res.pipeline.framework.indicators),
        "steps": [s for s in STEP_ORDER if s in res.pipeline.steps],
        "sources": _by_source(res.pipeline.provenance),
        "files": sorted(files),
    }
    if res.pipeline.synthetic is not None:
        flags = synthetic_flags(res, res.results) if res.results is not None else None
        counts = {k: int(v) for k, v in flags.value_counts().items()} if flags is not None else {}
        if not res.pipeline.user_panels:
            summary["data"] = "SYNTHETIC demo panel (no --panel given): not official statistics"
        elif set(counts) - {"no"}:
            summary["data"] = "the panels given; generated SYNTHETIC values fill their gaps"
        else:
            summary["data"] = "the panels given, no generated value used"
        summary["synthetic_rows"] = counts
    if res.results is not None and "Time" not in res.results.columns:
        top = res.results.head(5)
        summary["top"] = [
            {
                "uCode": r.uCode,
                "index": None if math.isnan(r.index) else r.index,
                # a unit without a score has no rank (rank_desc keeps it missing)
                "rank": None if pd.isna(r.rank) else int(r.rank),
            }
            for r in top.itertuples()
        ]
    write_json_atomic(summary, out / "summary.json")
    files["summary.json"] = out / "summary.json"
    return files
