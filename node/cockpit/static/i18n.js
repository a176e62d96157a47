// The page's words in Chinese (first) and English; numbers and codes are never translated.
export const WORDS = {
  zh: {
    title: "碳链 · 成都绿色低碳决策驾驶舱", indicator: "指标", year: "年份", region: "区域",
    from: "起", to: "止", freq: "频率", year_freq: "年度", month_freq: "月度",
    types: "用能单位类型", fuels: "能源品种 / 范围", logout: "退出",
    overview: "概览", map: "分区地图", series: "时间序列", distribution: "分布（建筑类型 / 部门）",
    index: "绿色低碳发展指数", assets: "碳资产与园区", provenance: "数据来源",
    footer: "仅显示本节点依授权获取的数据及其分析结果；悬停或点击 ⓘ 查看每个数字的来源。演示数据为合成数据（SYNTHETIC）。",
    city: "全市", central: "中心城区", outer: "郊区新城",
    residential: "居住建筑", office: "办公建筑", commercial: "商业建筑", public: "公共建筑", industrial: "工业建筑",
    industry: "工业", electricity: "电力（范围二）", gas: "天然气（范围一）",
    vs_prev: "较上年", vs_base: "较基准年", budget: "碳预算路径", peak: "预测达峰年",
    peak_reached: "已达峰", peak_not: "尚未达峰", forecast: "预测", band: "90% 预测区间",
    rank: "排名", rank_interval: "蒙特卡洛排名 5–95%", lights: "预警灯", green: "绿", yellow: "黄", red: "红",
    source: "来源", grant: "授权", tx: "交易", version: "版本", derived: "分析结果", method: "方法",
    synthetic: "合成数据 SYNTHETIC", factors: "换算系数", selection: "所选合计",
    expected_annual_t: "预计年减排量 (t)", park_type: "园区类型", issued_t: "已签发 (t)", parks: "园区指数", total: "总分",
    csv: "CSV", png: "PNG", info: "ⓘ 来源", loading: "加载中…", error: "出错",
    map_tiles: "示意图（瓦片网格，非实际边界）", map_review: "审图号",
    scope1: "范围一", scope2: "范围二",
    joint: "全口径能耗与排放 2024（多方安全计算 + 差分隐私）", dp: "差分隐私", noise: "噪声界（95%）",
    epsilon: "隐私预算 ε", energy_tce_dp: "能耗 (tce)", co2_t_dp: "碳排放 (t CO2)",
  },
  en: {
    title: "Tanlian · Chengdu green low-carbon decision cockpit", indicator: "Indicator", year: "Year",
    region: "Region", from: "From", to: "To", freq: "Frequency", year_freq: "Yearly", month_freq: "Monthly",
    types: "Energy-using unit type", fuels: "Fuel / scope", logout: "Log out",
    overview: "Overview", map: "District map", series: "Time series",
    distribution: "Distribution (building type / sector)", index: "Green low-carbon index",
    assets: "Carbon assets and parks", provenance: "Provenance",
    footer: "Only data this node pulled under a grant, and what analytics computed from them; hover or click ⓘ for each figure's source. Demo data are SYNTHETIC.",
    city: "City", central: "Central districts", outer: "Outer districts",
    residential: "Residential", office: "Office", commercial: "Commercial", public: "Public", industrial: "Industrial",
    industry: "Industry", electricity: "Electricity (scope 2)", gas: "Natural gas (scope 1)",
    vs_prev: "vs last year", vs_base: "vs base year", budget: "Budget path", peak: "Forecast peak year",
    peak_reached: "peak reached", peak_not: "not yet peaked", forecast: "Forecast", band: "90 % interval",
    rank: "Rank", rank_interval: "Monte Carlo rank 5–95 %", lights: "Warning lights", green: "green",
    yellow: "yellow", red: "red", source: "Source", grant: "grant", tx: "tx", version: "version",
    derived: "derived", method: "method", synthetic: "SYNTHETIC", factors: "Conversion factors",
    selection: "Selection total", expected_annual_t: "Expected annual reduction (t)", park_type: "Park type", issued_t: "Issued (t)",
    parks: "Park index", total: "Total", csv: "CSV", png: "PNG", info: "ⓘ source", loading: "Loading…",
    error: "Error", map_tiles: "Schematic (tile grid, not boundaries)", map_review: "Map review no.",
    scope1: "Scope 1", scope2: "Scope 2",
    joint: "All-sector energy and emissions 2024 (MPC + differential privacy)", dp: "DP",
    noise: "noise bound (95 %)", epsilon: "privacy budget ε", energy_tce_dp: "Energy (tce)",
    co2_t_dp: "Emissions (t CO2)",
  },
};

// Indicator names are not here: the node sends them with the indicators (/api/meta), so
// the page, the report and the API share one list.
export function learnIndicators(indicators) {
  for (const i of indicators) { WORDS.zh[i.code] = i.zh; WORDS.en[i.code] = i.en; }
}

export function translator(lang) {
  const words = WORDS[lang] || WORDS.zh;
  return (key) => words[key] ?? WORDS.zh[key] ?? key;
}
