"""Exact privacy budgets: what is refused (with which code), what a mechanism is given, and
how the amounts cross pydantic and JSON."""

from __future__ import annotations

import json
import math
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pydantic
import pytest
from hypothesis import given
from hypothesis import strategies as st

from node.errors import InvalidInput
from node.privacy.budget import (
    UINT64_MAX,
    Budget,
    BudgetError,
    Delta,
    Epsilon,
)


@pytest.mark.parametrize(
    ("value", "milli"),
    [
        ("0.001", 1),
        ("0.4", 400),
        (0.4, 400),
        ("1", 1000),
        (1, 1000),
        (3.0, 3000),
        ("0.0010", 1),
        (" 2.5 ", 2500),
        ("1e-3", 1),
        (Decimal("2.500"), 2500),
        ("1000", 1_000_000),
    ],
)
def test_decimal_text_and_json_numbers_are_read_exactly(value: object, milli: int) -> None:
    assert Epsilon.parse(value).milli == milli


@pytest.mark.parametrize(
    ("value", "code"),
    [
        # the defect: 0.00149 was charged round(1.49) = 1 milli-ε and run at 0.00149
        (0.00149, "budget_too_fine"),
        ("0.00149", "budget_too_fine"),
        ("0.0005", "budget_too_fine"),
        (1e-10, "budget_too_fine"),
        ("1e-400", "budget_too_fine"),
        (1e-320, "budget_too_fine"),  # a subnormal double, as the security review sent it
        ("1e-320", "budget_too_fine"),
        (0, "budget_not_positive"),
        ("0.000", "budget_not_positive"),
        (-0.5, "budget_not_positive"),
        ("-1e30", "budget_not_positive"),
        (float("nan"), "budget_not_finite"),
        ("NaN", "budget_not_finite"),
        (float("inf"), "budget_not_finite"),
        ("-Infinity", "budget_not_finite"),
        ("1001", "budget_too_large"),
        (2**256, "budget_too_large"),
        ("1e999999999", "budget_too_large"),
        ("abc", "budget_not_a_number"),
        ("", "budget_not_a_number"),
        ("1_000", "budget_not_a_number"),
        (True, "budget_not_a_number"),
        (None, "budget_not_a_number"),
        ([1], "budget_not_a_number"),
    ],
)
def test_what_cannot_be_charged_exactly_is_refused_with_a_stable_code(
    value: object, code: str
) -> None:
    with pytest.raises(BudgetError) as refused:
        Epsilon.parse(value)
    assert refused.value.code == code
    assert isinstance(refused.value, InvalidInput)  # a 400 at the node, one line at the CLI


def test_too_fine_names_the_charges_that_would_be_exact() -> None:
    with pytest.raises(BudgetError) as refused:
        Epsilon.parse("0.00149")
    assert "ask for 0.002 or 0.001" in refused.value.message
    assert refused.value.detail == {"unit": "0.001", "above": "0.002", "below": "0.001"}


def test_zero_only_where_allowed_and_a_maximum_per_use() -> None:
    assert Epsilon.parse("0", allow_zero=True) == Epsilon(0)
    with pytest.raises(BudgetError, match="largest accepted, 10") as big:
        Epsilon.parse("10.001", maximum=Epsilon.parse("10"))
    assert big.value.code == "budget_too_large"


def test_delta_is_nano_and_below_one() -> None:
    assert Delta.parse("1e-6").nano == 1000
    assert Delta.parse(1e-9).nano == 1
    for value, code in (("1e-10", "budget_too_fine"), ("1", "budget_too_large")):
        with pytest.raises(BudgetError) as refused:
            Delta.parse(value)
        assert refused.value.code == code


def test_the_types_do_not_mix_with_floats_or_each_other() -> None:
    assert Epsilon(1) != 0.001 and Epsilon(1) != Delta(1)
    with pytest.raises(TypeError):
        _ = Epsilon(1) < 0.5  # type: ignore[operator]
    with pytest.raises(TypeError):
        _ = Epsilon(1) + Delta(1)  # type: ignore[operator]
    with pytest.raises(TypeError):
        Epsilon(0.5)  # type: ignore[arg-type]
    with pytest.raises(BudgetError):
        Epsilon(UINT64_MAX + 1)
    with pytest.raises(ValueError, match="negative"):
        _ = Epsilon(1) - Epsilon(2)
    assert Epsilon(1000) // Epsilon(300) == 3
    assert Budget(Epsilon(1000), Epsilon(400)).remaining == Epsilon(600)


@given(
    milli=st.integers(min_value=1, max_value=UINT64_MAX),
    parts=st.integers(min_value=1, max_value=100),
)
def test_a_mechanism_never_gets_more_than_its_exact_share(milli: int, parts: int) -> None:
    eps = Epsilon(milli)
    given_ = eps.for_mechanism(parts)
    exact = Fraction(milli, 1000 * parts)
    assert Fraction(given_) <= exact
    # and not needlessly less: within one step of the exact value
    assert Fraction(math.nextafter(given_, math.inf)) > exact


@given(milli=st.integers(min_value=0, max_value=10**12))
def test_json_text_is_the_exact_decimal_and_reads_back(milli: int) -> None:
    eps = Epsilon(milli)
    text = json.dumps(eps.as_json())
    assert Decimal(text) == Decimal(milli) / 1000
    top = Epsilon(UINT64_MAX)
    assert Epsilon.parse(json.loads(text), allow_zero=True, maximum=top) == eps
    assert Epsilon.parse(str(eps), allow_zero=True, maximum=top) == eps


def test_pydantic_validates_with_the_codes_and_serializes_numbers() -> None:
    class M(pydantic.BaseModel):
        eps: Epsilon

    assert M.model_validate({"eps": "0.25"}).eps == Epsilon(250)
    assert M(eps=Epsilon(250)).model_dump_json() == '{"eps":0.25}'
    with pytest.raises(pydantic.ValidationError) as bad:
        M.model_validate({"eps": 0.00149})
    assert bad.value.errors()[0]["type"] == "budget_too_fine"
    # inside untyped JSON (a route returning dict[str, Any]) too
    loose = pydantic.TypeAdapter(dict[str, Any])
    assert loose.dump_json({"b": Budget(Epsilon(1000), Epsilon(1))._asdict()}) == (
        b'{"b":{"ceiling":1.0,"spent":0.001}}'
    )


def test_the_audit_reads_logged_epsilon_exactly_and_rounds_an_inexact_one_up() -> None:
    from node.audit.verify import _logged_milli

    assert _logged_milli(0.4) == 400 and _logged_milli(0.001) == 1 and _logged_milli(0) == 0
    # an answer logged at 0.00149 (as before budgets were exact) used more than 1 milli-ε:
    # counted as 2, it no longer matches the 1 charged on chain, and the audit says so
    assert _logged_milli(0.00149) == 2
    assert _logged_milli("garbled") == 0
