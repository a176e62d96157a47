"""The node package's exception root.

Every error the node raises on purpose derives from :class:`TanlianError` and carries a
stable, machine-readable ``code``. The HTTP layer and the CLI map these codes to status
codes and one-line messages in one place each; core code never knows about HTTP.
"""

from __future__ import annotations

from typing import Any


class TanlianError(Exception):
    """Root of every deliberate node error."""

    code: str = "internal_error"
    http_status: int = 500

    def __init__(self, message: str, *, detail: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "detail": self.detail}


class ConfigError(TanlianError):
    code = "config_invalid"
    http_status = 500


class NotFound(TanlianError):
    code = "not_found"
    http_status = 404


class InvalidInput(TanlianError):
    code = "invalid_input"
    http_status = 400


def describe_validation(exc: Any, what: str) -> str:
    """One readable line from a pydantic ValidationError: `field.path: problem; …`."""
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or what}: {e['msg']}" for e in exc.errors()
    )
