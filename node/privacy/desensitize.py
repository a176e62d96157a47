"""Desensitization profiles: what an owner lets out of a table, column by column.

A profile (YAML or JSON, validated here) gives each column one rule:

* ``pseudonymize`` — identifiers become keyed HMAC-SHA256 pseudonyms. The key is derived
  from the owner's private key and the dataset name, so it never leaves the owner's node,
  is never stored, and gives the same pseudonym in every version of the dataset.
* ``round`` / ``bin`` / ``top_code`` + ``bottom_code`` / ``map`` — generalization of
  quasi-identifiers (numbers rounded or binned, extremes coded, finer geography mapped to
  coarser, e.g. street to district).
* ``truncate_date`` — dates cut to the month or the year.
* ``suppress`` — free text removed (the column is dropped).
* ``keep`` — passed through.

Columns the profile does not name are refused: a new column never slips out by default.
The result reports the k-anonymity of the declared quasi-identifiers and is refused when
it falls under the owner's ``min_k``. Rows stream through; memory grows only with the
number of distinct quasi-identifier groups.
"""

from __future__ import annotations

import csv
import hashlib
import hmac
import itertools
import json
import math
import os
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, Field, ValidationError, model_validator

from node.errors import InvalidInput, TanlianError, describe_validation


class KAnonymityTooLow(TanlianError):
    code = "k_anonymity_too_low"
    http_status = 422


class Pseudonymize(BaseModel):
    model_config = {"extra": "forbid"}
    pseudonymize: Literal[True]


class Round(BaseModel):
    model_config = {"extra": "forbid"}
    #: decimal places; negative rounds to tens, hundreds, …
    round: int = Field(ge=-9, le=9)


class Bin(BaseModel):
    model_config = {"extra": "forbid"}
    #: ascending edges; a value v becomes "[a, b)" for a <= v < b
    bin: list[float] = Field(min_length=2)

    @model_validator(mode="after")
    def _ascending(self) -> Bin:
        if any(b <= a for a, b in zip(self.bin, self.bin[1:], strict=False)):
            raise ValueError("bin edges must be strictly ascending")
        return self


class Code(BaseModel):
    model_config = {"extra": "forbid"}
    top_code: float | None = None
    bottom_code: float | None = None

    @model_validator(mode="after")
    def _some(self) -> Code:
        if self.top_code is None and self.bottom_code is None:
            raise ValueError("give top_code, bottom_code or both")
        return self


class MapTo(BaseModel):
    model_config = {"extra": "forbid"}
    map: dict[str, str] = Field(min_length=1)
    #: what unmapped values become (refused when unset)
    default: str | None = None


class TruncateDate(BaseModel):
    model_config = {"extra": "forbid"}
    truncate_date: Literal["year", "month"]


class Suppress(BaseModel):
    model_config = {"extra": "forbid"}
    suppress: Literal[True]


class Keep(BaseModel):
    model_config = {"extra": "forbid"}
    keep: Literal[True]


Rule = Annotated[
    Pseudonymize | Round | Bin | Code | MapTo | TruncateDate | Suppress | Keep,
    Field(union_mode="left_to_right"),
]


class Profile(BaseModel):
    model_config = {"extra": "forbid"}

    version: Literal[1] = 1
    columns: dict[str, Rule] = Field(min_length=1)
    quasi_identifiers: list[str] = []
    min_k: int = Field(default=1, ge=1)

    @model_validator(mode="after")
    def _quasi_identifiers_are_released(self) -> Profile:
        for q in self.quasi_identifiers:
            if q not in self.columns:
                raise ValueError(f"quasi-identifier {q!r} has no rule in columns")
            if isinstance(self.columns[q], Suppress):
                raise ValueError(f"quasi-identifier {q!r} is suppressed; drop it from the list")
        return self


def load_profile(source: Path | str | dict) -> Profile:
    """A profile from a YAML/JSON file, a YAML/JSON string or a dict; InvalidInput if bad."""
    try:
        if isinstance(source, dict):
            data = source
        else:
            text = Path(source).read_text() if isinstance(source, Path) else source
            data = yaml.safe_load(text) if not text.lstrip().startswith("{") else json.loads(text)
        return Profile.model_validate(data)
    except (yaml.YAMLError, json.JSONDecodeError, OSError) as exc:
        raise InvalidInput(f"desensitization profile is unreadable: {exc}") from None
    except ValidationError as exc:
        problems = describe_validation(exc, "profile")
        raise InvalidInput(f"invalid desensitization profile: {problems}") from None


def pseudonym_key(owner_secret: bytes, dataset_name: str) -> bytes:
    """The HMAC key of a dataset's pseudonyms, derived (HKDF-style) and never stored."""
    return hmac.new(
        owner_secret, b"tanlian/pseudonym/v1/" + dataset_name.encode(), hashlib.sha256
    ).digest()


def _number(column: str, value: str) -> float:
    try:
        x = float(value)
    except ValueError:
        raise InvalidInput(f"column {column!r}: {value!r} is not a number") from None
    if math.isnan(x):
        raise InvalidInput(f"column {column!r}: NaN cannot be generalized")
    return x


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(x)


def _transform(column: str, rule: Any, key: bytes) -> Callable[[str], str]:
    if isinstance(rule, Keep):
        return lambda v: v
    if isinstance(rule, Pseudonymize):
        return lambda v: hmac.new(key, v.encode(), hashlib.sha256).hexdigest()[:20] if v else ""
    if isinstance(rule, Round):
        return lambda v: _fmt(round(_number(column, v), rule.round)) if v else ""
    if isinstance(rule, Bin):
        edges = rule.bin

        def binned(v: str) -> str:
            if not v:
                return ""
            x = _number(column, v)
            if x < edges[0]:
                return f"<{_fmt(edges[0])}"
            for a, b in itertools.pairwise(edges):
                if a <= x < b:
                    return f"[{_fmt(a)}, {_fmt(b)})"
            return f">={_fmt(edges[-1])}"

        return binned
    if isinstance(rule, Code):

        def coded(v: str) -> str:
            if not v:
                return ""
            x = _number(column, v)
            if rule.top_code is not None and x >= rule.top_code:
                return f">={_fmt(rule.top_code)}"
            if rule.bottom_code is not None and x <= rule.bottom_code:
                return f"<={_fmt(rule.bottom_code)}"
            return v

        return coded
    if isinstance(rule, MapTo):

        def mapped(v: str) -> str:
            if v in rule.map:
                return rule.map[v]
            if rule.default is None:
                raise InvalidInput(f"column {column!r}: {v!r} has no mapping and no default")
            return rule.default

        return mapped
    if isinstance(rule, TruncateDate):
        n = 4 if rule.truncate_date == "year" else 7

        def truncated(v: str) -> str:
            if v and (len(v) < n or not v[:4].isdigit()):
                raise InvalidInput(f"column {column!r}: {v!r} is not an ISO date")
            return v[:n]

        return truncated
    raise AssertionError(rule)


def profile_hash(profile: Profile) -> bytes:
    """SHA-256 of the profile's canonical JSON: what the lineage on chain records."""
    canonical = json.dumps(
        profile.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode()).digest()


def desensitize_csv(profile: Profile, src: Path, dst: Path, key: bytes) -> dict[str, Any]:
    """Apply ``profile`` to the CSV file ``src``; see :func:`desensitize_lines`."""
    with open(src, newline="", encoding="utf-8-sig") as fh:
        return desensitize_lines(profile, fh, src.name, dst, key)


def desensitize_lines(
    profile: Profile, lines: Iterable[str], name: str, dst: Path, key: bytes
) -> dict[str, Any]:
    """Apply ``profile`` to CSV text ``lines`` (of a table called ``name`` in messages);
    write ``dst`` only if k >= min_k.

    Returns a report: rows, released columns, the k-anonymity of the quasi-identifiers and
    the number of distinct quasi-identifier groups.
    """
    reader = csv.reader(lines)
    try:
        header = next(reader)
    except StopIteration:
        raise InvalidInput(f"{name} is empty") from None
    unknown = [c for c in header if c not in profile.columns]
    if unknown:
        raise InvalidInput(
            f"{name}: no rule for columns {', '.join(unknown)}; every column needs "
            "one (use keep: true to pass one through)"
        )
    missing = [c for c in profile.columns if c not in header]
    if missing:
        raise InvalidInput(f"{name} lacks profile columns {', '.join(missing)}")
    released = [i for i, c in enumerate(header) if not isinstance(profile.columns[c], Suppress)]
    funcs = [_transform(header[i], profile.columns[header[i]], key) for i in released]
    out_names = [header[i] for i in released]
    qi_pos = [out_names.index(q) for q in profile.quasi_identifiers]
    groups: Counter[tuple[str, ...]] = Counter()
    rows = 0
    fd, tmp = tempfile.mkstemp(prefix=".desens-", dir=dst.parent)
    try:
        with os.fdopen(fd, "w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out, lineterminator="\n")
            writer.writerow(out_names)
            for line_no, row in enumerate(reader, start=2):
                if len(row) != len(header):
                    raise InvalidInput(
                        f"{name} line {line_no}: {len(row)} fields, expected {len(header)}"
                    )
                new = [f(row[i]) for f, i in zip(funcs, released, strict=True)]
                writer.writerow(new)
                if qi_pos:
                    groups[tuple(new[p] for p in qi_pos)] += 1
                rows += 1
        k = min(groups.values()) if groups else rows
        if rows and k < profile.min_k:
            raise KAnonymityTooLow(
                f"k-anonymity of {', '.join(profile.quasi_identifiers)} is {k}, under the "
                f"owner's minimum {profile.min_k}; generalize further",
                detail={"k": k, "min_k": profile.min_k, "groups": len(groups)},
            )
        os.replace(tmp, dst)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return {
        "rows": rows,
        "columns": out_names,
        "quasi_identifiers": profile.quasi_identifiers,
        "k_anonymity": k,
        "groups": len(groups),
        "min_k": profile.min_k,
    }
