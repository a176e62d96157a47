"""What a joint query asks, validated at the boundary, and what every party derives from it.

A joint query names one dataset per owner, a public join key (e.g. district × year) with its
public domain of key values, and one computation: sum, count, mean, histogram over public
bins, or ordinary least squares with up to 5 regressors. Its canonical JSON is hashed
(:meth:`JointSpec.digest`) and that hash goes on chain; every party (the consumer and each
owner) derives the same public parameters from it: the length of each input vector, the
sensitivities and so the scale of the noise.

Privacy units: for sum, count, mean and histogram one row of an owner's dataset (added or
removed), each row's value clipped to the input's ``[lo, hi]``; for OLS one key's value in an
owner's dataset (rows are summed per key first, then clipped to ``[lo, hi]``), the usual unit
when each department holds one row per district and year.
"""

from __future__ import annotations

import hashlib
import json
import math
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from node.errors import InvalidInput, describe_validation
from node.privacy.budget import Epsilon

MAX_INPUTS = 16
MAX_DOMAIN = 10_000
MAX_REGRESSORS = 5
MAX_BINS = 100
#: OLS runs in secure fixed point; its noise is drawn on this grid (2^-16)
OLS_GRID = Fraction(1, 2**16)
#: integers the secure sums may reach (SecInt(64) with headroom for the noise)
MAX_INTEGER_TOTAL = 2**60


class JointSpecInvalid(InvalidInput):
    code = "joint_spec_invalid"


Op = Literal["sum", "count", "mean", "histogram", "ols"]


class Measure(BaseModel):
    """A value per row: Σ factor × column over ``terms`` (public unit conversions, e.g. kWh
    to tce), clipped to [lo, hi]."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    terms: dict[str, Decimal] = Field(min_length=1, max_length=8)
    lo: float
    hi: float
    #: the name the result gives it (OLS coefficients)
    name: str | None = Field(default=None, max_length=64)

    @field_validator("terms")
    @classmethod
    def _finite(cls, v: dict[str, Decimal]) -> dict[str, Decimal]:
        if any(not f.is_finite() or not 0 < len(c) <= 128 for c, f in v.items()):
            raise ValueError("terms map column names to finite factors")
        return v

    @model_validator(mode="after")
    def _bounds(self) -> Measure:
        if not (math.isfinite(self.lo) and math.isfinite(self.hi)) or self.hi <= self.lo:
            raise ValueError(f"bounds [{self.lo}, {self.hi}] are not an interval")
        return self

    @property
    def bound(self) -> float:
        return max(abs(self.lo), abs(self.hi))

    @property
    def label(self) -> str:
        return self.name or "+".join(self.terms)


class JointInput(BaseModel):
    """One owner's dataset in a joint query."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    dataset: str = Field(pattern=r"^0x[0-9a-f]{64}$")
    version: int = Field(ge=1, le=2**32 - 1)
    owner: str = Field(pattern=r"^0x[0-9a-fA-F]{40}$")
    #: the consumer's DP grant on this dataset: its ε is what the owner spends
    grant: int = Field(ge=1)
    #: the value column (none for count), times ``factor``; or ``terms``, several columns
    column: str | None = Field(default=None, min_length=1, max_length=128)
    factor: Decimal = Decimal(1)
    terms: dict[str, Decimal] | None = None
    lo: float = 0.0
    hi: float = 1.0
    #: OLS regressors of this owner, each with its own terms and bounds (role x)
    regressors: list[Measure] | None = Field(default=None, min_length=1, max_length=5)
    #: public filter on the owner's rows: column → the values kept (e.g. year: ["2024"])
    where: dict[str, list[str]] = Field(default_factory=dict, max_length=4)
    epsilon: Epsilon
    #: OLS only: the response (summed over every "y" input) or a regressor
    role: Literal["value", "y", "x"] = "value"

    @field_validator("owner")
    @classmethod
    def _lower(cls, v: str) -> str:
        return v.lower()

    @model_validator(mode="after")
    def _bounds(self) -> JointInput:
        if not (math.isfinite(self.lo) and math.isfinite(self.hi)) or self.hi <= self.lo:
            raise ValueError(f"bounds [{self.lo}, {self.hi}] are not an interval")
        if self.column is not None and self.terms is not None:
            raise ValueError("give a column (with a factor) or terms, not both")
        if self.regressors is not None and (self.role != "x" or self.column or self.terms):
            raise ValueError("regressors are for role x inputs, instead of a column or terms")
        if not self.factor.is_finite():
            raise ValueError("the factor must be a finite number")
        return self

    def measures(self) -> list[Measure]:
        """What this input contributes: its regressors, or its one value (none for count)."""
        if self.regressors is not None:
            return list(self.regressors)
        if self.terms is not None:
            return [Measure(terms=self.terms, lo=self.lo, hi=self.hi)]
        if self.column is not None:
            return [Measure(terms={self.column: self.factor}, lo=self.lo, hi=self.hi)]
        return []

    @property
    def bound(self) -> float:
        return max(abs(self.lo), abs(self.hi))


class JointSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    op: Op
    #: the public join key's column names
    key: list[str] = Field(min_length=1, max_length=3)
    #: the public key values: one output cell each (sum/count/mean) or one OLS row each
    domain: list[tuple[str, ...]] = Field(min_length=1, max_length=MAX_DOMAIN)
    inputs: list[JointInput] = Field(min_length=1, max_length=MAX_INPUTS)
    #: histogram: increasing public bin edges
    bins: list[float] | None = Field(default=None, min_length=2, max_length=MAX_BINS + 1)
    #: sums are exact integers of this unit (values are rounded to it after clipping)
    resolution: Decimal = Decimal("0.001")
    purpose: str = Field(min_length=1, max_length=500)
    #: False only where the chain's test mode allows it (JointQuery refuses it otherwise)
    noise: bool = True
    #: the consumer's nonce, so that a retried query is a new run with a new hash
    nonce: int = Field(default=0, ge=0, le=2**64 - 1)

    @field_validator("resolution")
    @classmethod
    def _resolution(cls, v: Decimal) -> Decimal:
        if not v.is_finite() or v <= 0 or v > 10**6 or v.as_tuple().exponent < -9:  # type: ignore[operator]
            raise ValueError("resolution must be a positive decimal between 1e-9 and 1e6")
        return v

    @model_validator(mode="after")
    def _shape(self) -> JointSpec:
        owners = [i.owner for i in self.inputs]
        if len(set(owners)) != len(owners):
            raise ValueError("one dataset per owner: an owner appears twice")
        if len({i.dataset for i in self.inputs}) != len(self.inputs):
            raise ValueError("a dataset appears twice")
        if any(len(k) != len(self.key) for k in self.domain):
            raise ValueError(f"every domain entry needs {len(self.key)} key values")
        if len(set(self.domain)) != len(self.domain):
            raise ValueError("the domain repeats a key")
        needs_column = self.op != "count"
        for i in self.inputs:
            if needs_column and not i.measures():
                raise ValueError(f"a {self.op} query needs a column for dataset {i.dataset}")
            if i.regressors is not None and self.op != "ols":
                raise ValueError("regressors are for OLS")
            if (self.op == "ols") != (i.role != "value"):
                raise ValueError("roles y/x are for OLS inputs, and every OLS input has one")
        if self.op == "histogram":
            if not self.bins or any(b >= a for a, b in zip(self.bins[1:], self.bins, strict=False)):
                raise ValueError("a histogram needs increasing bin edges")
        elif self.bins is not None:
            raise ValueError("bins are for histograms only")
        if self.op == "ols":
            xs = len(self.x_columns())
            if not 1 <= xs <= MAX_REGRESSORS:
                raise ValueError(f"OLS takes 1 to {MAX_REGRESSORS} regressors (role x)")
            if not any(i.role == "y" for i in self.inputs):
                raise ValueError("OLS needs a response (role y)")
            if len(self.domain) < xs + 2:
                raise ValueError("OLS needs more keys than coefficients")
        return self

    # -- what every party derives -------------------------------------------------------
    def canonical(self) -> bytes:
        return json.dumps(
            self.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
        ).encode()

    def digest(self) -> bytes:
        """SHA-256 of the canonical spec: the query hash on chain."""
        return hashlib.sha256(self.canonical()).digest()

    @property
    def owners(self) -> list[str]:
        return [i.owner for i in self.inputs]

    def regressors(self) -> list[int]:
        return [n for n, i in enumerate(self.inputs) if i.role == "x"]

    def x_columns(self) -> list[tuple[int, Measure]]:
        """The regressors in order: (input index, measure), several per input possibly."""
        return [(n, m) for n in self.regressors() for m in self.inputs[n].measures()]

    def widths(self) -> list[int]:
        """OLS: how many columns (vectors over the domain) each input sends."""
        return [len(i.measures()) if i.role == "x" else 1 for i in self.inputs]

    def responses(self) -> list[int]:
        return [n for n, i in enumerate(self.inputs) if i.role == "y"]

    def length(self) -> int:
        """Entries of each owner's input vector (sum/count/mean/histogram)."""
        if self.op == "histogram":
            return len(self.bins or []) - 1
        if self.op == "mean":
            return 2 * len(self.domain)
        return len(self.domain)

    def units(self, index: int) -> int:
        """The per-row bound of input ``index`` in integer units of the resolution (up)."""
        return max(1, math.ceil(Fraction(self.inputs[index].bound) / Fraction(self.resolution)))

    def ols_dimension(self) -> int:
        """Columns of Z = [1, x_1..x_p, y]."""
        return len(self.x_columns()) + 2

    def ols_sensitivity(self, index: int) -> int:
        """L1 change of the upper triangle of ZᵀZ when one key's values of input ``index``
        change anywhere within their bounds (Z scaled into [-1, 1]): 1 on a diagonal
        square, 2 on any other product (the intercept's included) that involves one of the
        input's columns."""
        d = self.ols_dimension()
        mine = {c + 1 for c, (n, _m) in enumerate(self.x_columns()) if n == index}
        if self.inputs[index].role == "y":
            mine = {d - 1}
        return sum(
            1 if a == b else 2
            for a in range(d)
            for b in range(a, d)
            if (a, b) != (0, 0) and (a in mine or b in mine)
        )

    def noise_scales(self) -> list[Fraction]:
        """The discrete Laplace scale of each output block, in the block's integer units:
        the largest sensitivity / ε over the owners, so every owner's dataset gets its own
        ε. Mean splits each ε in halves between its sum and its count."""
        eps = [i.epsilon.exact() for i in self.inputs]
        n = range(len(self.inputs))
        if self.op == "sum":
            return [max(Fraction(self.units(k)) / eps[k] for k in n)]
        if self.op in ("count", "histogram"):
            return [max(1 / eps[k] for k in n)]
        if self.op == "mean":
            return [
                max(2 * Fraction(self.units(k)) / eps[k] for k in n),
                max(2 / eps[k] for k in n),
            ]
        return [max(Fraction(self.ols_sensitivity(k)) / eps[k] for k in n) / OLS_GRID]


def parse_spec(data: Any) -> JointSpec:
    try:
        if isinstance(data, (bytes, str)):
            return JointSpec.model_validate_json(data)
        return JointSpec.model_validate(data)
    except ValidationError as exc:
        raise JointSpecInvalid(describe_validation(exc, "joint query")) from None
