"""The cockpit's web app: login, the page, its data API, exports.

Every data answer is computed from this node's holdings (``node.cockpit.data``) for a logged-in
official and written to the node's access log like a download: who, which view, which filters,
which grants' data. Nothing is fetched from elsewhere; the page's scripts, ECharts included,
are served from ``static/``.
"""

from __future__ import annotations

import logging
import secrets
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

import orjson
from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.middleware.gzip import GZipMiddleware

from analytics.errors import AnalyticsError
from node.audit.log import AccessLog
from node.cockpit.auth import LoggedIn, LoginLimiter, Sessions, Users, check_csrf
from node.cockpit.data import VIEW_ROLES, CockpitData, parse_query
from node.cockpit.errors import BodyTooLarge, InvalidFilter, LoginRequired, RoleForbidden
from node.cockpit.holdings import Holdings, grants_behind
from node.errors import NotFound, TanlianError

logger = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent / "static"
COOKIE = "tl_session"
LOGIN_COOKIE = "tl_login_csrf"
MAX_FORM = 4096
VIEWS = tuple(VIEW_ROLES)
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
CONTENT_TYPES = {
    ".js": "text/javascript",
    ".css": "text/css",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".html": "text/html; charset=utf-8",
}


def _json(data: Any, status: int = 200) -> Response:
    return Response(
        orjson.dumps(data, option=orjson.OPT_SERIALIZE_NUMPY), status, media_type="application/json"
    )


class Cockpit:
    """Everything one app instance needs; ``create_app`` wires it to routes."""

    def __init__(
        self,
        engine,
        *,
        idle_seconds: float = 1800,
        max_seconds: float = 12 * 3600,
        secure_cookies: bool = False,
        geojson: Path | None = None,
        map_review_no: str | None = None,
        login_limit: int = 5,
        login_window: float = 300,
    ) -> None:
        self.users = Users(engine)
        self.sessions = Sessions(engine, idle_seconds, max_seconds)
        self.data = CockpitData(Holdings(engine))
        self.log = AccessLog(engine)
        self.limiter = LoginLimiter(login_limit, login_window)
        self.secure = secure_cookies
        self.geojson = geojson
        self.map_review_no = map_review_no

    def who(self, request: Request) -> LoggedIn:
        return self.sessions.get(request.cookies.get(COOKIE), self.users)

    def log_view(
        self, who: LoggedIn, view: str, params: dict[str, str], sources: list[dict]
    ) -> None:
        """One access-log entry per grant whose data the answer drew on."""
        grants, derived = grants_behind(sources, self.data.holdings)
        query = {k: v[:200] for k, v in sorted(params.items())}
        # an answer from no grant's data (generated tables only) is logged once, grant-less
        for grant, src in sorted(grants.items()) or [(None, {})]:
            self.log.append(
                "cockpit_view",
                request_id=grant,
                dataset_id=src.get("dataset_id"),
                version=src.get("version"),
                user=who.user,
                role=who.role,
                view=view,
                query=query,
                derived=derived,
            )


async def _form(request: Request) -> dict[str, str]:
    """A small urlencoded form, its size bounded before anything is parsed."""
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > MAX_FORM):
        raise BodyTooLarge(f"the form is larger than {MAX_FORM} bytes")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM:
            raise BodyTooLarge(f"the form is larger than {MAX_FORM} bytes")
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=8)
    except (UnicodeDecodeError, ValueError):
        raise InvalidFilter("the form is not UTF-8 urlencoded") from None
    return {k: v[0] for k, v in fields.items()}


def _safe_next(value: str | None) -> str:
    # only a path on this site: never an absolute URL or a scheme-relative one
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value


def _login_page(error: str | None = None, status: int = 200, next_: str = "/") -> Response:
    token = secrets.token_urlsafe(24)
    html = (STATIC / "login.html").read_text(encoding="utf-8")
    msg = ""
    if error:
        msg = f'<p class="error" role="alert">{_escape(error)}</p>'
    html = (
        html.replace("{{csrf}}", token)
        .replace("{{error}}", msg)
        .replace("{{next}}", _escape(next_))
    )
    resp = HTMLResponse(html, status)
    resp.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict", path="/login")
    return resp


def _escape(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def create_app(cockpit: Cockpit) -> FastAPI:
    app = FastAPI(title="Tanlian cockpit", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.cockpit = cockpit
    app.add_middleware(GZipMiddleware, minimum_size=1024)

    @app.middleware("http")
    async def _headers(request: Request, call_next):
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Frame-Options"] = "DENY"
        if request.url.path.startswith("/api/") or request.url.path in ("/", "/login"):
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.exception_handler(TanlianError)
    async def _error(request: Request, exc: TanlianError):
        if isinstance(exc, LoginRequired) and not request.url.path.startswith("/api/"):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"/login?next={quote(target)}", 303)
        headers = {}
        if isinstance(exc.detail, dict) and "retry_after" in exc.detail:
            headers["Retry-After"] = str(exc.detail["retry_after"])
        return JSONResponse(exc.to_dict(), exc.http_status, headers=headers)

    @app.exception_handler(AnalyticsError)
    async def _analytics_error(request: Request, exc: AnalyticsError):
        return JSONResponse({"code": exc.code, "message": exc.message, "detail": None}, 400)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        where = "; ".join(
            ".".join(str(p) for p in e["loc"]) + ": " + e["msg"] for e in exc.errors()
        )
        return JSONResponse({"code": "invalid_filter", "message": where, "detail": None}, 400)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        logger.exception("cockpit: unexpected error on %s", request.url.path)
        return JSONResponse(
            {
                "code": "internal_error",
                "message": "the cockpit failed; see its log",
                "detail": None,
            },
            500,
        )

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/login", include_in_schema=False)
    def login_page(next: str = "/") -> Response:
        return _login_page(next_=_safe_next(next))

    @app.post("/login", include_in_schema=False)
    async def login(request: Request) -> Response:
        form = await _form(request)
        next_ = _safe_next(form.get("next"))
        try:
            check_csrf(request.cookies.get(LOGIN_COOKIE, ""), form.get("csrf"))
        except TanlianError as exc:
            return _login_page(exc.message, exc.http_status, next_)
        user = form.get("user", "").strip()[:64]
        client = request.client.host if request.client else "?"
        keys = (f"user:{user}", f"ip:{client}")
        try:
            stamp = cockpit.limiter.attempt(*keys)
            # Argon2id takes ~0.1 s and 64 MiB: off the event loop, so other requests go on
            role = await run_in_threadpool(cockpit.users.check, user, form.get("password", ""))
            cockpit.limiter.succeeded(stamp, *keys)
        except TanlianError as exc:
            logger.info("cockpit login refused for %r from %s: %s", user, client, exc.code)
            resp = _login_page(exc.message, exc.http_status, next_)
            if exc.http_status == 429:
                resp.headers["Retry-After"] = str(exc.detail["retry_after"])
            return resp
        cockpit.sessions.sweep()
        token, _ = cockpit.sessions.open(user)
        cockpit.log.append("cockpit_login", user=user, role=role, client=client)
        resp = RedirectResponse(next_, 303)
        resp.set_cookie(
            COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=cockpit.secure,
            path="/",
            max_age=int(cockpit.sessions.max),
        )
        resp.delete_cookie(LOGIN_COOKIE, path="/login")
        return resp

    @app.post("/logout", include_in_schema=False)
    async def logout(request: Request) -> Response:
        who = cockpit.who(request)
        form = await _form(request)
        check_csrf(who.csrf, request.headers.get("x-csrf-token") or form.get("csrf"))
        cockpit.sessions.close(request.cookies.get(COOKIE))
        resp = RedirectResponse("/login", 303)
        resp.delete_cookie(COOKIE, path="/")
        return resp

    @app.get("/", include_in_schema=False)
    def page(request: Request) -> Response:
        who = cockpit.who(request)
        html = (STATIC / "index.html").read_text(encoding="utf-8")
        html = (
            html.replace("{{csrf}}", who.csrf)
            .replace("{{user}}", _escape(who.user))
            .replace("{{role}}", who.role)
        )
        return HTMLResponse(html)

    @app.get("/static/{path:path}", include_in_schema=False)
    def static(path: str) -> Response:
        if "\x00" in path or len(path) > 256:
            raise NotFound(f"no such file: {path[:80]}")
        target = (STATIC / path).resolve()
        if (
            STATIC not in target.parents
            or not target.is_file()
            or target.suffix not in CONTENT_TYPES
        ):
            raise NotFound(f"no such file: {path[:80]}")
        if target.name in ("login.html", "index.html"):
            raise NotFound(f"no such file: {path[:80]}")
        return Response(
            target.read_bytes(),
            media_type=CONTENT_TYPES[target.suffix],
            headers={"Cache-Control": "no-cache"},
        )

    @app.get("/api/me")
    def me(request: Request) -> Response:
        who = cockpit.who(request)
        return _json({"user": who.user, "role": who.role})

    @app.get("/api/meta")
    def meta(request: Request) -> Response:
        who = cockpit.who(request)
        data = cockpit.data.meta()
        if "distribution" in data["views"]:  # its years are shown: logged like any view
            held, _ = cockpit.data.energy()
            cockpit.log_view(who, "meta", {}, [held.provenance()])
        data["map"] = {
            "mode": "geojson" if cockpit.geojson else "tiles",
            "review_no": cockpit.map_review_no,
        }
        return _json(data)

    @app.get("/api/geojson")
    def geojson(request: Request) -> Response:
        cockpit.who(request)
        if cockpit.geojson is None:
            raise NotFound("no boundary file is configured (node.toml [cockpit] geojson)")
        return Response(cockpit.geojson.read_bytes(), media_type="application/json")

    @app.get("/api/export.csv")
    def export(request: Request, view: str = "") -> Response:
        who = cockpit.who(request)
        if who.role != "analyst":
            raise RoleForbidden("exporting tables is for the analyst role")
        if view not in VIEWS:
            raise InvalidFilter(f"view {view[:40]!r}: use one of {', '.join(VIEWS)}")
        params = dict(request.query_params)
        text, sources = cockpit.data.export_csv(view, parse_query(params, cockpit.data.codes))
        cockpit.log_view(who, f"export:{view}", params, sources)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        return Response(
            "\ufeff" + text,  # Excel reads the BOM as UTF-8 (district names in Chinese)
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="cockpit-{view}-{stamp}.csv"'},
        )

    def _view(name: str):
        def handler(request: Request) -> Response:
            who = cockpit.who(request)
            params = dict(request.query_params)
            data = cockpit.data.answer(name, parse_query(params, cockpit.data.codes))
            cockpit.log_view(who, name, params, data["provenance"]["sources"])
            return _json(data)

        handler.__name__ = f"api_{name}"
        return handler

    for name in VIEWS:
        app.add_api_route(f"/api/{name}", _view(name), methods=["GET"])
    return app
