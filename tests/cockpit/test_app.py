"""The cockpit's web app in process, on a real database with real Argon2id hashes: who gets
in, what is refused and how, what is logged, and a changed file."""

from __future__ import annotations

import io
import re
import time

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from node.audit.models import AccessLogEntry
from node.cockpit.app import COOKIE, Cockpit, create_app
from node.cockpit.auth import Users
from node.cockpit.errors import InvalidUser, UserExists
from node.pilot.demo import BUILDING_ENERGY_FILE

PASSWORD = "correct horse battery"


def app_for(engine, **options) -> TestClient:
    Users(engine).add("ana", "analyst", PASSWORD) if not Users(engine).names() else None
    if "viewer" not in dict(Users(engine).names()):
        Users(engine).add("viewer", "viewer", PASSWORD)
    return TestClient(create_app(Cockpit(engine, **options)), follow_redirects=False)


def login(client: TestClient, user: str = "ana", password: str = PASSWORD, **extra):
    page = client.get("/login")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    return client.post("/login", data={"user": user, "password": password, "csrf": token, **extra})


def csrf_of(client: TestClient) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', client.get("/").text).group(1)


def test_login_sets_an_httponly_strict_cookie_and_opens_the_api(holdings_db) -> None:
    engine, _ = holdings_db
    client = app_for(engine)
    assert client.get("/api/overview").json()["code"] == "login_required"
    first = client.get("/?ind=co2_t")
    assert first.status_code == 303 and first.headers["location"] == "/login?next=/%3Find%3Dco2_t"
    r = login(client, next="/?ind=co2_t")
    assert r.status_code == 303 and r.headers["location"] == "/?ind=co2_t"
    cookie = r.headers["set-cookie"]
    assert f"{COOKIE}=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert client.get("/api/overview").json()["year"] == 2024
    page = client.get("/")
    assert (
        "Content-Security-Policy" in page.headers
        and "script-src 'self'" in page.headers["content-security-policy"]
    )


@pytest.mark.parametrize("user,password", [("ana", "wrong password!"), ("nobody", PASSWORD)])
def test_a_wrong_password_or_unknown_user_gets_the_same_refusal(holdings_db, user, password):
    engine, _ = holdings_db
    client = app_for(engine)
    r = login(client, user, password)
    assert r.status_code == 401 and "wrong user name or password" in r.text
    assert COOKIE not in r.headers.get("set-cookie", "")
    assert client.get("/api/meta").status_code == 401


def test_login_without_its_csrf_token_is_refused(holdings_db) -> None:
    engine, _ = holdings_db
    client = app_for(engine)
    client.get("/login")
    r = client.post("/login", data={"user": "ana", "password": PASSWORD, "csrf": "forged"})
    assert r.status_code == 403 and "CSRF" in r.text
    assert client.get("/api/meta").status_code == 401


def test_logout_needs_the_session_csrf_token_and_ends_the_session(holdings_db) -> None:
    engine, _ = holdings_db
    client = app_for(engine)
    login(client)
    refused = client.post("/logout", data={"csrf": "not-the-token"})
    assert refused.status_code == 403 and refused.json()["code"] == "csrf_refused"
    assert client.get("/api/me").status_code == 200
    stolen = client.cookies.get(COOKIE)
    assert client.post("/logout", data={"csrf": csrf_of(client)}).status_code == 303
    # the old cookie, replayed, opens nothing: the session is gone from the database
    client.cookies.set(COOKIE, stolen)
    assert client.get("/api/me").json()["code"] == "login_required"


def test_failed_logins_are_limited_even_for_the_right_password(holdings_db) -> None:
    engine, _ = holdings_db
    client = app_for(engine, login_limit=3, login_window=60)
    for _ in range(3):
        assert login(client, password="wrong password!").status_code == 401
    r = login(client)
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    assert "too many failed logins" in r.text


def test_a_session_expires_when_idle(holdings_db) -> None:
    engine, _ = holdings_db
    client = app_for(engine, idle_seconds=0.5)
    login(client)
    assert client.get("/api/me").status_code == 200
    time.sleep(0.7)
    r = client.get("/api/me")
    assert r.status_code == 401 and "expired" in r.json()["message"]


def test_an_oversized_login_form_is_refused_before_it_is_parsed(holdings_db) -> None:
    engine, _ = holdings_db
    client = app_for(engine)
    r = client.post(
        "/login",
        content=b"user=" + b"a" * 5000,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 413 and r.json()["code"] == "body_too_large"


def test_next_never_leaves_the_site(holdings_db) -> None:
    engine, _ = holdings_db
    client = app_for(engine)
    r = login(client, next="//evil.example/steal")
    assert r.headers["location"] == "/"


@pytest.mark.parametrize(
    "query,code",
    [
        ("indicator=nonsense", "invalid_filter"),
        ("districts=510104,999999", "invalid_filter"),
        ("types=barn", "invalid_filter"),
        ("indicator=carbon_intensity&freq=month", "invalid_filter"),
        ("from=2024&to=2020", "invalid_filter"),
        ("year=20x4", "invalid_filter"),
        ("year=2031", "invalid_filter"),
    ],
)
def test_bad_filters_get_a_stable_code(holdings_db, query, code) -> None:
    engine, _ = holdings_db
    client = app_for(engine)
    login(client)
    views = ["overview", "series", "map"] if "year=" in query else ["series"]
    for view in views:
        r = client.get(f"/api/{view}?{query}")
        if view != "series" or "year=" not in query:
            assert r.status_code == 400, (view, r.text)
            assert r.json()["code"] == code


def test_static_files_only_from_the_static_folder(holdings_db) -> None:
    engine, _ = holdings_db
    client = app_for(engine)
    assert client.get("/static/app.js").status_code == 200
    assert client.get("/static/vendor/echarts.min.js").status_code == 200
    for path in ("/static/../app.py", "/static/%2e%2e/app.py", "/static/index.html"):
        assert client.get(path).status_code == 404


def test_csv_export_is_for_analysts_and_equals_the_view(holdings_db) -> None:
    engine, _ = holdings_db
    viewer = app_for(engine)
    login(viewer, "viewer")
    assert viewer.get("/api/export.csv?view=map").json()["code"] == "role_forbidden"
    ana = app_for(engine)
    login(ana)
    r = ana.get("/api/export.csv?view=map&year=2023&indicator=kwh_per_m2")
    assert r.headers["content-type"].startswith("text/csv")
    table = pd.read_csv(io.StringIO(r.text.lstrip("\ufeff")), dtype={"adcode": str})
    shown = {
        v["code"]: v["value"]
        for v in ana.get("/api/map?year=2023&indicator=kwh_per_m2").json()["values"]
    }
    assert dict(zip(table["adcode"], table["kwh_per_m2"], strict=True)) == shown
    assert ana.get("/api/export.csv?view=secrets").json()["code"] == "invalid_filter"


def test_every_view_is_written_to_the_access_log(holdings_db) -> None:
    engine, _ = holdings_db
    client = app_for(engine)
    login(client, "viewer")
    client.get("/api/distribution?types=office&from=2020&to=2022")
    with Session(engine) as s:
        entries = [e for e in s.query(AccessLogEntry).order_by(AccessLogEntry.seq)]
    kinds = [e.kind for e in entries]
    assert kinds == ["cockpit_login", "cockpit_view"]
    view = entries[-1].detail
    assert view["user"] == "viewer" and view["view"] == "distribution"
    assert view["query"] == {"from": "2020", "to": "2022", "types": "office"}


def test_a_file_changed_after_it_was_recorded_is_refused(holdings_db) -> None:
    engine, files = holdings_db
    client = app_for(engine)
    login(client)
    assert client.get("/api/distribution").status_code == 200
    path = files / "pulled" / BUILDING_ENERGY_FILE
    text = path.read_text()
    path.write_text(
        text.replace("510104,锦江区,residential,2015-01,", "510104,锦江区,residential,2015-01,9", 1)
    )
    r = client.get("/api/distribution")
    assert r.status_code == 409 and r.json()["code"] == "holding_tampered"


def test_user_names_roles_and_passwords_are_checked(holdings_db) -> None:
    engine, _ = holdings_db
    users = Users(engine)
    users.add("official-1", "viewer", "long enough pw")
    with pytest.raises(UserExists):
        users.add("official-1", "viewer", "long enough pw")
    for name, role, pw, match in [
        ("bad name", "viewer", "long enough pw", "user name"),
        ("x", "admin", "long enough pw", "role"),
        ("y", "viewer", "short", "10-256"),
    ]:
        with pytest.raises(InvalidUser, match=match):
            users.add(name, role, pw)
    from node.cockpit.models import CockpitUser

    with Session(engine) as s:
        stored = s.get(CockpitUser, "official-1").password_hash
    assert stored.startswith("$argon2id$") and "long enough pw" not in stored


def test_no_holdings_means_no_figures(tmp_path) -> None:
    from node.db import create_schema, make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    create_schema(engine)
    client = app_for(engine)
    login(client)
    r = client.get("/api/overview")
    assert r.status_code == 409 and r.json()["code"] == "no_holdings"


def test_years_before_the_forecast_can_start_still_answer(holdings_db) -> None:
    engine, _ = holdings_db
    client = app_for(engine)
    login(client)
    r = client.get("/api/overview?year=2016")
    assert r.status_code == 200
    assert r.json()["peak"]["year"] is None and "holt" in r.json()["peak"]["error"]
    assert client.get("/api/export.csv?view=overview&year=2016").status_code == 200


@pytest.mark.parametrize(
    "path,status,code",
    [
        ("/api/overview?year=%C2%B2%C2%B2%C2%B2%C2%B2", 400, "invalid_filter"),  # '²' isdigit
        ("/api/export.csv", 400, "invalid_filter"),
        ("/static/%00", 404, "not_found"),
        ("/static/" + "a" * 300 + ".js", 404, "not_found"),
    ],
)
def test_odd_requests_get_a_stable_code_not_a_500(holdings_db, path, status, code) -> None:
    engine, _ = holdings_db
    client = app_for(engine)
    login(client)
    r = client.get(path)
    assert r.status_code == status and r.json()["code"] == code


def test_the_index_shows_intervals_and_lights_only_for_their_year(holdings_db) -> None:
    engine, _ = holdings_db
    client = app_for(engine)
    login(client)
    last = client.get("/api/index").json()
    assert last["year"] == last["intervals_year"] == 2024
    assert all(r["q05"] is not None for r in last["ranks"]) and len(last["lights"]) == 20
    old = client.get("/api/index?year=2018").json()
    assert old["year"] == 2018 and old["intervals_year"] == 2024
    assert all(r["q05"] is None and r["q95"] is None for r in old["ranks"])
    assert old["lights"] == []


def test_per_m2_intensity_counts_each_types_own_years(tmp_path) -> None:
    from node.cockpit.data import CockpitData, Query
    from node.cockpit.holdings import Holdings
    from node.db import create_schema, make_engine

    f = tmp_path / "be.csv"
    f.write_text(
        "adcode,district,building_type,month,floor_area_m2,electricity_kwh,gas_m3\n"
        + "".join(
            f"510104,x,residential,{y}-{m:02d},1000,100,0\n"
            for y in (2022, 2023)
            for m in range(1, 13)
        )
        + "".join(f"510104,x,office,2023-{m:02d},500,1000,0\n" for m in range(1, 13))
    )
    engine = make_engine(f"sqlite:///{tmp_path / 'n.db'}")
    create_schema(engine)
    Holdings(engine).record_derived("building_energy", f, inputs=[], method="test")
    rows = {r["key"]: r for r in CockpitData(Holdings(engine)).distribution(Query())["by_type"]}
    # office: 12,000 kWh over 500 m² in its one year, not halved by residential's two years
    assert rows["office"]["kwh_per_m2"] == 24.0
    assert rows["residential"]["kwh_per_m2"] == 1.2  # 2,400 kWh over 1,000 m² x 2 years
    engine.dispose()


def test_names_from_data_cannot_inject_markup_into_the_report(holdings_db) -> None:
    from node.cockpit.data import CockpitData
    from node.cockpit.holdings import Holdings
    from node.cockpit.report import gather, render_html

    engine, files = holdings_db
    evil = '<img src=x onerror="alert(1)"><!--<script>'
    Holdings(engine).record_derived(
        "park_results", files / "park_results.csv", inputs=[], method=evil, synthetic=True
    )
    page = render_html(gather(CockpitData(Holdings(engine)), 2024, (2020, 2024)))
    assert evil not in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page  # the sources list
    data = page.split('<script id="report-data" type="application/json">')[1].split("</script>")[0]
    assert "<" not in data and ">" not in data  # the JSON block cannot close early
    assert "Content-Security-Policy" in page


def test_a_csv_cell_is_never_a_formula() -> None:
    import csv as csvmod

    from node.cockpit.data import _SafeWriter

    buf = io.StringIO()
    _SafeWriter(csvmod.writer(buf)).writerow(["=HYPERLINK(1)", "+1", "@x", "-3", -3, "ok"])
    assert buf.getvalue().strip() == "'=HYPERLINK(1),'+1,'@x,'-3,-3,ok"


def test_a_successful_login_takes_its_attempt_back() -> None:
    from node.cockpit.auth import LoginLimiter
    from node.cockpit.errors import LoginRateLimited

    limiter = LoginLimiter(limit=2, window=60)
    for _ in range(5):
        limiter.succeeded(limiter.attempt("user:a", "ip:1"), "user:a", "ip:1")
    limiter.attempt("user:a", "ip:1")  # in flight (the password is being checked)
    limiter.attempt("user:a", "ip:1")
    with pytest.raises(LoginRateLimited):
        limiter.attempt("user:a", "ip:1")


def test_an_expired_session_is_deleted(holdings_db) -> None:
    from node.cockpit.models import CockpitSession

    engine, _ = holdings_db
    client = app_for(engine, idle_seconds=0.3)
    login(client)
    time.sleep(0.5)
    assert client.get("/api/me").status_code == 401
    with Session(engine) as s:
        assert s.query(CockpitSession).count() == 0


def test_views_without_their_files_are_not_offered(holdings_db) -> None:
    engine, _ = holdings_db
    client = app_for(engine)
    login(client)
    views = client.get("/api/meta").json()["views"]
    assert views == ["overview", "map", "series", "distribution", "index", "assets"]
    assert client.get("/api/joint").json()["code"] == "no_holdings"
