"""A deployer's boundary file instead of the tile grid: checked before use, drawn by ECharts,
captioned with its map review number (审图号), and clickable like the tiles."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import sync_playwright

from cli.cockpit import _geojson
from node.cockpit.app import Cockpit, create_app
from node.cockpit.auth import Users
from node.cockpit.report import chromium_path
from node.errors import ConfigError, InvalidInput
from node.settings import load_settings
from tests.cockpit.conftest import square_geojson

REVIEW_NO = "川S【2024】00001号"


def test_a_boundary_file_needs_its_review_number(tmp_path) -> None:
    (tmp_path / "node.toml").write_text('[cockpit]\ngeojson = "units.geojson"\n')
    with pytest.raises(ConfigError, match="map_review_no"):
        load_settings(tmp_path)


@pytest.mark.parametrize(
    "content,match",
    [
        ("not json", "not JSON"),
        ('{"type": "Feature"}', "not a GeoJSON FeatureCollection"),
        ('{"type": "FeatureCollection", "features": []}', "no feature for adcode"),
    ],
)
def test_a_bad_boundary_file_is_refused_at_start(tmp_path, content, match) -> None:
    path = tmp_path / "units.geojson"
    path.write_text(content)
    with pytest.raises(InvalidInput, match=match):
        _geojson(path, tmp_path)


def test_the_map_draws_the_boundaries_and_a_click_selects(holdings_db, served, tmp_path):
    engine, _ = holdings_db
    geo = square_geojson(tmp_path / "units.geojson")
    assert _geojson(geo, tmp_path) == geo
    Users(engine).add("ana", "analyst", "correct horse battery")
    url = served(create_app(Cockpit(engine, geojson=geo, map_review_no=REVIEW_NO)))
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1300, "height": 1600})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url + "/")
        page.fill("#user", "ana")
        page.fill("#password", "correct horse battery")
        page.click("#login")
        page.wait_for_selector("body[data-renders='1']", timeout=30_000)
        assert REVIEW_NO in page.inner_text("#map-caption")
        option = page.evaluate(
            "echarts.getInstanceByDom(document.getElementById('c-map')).getOption().series[0]"
        )
        assert option["type"] == "map" and len(option["data"]) == 20
        # the centre of 锦江区's square, in the chart's pixels (read again before a second
        # try: a busy machine can lay the chart out again after its first render)
        for attempt in (1, 2):
            x, y = page.evaluate(
                "echarts.getInstanceByDom(document.getElementById('c-map'))"
                ".convertToPixel({seriesIndex: 0}, [104.195, 30.505])"
            )
            box = page.query_selector("#c-map").bounding_box()
            page.mouse.click(box["x"] + x, box["y"] + y)
            try:
                page.wait_for_selector("body[data-renders='2']", timeout=15_000)
                break
            except PlaywrightTimeout:
                page.screenshot(path=tmp_path / f"click-{attempt}.png")
                if attempt == 2:
                    raise
        assert "d=510104" in page.url
        served_geo = page.evaluate("fetch('/api/geojson').then(r => r.json())")
        assert served_geo == json.loads(geo.read_text())
        assert errors == []
        browser.close()
