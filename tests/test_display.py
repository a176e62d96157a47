"""Times and durations as people read them: ISO 8601 with the offset, Beijing time unless the
user's zone is set (``TANLIAN_DISPLAY_TZ`` or ``--tz``)."""

from __future__ import annotations

import pytest

from cli.access import _when
from node.display import days, display_zone, when
from node.errors import ConfigError

NOON_UTC = 1_764_936_000  # 2025-12-05T12:00:00Z


@pytest.mark.parametrize(
    ("zone", "shown", "listed"),
    [
        (None, "2025-12-05T20:00:00+08:00", "2025-12-05T20:00+08:00"),
        ("UTC", "2025-12-05T12:00:00+00:00", "2025-12-05T12:00+00:00"),
        ("Europe/Berlin", "2025-12-05T13:00:00+01:00", "2025-12-05T13:00+01:00"),
    ],
)
def test_times_follow_the_display_zone(
    zone: str | None, shown: str, listed: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if zone is None:
        monkeypatch.delenv("TANLIAN_DISPLAY_TZ", raising=False)
    else:
        monkeypatch.setenv("TANLIAN_DISPLAY_TZ", zone)
    assert when(NOON_UTC) == shown
    assert _when(NOON_UTC) == listed  # `access list` columns
    assert _when(None) is None


def test_an_unknown_zone_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TANLIAN_DISPLAY_TZ", "Mars/Olympus")
    with pytest.raises(ConfigError, match="unknown time zone 'Mars/Olympus'"):
        display_zone()
    assert display_zone("Asia/Shanghai").key == "Asia/Shanghai"  # an explicit --tz wins


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (3600, "1 hour"),
        (7200, "2 hours"),
        (86_400, "1 day"),
        (30 * 86_400, "30 days"),
        (129_600, "1.5 days"),
    ],
)
def test_durations_are_said_in_days_or_hours(seconds: int, text: str) -> None:
    assert days(seconds) == text
