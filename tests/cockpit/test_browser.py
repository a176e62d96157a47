"""The cockpit `make demo` leaves running, in Debian's chromium driven by Playwright: the
analyst's node serves it from data pulled under grants on the real pilot network.

The numbers the page shows are read back from the DOM and from the charts' own options and
held against pandas on the file the analyst pulled. Screenshots of every view go to
out/screenshots/cockpit/.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pandas as pd
import pytest
from playwright.sync_api import Page, sync_playwright
from sqlalchemy.orm import Session

from node.audit.models import AccessLogEntry
from node.cockpit.report import chromium_path
from node.db import make_engine
from node.settings import load_settings
from tests.conftest import ROOT, PilotDemo

pytestmark = [pytest.mark.xdist_group("pilot_demo"), pytest.mark.slow]
SHOTS = ROOT / "out" / "screenshots" / "cockpit"
KWH, M3 = 0.1404 / 1000, 2.16219 / 1000  # t CO2 per kWh and per m³ (analytics.buildings)


def truth(demo: PilotDemo) -> pd.DataFrame:
    """The pulled file, with CO2 computed here from its own columns."""
    pulled = demo.summary_step("building_energy_pulled")["building_energy"]
    f = pd.read_csv(pulled, dtype={"adcode": str})
    f["year"] = f["month"].str[:4].astype(int)
    f["co2"] = f["electricity_kwh"] * KWH + f["gas_m3"] * M3
    return f


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        yield b
        b.close()


def _login(page: Page, demo: PilotDemo) -> None:
    page.goto(demo.cockpit_url + "/")
    assert "/login" in page.url
    page.fill("#user", "demo-viewer")
    page.fill("#password", demo.viewer_password)
    page.click("#login")
    page.wait_for_selector("body[data-renders='1']", timeout=30_000)


def _renders(page: Page) -> int:
    return int(page.get_attribute("body", "data-renders") or 0)


def _after(page: Page, action) -> None:
    """Do ``action`` and wait for the page's next complete render."""
    before = _renders(page)
    action()
    # a selector, not wait_for_function: the page's CSP forbids the eval that one needs
    page.wait_for_selector(f"body[data-renders='{before + 1}']", timeout=30_000)


def _chart_series(page: Page, chart: str, index: int) -> list:
    return page.evaluate(
        f"echarts.getInstanceByDom(document.getElementById('{chart}')).getOption()"
        f".series[{index}].data"
    )


def _table(page: Page, col: str) -> dict[str, float]:
    cells = page.query_selector_all(f"#t-distribution tr[data-key] td[data-col='{col}']")
    keys = [c.evaluate("td => td.parentElement.dataset.key") for c in cells]
    return {k: float(c.get_attribute("data-value")) for k, c in zip(keys, cells, strict=True)}


def test_login_logout_and_csrf_on_the_served_cockpit(pilot_demo: PilotDemo) -> None:
    url = pilot_demo.cockpit_url
    with httpx.Client(base_url=url, follow_redirects=False) as c:
        assert c.get("/api/overview").json()["code"] == "login_required"
        assert c.get("/").headers["location"].startswith("/login")
        token = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text).group(1)
        wrong = c.post("/login", data={"user": "demo-viewer", "password": "x" * 12, "csrf": token})
        assert wrong.status_code == 401 and "wrong user name or password" in wrong.text
        forged = c.post(
            "/login",
            data={"user": "demo-viewer", "password": pilot_demo.viewer_password, "csrf": "f"},
        )
        assert forged.status_code == 403
        token = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text).group(1)
        ok = c.post(
            "/login",
            data={"user": "demo-viewer", "password": pilot_demo.viewer_password, "csrf": token},
        )
        assert ok.status_code == 303 and "HttpOnly" in ok.headers["set-cookie"]
        assert c.get("/api/me").json() == {"user": "demo-viewer", "role": "viewer"}
        csrf = re.search(r'name="csrf-token" content="([^"]+)"', c.get("/").text).group(1)
        assert c.post("/logout", headers={"x-csrf-token": "wrong"}).status_code == 403
        assert c.post("/logout", headers={"x-csrf-token": csrf}).status_code == 303
        assert c.get("/api/me").status_code == 401


def test_the_page_in_a_real_browser(pilot_demo: PilotDemo, browser) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    t = truth(pilot_demo)
    grant = pilot_demo.summary_step("building_energy_pulled")
    page = browser.new_page(viewport={"width": 1400, "height": 1900}, accept_downloads=True)
    errors: list[str] = []
    hosts: set[str] = set()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: hosts.add(r.url.split("/")[2]))
    _login(page, pilot_demo)
    page.screenshot(path=SHOTS / "01-overview-zh.png", full_page=True)

    # the city's KPI equals pandas on the pulled file
    kpi = float(page.get_attribute("[data-kpi='co2_t']", "data-value"))
    assert kpi == pytest.approx(t.loc[t["year"] == 2024, "co2"].sum(), rel=1e-5)
    assert page.get_attribute("[data-kpi='budget']", "data-status") in ("green", "yellow", "red")

    # a click on 锦江区 in the tile map: the series and distribution panels follow
    box = page.query_selector("#c-map").bounding_box()
    x, y = page.evaluate(
        "echarts.getInstanceByDom(document.getElementById('c-map'))"
        ".convertToPixel({seriesIndex: 0}, [3, 2])"
    )
    _after(page, lambda: page.mouse.click(box["x"] + x, box["y"] + y))
    assert "d=510104" in page.url
    jinjiang = t[t["adcode"] == "510104"]
    series = dict(_chart_series(page, "c-series", 0))
    expected = jinjiang.groupby("year")["co2"].sum()
    assert {int(k): v for k, v in series.items()} == pytest.approx(expected.to_dict(), rel=1e-5)
    table = _table(page, "co2_t")
    assert table == pytest.approx(
        jinjiang.groupby("building_type")["co2"].sum().to_dict(), rel=1e-5
    )
    page.query_selector("#p-map").screenshot(path=SHOTS / "02-map-jinjiang-selected.png")
    page.query_selector("#p-series").screenshot(path=SHOTS / "03-series-jinjiang.png")

    # the building-type filter: only office and commercial; then the years 2020-2022
    for btype in ("residential", "public", "industrial"):
        _after(page, lambda b=btype: page.uncheck(f"input[data-filter='types'][value='{b}']"))
    assert "types=office%2Ccommercial" in page.url or "types=office,commercial" in page.url
    table = _table(page, "co2_t")
    two = jinjiang[jinjiang["building_type"].isin(["office", "commercial"])]
    assert table == pytest.approx(two.groupby("building_type")["co2"].sum().to_dict(), rel=1e-5)
    _after(page, lambda: page.select_option("#f-from", "2020"))
    _after(page, lambda: page.select_option("#f-to", "2022"))
    span = two[two["year"].between(2020, 2022)]
    assert _table(page, "co2_t") == pytest.approx(
        span.groupby("building_type")["co2"].sum().to_dict(), rel=1e-5
    )
    years = dict(_chart_series(page, "c-series", 0))
    assert sorted(int(k) for k in years) == [2020, 2021, 2022]
    page.query_selector("#p-distribution").screenshot(path=SHOTS / "04-distribution-filtered.png")

    # provenance: the distribution's details panel names the grant and its transaction
    page.click("#p-distribution [data-tool='info']")
    src = page.query_selector("#prov-body .src[data-grant-tx]")
    assert src.get_attribute("data-grant-tx") == grant["grant_tx"]
    assert src.get_attribute("data-grant") == str(grant["request"])
    assert "SYNTHETIC" in page.inner_text("#prov-body")
    page.screenshot(path=SHOTS / "05-provenance.png")
    page.click("#prov-close")

    # the joint DP totals: the numbers the analyst received, their ε and the DP grants
    joint = pd.read_csv(
        pilot_demo.root / "demo" / "joint" / "district_energy_emissions_2024.csv",
        dtype={"adcode": str},
    )
    shown = _chart_series(page, "c-joint", 0)
    assert sorted(shown, reverse=True) == pytest.approx(
        sorted(joint["emissions_tco2_dp"].astype(float), reverse=True), rel=1e-5
    )
    caption = page.inner_text("#joint-caption")
    assert "emissions_tco2: grid 0.5, gas 2, transport 2" in caption
    page.query_selector("#p-joint").screenshot(path=SHOTS / "05b-joint-dp.png")
    page.click("#p-joint [data-tool='info']")
    dp = page.inner_text("#prov-body pre.dp")
    assert '"grants"' in dp and '"noise_bound_95"' in dp
    page.click("#prov-close")

    # a chart as PNG
    with page.expect_download() as dl:
        page.click("#p-map [data-tool='png']")
    assert Path(dl.value.path()).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # the language toggle, kept in the URL with the rest of the view
    _after(page, lambda: page.click("#lang"))
    assert "lang=en" in page.url
    assert page.inner_text("header h1").startswith("Tanlian")
    assert page.inner_text("#p-index h2") == "Green low-carbon index"
    page.query_selector("#p-index").screenshot(path=SHOTS / "06-index-en.png")
    page.query_selector("#p-assets").screenshot(path=SHOTS / "07-assets-parks-en.png")
    shared = page.url

    # the shared URL opens the same view in a new tab
    other = browser.new_page(viewport={"width": 1400, "height": 1900})
    _login(other, pilot_demo)
    other.goto(shared)  # a new document: its render count starts again
    other.wait_for_selector("body[data-renders='1']", timeout=30_000)
    assert _table(other, "co2_t") == _table(page, "co2_t")
    assert other.inner_text("header h1").startswith("Tanlian")
    other.close()
    page.screenshot(path=SHOTS / "08-filtered-en.png", full_page=True)

    assert errors == []
    assert hosts == {pilot_demo.cockpit_url.split("/")[2]}  # nothing left the machine
    page.close()

    # every view was written to the analyst's access log, naming the building grant
    engine = make_engine(load_settings(pilot_demo.analyst_home).db_url)
    with Session(engine) as s:
        views = [
            e
            for e in s.query(AccessLogEntry).filter(AccessLogEntry.kind == "cockpit_view")
            if e.request_id == grant["request"]
        ]
    assert len(views) >= 8
    joint_grants = {
        g
        for q in json.loads((pilot_demo.root / "demo" / "joint" / "queries.json").read_text())
        if q["what"] in ("energy_tce", "emissions_tco2")  # the sums the cockpit shows
        for g in q.get("grants", {}).values()
    }
    with Session(engine) as s:
        logged = {
            e.request_id
            for e in s.query(AccessLogEntry).filter(AccessLogEntry.kind == "cockpit_view")
        }
    engine.dispose()
    assert joint_grants and joint_grants <= logged  # DP answers viewed: their grants logged
    assert {v.detail["user"] for v in views} == {"demo-viewer"}
    assert {"distribution", "series", "map", "overview"} <= {v.detail["view"] for v in views}


def test_annual_and_five_year_report_html_and_pdf(pilot_demo: PilotDemo, browser, tmp_path):
    out, pdf = tmp_path / "report.html", tmp_path / "report.pdf"
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "cockpit", "report", "--home",
         str(pilot_demo.analyst_home), "--year", "2024", "--period", "2021-2025",
         "-o", str(out), "--pdf", str(pdf)],
        capture_output=True, text=True, cwd=ROOT, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    html = out.read_text(encoding="utf-8")
    grant = pilot_demo.summary_step("building_energy_pulled")
    assert grant["grant_tx"] in html
    assert "尚无数据的年份: 2025" in html  # the period runs past the data; said, not hidden
    t = truth(pilot_demo)
    total = t.loc[t["year"] == 2024, "co2"].sum()
    shown = re.search(r"data-kpi='co2_t'>([\d,]+)<", html).group(1)
    assert float(shown.replace(",", "")) == pytest.approx(total, rel=1e-5)
    assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 50_000
    # the HTML renders its charts offline (file://, no request anywhere)
    page = browser.new_page(viewport={"width": 1100, "height": 1400})
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(out.as_uri())
    page.wait_for_selector("body[data-rendered='yes']")
    assert all(u.startswith("file://") or u.startswith("data:") for u in requests), requests
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / "09-report-2024.png", full_page=False)
    page.close()
    bad = subprocess.run(
        [sys.executable, "-m", "cli.main", "cockpit", "report", "--home",
         str(pilot_demo.analyst_home), "--year", "2024", "--period", "2025-2021", "-o", str(out)],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip
    assert bad.returncode == 1
    assert bad.stderr.strip().splitlines() == [
        "tanlian: error [invalid_filter]: --period '2025-2021': FIRST must come before LAST, "
        "at most 20 years"
    ]


def test_cockpit_views_are_anchored_and_the_audit_stays_clean(
    pilot_demo: PilotDemo, tmp_path: Path
) -> None:
    """The cockpit writes into the analyst node's log; the node anchors those entries like
    its own, and the regulator's verify over the whole network finds nothing wrong."""
    from node.network.config import load_network_config
    from node.network.orchestrator import LocalNetwork
    from node.pilot.demo import audit_story

    with httpx.Client(base_url=pilot_demo.cockpit_url) as c:
        token = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text).group(1)
        c.post(
            "/login",
            data={"user": "demo-viewer", "password": pilot_demo.viewer_password, "csrf": token},
        )
        assert c.get("/api/series?districts=510104,510105").status_code == 200
    network = LocalNetwork(
        load_network_config(pilot_demo.config), pilot_demo.root / "demo" / "network"
    )
    said: list[str] = []
    result = audit_story(network, tmp_path, said.append)  # raises unless clean
    assert result["clean"]
    engine = make_engine(load_settings(pilot_demo.analyst_home).db_url)
    with Session(engine) as s:
        views = list(s.query(AccessLogEntry).filter(AccessLogEntry.kind == "cockpit_view"))
    engine.dispose()
    assert views and all(v.batch is not None for v in views)
