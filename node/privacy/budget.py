"""Privacy budgets as exact integers of the units the chain accounts in.

AccessManager keeps ε in milli-ε (``uint64 epsilonMilli``: ceilings, grants, spends) and
records δ in nano-δ (``uint64 deltaNano``). :class:`Epsilon` and :class:`Delta` hold those
integers and nothing else, from the user's text or JSON number to the contract call, so what
is checked, charged and given to a mechanism is one value.

User input is read as a decimal, never through float arithmetic: ``"0.00149"`` is 1.49
milli-ε and is refused (``budget_too_fine``) rather than rounded to a charge of 0.001 while
the mechanism runs at 0.00149. A JSON number that arrived as a Python float is read as the
shortest decimal that denotes the same double, which is the text the user wrote for any
number of up to 15 significant digits.

A mechanism gets the largest double not above the charged value (:meth:`for_mechanism`), so
it never runs at more ε (or δ) than the chain recorded.
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any, ClassVar, NamedTuple, Self

from pydantic import GetCoreSchemaHandler
from pydantic_core import PydanticCustomError, SchemaSerializer, core_schema

from node.errors import InvalidInput

UINT64_MAX = 2**64 - 1
# Decimal exponents beyond these cannot be a budget; checked before any exact arithmetic so
# that "1e999999999" costs nothing to refuse.
_MAX_ADJUSTED = 20
_MIN_ADJUSTED = -20


class BudgetError(InvalidInput):
    """A privacy budget that cannot be accounted exactly."""

    code = "budget_invalid"


class BudgetNotANumber(BudgetError):
    code = "budget_not_a_number"


class BudgetNotFinite(BudgetError):
    code = "budget_not_finite"


class BudgetNotPositive(BudgetError):
    code = "budget_not_positive"


class BudgetTooFine(BudgetError):
    code = "budget_too_fine"


class BudgetTooLarge(BudgetError):
    code = "budget_too_large"


BUDGET_ERRORS: dict[str, type[BudgetError]] = {
    c.code: c
    for c in (BudgetNotANumber, BudgetNotFinite, BudgetNotPositive, BudgetTooFine, BudgetTooLarge)
}


def _decimal(value: object, symbol: str) -> Decimal:
    if isinstance(value, bool):  # an int subclass, but never a budget
        raise BudgetNotANumber(f"{symbol} must be a number, not {value!r}")
    if isinstance(value, Decimal):
        d = value
    elif isinstance(value, int):
        d = Decimal(value)
    elif isinstance(value, float):
        # repr is the shortest decimal that round-trips: the text the user typed
        d = Decimal(repr(value))
    elif isinstance(value, str):
        text = value.strip()
        if not text or len(text) > 64 or "_" in text:
            raise BudgetNotANumber(f"{symbol} must be a decimal number, not {value!r}")
        try:
            d = Decimal(text)
        except InvalidOperation:
            raise BudgetNotANumber(f"{symbol} must be a decimal number, not {value!r}") from None
    else:
        raise BudgetNotANumber(f"{symbol} must be a number, not {type(value).__name__}")
    if not d.is_finite():
        raise BudgetNotFinite(f"{symbol} must be a finite number, not {value!r}")
    return d


class _Budget:
    """An exact, non-negative amount: an integer count of ``1/SCALE``."""

    __slots__ = ("_units",)
    SCALE: ClassVar[int]
    SYMBOL: ClassVar[str]
    UNIT_NAME: ClassVar[str]
    #: the largest amount accepted from a user (the chain takes up to 2^64 - 1 units)
    USER_MAXIMUM: ClassVar[int]

    def __init__(self, units: int) -> None:
        if isinstance(units, bool) or not isinstance(units, int):
            raise TypeError(f"{type(self).__name__} takes an integer of {self.UNIT_NAME}")
        if not 0 <= units <= UINT64_MAX:
            raise BudgetTooLarge(
                f"{self.SYMBOL} of {units} {self.UNIT_NAME} is outside 0 … 2^64 - 1",
                detail={"units": units},
            )
        self._units = units

    # -- reading ----------------------------------------------------------------------
    @classmethod
    def parse(cls, value: object, *, allow_zero: bool = False, maximum: Self | None = None) -> Self:
        """An exact amount from decimal text, a JSON number or a Decimal; refused with a
        :class:`BudgetError` code when it is not a finite number, is negative (or zero unless
        ``allow_zero``), is not a whole number of units, or exceeds ``maximum`` (default
        :attr:`USER_MAXIMUM`)."""
        if isinstance(value, cls):
            units = value.units
        else:
            d = _decimal(value, cls.SYMBOL)
            if d < 0:
                raise BudgetNotPositive(f"{cls.SYMBOL} must not be negative, got {value}")
            if d.is_zero():
                units = 0
            elif d.adjusted() > _MAX_ADJUSTED:
                raise BudgetTooLarge(f"{cls.SYMBOL} {value} is too large")
            elif d.adjusted() < _MIN_ADJUSTED:
                raise cls._too_fine(value, Fraction(1, 2))  # below one unit, whatever it is
            else:
                exact = Fraction(d) * cls.SCALE
                if exact.denominator != 1:
                    raise cls._too_fine(value, exact)
                units = exact.numerator
        if units == 0 and not allow_zero:
            raise BudgetNotPositive(f"{cls.SYMBOL} must be above 0")
        top = cls.USER_MAXIMUM if maximum is None else maximum.units
        if units > top:
            raise BudgetTooLarge(
                f"{cls.SYMBOL} {cls(units) if units <= UINT64_MAX else value} is above the "
                f"largest accepted, {cls(top)}",
                detail={"maximum": str(cls(top))},
            )
        return cls(units)

    @classmethod
    def _too_fine(cls, value: object, exact: Fraction) -> BudgetTooFine:
        below, above = math.floor(exact), math.ceil(exact)
        return BudgetTooFine(
            f"{cls.SYMBOL} {value} is not a whole number of {cls.UNIT_NAME} ({cls(1)}, the "
            f"unit the chain accounts in); ask for {cls(above)}"
            + (f" or {cls(below)}" if below > 0 else ""),
            detail={"unit": str(cls(1)), "above": str(cls(above)), "below": str(cls(below))},
        )

    # -- values -----------------------------------------------------------------------
    @property
    def units(self) -> int:
        return self._units

    def exact(self) -> Fraction:
        return Fraction(self._units, self.SCALE)

    def for_mechanism(self, parts: int = 1) -> float:
        """The largest double not above this amount divided by ``parts``: what a mechanism
        (or each of ``parts`` mechanisms composed in sequence) may be given. Rounding to the
        nearest double could give it up to half an ulp more than the chain charged."""
        if parts < 1:
            raise ValueError("parts must be at least 1")
        exact = Fraction(self._units, self.SCALE * parts)
        value = self._units / (self.SCALE * parts)  # int / int: correctly rounded
        if Fraction(value) > exact:
            value = math.nextafter(value, 0.0)
        return value

    def as_json(self) -> float | int:
        """A JSON number whose text is this amount exactly (e.g. 0.4, 1.0)."""
        # m / SCALE is the double nearest the decimal m·10^-k; its repr is that decimal
        return self._units / self.SCALE

    def __str__(self) -> str:
        d = Decimal(self._units).scaleb(-round(math.log10(self.SCALE)))
        text = format(d, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self} ({self._units} {self.UNIT_NAME})>"

    # -- arithmetic on the same kind only ---------------------------------------------
    def _same(self, other: object) -> bool:
        return type(other) is type(self)

    def __eq__(self, other: object) -> bool:
        if not self._same(other):
            return NotImplemented
        return self._units == other._units  # type: ignore[attr-defined]

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._units))

    def __lt__(self, other: Self) -> bool:
        if not self._same(other):
            return NotImplemented
        return self._units < other._units

    def __le__(self, other: Self) -> bool:
        if not self._same(other):
            return NotImplemented
        return self._units <= other._units

    def __gt__(self, other: Self) -> bool:
        if not self._same(other):
            return NotImplemented
        return self._units > other._units

    def __ge__(self, other: Self) -> bool:
        if not self._same(other):
            return NotImplemented
        return self._units >= other._units

    def __add__(self, other: Self) -> Self:
        if not self._same(other):
            return NotImplemented
        return type(self)(self._units + other._units)

    def __sub__(self, other: Self) -> Self:
        """The difference, which must not be negative (a budget left is never below 0)."""
        if not self._same(other):
            return NotImplemented
        if other._units > self._units:
            raise ValueError(f"{self} - {other} is negative")
        return type(self)(self._units - other._units)

    def __floordiv__(self, other: Self) -> int:
        """How many times ``other`` fits in this amount."""
        if not self._same(other):
            return NotImplemented
        if other._units == 0:
            raise ZeroDivisionError(f"{self.SYMBOL} 0 fits any number of times")
        return self._units // other._units

    # -- pydantic: validated like :meth:`parse`, serialized as :meth:`as_json` ---------
    @classmethod
    def _validate(cls, value: Any) -> Self:
        try:
            return cls.parse(value)
        except BudgetError as exc:
            raise PydanticCustomError(exc.code, exc.message) from None

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> Any:
        return cls._core_schema()

    @classmethod
    def _core_schema(cls) -> core_schema.CoreSchema:
        return core_schema.no_info_plain_validator_function(
            cls._validate,
            json_schema_input_schema=core_schema.float_schema(),
            serialization=core_schema.plain_serializer_function_ser_schema(
                lambda v: v.as_json(), return_schema=core_schema.float_schema()
            ),
        )


class Epsilon(_Budget):
    """ε as an integer of milli-ε (AccessManager's ``epsilonMilli``)."""

    __slots__ = ()
    SCALE = 1000
    SYMBOL = "ε"
    UNIT_NAME = "milli-ε"
    USER_MAXIMUM = 1000 * SCALE  # ε 1000: no privacy is left long before

    @property
    def milli(self) -> int:
        return self._units


class Delta(_Budget):
    """δ as an integer of nano-δ (AccessManager's ``deltaNano``); below 1 (a probability)."""

    __slots__ = ()
    SCALE = 10**9
    SYMBOL = "δ"
    UNIT_NAME = "nano-δ"
    USER_MAXIMUM = SCALE - 1

    @property
    def nano(self) -> int:
        return self._units


# Inside untyped (Any) JSON, such as a route returning dict[str, Any], pydantic serializes an
# object by its __pydantic_serializer__: the amounts then appear as exact decimal numbers.
for _cls in (Epsilon, Delta):
    _cls.__pydantic_serializer__ = SchemaSerializer(_cls._core_schema())  # type: ignore[attr-defined]

ZERO_EPSILON = Epsilon(0)
ZERO_DELTA = Delta(0)


class Budget(NamedTuple):
    """A DP grant's ceiling and what has been spent of it, as the chain holds them."""

    ceiling: Epsilon
    spent: Epsilon

    @property
    def remaining(self) -> Epsilon:
        # the contract never lets spent pass the ceiling; a chain that did is read as 0 left
        return self.ceiling - self.spent if self.spent <= self.ceiling else ZERO_EPSILON


class Ledger(NamedTuple):
    """A lifetime budget on one dataset over all grants (of one consumer account, or of all
    the accounts of one department), as the chain holds it."""

    ceiling: Epsilon
    spent: Epsilon
    delta_ceiling: Delta
    delta_spent: Delta

    @property
    def remaining(self) -> Epsilon:
        # an owner may lower a ceiling below what was spent: nothing is left then
        return self.ceiling - self.spent if self.spent <= self.ceiling else ZERO_EPSILON

    @property
    def delta_remaining(self) -> Delta:
        if self.delta_spent <= self.delta_ceiling:
            return self.delta_ceiling - self.delta_spent
        return ZERO_DELTA

    def as_dict(self) -> dict[str, float | int]:
        return {
            "ceiling": self.ceiling.as_json(),
            "spent": self.spent.as_json(),
            "remaining": self.remaining.as_json(),
            "delta_ceiling": self.delta_ceiling.as_json(),
            "delta_spent": self.delta_spent.as_json(),
            "delta_remaining": self.delta_remaining.as_json(),
        }


class Charge(NamedTuple):
    """What one DP answer costs: paid on chain, and given to its mechanisms."""

    epsilon: Epsilon
    delta: Delta
