"""A node database holding the cockpit's files (real SQLite, real files, no chain): the
building-energy table, the statistics panel and the index outputs computed from it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from node.cockpit.holdings import Holdings
from node.db import create_schema, make_engine
from node.pilot import synthetic
from node.pilot.demo import INDEX_FILES, index_story


@pytest.fixture(scope="session")
def cockpit_files(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("cockpit-files")
    pulled = root / "pulled"
    synthetic.stats_panel(pulled / "stats_district_panel_2015_2024.csv")
    synthetic.eco_panel(pulled / "eco_environment_panel_2015_2024.csv")
    synthetic.transport_panel(pulled / "transport_panel_2015_2024.csv")
    synthetic.building_energy(pulled / "building_energy_2015_2024.csv")
    index_story(root, lambda _m: None)
    from analytics.carbon.assets import classify, demo_projects, pool_summary
    from analytics.park.demo_data import demo_parks, demo_reviews
    from analytics.park.evaluation import evaluate

    pool_summary(classify(demo_projects())).to_csv(root / "pool.csv", index=False)
    parks = demo_parks()
    evaluate(parks, demo_reviews(parks)).final.to_csv(root / "parks.csv", index=False)
    return root


@pytest.fixture
def holdings_db(cockpit_files: Path, tmp_path: Path):
    """A fresh database and a private copy of the files (tests may change them)."""
    files = tmp_path / "files"
    shutil.copytree(cockpit_files, files)
    engine = make_engine(f"sqlite:///{tmp_path / 'node.db'}")
    create_schema(engine)
    h = Holdings(engine)
    h.record_derived(
        "building_energy",
        files / "pulled" / "building_energy_2015_2024.csv",
        inputs=[],
        method="test fixture",
        synthetic=True,
    )
    h.record_derived(
        "stats_panel",
        files / "pulled" / "stats_district_panel_2015_2024.csv",
        inputs=[],
        method="test fixture",
        synthetic=True,
    )
    for role, name in INDEX_FILES.items():
        h.record_derived(role, files / "index" / name, inputs=[1, 2], method="index pipeline")
    h.record_derived("carbon_assets", files / "pool.csv", inputs=[], method="demo", synthetic=True)
    h.record_derived("park_results", files / "parks.csv", inputs=[], method="demo", synthetic=True)
    yield engine, files
    engine.dispose()
