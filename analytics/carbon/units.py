"""Units of activity data: mass, volume, energy (including tce) and electricity.

Every unit maps to a base unit of its dimension — t (mass), m³ (volume at standard
conditions, ``Nm3``), GJ (energy) — by one factor. Electricity is energy too (1 MWh =
3.6 GJ); the inventory converts it to MWh for the grid factor. A unit that is not in the
table is an error: a misspelt unit must never default to a factor of 1.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from analytics.errors import InvalidData

# tce: China's standard coal equivalent, 7,000 kcal/kg (GB/T 2589) = 29.3076 GJ/t.
# toe: 10,000 kcal/kg (IEA) = 41.868 GJ.
UNITS: dict[str, tuple[str, float]] = {
    # mass → t
    "t": ("mass", 1.0),
    "kg": ("mass", 1e-3),
    "g": ("mass", 1e-6),
    "kt": ("mass", 1e3),
    "Gg": ("mass", 1e3),
    "Mt": ("mass", 1e6),
    "10^4 t": ("mass", 1e4),
    # volume → Nm3 (standard cubic metres)
    "Nm3": ("volume", 1.0),
    "m3": ("volume", 1.0),
    "10^4 Nm3": ("volume", 1e4),
    "10^4 m3": ("volume", 1e4),
    "10^8 Nm3": ("volume", 1e8),
    "10^8 m3": ("volume", 1e8),
    "L": ("volume", 1e-3),
    "kL": ("volume", 1.0),
    # energy → GJ
    "GJ": ("energy", 1.0),
    "MJ": ("energy", 1e-3),
    "TJ": ("energy", 1e3),
    "PJ": ("energy", 1e6),
    "kWh": ("energy", 3.6e-3),
    "MWh": ("energy", 3.6),
    "GWh": ("energy", 3.6e3),
    "10^4 kWh": ("energy", 36.0),
    "tce": ("energy", 29.3076),
    "10^4 tce": ("energy", 29.3076e4),
    "toe": ("energy", 41.868),
}
# Spellings people type, mapped to the table's key.
ALIASES = {
    "tonne": "t",
    "tonnes": "t",
    "ton": "t",
    "吨": "t",
    "万吨": "10^4 t",
    "nm3": "Nm3",
    "万立方米": "10^4 Nm3",
    "万nm3": "10^4 Nm3",
    "亿立方米": "10^8 Nm3",
    "千瓦时": "kWh",
    "度": "kWh",
    "万千瓦时": "10^4 kWh",
    "兆瓦时": "MWh",
    "吨标准煤": "tce",
    "万吨标准煤": "10^4 tce",
    "l": "L",
    "kl": "kL",
}
# every spelling a unit may arrive in, without case or spaces, mapped to the table's key
_SPELLINGS = {k.lower().replace(" ", ""): k for k in UNITS} | ALIASES


def canonical(unit: str) -> str | None:
    """The table's spelling of ``unit`` (case-insensitive, aliases), or None if unknown."""
    u = str(unit).strip()
    if u in UNITS:
        return u
    return _SPELLINGS.get(u.lower().replace(" ", ""), ALIASES.get(u))


def dimension(unit: str) -> str:
    c = canonical(unit)
    if c is None:
        raise InvalidData(f"unknown unit {unit!r} (known: {', '.join(UNITS)})")
    return UNITS[c][0]


def convert(value: float, unit: str, to: str) -> float:
    """``value`` in ``unit`` expressed in ``to``; both must share a dimension."""
    a, b = canonical(unit), canonical(to)
    if a is None or b is None:
        raise InvalidData(f"unknown unit {unit if a is None else to!r}")
    if UNITS[a][0] != UNITS[b][0]:
        raise InvalidData(f"cannot convert {a} ({UNITS[a][0]}) to {b} ({UNITS[b][0]})")
    return value * UNITS[a][1] / UNITS[b][1]


def unit_table(units: Iterable[str]) -> pd.DataFrame:
    """For each distinct unit spelling: canonical unit, dimension and factor to the base unit.

    Unknown spellings get NaN factors, so a vectorised caller can report their rows.
    """
    rows = []
    for u in units:
        c = canonical(u)
        rows.append(
            {
                "unit": u,
                "canonical": c,
                "dimension": UNITS[c][0] if c else None,
                "to_base": UNITS[c][1] if c else np.nan,
            }
        )
    return pd.DataFrame(rows, columns=["unit", "canonical", "dimension", "to_base"])
