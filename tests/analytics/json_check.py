"""Read JSON as the standard defines it, to check what the commands write."""

from __future__ import annotations

import json
from typing import Any


def strict_json(text: str) -> Any:
    """JSON as the standard defines it: NaN, Infinity and -Infinity are refused."""

    def refuse(constant: str) -> None:
        raise ValueError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refuse)
