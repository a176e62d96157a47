// The cockpit page: filters kept in the URL, one fetch per panel, ECharts from the node.
import { learnIndicators, translator } from "./i18n.js";
import { assetsOption, distributionOption, fmt, indexOption, jointOption, mapOption, provShort, seriesOption, subindexOption } from "./charts.js";

const role = document.querySelector('meta[name="user"]').dataset.role;
const csrf = document.querySelector('meta[name="csrf-token"]').content;
const charts = {};
const answers = {};
let meta = null;
let geo = false;
let t = translator("zh");
// the page's own state; the URL holds it so that a view can be shared
const state = { lang: "zh", ind: "co2_t", year: null, region: "city", d: [], from: null, to: null, freq: "year", types: [], fuels: [] };
window.__cockpit = { renders: 0, lastMs: null, answers };

function readUrl() {
  const p = new URLSearchParams(location.search);
  for (const k of ["lang", "ind", "region", "freq"]) if (p.get(k)) state[k] = p.get(k);
  for (const k of ["year", "from", "to"]) if (p.get(k)) state[k] = Number(p.get(k));
  for (const k of ["d", "types", "fuels"]) state[k] = p.get(k) ? p.get(k).split(",") : [];
}

function writeUrl() {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(state)) {
    if (Array.isArray(v) ? v.length : v !== null && v !== "") p.set(k, Array.isArray(v) ? v.join(",") : v);
  }
  history.replaceState(null, "", "?" + p.toString());
}

function query(extra = {}) {
  const q = new URLSearchParams();
  if (state.year) q.set("year", state.year);
  if (state.d.length) q.set("districts", state.d.join(","));
  if (state.types.length) q.set("types", state.types.join(","));
  if (state.fuels.length) q.set("fuels", state.fuels.join(","));
  if (state.from) q.set("from", state.from);
  if (state.to) q.set("to", state.to);
  q.set("indicator", state.ind);
  q.set("freq", state.freq);
  for (const [k, v] of Object.entries(extra)) v === null ? q.delete(k) : q.set(k, v);
  return q.toString();
}

async function get(path) {
  const r = await fetch(path, { credentials: "same-origin", headers: { "X-CSRF-Token": csrf } });
  if (r.status === 401) { location.href = "/login?next=" + encodeURIComponent(location.pathname + location.search); throw new Error("login"); }
  const body = await r.json();
  if (!r.ok) throw new Error(`${body.code}: ${body.message}`);
  return body;
}

function chart(id) {
  if (!charts[id]) charts[id] = echarts.init(document.getElementById(id), null, { renderer: "canvas" });
  return charts[id];
}

function el(tag, attrs = {}, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function applyWords() {
  document.documentElement.lang = state.lang === "en" ? "en" : "zh-CN";
  document.querySelectorAll("[data-i18n]").forEach((n) => { n.textContent = t(n.dataset.i18n); });
  document.getElementById("lang").textContent = state.lang === "en" ? "中文" : "English";
  const f = document.getElementById("f-freq");
  f.options[0].textContent = t("year_freq"); f.options[1].textContent = t("month_freq");
}

function buildFilters() {
  const ind = document.getElementById("f-indicator");
  ind.replaceChildren(...meta.indicators.map((i) => { const o = el("option", { value: i.code }, state.lang === "en" ? i.en : i.zh); o.selected = i.code === state.ind; return o; }));
  const [lo, hi] = meta.years;
  if (lo !== null) for (const [id, key, dflt] of [["f-year", "year", hi], ["f-from", "from", lo], ["f-to", "to", hi]]) {
    const s = document.getElementById(id);
    const opts = [];
    for (let y = lo; y <= hi; y++) { const o = el("option", { value: y }, y); o.selected = y === (state[key] || dflt); opts.push(o); }
    s.replaceChildren(...opts);
  }
  const reg = document.getElementById("f-region");
  const regions = [["city", t("city")], ["central", t("central")], ["outer", t("outer")],
    ...meta.districts.map((d) => [d.code, state.lang === "en" ? d.name_en : d.name_zh])];
  reg.replaceChildren(...regions.map(([v, label]) => { const o = el("option", { value: v }, label); o.selected = v === state.region; return o; }));
  document.getElementById("f-freq").value = state.freq;
  for (const [id, list, key] of [["f-types", meta.building_types, "types"], ["f-fuels", meta.fuels, "fuels"]]) {
    const fs = document.getElementById(id);
    fs.querySelectorAll("label").forEach((n) => n.remove());
    for (const v of list) {
      const box = el("input", { type: "checkbox", value: v, "data-filter": key });
      box.checked = state[key].length === 0 || state[key].includes(v);
      const lab = el("label"); lab.append(box, " " + t(v)); fs.append(lab);
    }
  }
}

function regionCodes(region) {
  if (region === "city") return [];
  if (region === "central") return meta.districts.filter((d) => d.central).map((d) => d.code);
  if (region === "outer") return meta.districts.filter((d) => !d.central).map((d) => d.code);
  return [region];
}

function tools(panel, view, chartIds) {
  const box = panel.querySelector(".tools") || panel.appendChild(el("div", { class: "tools" }));
  box.replaceChildren();
  const info = el("button", { type: "button", "data-tool": "info" }, t("info"));
  info.onclick = () => showProvenance(view);
  box.append(info);
  if (role === "analyst") {
    const csv = el("button", { type: "button", "data-tool": "csv" }, t("csv"));
    csv.onclick = () => { location.href = `/api/export.csv?view=${view}&${query()}`; };
    box.append(csv);
  }
  for (const id of chartIds) {
    const png = el("button", { type: "button", "data-tool": "png" }, t("png"));
    png.onclick = () => {
      const a = el("a", { href: chart(id).getDataURL({ type: "png", pixelRatio: 2, backgroundColor: "#17222e" }), download: `cockpit-${id}.png` });
      document.body.append(a); a.click(); a.remove();
    };
    box.append(png);
  }
}

function showProvenance(view) {
  const prov = answers[view]?.provenance;
  const body = document.getElementById("prov-body");
  body.replaceChildren();
  body.append(el("h3", {}, t(view)));
  for (const s of prov?.sources || []) {
    const div = el("div", { class: "src", "data-grant": s.grant ?? "", "data-grant-tx": s.grant_tx ?? "" });
    if (s.kind === "pulled") {
      div.append(el("b", {}, `${s.owner}/${s.dataset} v${s.version}`), el("br"),
        `${t("grant")} #${s.grant} · ${t("tx")} `, el("code", { class: "tx" }, s.grant_tx), el("br"),
        `block ${s.grant_block} · sha256 ${s.sha256.slice(0, 18)}…`);
    } else {
      div.append(el("b", {}, `${t("derived")}: ${s.role}`), el("br"), `${t("method")}: ${s.method}`,
        el("br"), `inputs: ${(s.inputs || []).join(", ") || "—"}`);
    }
    if (s.synthetic) div.append(el("br"), el("span", { class: "synthetic" }, t("synthetic")));
    body.append(div);
  }
  for (const s of (prov?.sources || []).filter((x) => x.kind === "dp_answer")) {
    body.append(el("pre", { class: "dp" }, JSON.stringify({ epsilon: s.epsilon, noise_bound_95: s.noise_bound_95, queries: s.queries, grants: s.grants, result_sha256: s.result_sha256 }, null, 1)));
  }
  if (prov?.factors) body.append(el("h4", {}, t("factors")), el("pre", {}, JSON.stringify(prov.factors, null, 1)));
  if (prov?.budget_assumption) body.append(el("pre", {}, "budget: " + JSON.stringify(prov.budget_assumption)));
  document.getElementById("provenance").hidden = false;
}

function selectionName() {
  if (state.region === "city" && !state.d.length) return t("city");
  if (["central", "outer"].includes(state.region)) return t(state.region);
  return state.d.map((c) => { const u = meta.districts.find((d) => d.code === c); return state.lang === "en" ? u.name_en : u.name_zh; }).join(", ");
}

function renderOverview(o) {
  const box = document.getElementById("kpis");
  box.replaceChildren();
  document.getElementById("scope").textContent = "· " + selectionName();
  const units = Object.fromEntries(meta.indicators.map((i) => [i.code, i.unit]));
  for (const [code, k] of Object.entries(o.kpis)) {
    const card = el("div", { class: "kpi", "data-kpi": code, "data-value": k.value ?? "" });
    card.title = provShort(o.provenance, t).replaceAll("<br>", "\n");
    const dp = k.change_vs_previous_pct, db = k.change_vs_base_pct;
    card.append(el("div", { class: "label" }, `${t(code)} (${units[code]}) · ${o.year}`), el("div", { class: "value" }, fmt(k.value)),
      el("div", { class: "delta" }, `${t("vs_prev")} ${dp === null ? "—" : (dp > 0 ? "+" : "") + fmt(dp, 3) + "%"} · ${t("vs_base")} ${o.base_year} ${db === null ? "—" : (db > 0 ? "+" : "") + fmt(db, 3) + "%"}`));
    box.append(card);
  }
  if (o.budget) {
    const card = el("div", { class: "kpi", "data-kpi": "budget", "data-status": o.budget.status });
    card.append(el("div", { class: "label" }, t("budget")), el("div", { class: "value" }),
      el("div", { class: "delta" }, `cum. actual / budget = ${fmt(o.budget.ratio, 3)}`));
    card.querySelector(".value").append(el("span", { class: `light ${o.budget.status}` }), t(o.budget.status));
    box.append(card);
  }
  const peak = el("div", { class: "kpi", "data-kpi": "peak", "data-value": o.peak.year ?? "" });
  peak.append(el("div", { class: "label" }, t("peak")), el("div", { class: "value" }, o.peak.year === null ? "—" : String(o.peak.year)),
    el("div", { class: "delta" }, o.peak.year === null ? o.peak.error : `${o.peak.reached ? t("peak_reached") : t("peak_not")} · ${o.peak.method}`));
  box.append(peak);
}

function renderTable(id, rows, cols) {
  const table = document.getElementById(id);
  table.replaceChildren();
  const head = el("tr");
  cols.forEach(([, label]) => head.append(el("th", {}, label)));
  table.append(head);
  for (const r of rows) {
    const tr = el("tr", { "data-key": r.key ?? r.park_id });
    cols.forEach(([k], i) => {
      const v = r[k];
      const td = el("td", typeof v === "number" ? { "data-col": k, "data-value": v } : { "data-col": k },
        i === 0 && typeof v === "string" ? t(v) : typeof v === "number" ? fmt(v) : v ?? "—");
      tr.append(td);
    });
    table.append(tr);
  }
}

// the filters each view's answer depends on: a change elsewhere does not fetch it again
const DEPENDS = {
  overview: ["year", "districts", "types", "fuels"], map: ["year", "indicator", "types", "fuels"],
  series: ["districts", "types", "fuels", "from", "to", "indicator", "freq"],
  distribution: ["districts", "types", "fuels", "from", "to"], index: ["year"], joint: [], assets: [],
};
const asked = {};
let drawnLang = null;

function viewQuery(view) {
  const all = new URLSearchParams(query());
  const q = new URLSearchParams();
  for (const k of DEPENDS[view]) if (all.has(k)) q.set(k, all.get(k));
  if (view === "series" && !q.has("indicator")) q.set("indicator", state.ind);
  return q.toString();
}

async function refresh() {
  const started = performance.now();
  writeUrl();
  document.getElementById("status").textContent = t("loading");
  const views = meta.views;
  const redraw = drawnLang !== state.lang;
  const fresh = views.filter((v) => redraw || asked[v] !== viewQuery(v) || !answers[v]);
  const results = await Promise.allSettled(fresh.map((v) => get(`/api/${v}?${viewQuery(v)}`)));
  const errors = [];
  const ok = {};
  results.forEach((r, i) => {
    const v = fresh[i];
    ok[v] = r.status === "fulfilled";
    if (ok[v]) { answers[v] = r.value; asked[v] = viewQuery(v); } else errors.push(`${t(v)}: ${r.reason.message}`);
  });
  // a view whose answer is unchanged keeps its chart, except the map and index: they
  // outline the selected district
  for (const v of ["map", "index"]) if (views.includes(v) && !fresh.includes(v) && answers[v]) ok[v] = true;
  drawnLang = state.lang;
  if (ok.overview) renderOverview(answers.overview);
  if (ok.map) {
    chart("c-map").setOption(mapOption(meta, answers.map, state.d, t, state.lang, geo), true);
    document.getElementById("map-caption").textContent = geo ? `${t("map_review")}: ${meta.map.review_no}` : t("map_tiles");
  }
  if (ok.series) chart("c-series").setOption(seriesOption(meta, answers.series, t, state.lang), true);
  if (ok.distribution) {
    chart("c-distribution").setOption(distributionOption(answers.distribution, t), true);
    renderTable("t-distribution", answers.distribution.by_type, [["key", t("types")], ["co2_t", "t CO2"], ["energy_tce", "tce"],
      ["electricity_mwh", "MWh"], ["gas_10k_m3", "10^4 m³"], ["kwh_per_m2", "kWh/m²"], ["co2_kg_per_m2", "kg CO2/m²"]]);
  }
  if (ok.index) {
    chart("c-index").setOption(indexOption(meta, answers.index, t, state.lang, state.d), true);
    chart("c-subindex").setOption(subindexOption(meta, answers.index, t, state.lang), true);
  }
  if (ok.joint) {
    chart("c-joint").setOption(jointOption(meta, answers.joint, t, state.lang), true);
    const eps = Object.entries(answers.joint.epsilon).map(([what, per]) => `${what}: ${Object.entries(per).map(([o, e]) => `${o} ${e}`).join(", ")}`).join("; ");
    document.getElementById("joint-caption").textContent = `${t("epsilon")} — ${eps} · ${t("noise")} ±${fmt(Number(answers.joint.noise_bound_95.emissions_tco2))} t CO2`;
  }
  if (ok.assets) {
    chart("c-assets").setOption(assetsOption(meta, answers.assets, t, state.lang), true);
    renderTable("t-parks", answers.assets.parks, [["name", t("parks")], ["type", t("park_type")], ["total", t("total")], ["rank", t("rank")]]);
  }
  for (const [panel, view, ids] of [["p-overview", "overview", []], ["p-map", "map", ["c-map"]], ["p-series", "series", ["c-series"]],
    ["p-distribution", "distribution", ["c-distribution"]], ["p-index", "index", ["c-index", "c-subindex"]], ["p-joint", "joint", ["c-joint"]],
    ["p-assets", "assets", ["c-assets"]]]) {
    if (views.includes(view)) tools(document.getElementById(panel), view, ids);
  }
  document.getElementById("status").textContent = errors.length ? `${t("error")}: ${errors.join("; ")}` : "";
  window.__cockpit.renders += 1;
  window.__cockpit.lastMs = performance.now() - started;
  // since navigation start: the first complete render, for benchmarks/cockpit.py
  if (window.__cockpit.renders === 1) window.__cockpit.firstRenderAt = performance.now();
  document.body.dataset.renders = String(window.__cockpit.renders);
}

function wire() {
  const on = (id, fn) => document.getElementById(id).addEventListener("change", (e) => { fn(e.target.value); refresh(); });
  on("f-indicator", (v) => { state.ind = v; if (!meta.indicators.find((i) => i.code === v).monthly) state.freq = "year"; document.getElementById("f-freq").value = state.freq; });
  on("f-year", (v) => { state.year = Number(v); });
  on("f-from", (v) => { state.from = Number(v); });
  on("f-to", (v) => { state.to = Number(v); });
  on("f-freq", (v) => { state.freq = v; });
  on("f-region", (v) => { state.region = v; state.d = regionCodes(v); });
  document.querySelector(".filters").addEventListener("change", (e) => {
    const key = e.target.dataset.filter;
    if (!key) return;
    const all = [...document.querySelectorAll(`input[data-filter="${key}"]`)];
    const on = all.filter((b) => b.checked).map((b) => b.value);
    state[key] = on.length === all.length ? [] : on;
    if (on.length === 0) { e.target.checked = true; return; }
    refresh();
  });
  document.getElementById("lang").onclick = () => { state.lang = state.lang === "en" ? "zh" : "en"; t = translator(state.lang); applyWords(); buildFilters(); refresh(); };
  document.getElementById("prov-close").onclick = () => { document.getElementById("provenance").hidden = true; };
  chart("c-map").on("click", (p) => {
    const code = p.name;
    state.d = p.event?.event?.shiftKey ? [...new Set([...state.d, code])] : [code];
    state.region = state.d.length === 1 ? code : "city";
    document.getElementById("f-region").value = state.region;
    refresh();
  });
  window.addEventListener("resize", () => Object.values(charts).forEach((c) => c.resize()));
}

async function main() {
  readUrl();
  t = translator(state.lang);
  meta = await get("/api/meta");
  learnIndicators(meta.indicators);
  if (meta.map.mode === "geojson") {
    echarts.registerMap("chengdu", await get("/api/geojson"));
    geo = true;
  }
  if (state.region !== "city" && !state.d.length) state.d = regionCodes(state.region);
  // a panel whose files this node does not hold is not shown at all
  for (const view of ["overview", "map", "series", "distribution", "index", "joint", "assets"]) {
    document.getElementById(`p-${view}`).hidden = !meta.views.includes(view);
  }
  applyWords();
  buildFilters();
  wire();
  await refresh();
}

main().catch((e) => { document.getElementById("status").textContent = String(e.message || e); });
