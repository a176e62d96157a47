# ruff: noqa: E501  (the report is an HTML template: its lines are markup)
"""Annual and five-year evaluation reports: one self-contained HTML file, and its PDF.

The report holds the cockpit's charts (the same option builders, ECharts inlined: the file
opens offline), the key tables as text, and the provenance of every figure. The PDF is
headless Chromium's print of that file.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from node.cockpit.data import BASE_YEAR, INDICATOR_NAMES, KPI_CODES, CockpitData, Query
from node.cockpit.errors import CockpitError, InvalidFilter

STATIC = Path(__file__).resolve().parent / "static"


class PdfFailed(CockpitError):
    code = "pdf_failed"
    http_status = 500


def parse_period(text: str | None, year: int) -> tuple[int, int]:
    if not text:
        return year, year
    m = re.fullmatch(r"([0-9]{4})-([0-9]{4})", text)
    if m is None:
        raise InvalidFilter(f"--period {text!r}: use FIRST-LAST, e.g. 2021-2025")
    lo, hi = int(m.group(1)), int(m.group(2))
    if lo > hi or hi - lo > 20:
        raise InvalidFilter(f"--period {text!r}: FIRST must come before LAST, at most 20 years")
    if not lo <= year <= hi:
        raise InvalidFilter(f"--year {year} lies outside --period {text}")
    return lo, hi


def gather(data: CockpitData, year: int, period: tuple[int, int]) -> dict[str, Any]:
    lo, hi = data._years()
    if not lo <= year <= hi:
        raise InvalidFilter(f"--year {year}: the data cover {lo}-{hi}")
    covered = (max(period[0], lo), min(period[1], hi))
    per_year = {}
    for y in range(covered[0], covered[1] + 1):
        per_year[y] = data.overview(Query(year=y))["kpis"]
    return {
        "year": year,
        "period": list(period),
        "missing_years": [y for y in range(period[0], period[1] + 1) if not lo <= y <= hi],
        "meta": data.meta() | {"map": {"mode": "tiles", "review_no": None}},
        "overview": data.overview(Query(year=year)),
        "per_year": per_year,
        "map": data.map(Query(year=year)),
        "series": data.series(Query()),
        "intensity": data.series(Query(indicator="carbon_intensity")),
        "distribution": data.distribution(Query(years=(year, year))),
        "distribution_period": data.distribution(Query(years=covered)),
        "index": data.index(Query(year=year)),
        "assets": data.assets(Query()),
    }


def _script() -> str:
    """i18n.js and charts.js as one classic script (a file:// page cannot import modules)."""
    parts = []
    for name in ("i18n.js", "charts.js"):
        text = (STATIC / name).read_text(encoding="utf-8")
        lines = [ln for ln in text.splitlines() if not ln.startswith("import ")]
        parts.append(
            "\n".join(lines).replace("export function", "function").replace("export const", "const")
        )
    return "\n".join(parts)


RENDER = """
const R = JSON.parse(document.getElementById('report-data').textContent);
learnIndicators(R.meta.indicators);
const lang = R.lang, t = translator(lang);
const put = (id, opt) => {
  // the page's charts are drawn for a dark background; the report is printed on white
  opt.textStyle = {color: '#222'};
  if (opt.legend) opt.legend.textStyle = {color: '#222'};
  const c = echarts.init(document.getElementById(id), null, {renderer: 'svg'});
  c.setOption(opt);
};
put('c-series', seriesOption(R.meta, R.series, t, lang));
put('c-intensity', seriesOption(R.meta, R.intensity, t, lang));
put('c-map', mapOption(R.meta, R.map, [], t, lang, false));
put('c-distribution', distributionOption(R.distribution, t));
put('c-index', indexOption(R.meta, R.index, t, lang, []));
put('c-assets', assetsOption(R.meta, R.assets, t, lang));
document.body.dataset.rendered = 'yes';
"""


def render_html(r: dict[str, Any], lang: str = "zh") -> str:
    e = html.escape
    zh = lang == "zh"
    title = (
        f"成都市绿色低碳发展{'年度' if r['period'][0] == r['period'][1] else '五年'}评估报告"
        if zh
        else "Chengdu green low-carbon development evaluation report"
    )
    span = f"{r['period'][0]}–{r['period'][1]}"
    names = {c: (z if zh else en, u) for c, (z, en, u) in INDICATOR_NAMES.items()}
    o = r["overview"]
    kpi_rows = "".join(
        f"<tr><td>{e(names[k][0])}</td><td>{e(names[k][1])}</td>"
        f"<td data-kpi='{k}'>{_n(o['kpis'][k]['value'])}</td>"
        f"<td>{_n(o['kpis'][k]['change_vs_previous_pct'])}</td>"
        f"<td>{_n(o['kpis'][k]['change_vs_base_pct'])}</td></tr>"
        for k in KPI_CODES
    )
    years = sorted(r["per_year"])
    trend_rows = "".join(
        f"<tr><td>{e(names[k][0])}</td>"
        + "".join(f"<td>{_n(r['per_year'][y][k]['value'])}</td>" for y in years)
        + "</tr>"
        for k in KPI_CODES
    )
    missing = (
        f"<p class='note'>{'尚无数据的年份' if zh else 'Years not yet in the data'}: "
        f"{', '.join(map(str, r['missing_years']))}</p>"
        if r["missing_years"]
        else ""
    )
    units = {u["code"]: u["name_zh" if zh else "name_en"] for u in r["meta"]["districts"]}
    rank_rows = "".join(
        f"<tr><td>{x['rank']}</td><td>{e(units.get(x['code'], x['code']))}</td>"
        f"<td>{_n(x['index'])}</td><td>{x['q05']}–{x['q95']}</td></tr>"
        for x in r["index"]["ranks"]
    )
    budget = o["budget"] or {}
    peak = o["peak"]
    sources = _sources(r)
    style = (STATIC / "style.css").read_text(encoding="utf-8")
    echarts = (STATIC / "vendor" / "echarts.min.js").read_text(encoding="utf-8")
    # inside <script>: no <, > or & may reach the HTML parser (a "<!--<script" in a name
    # would otherwise keep the data block from closing)
    payload = (
        json.dumps(r | {"lang": lang}, ensure_ascii=False)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
    )
    return f"""<!doctype html>
<html lang="{"zh-CN" if zh else "en"}"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:">
<title>{e(title)} {r["year"]}</title>
<style>{style}
body {{ background: #fff; color: #111; }} .report {{ max-width: 1000px; margin: 0 auto; padding: 16px; }}
.report table {{ border-collapse: collapse; width: 100%; font-size: 12px; }}
.report th, .report td {{ border-bottom: 1px solid #ccc; padding: 2px 6px; text-align: right; }}
.report td:first-child, .report th:first-child {{ text-align: left; }}
.report .chart {{ height: 320px; }} .note {{ color: #555; font-size: 12px; }}
@media print {{ .chart {{ break-inside: avoid; }} h2 {{ break-after: avoid; }} }}
</style></head>
<body><div class="report">
<h1>{e(title)}</h1>
<p>{"评估年份" if zh else "Year"} {r["year"]} · {"评估期" if zh else "period"} {span} ·
{"基准年" if zh else "base year"} {BASE_YEAR} · {"生成于" if zh else "generated"} {time.strftime("%Y-%m-%d %H:%M")}</p>
<p class="note">{"演示数据为合成数据（SYNTHETIC）。" if zh else "Demo data are SYNTHETIC."}
{"所有数字均来自本节点依授权获取的数据，来源见文末。" if zh else "Every figure comes from data this node pulled under a grant; sources at the end."}</p>
<h2>{"主要指标" if zh else "Key indicators"} {r["year"]}</h2>
<table><tr><th></th><th>{"单位" if zh else "unit"}</th><th>{r["year"]}</th><th>{"较上年 %" if zh else "vs last year %"}</th><th>{"较基准年 %" if zh else f"vs {BASE_YEAR} %"}</th></tr>{kpi_rows}</table>
<p>{"碳预算路径" if zh else "Budget path"}: <b data-budget="{e(str(budget.get("status")))}">{e(_light(budget.get("status"), zh))}</b>
(cum. actual / budget {_n(budget.get("ratio"))}) · {"预测达峰年" if zh else "forecast peak year"} <b>{peak["year"] or "—"}</b>
({_peak_words(peak, zh)})</p>
<h2>{"评估期逐年指标" if zh else "Indicators by year"} {span}</h2>
<table><tr><th></th>{"".join(f"<th>{y}</th>" for y in years)}</tr>{trend_rows}</table>{missing}
<h2>{"碳排放与预测" if zh else "Emissions and forecast"}</h2><div class="chart" id="c-series"></div>
<h2>{"碳排放强度" if zh else "Carbon intensity"}</h2><div class="chart" id="c-intensity"></div>
<h2>{"分区碳排放" if zh else "Emissions by district"} {r["year"]}</h2><div class="chart" id="c-map"></div>
<h2>{"分建筑类型" if zh else "By building type"} {r["year"]}</h2><div class="chart" id="c-distribution"></div>
<h2>{"绿色低碳发展指数排名" if zh else "Index ranking"} {r["index"]["year"]}</h2><div class="chart" id="c-index"></div>
<table><tr><th>#</th><th></th><th>index</th><th>MC 5–95 %</th></tr>{rank_rows}</table>
<h2>{"碳资产" if zh else "Carbon assets"}</h2><div class="chart" id="c-assets"></div>
<h2>{"数据来源" if zh else "Provenance"}</h2>{sources}
</div>
<script id="report-data" type="application/json">{payload}</script>
<script>{echarts}</script>
<script>{_script()}
{RENDER}</script>
</body></html>
"""


def _light(status: str | None, zh: bool) -> str:
    if status is None:
        return "—"
    return {"green": "绿", "yellow": "黄", "red": "红"}.get(status, status) if zh else status


def _peak_words(peak: dict[str, Any], zh: bool) -> str:
    if peak["year"] is None:
        return html.escape(peak.get("error", ""))
    if zh:
        return "已达峰" if peak["reached"] else "尚未达峰"
    return "reached" if peak["reached"] else "not yet"


def _n(v: Any) -> str:
    if v is None:
        return "—"
    return f"{v:,.0f}" if abs(v) >= 1e4 else f"{v:.4g}"


def sources_of(r: dict[str, Any]) -> list[dict[str, Any]]:
    """Every holding the report drew on, once."""
    seen: dict[tuple, dict] = {}
    for key in ("overview", "map", "series", "intensity", "distribution", "index", "assets"):
        for s in r[key]["provenance"]["sources"]:
            seen[(s["role"], s["sha256"])] = s
    return list(seen.values())


def _sources(r: dict[str, Any]) -> str:
    e = html.escape
    rows = []
    for s in sources_of(r):
        if s["kind"] == "pulled":
            what = (
                f"{e(str(s['owner']))}/{e(str(s['dataset']))} v{e(str(s['version']))}, "
                f"grant #{e(str(s['grant']))}, tx <code>{e(str(s['grant_tx']))}</code> "
                f"(block {e(str(s['grant_block']))})"
            )
        else:
            what = f"{e(str(s['method']))} from holdings {e(str(s.get('inputs') or '—'))}"
        flag = " · SYNTHETIC" if s.get("synthetic") else ""
        rows.append(
            f"<li><b>{e(str(s['role']))}</b>: {what}{flag}; sha256 <code>{e(str(s['sha256']))}</code></li>"
        )
    factors = e(json.dumps(r["overview"]["provenance"]["factors"], ensure_ascii=False))
    return f"<ul>{''.join(rows)}</ul><p class='note'>factors: {factors}</p>"


def chromium_path() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    raise PdfFailed("no chromium on this machine (Debian: apt-get install chromium)")


def print_pdf(html_path: Path, pdf_path: Path, timeout: float = 120) -> None:
    """Headless Chromium's print of ``html_path``, written atomically to ``pdf_path``."""
    pdf_path = Path(pdf_path)
    fd, tmp = tempfile.mkstemp(prefix=f".{pdf_path.name}.", dir=pdf_path.parent or ".")
    os.close(fd)
    with tempfile.TemporaryDirectory() as profile:
        cmd = [
            chromium_path(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            f"--user-data-dir={profile}",
            "--no-pdf-header-footer",
            "--virtual-time-budget=15000",
            f"--print-to-pdf={tmp}",
            Path(html_path).resolve().as_uri(),
        ]
        try:
            done = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            Path(tmp).unlink(missing_ok=True)
            raise PdfFailed(f"chromium did not finish printing within {timeout:.0f} s") from None
    if done.returncode != 0 or Path(tmp).stat().st_size == 0:
        Path(tmp).unlink(missing_ok=True)
        tail = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise PdfFailed(f"chromium could not print the report: {tail[0][:200]}")
    os.replace(tmp, pdf_path)
