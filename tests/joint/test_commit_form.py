"""The integers an owner commits to for its joint input: signed sums shifted into
[0, 2^64), OLS's scaled reals on a 2^-40 grid; values too large to commit are refused."""

from __future__ import annotations

import pytest

from node.joint.compute import COMMIT_OFFSET, JointInputInvalid, committed_form
from node.joint.spec import parse_spec


def _spec(op: str) -> object:
    x = {"role": "x", "regressors": [{"terms": {"g": "1"}, "lo": 0, "hi": 10, "name": "g"}]}
    inputs = (
        [{"role": "y", "column": "v", "lo": -5, "hi": 5}, x]
        if op == "ols"
        else [{"column": "v", "lo": -5, "hi": 5}]
    )
    return parse_spec(
        {
            "op": op,
            "key": ["k"],
            "domain": [["a"], ["b"], ["c"]],
            "purpose": "t",
            "inputs": [
                {
                    "dataset": "0x" + f"{n + 1:064x}",
                    "version": 1,
                    "owner": "0x" + f"{n + 1:040x}",
                    "grant": n + 1,
                    "epsilon": "1",
                    **i,
                }
                for n, i in enumerate(inputs)
            ],
        }
    )


@pytest.mark.parametrize(
    "op, vector, committed, unit",
    [
        ("sum", [0, -7, 12], [2**63, 2**63 - 7, 2**63 + 12], "input+2^63"),
        ("ols", [0.5, -0.25, 0.0], [2**63 + 2**39, 2**63 - 2**38, 2**63], "input*2^40+2^63"),
    ],
)
def test_committed_form(op: str, vector: list, committed: list[int], unit: str) -> None:
    assert committed_form(_spec(op), vector) == (committed, unit)


def test_a_value_outside_the_committed_range_is_refused() -> None:
    with pytest.raises(JointInputInvalid, match="too large to commit"):
        committed_form(_spec("sum"), [COMMIT_OFFSET])
