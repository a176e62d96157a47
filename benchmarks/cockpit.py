"""The decision cockpit's speed, each figure next to a baseline measured in the same run.

A temporary node home holds the cockpit's files at the issue's scale: 20 districts x 5
building types x 10 years x 12 months (12,000 rows of building energy), the statistics
panel, the index outputs and the SYNTHETIC asset pool and park index. `tanlian cockpit serve`
runs as its own process on loopback; an official logs in.

* data API  — each panel's endpoint, N requests with rotating filters (districts, building
              types, years); p50 and p99 latency; baseline: /healthz (no data, no session)
              the same N times; target p99 <= 50 ms per panel. The joint DP panel reads a
              table of the demo's shape with values drawn here.
* first render — Debian's chromium (Playwright) loads the page with a session: navigation
              start to every panel drawn (the page's own mark); baseline: the login page's
              load event; target <= 1.5 s.
* filter change — a building-type checkbox toggled: the change event to every panel
              re-drawn; target <= 300 ms.
* bytes     — JavaScript and CSS the page loads: uncompressed, and as sent (gzip);
              target <= 1.5 MB.

Usage: python benchmarks/cockpit.py [--requests 200] [--loads 5] [--changes 10]
"""

from __future__ import annotations

import argparse
import math
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from node.chain.embedded.host import free_port  # noqa: E402
from node.cockpit.auth import Users  # noqa: E402
from node.cockpit.holdings import Holdings  # noqa: E402
from node.cockpit.report import chromium_path  # noqa: E402
from node.db import create_schema, make_engine  # noqa: E402
from node.pilot import synthetic  # noqa: E402
from node.pilot.demo import INDEX_FILES, cockpit_sample  # noqa: E402

PASSWORD = "benchmark password"
VIEWS = ("overview", "map", "series", "distribution", "index", "joint", "assets")


def prepare(home: Path) -> None:
    files = home / "files"
    sample = cockpit_sample(files)
    (home / "node.toml").write_text("")
    engine = make_engine(f"sqlite:///{home / 'node.db'}")
    create_schema(engine)
    h = Holdings(engine)
    for role in ("building_energy", "stats_panel", *INDEX_FILES, "carbon_assets", "park_results"):
        h.record_derived(role, sample[role], inputs=[], method="benchmark", synthetic=True)
    # the joint DP totals' panel: a table of the same shape as the demo's (values drawn here)
    rng = np.random.default_rng(1)
    codes = [c for c, _n, _k in synthetic.units()]
    pd.DataFrame(
        {
            "adcode": codes,
            "energy_tce_dp": rng.uniform(1e5, 1e6, len(codes)).round(3),
            "emissions_tco2_dp": rng.uniform(2e5, 2e6, len(codes)).round(3),
        }
    ).to_csv(files / "joint.csv", index=False)
    h.record_dp_answer(
        "joint_dp",
        files / "joint.csv",
        method="benchmark table",
        epsilon={"emissions_tco2": {"grid": "0.5"}},
        grants=[],
        noise_bound_95={"emissions_tco2": "1000"},
    )
    Users(engine).add("bench", "analyst", PASSWORD)
    engine.dispose()


def login(client: httpx.Client) -> None:
    page = client.get("/login")
    token = page.text.split('name="csrf" value="')[1].split('"')[0]
    r = client.post("/login", data={"user": "bench", "password": PASSWORD, "csrf": token})
    assert r.status_code == 303, r.text


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]  # nearest rank


def api(url: str, n: int) -> None:
    codes = ["510104", "510105,510106", "510112", "510121,510181,510182", ""]
    types = ["", "office", "residential,commercial", "industrial,public", ""]
    with httpx.Client(base_url=url) as c:
        login(c)
        base = []
        for _ in range(n):
            t0 = time.perf_counter()
            c.get("/healthz").raise_for_status()
            base.append((time.perf_counter() - t0) * 1000)
        b99 = pct(base, 0.99)
        print(f"{'endpoint':<22}{'p50 ms':>9}{'p99 ms':>9}{'p99 / baseline':>16}")
        print(f"{'/healthz (baseline)':<22}{pct(base, 0.5):>9.2f}{b99:>9.2f}{1:>16.1f}")
        for view in VIEWS:
            times = []
            for i in range(n):
                q = {
                    "districts": codes[i % 5],
                    "types": types[(i // 5) % 5],
                    "from": str(2015 + i % 5),
                    "to": "2024",
                    "year": str(2020 + i % 5),
                }
                t0 = time.perf_counter()
                c.get(f"/api/{view}", params=q).raise_for_status()
                times.append((time.perf_counter() - t0) * 1000)
            p99 = pct(times, 0.99)
            flag = "ok" if p99 <= 50 else "OVER 50 ms"
            print(
                f"{'/api/' + view:<22}{pct(times, 0.5):>9.2f}{p99:>9.2f}{p99 / b99:>16.1f}  {flag}"
            )


def browser(url: str, loads: int, changes: int) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        ctx = b.new_context(viewport={"width": 1400, "height": 1900})
        page = ctx.new_page()
        baseline = []
        for _ in range(loads):
            page.goto(url + "/login")
            baseline.append(
                page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd")
            )
        page.fill("#user", "bench")
        page.fill("#password", PASSWORD)
        page.click("#login")
        page.wait_for_selector("body[data-renders='1']", timeout=60_000)
        firsts, sizes = [], {}

        def seen(response) -> None:
            if response.request.resource_type in ("script", "stylesheet"):
                raw = len(response.body())
                sent = int(response.headers.get("content-length") or raw)
                sizes[response.url] = (raw, sent)

        page.on("response", seen)
        for _ in range(loads):
            page.goto(url + "/")
            page.wait_for_selector("body[data-renders='1']", timeout=60_000)
            firsts.append(page.evaluate("window.__cockpit.firstRenderAt"))
        med, worst = statistics.median(firsts), max(firsts)
        base = statistics.median(baseline)
        print(
            f"\nfirst complete render ({loads} loads): median {med:.0f} ms, max {worst:.0f} ms "
            f"(baseline login page load {base:.0f} ms; ratio {med / base:.1f})  "
            f"{'ok' if worst <= 1500 else 'OVER 1.5 s'}"
        )
        ms = []
        boxes = ["office", "commercial", "public", "industrial"]
        for i in range(changes):
            before = int(page.get_attribute("body", "data-renders"))
            page.click(f"input[data-filter='types'][value='{boxes[i % 4]}']")
            page.wait_for_selector(f"body[data-renders='{before + 1}']", timeout=60_000)
            ms.append(page.evaluate("window.__cockpit.lastMs"))
        print(
            f"filter change re-rendered ({changes} changes): median {statistics.median(ms):.0f} "
            f"ms, max {max(ms):.0f} ms  {'ok' if max(ms) <= 300 else 'OVER 300 ms'}"
        )
        raw = sum(r for r, _ in sizes.values())
        sent = sum(s for _, s in sizes.values())
        print(
            f"JavaScript and CSS: {raw / 1e6:.3f} MB uncompressed, {sent / 1e6:.3f} MB as sent "
            f"(gzip) in {len(sizes)} files  {'ok' if raw <= 1.5e6 else 'OVER 1.5 MB'}"
        )
        b.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--loads", type=int, default=5)
    ap.add_argument("--changes", type=int, default=10)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        t0 = time.perf_counter()
        prepare(home)
        print(
            f"prepared 12,000 rows of building energy and the index in "
            f"{time.perf_counter() - t0:.1f} s"
        )
        port = free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "cockpit", "serve", "--home", str(home),
             "--port", str(port)],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if httpx.get(url + "/healthz").status_code == 200:
                        break
                except httpx.HTTPError:
                    if time.monotonic() > deadline or proc.poll() is not None:
                        raise SystemExit("the cockpit did not start") from None
                    time.sleep(0.1)
            api(url, args.requests)
            browser(url, args.loads, args.changes)
        finally:
            proc.terminate()
            proc.wait(10)


if __name__ == "__main__":
    main()
