"""The secure computation itself, every party a real MPyC process on loopback over pinned
mutual TLS (node.joint.local), held to plaintext results computed here with pandas and numpy:
exact with noise off, within the stated bound with noise on; 3 and 6 owners; a party with an
unannounced certificate and a party that dies make the run fail with nothing opened."""

from __future__ import annotations

import os
import threading
import time
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from node.joint import noise
from node.joint.compute import noise_bounds, noise_share, owner_vector
from node.joint.local import free_ports, run_local
from node.joint.runner import JointRunFailed, party_job, run_party
from node.joint.spec import JointSpecInvalid, parse_spec
from node.joint.tls import make_identity

DISTRICTS = [f"5101{n:02d}" for n in range(5)]
YEARS = ["2023", "2024"]
DOMAIN = [[d, y] for d in DISTRICTS for y in YEARS]


def _frames(owners: int, seed: int = 7) -> list[pd.DataFrame]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(owners):
        rows = [
            {"district": d, "year": y, "v": round(float(rng.uniform(-5, 120)), 3)}
            for d in DISTRICTS
            for y in YEARS
            for _ in range(int(rng.integers(0, 4)))
        ]
        # rows outside the public domain count for nothing
        rows.append({"district": "999999", "year": "2023", "v": 50.0})
        out.append(pd.DataFrame(rows))
    return out


def _spec(op: str, owners: int, *, noise_on: bool = False, **extra) -> object:
    return parse_spec(
        {
            "op": op,
            "key": ["district", "year"],
            "domain": DOMAIN,
            "purpose": "test",
            "noise": noise_on,
            "inputs": [
                {
                    "dataset": "0x" + f"{o + 1:064x}",
                    "version": 1,
                    "owner": "0x" + f"{o + 1:040x}",
                    "grant": o + 1,
                    "column": None if op == "count" else "v",
                    "lo": 0,
                    "hi": 100,
                    "epsilon": "1",
                }
                for o in range(owners)
            ],
            **extra,
        }
    )


def _plain(frames: list[pd.DataFrame]) -> pd.DataFrame:
    rows = pd.concat(frames)
    rows = rows[rows["district"].isin(DISTRICTS)].copy()
    rows["clipped"] = rows["v"].clip(0, 100)
    return rows


@pytest.mark.parametrize("owners", [3, 6])
def test_noiseless_sum_and_count_equal_pandas(owners: int) -> None:
    frames = _frames(owners)
    plain = _plain(frames).groupby(["district", "year"])
    sums = plain["clipped"].sum()
    counts = plain.size()
    result, _ = run_local(_spec("sum", owners), frames)
    for cell in result["cells"]:
        key = tuple(cell["key"])
        assert Decimal(cell["sum"]) == Decimal(str(round(sums.get(key, 0.0), 3))), key
    result, _ = run_local(_spec("count", owners), frames)
    assert [c["count"] for c in result["cells"]] == [int(counts.get(tuple(k), 0)) for k in DOMAIN]


def test_noiseless_mean_and_histogram_equal_pandas() -> None:
    frames = _frames(3, seed=11)
    plain = _plain(frames)
    result, _ = run_local(_spec("mean", 3), frames)
    means = plain.groupby(["district", "year"])["clipped"].mean()
    for cell in result["cells"]:
        key = tuple(cell["key"])
        if key in means:
            assert float(cell["mean"]) == pytest.approx(means[key], abs=1e-3)
        else:
            assert cell["count"] == 0 and cell["mean"] is None
    bins = [-10, 0, 25, 50, 100, 200]
    result, _ = run_local(_spec("histogram", 3, bins=bins), frames)
    expected, _ = np.histogram(plain["v"].to_numpy(), bins=bins)
    assert result["counts"] == expected.tolist()


def _input(o: int, role: str, **fields) -> dict:
    return {
        "dataset": "0x" + f"{o + 1:064x}",
        "version": 1,
        "owner": "0x" + f"{o + 1:040x}",
        "grant": o + 1,
        "epsilon": "1",
        "role": role,
        **fields,
    }


def test_noiseless_ols_equals_numpy_lstsq() -> None:
    """Two regressors from one owner (GDP and population from one panel), a third from
    another, the response summed over two more owners."""
    rng = np.random.default_rng(3)
    keys = [(f"5101{n:02d}", str(y)) for n in range(10) for y in range(2015, 2019)]
    gdp, pop = rng.uniform(100, 900, len(keys)), rng.uniform(10, 90, len(keys))
    share = rng.uniform(0, 1, len(keys))
    e1 = 0.2 * gdp + 1.5 * pop + 40 * share + rng.normal(0, 5, len(keys))
    e2 = 30 + 0.05 * gdp + rng.normal(0, 3, len(keys))

    def frame(**columns):
        return pd.DataFrame(
            {"district": [k[0] for k in keys], "year": [k[1] for k in keys], **columns}
        )

    spec = parse_spec(
        {
            "op": "ols",
            "key": ["district", "year"],
            "domain": [list(k) for k in keys],
            "purpose": "t",
            "noise": False,
            "inputs": [
                _input(
                    0,
                    "x",
                    regressors=[
                        {"terms": {"gdp_100m": 100}, "lo": 0, "hi": 1000, "name": "gdp"},
                        {"terms": {"pop": 1}, "lo": 0, "hi": 100, "name": "population"},
                    ],
                ),
                _input(1, "x", column="share", lo=0, hi=1),
                _input(2, "y", column="e", lo=-100, hi=1000),
                _input(3, "y", column="e", lo=-100, hi=500),
            ],
        }
    )
    frames = [frame(gdp_100m=gdp / 100, pop=pop), frame(share=share), frame(e=e1), frame(e=e2)]
    result, _ = run_local(spec, frames)
    assert list(result["coefficients"]) == ["intercept", "x1:gdp", "x2:population", "x3:share"]
    x = np.column_stack([np.ones(len(keys)), gdp, pop, share])
    want = np.linalg.lstsq(x, e1 + e2, rcond=None)[0]
    assert list(result["coefficients"].values()) == pytest.approx(want.tolist(), rel=1e-6)


def test_terms_and_public_filters_equal_pandas() -> None:
    """Each owner converts its own columns to a common unit (public factors) and keeps the
    rows of a public filter; the sum is over owners of Σ factor × column, clipped per row."""
    frames = _frames(3, seed=13)
    for f in frames:
        f["w"] = f["v"] * 0.5 + 1
    spec = parse_spec(
        {
            "op": "sum",
            "key": ["district"],
            "domain": [[d] for d in DISTRICTS],
            "purpose": "t",
            "noise": False,
            "inputs": [
                _input(
                    o,
                    "value",
                    terms={"v": "0.1229", "w": "2"},
                    lo=0,
                    hi=200,
                    where={"year": ["2024"]},
                )
                for o in range(3)
            ],
        }
    )
    result, _ = run_local(spec, frames)
    rows = pd.concat(frames)
    rows = rows[rows["year"] == "2024"]
    rows = rows.assign(val=(rows["v"] * 0.1229 + rows["w"] * 2).clip(0, 200))
    # each row's value in whole units of the resolution (0.001), then summed: exact
    units = np.rint(rows["val"] / 0.001).astype(int)
    want = units.groupby(rows["district"]).sum()
    for cell in result["cells"]:
        assert Decimal(cell["sum"]) == Decimal(int(want.get(cell["key"][0], 0))) / 1000


def test_noised_sums_lie_within_the_stated_bound() -> None:
    frames = _frames(3, seed=5)
    truth, _ = run_local(_spec("sum", 3), frames)
    spec = _spec("sum", 3, noise_on=True)
    result, _ = run_local(spec, frames)
    bound = Decimal(noise_bounds(spec)["cell"])
    deltas = [
        abs(Decimal(a["sum"]) - Decimal(b["sum"]))
        for a, b in zip(result["cells"], truth["cells"], strict=True)
    ]
    assert max(deltas) <= bound
    assert any(deltas)  # noise was added


def test_noise_shares_add_up_to_discrete_laplace() -> None:
    scale = Fraction(4)
    rng = np.random.default_rng(1)
    total = sum(noise.share(scale, 6, 200_000, rng) for _ in range(6))
    alpha = float(np.exp(-1 / 4))
    # P(X = 0) of DLap(α) is (1 - α)/(1 + α); its variance 2α/(1-α)²
    assert np.mean(total == 0) == pytest.approx((1 - alpha) / (1 + alpha), abs=0.005)
    assert total.var() == pytest.approx(noise.variance(scale), rel=0.03)
    one = noise.share(scale, 6, 200_000, rng)
    assert one.var() < total.var() / 4  # one share alone is far less noise than the sum


def test_a_party_with_an_unannounced_certificate_is_refused() -> None:
    spec = _spec("sum", 2)
    frames = _frames(2)
    run = "0x" + "ab" * 32
    ids = [make_identity(run, p) for p in range(3)]
    intruder = make_identity(run, 2)  # right name, but not the announced certificate
    trusted = [i.cert_pem for i in ids]
    hosts = [("127.0.0.1", p) for p in free_ports(3)]
    jobs = [party_job(spec, run, 0, hosts, ids[0], trusted, connect_timeout=3)]
    for n in range(2):
        identity = intruder if n == 1 else ids[n + 1]
        jobs.append(
            party_job(
                spec,
                run,
                n + 1,
                hosts,
                identity,
                trusted,
                owner_vector(spec, n, frames[n]),
                noise_share(spec),
                connect_timeout=3,
            )
        )
    errors: list[Exception] = []

    def go(job):
        try:
            run_party(job, 6)
        except JointRunFailed as exc:
            errors.append(exc)

    threads = [threading.Thread(target=go, args=(j,)) for j in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(errors) == 3  # nobody completed, party 0 received nothing


def test_a_party_that_dies_fails_the_run_and_opens_nothing() -> None:
    spec = _spec("sum", 3)
    frames = _frames(3)
    run = "0x" + "cd" * 32
    ids = [make_identity(run, p) for p in range(4)]
    trusted = [i.cert_pem for i in ids]
    hosts = [("127.0.0.1", p) for p in free_ports(4)]
    jobs = [party_job(spec, run, 0, hosts, ids[0], trusted, connect_timeout=3)] + [
        party_job(
            spec,
            run,
            n + 1,
            hosts,
            ids[n + 1],
            trusted,
            owner_vector(spec, n, frames[n]),
            noise_share(spec),
            connect_timeout=3,
        )
        for n in range(3)
    ]
    outcome: dict[int, object] = {}

    def go(job):
        try:
            outcome[job["pid"]] = run_party(job, 10)
        except JointRunFailed as exc:
            outcome[job["pid"]] = exc

    threads = [threading.Thread(target=go, args=(j,)) for j in jobs[:3]]
    for t in threads:
        t.start()
    # party 3 is never started (its node died before the run): nobody gets a result
    for t in threads:
        t.join()
    assert all(isinstance(v, JointRunFailed) for v in outcome.values()), outcome
    assert "nothing was opened" in str(outcome[0]) or "failed" in str(outcome[0])
    time.sleep(0.1)
    children = Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").read_text().split()
    assert not [
        c for c in children if b"node.joint.party" in Path(f"/proc/{c}/cmdline").read_bytes()
    ]


@pytest.mark.parametrize(
    "change, words",
    [
        ({"op": "median"}, "op"),
        ({"domain": []}, "domain"),
        ({"bins": [1, 2]}, "bins are for histograms"),
        ({"resolution": "-1"}, "resolution"),
        ({"domain": [["510100"]]}, "2 key values"),
    ],
)
def test_bad_specs_are_refused_in_one_line(change: dict, words: str) -> None:
    body = _spec("sum", 2).model_dump(mode="json")
    body.update(change)
    with pytest.raises(JointSpecInvalid, match=words):
        parse_spec(body)
