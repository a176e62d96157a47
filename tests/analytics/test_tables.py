"""The strict JSON writer every analytics output goes through."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analytics.errors import ComputationError
from analytics.tables import dumps_json, json_safe, write_json_atomic
from tests.analytics.json_check import strict_json


def test_missing_numbers_are_null_and_numpy_scalars_plain() -> None:
    data = {
        "nan": math.nan,
        "np_nan": np.float64("nan"),
        "na": pd.NA,
        "int": np.int64(3),
        "float": np.float32(0.5),
        "flag": np.bool_(True),
        "rows": [(1, np.nan), np.array([2.0, np.nan])],
    }
    assert json_safe(data) == {
        "nan": None,
        "np_nan": None,
        "na": None,
        "int": 3,
        "float": 0.5,
        "flag": True,
        "rows": [[1, None], [2.0, None]],
    }
    assert type(json_safe(np.int64(3))) is int
    assert strict_json(dumps_json(data))["rows"] == [[1, None], [2.0, None]]


@pytest.mark.parametrize("value", [math.inf, -math.inf, np.float64("inf")])
def test_an_infinite_number_is_refused_with_its_place(tmp_path, value: float) -> None:
    target = tmp_path / "out.json"
    target.write_text('{"old": true}')
    with pytest.raises(ComputationError, match=r"params\.sse is infinite"):
        write_json_atomic({"params": {"alpha": 0.5, "sse": value}}, target)
    assert strict_json(target.read_text()) == {"old": True}  # the old file is untouched
    assert not (tmp_path / "out.json.tmp").exists()
