"""The analysis of a finished pipeline run: trends, early warning, correlations, profiles.

Trends and anomalies need a run over several periods (``time: all``); the early warning and
the correlation checks read the latest period.
"""

from __future__ import annotations

import pandas as pd

from analytics.errors import InvalidData
from analytics.indicators.diagnostics import collinear_pairs, parent_correlations, unit_profile
from analytics.indicators.early_warning import robust_anomalies, traffic_light, warning_summary
from analytics.indicators.pipeline import PipelineResult
from analytics.indicators.trends import cagr, theil_sen, year_on_year


def _latest(frame: pd.DataFrame) -> pd.DataFrame:
    if "Time" not in frame.index.names:
        return frame
    return frame.xs(frame.index.get_level_values("Time").max(), level="Time")


def _panel(frame: pd.DataFrame) -> pd.DataFrame | None:
    if "Time" not in frame.index.names:
        return None
    return frame.reset_index()


def analyse(res: PipelineResult) -> dict[str, pd.DataFrame]:
    """Every analysis table the run supports, by file stem."""
    fw = res.pipeline.framework
    out: dict[str, pd.DataFrame] = {}
    raw = res.dsets.get("Denominated", res.dsets["Raw"])
    directions = {i.code: int(i.direction or 1) for i in fw.indicators}
    targets = {i.code: i.target for i in fw.indicators if i.target is not None}
    if targets:
        latest_raw = _latest(raw)[list(targets)]
        lights = traffic_light(latest_raw, targets, directions)
        out["warnings"] = lights.reset_index()
        out["warning_summary"] = warning_summary(lights).reset_index()
    if "Aggregated" in res.dsets:
        scores = _latest(res.aggregated)
        out["correlations"] = parent_correlations(scores, fw.parents)
        out["collinear"] = collinear_pairs(scores, fw.parents)
        panel = _panel(res.aggregated)
        if panel is not None and panel["Time"].nunique() >= 3:
            aggregates = [n.code for n, _ in fw.nodes() if n.children]
            out["trends"] = theil_sen(panel[["uCode", "Time", *aggregates]])
            out["yoy"] = year_on_year(panel[["uCode", "Time", *aggregates]])
            out["cagr"] = cagr(panel[["uCode", "Time", *aggregates]]).reset_index()
    raw_panel = _panel(raw)
    if raw_panel is not None and raw_panel["Time"].nunique() >= 3:
        out["indicator_trends"] = theil_sen(raw_panel[["uCode", "Time", *fw.indicator_codes]])
        out["anomalies"] = robust_anomalies(raw_panel[["uCode", "Time", *fw.indicator_codes]])
    return out


def profile(res: PipelineResult, unit: str) -> pd.DataFrame:
    """One unit's strengths and weaknesses in the latest period."""
    if "Aggregated" not in res.dsets:
        raise InvalidData("profile: the pipeline has no aggregate step")
    return unit_profile(_latest(res.aggregated), unit, res.pipeline.framework.parents)
