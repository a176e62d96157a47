"""The cockpit's errors (under the node's exception root, mapped to HTTP in one handler)."""

from __future__ import annotations

from node.errors import TanlianError


class CockpitError(TanlianError):
    code = "cockpit_error"
    http_status = 400


class LoginRequired(CockpitError):
    code = "login_required"
    http_status = 401


class LoginFailed(CockpitError):
    code = "login_failed"
    http_status = 401


class LoginRateLimited(CockpitError):
    code = "login_rate_limited"
    http_status = 429


class CsrfRefused(CockpitError):
    code = "csrf_refused"
    http_status = 403


class RoleForbidden(CockpitError):
    code = "role_forbidden"
    http_status = 403


class InvalidFilter(CockpitError):
    code = "invalid_filter"
    http_status = 400


class BodyTooLarge(CockpitError):
    code = "body_too_large"
    http_status = 413


class NoHoldings(CockpitError):
    """The node holds no dataset a view needs (nothing pulled under a grant yet)."""

    code = "no_holdings"
    http_status = 409


class UserExists(CockpitError):
    code = "user_exists"
    http_status = 409


class InvalidUser(CockpitError):
    code = "invalid_user"
    http_status = 400
