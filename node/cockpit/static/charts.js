// ECharts options for each panel: pure functions of the API's answers (the page and the
// annual report both use them). No animation: the numbers are the point, and a re-render
// is complete when setOption returns.

export function fmt(v, digits = 4) {
  if (v === null || v === undefined) return "—";
  const a = Math.abs(v);
  if (a >= 1e4) return Math.round(v).toLocaleString("en-US");
  return Number(v.toPrecision(digits)).toString();
}

// Tooltips are HTML: every value that comes from data (names, methods, codes) is escaped.
export function esc(v) {
  return echarts.format.encodeHTML(String(v ?? ""));
}

export function provShort(prov, t) {
  const out = [];
  for (const s of prov.sources || []) {
    if (s.kind === "pulled") {
      out.push(`${t("source")}: ${esc(s.owner)}/${esc(s.dataset)} v${esc(s.version)}, ${t("grant")} #${esc(s.grant)} (${t("tx")} ${esc(String(s.grant_tx).slice(0, 10))}…)${s.synthetic ? " · " + t("synthetic") : ""}`);
    } else if (s.kind === "dp_answer") {
      const eps = Object.entries(s.epsilon || {}).map(([what, per]) => `${esc(what)}: ${Object.entries(per).map(([o, e]) => `${esc(o)} ${esc(e)}`).join(", ")}`).join("; ");
      out.push(`${t("dp")}: ${esc(s.method)}<br>ε ${eps} · ${t("grant")} #${(s.grants || []).map(esc).join(", #")}${s.synthetic ? " · " + t("synthetic") : ""}`);
    } else {
      out.push(`${t("derived")}: ${esc(s.role)} (${esc(s.method)})${s.synthetic ? " · " + t("synthetic") : ""}`);
    }
  }
  return out.join("<br>");
}

function unitName(meta, code, lang) {
  const u = meta.districts.find((d) => d.code === code);
  return u ? (lang === "en" ? u.name_en : u.name_zh) : code;
}

const base = { animation: false, backgroundColor: "transparent", textStyle: { color: "#e6edf3" } };

export function mapOption(meta, data, sel, t, lang, geo) {
  const vals = data.values.map((v) => v.value).filter((v) => v !== null);
  const lo = Math.min(...vals), hi = Math.max(...vals);
  const visualMap = { min: lo, max: hi, calculable: true, orient: "horizontal", left: "center", bottom: 0,
    inRange: { color: ["#1a9850", "#fee08b", "#d73027"] }, textStyle: { color: "#e6edf3" }, dimension: geo ? undefined : 2 };
  const tip = (code, value) => `<b>${esc(unitName(meta, code, lang))}</b> (${esc(code)})<br>${esc(t(data.indicator))}: ${fmt(value)} ${esc(data.unit)}<br>${provShort(data.provenance, t)}`;
  if (geo) {
    return { ...base, visualMap, tooltip: { formatter: (p) => tip(p.name, p.value) },
      series: [{ type: "map", map: "chengdu", nameProperty: "adcode", selectedMode: false,
        data: data.values.map((v) => ({ name: v.code, value: v.value,
          itemStyle: sel.includes(v.code) ? { borderColor: "#fff", borderWidth: 2 } : undefined })) }] };
  }
  const cells = data.values.map((v) => {
    const d = meta.districts.find((u) => u.code === v.code);
    return { name: v.code, value: [d.col, d.row, v.value],
      itemStyle: sel.includes(v.code) ? { borderColor: "#ffffff", borderWidth: 3 } : { borderColor: "#0f1720", borderWidth: 2 } };
  });
  return { ...base, visualMap,
    tooltip: { formatter: (p) => tip(p.name, p.value[2]) },
    grid: { left: 4, right: 4, top: 4, bottom: 48 },
    xAxis: { type: "category", data: [0, 1, 2, 3, 4, 5], show: false },
    yAxis: { type: "category", data: [0, 1, 2, 3, 4, 5], inverse: true, show: false },
    series: [{ type: "heatmap", data: cells,
      label: { show: true, color: "#111", fontSize: 11,
        formatter: (p) => `${unitName(meta, p.name, lang)}\n${fmt(p.value[2], 3)}` } }] };
}

export function seriesOption(meta, data, t, lang) {
  const series = [];
  const x = new Set();
  const add = (pts) => pts.forEach((p) => x.add(p[0]));
  for (const d of data.districts) {
    add(d.points);
    series.push({ name: unitName(meta, d.code, lang), type: "line", showSymbol: false, data: d.points.map((p) => [p[0], p[1]]) });
  }
  if (data.districts.length !== 1) {
    add(data.selection.points);
    series.push({ name: t("selection"), type: "line", lineStyle: { width: 3 }, showSymbol: false,
      data: data.selection.points.map((p) => [p[0], p[1]]) });
  }
  if (data.forecast) {
    const f = data.forecast.points;
    add(f);
    series.push({ name: t("forecast"), type: "line", lineStyle: { type: "dashed" }, showSymbol: false, data: f.map((p) => [p[0], p[1]]) });
    series.push({ name: "lower", type: "line", stack: "band", lineStyle: { opacity: 0 }, showSymbol: false, silent: true, tooltip: { show: false },
      data: f.map((p) => [p[0], p[2]]) });
    series.push({ name: t("band"), type: "line", stack: "band", lineStyle: { opacity: 0 }, showSymbol: false, areaStyle: { color: "rgba(56,180,139,0.25)" },
      data: f.map((p) => [p[0], p[3] - p[2]]) });
  }
  if (data.budget) {
    add(data.budget.points);
    series.push({ name: t("budget"), type: "line", lineStyle: { type: "dotted", color: "#d4a72c" }, showSymbol: false, data: data.budget.points.map((p) => [p[0], p[1]]) });
  }
  const periods = [...x].sort();
  return { ...base, legend: { top: 0, textStyle: { color: "#e6edf3" }, type: "scroll", data: series.filter((s) => s.name !== "lower").map((s) => s.name) },
    tooltip: { trigger: "axis", formatter: (ps) => ps.filter((p) => p.seriesName !== "lower").map((p) => `${esc(p.seriesName)}: ${fmt(p.value[1])}`).join("<br>") + `<br>${esc(data.unit)}<br>${provShort(data.provenance, t)}` },
    grid: { left: 64, right: 16, top: 40, bottom: 28 },
    xAxis: { type: "category", data: periods }, yAxis: { type: "value", name: data.unit, scale: true }, series };
}

export function distributionOption(data, t) {
  const keys = data.by_type.map((r) => r.key);
  const tip = (p) => `${esc(t(p.name))} · ${esc(p.seriesName)}: ${fmt(p.value)} t CO2<br>${provShort(data.provenance, t)}`;
  return { ...base, legend: { top: 0, textStyle: { color: "#e6edf3" } }, tooltip: { formatter: tip },
    grid: { left: 80, right: 16, top: 36, bottom: 28 },
    xAxis: { type: "category", data: keys.map((k) => t(k)) }, yAxis: { type: "value", name: "t CO2" },
    series: [
      { name: t("scope1"), type: "bar", stack: "co2", data: data.by_type.map((r) => ({ name: r.key, value: r.co2_scope1_t })) },
      { name: t("scope2"), type: "bar", stack: "co2", data: data.by_type.map((r) => ({ name: r.key, value: r.co2_scope2_t })) },
    ] };
}

export function indexOption(meta, data, t, lang, sel) {
  const ranks = [...data.ranks].reverse();
  const lights = Object.fromEntries(data.lights.map((l) => [l.code, l]));
  return { ...base, tooltip: { formatter: (p) => {
      const r = ranks[p.dataIndex]; const l = lights[r.code] || {};
      return `<b>${esc(unitName(meta, r.code, lang))}</b> ${fmt(r.index)}<br>${t("rank")} ${esc(r.rank)} (${t("rank_interval")}: ${esc(r.q05 ?? "—")}–${esc(r.q95 ?? "—")})<br>${t("lights")}: ${l.green ?? 0} ${t("green")} · ${l.yellow ?? 0} ${t("yellow")} · ${l.red ?? 0} ${t("red")}<br>${provShort(data.provenance, t)}`; } },
    grid: { left: 80, right: 70, top: 8, bottom: 20 },
    xAxis: { type: "value", min: 0, max: 100 },
    yAxis: { type: "category", data: ranks.map((r) => unitName(meta, r.code, lang)), axisLabel: { interval: 0, fontSize: 10 } },
    series: [{ type: "bar", data: ranks.map((r) => ({ value: r.index, itemStyle: sel.includes(r.code) ? { color: "#38b48b" } : { color: "#4c78a8" } })),
      label: { show: true, position: "right", color: "#e6edf3", formatter: (p) => { const r = ranks[p.dataIndex]; return r.q05 === null ? `#${r.rank}` : `#${r.rank} [${r.q05}–${r.q95}] ●${(lights[r.code] || {}).red ?? 0}`; } } }] };
}

export function subindexOption(meta, data, t, lang) {
  const s = data.subindex;
  const cells = [];
  s.rows.forEach((row, y) => row.values.forEach((v, x) => cells.push([x, y, v])));
  return { ...base, tooltip: { formatter: (p) => `${esc(unitName(meta, s.rows[p.value[1]].code, lang))} · ${esc((lang === "en" ? s.en : s.zh)[p.value[0]])}: ${fmt(p.value[2])}<br>${provShort(data.provenance, t)}` },
    grid: { left: 80, right: 8, top: 8, bottom: 40 },
    xAxis: { type: "category", data: lang === "en" ? s.codes : s.zh, axisLabel: { fontSize: 10, interval: 0 } },
    yAxis: { type: "category", data: s.rows.map((r) => unitName(meta, r.code, lang)), axisLabel: { fontSize: 9, interval: 0 } },
    visualMap: { show: false, min: 0, max: 100, inRange: { color: ["#d73027", "#fee08b", "#1a9850"] } },
    series: [{ type: "heatmap", data: cells }] };
}

export function assetsOption(meta, data, t, lang) {
  const districts = [...new Set(data.pool.map((r) => r.district))].sort();
  const types = [...new Set(data.pool.map((r) => r.type))].sort();
  const series = types.map((ty) => ({ name: ty, type: "bar", stack: "pool",
    data: districts.map((d) => { const r = data.pool.find((p) => p.district === d && p.type === ty); return r ? r.expected_annual_t : 0; }) }));
  return { ...base, legend: { top: 0, textStyle: { color: "#e6edf3" } },
    tooltip: { trigger: "axis", formatter: (ps) => ps.filter((p) => p.value).map((p) => `${esc(p.seriesName)}: ${fmt(p.value)} t`).join("<br>") + `<br>${provShort(data.provenance, t)}` },
    grid: { left: 70, right: 16, top: 36, bottom: 60 },
    xAxis: { type: "category", data: districts.map((d) => unitName(meta, d, lang)), axisLabel: { rotate: 40, fontSize: 10 } },
    yAxis: { type: "value", name: t("expected_annual_t") }, series };
}

export function jointOption(meta, data, t, lang) {
  const rows = [...data.rows].sort((a, b) => b.co2_t - a.co2_t);
  const bound = Number(data.noise_bound_95.emissions_tco2 ?? 0);
  return { ...base, legend: { top: 0, textStyle: { color: "#e6edf3" } },
    tooltip: { trigger: "axis", formatter: (ps) => {
      const r = rows[ps[0].dataIndex];
      return `<b>${esc(unitName(meta, r.code, lang))}</b><br>${t("co2_t_dp")}: ${fmt(r.co2_t)} ± ${fmt(bound)} (${t("noise")})<br>${t("energy_tce_dp")}: ${fmt(r.energy_tce)}<br>${provShort(data.provenance, t)}`; } },
    grid: { left: 80, right: 16, top: 36, bottom: 60 },
    xAxis: { type: "category", data: rows.map((r) => unitName(meta, r.code, lang)), axisLabel: { rotate: 40, fontSize: 10 } },
    yAxis: { type: "value", name: "t CO2" },
    series: [{ name: t("co2_t_dp"), type: "bar", data: rows.map((r) => r.co2_t) }] };
}
