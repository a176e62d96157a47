"""The analytics package's exception root.

Analytics never imports the node, so it has its own root. Every deliberate error carries a
stable ``code``; the CLI prints ``tanlian: error [code]: message`` and exits non-zero.
"""

from __future__ import annotations

from typing import Any


class AnalyticsError(Exception):
    """Root of every deliberate analytics error."""

    code: str = "analytics_error"

    def __init__(self, message: str, *, detail: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


class InvalidFramework(AnalyticsError):
    """A framework file (hierarchy, indicator metadata) is malformed."""

    code = "framework_invalid"


class InvalidPipeline(AnalyticsError):
    """A pipeline file or a step's parameters are malformed."""

    code = "pipeline_invalid"


class InvalidData(AnalyticsError):
    """Input data (a panel, a matrix, a survey) cannot be used as given."""

    code = "data_invalid"


class ComputationError(AnalyticsError):
    """A method cannot be applied to these values (a zero range, a non-positive mean…)."""

    code = "computation_failed"
