"""How times and durations are shown to people: ISO 8601 with the zone, Beijing time
(Asia/Shanghai) unless ``TANLIAN_DISPLAY_TZ`` names another zone; durations in days."""

from __future__ import annotations

import datetime as dt
import os
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from node.errors import ConfigError

DEFAULT_ZONE = "Asia/Shanghai"


def display_zone(name: str | None = None) -> ZoneInfo:
    """The zone times are shown in (``name``, else ``TANLIAN_DISPLAY_TZ``, else Beijing)."""
    name = name or os.environ.get("TANLIAN_DISPLAY_TZ") or DEFAULT_ZONE
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"unknown time zone {name!r} (e.g. Asia/Shanghai, UTC)") from None


def when(unix: float, zone: ZoneInfo | None = None) -> str:
    """``unix`` seconds as ISO 8601 with the offset, e.g. ``2026-12-05T21:28:22+08:00``."""
    return dt.datetime.fromtimestamp(unix, zone or display_zone()).isoformat(timespec="seconds")


def days(seconds: float) -> str:
    """A duration in the unit access is granted in: ``30 days``, ``1.5 days``, ``2 hours``."""
    if abs(seconds) < 86_400:
        hours = seconds / 3600
        return f"{hours:g} hour{'' if hours == 1 else 's'}"
    count = round(seconds / 86_400, 2)
    return f"{count:g} day{'' if count == 1 else 's'}"
