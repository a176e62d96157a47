"""A node database holding the cockpit's files (real SQLite, real files, no chain): the
building-energy table, the statistics panel and the index outputs computed from it."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from node.cockpit.holdings import Holdings
from node.db import create_schema, make_engine
from node.pilot.demo import BUILDING_ENERGY_FILE, INDEX_FILES, PANELS, cockpit_sample


@pytest.fixture(scope="session")
def cockpit_files(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("cockpit-files")
    cockpit_sample(root)
    return root


@pytest.fixture
def holdings_db(cockpit_files: Path, tmp_path: Path):
    """A fresh database and a private copy of the files (tests may change them)."""
    files = tmp_path / "files"
    shutil.copytree(cockpit_files, files)
    engine = make_engine(f"sqlite:///{tmp_path / 'node.db'}")
    create_schema(engine)
    h = Holdings(engine)
    pulled = files / "pulled"
    for role, name in (
        ("building_energy", BUILDING_ENERGY_FILE),
        ("stats_panel", PANELS["stats"][0]),
    ):
        h.record_derived(role, pulled / name, inputs=[], method="test fixture", synthetic=True)
    for role, name in INDEX_FILES.items():
        h.record_derived(role, files / "index" / name, inputs=[1, 2], method="index pipeline")
    for role, name in (
        ("carbon_assets", "carbon_assets_pool.csv"),
        ("park_results", "park_results.csv"),
    ):
        h.record_derived(role, files / name, inputs=[], method="demo", synthetic=True)
    yield engine, files
    engine.dispose()


def square_geojson(path: Path) -> Path:
    """A FeatureCollection of squares, one per unit, laid out like the tile grid."""
    import json

    from node.cockpit.data import TILES

    features = []
    for code, (row, col) in TILES.items():
        x, y = 103.5 + col * 0.2, 31.0 - row * 0.2
        ring = [[x, y], [x + 0.19, y], [x + 0.19, y - 0.19], [x, y - 0.19], [x, y]]
        features.append(
            {
                "type": "Feature",
                "properties": {"adcode": code},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        )
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


@pytest.fixture
def served():
    """Serve an app with uvicorn on a free loopback port in a thread; yields a starter."""
    import threading

    import uvicorn

    from node.chain.embedded.host import free_port

    servers = []

    def start(app) -> str:
        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        servers.append((server, thread))
        import time

        import httpx

        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    return f"http://127.0.0.1:{port}"
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("the test server did not start")

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=10)
