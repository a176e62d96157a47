"""Indicator frameworks: a target → system → indicator hierarchy of any depth.

A framework is declared in YAML (a nested tree) or imported from COINr's ``iMeta`` table. Both
become the same canonical :class:`Framework`, whose :meth:`Framework.meta` is an ``iMeta``-like
table (Level, iCode, iName, Direction, Weight, Parent, Type …) that the pipeline steps read.
Levels count from the bottom as in COINr: indicators are level 1, their parents level 2, and so on.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from analytics.errors import InvalidFramework
from analytics.tables import describe_errors

CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_.]*$")
PSR = Literal["pressure", "state", "response"]


class Goalposts(BaseModel):
    """The worst and best plausible values: scores are 0 at ``worst`` and 1 at ``best``."""

    model_config = ConfigDict(extra="forbid")
    worst: float
    best: float

    @model_validator(mode="after")
    def _distinct(self) -> Goalposts:
        if self.worst == self.best:
            raise ValueError("worst and best must differ")
        return self


class Source(BaseModel):
    """Where an indicator's values come from: a dataset column, or a formula over columns."""

    model_config = ConfigDict(extra="forbid")
    dataset: str | None = None
    column: str | None = None
    formula: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Source:
        if (self.formula is None) == (self.column is None):
            raise ValueError("give either 'column' (with 'dataset') or 'formula'")
        return self


class Node(BaseModel):
    """One node of the tree: an aggregate (it has children) or an indicator (it has none)."""

    model_config = ConfigDict(extra="forbid")
    code: str
    name_zh: str = ""
    name_en: str = ""
    weight: float = Field(default=1.0, ge=0)
    children: list[Node] = Field(default_factory=list)
    # Indicator-only fields; validated below so an aggregate cannot carry them by mistake.
    unit: str | None = None
    direction: Literal[1, -1] | None = None
    source: Source | None = None
    denominator: str | None = None
    normalise: dict[str, Any] | None = None
    reference: float | None = None
    target: float | None = None
    goalposts: Goalposts | None = None
    psr: PSR | None = None
    # The framework variants this node belongs to (None: all of them).
    variants: list[str] | None = None

    @field_validator("code")
    @classmethod
    def _code(cls, v: str) -> str:
        if not CODE.match(v):
            raise ValueError(
                f"code {v!r} must start with a letter and hold letters, digits, _ or ."
            )
        return v

    @model_validator(mode="after")
    def _kind(self) -> Node:
        if self.children:
            extra = [
                k
                for k in ("unit", "direction", "source", "denominator", "normalise", "psr")
                if getattr(self, k) is not None
            ]
            if extra:
                raise ValueError(f"aggregate {self.code} has indicator fields: {', '.join(extra)}")
        elif self.direction is None:
            raise ValueError(f"indicator {self.code} needs a direction (1 or -1)")
        return self


class FrameworkFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    title_zh: str = ""
    title_en: str = ""
    description: str = ""
    level_names: list[str] | None = None
    variants: list[str] = Field(default_factory=list)
    index: Node


@dataclass(frozen=True)
class Framework:
    """A validated hierarchy; ``root`` is the index, ``groups`` name the data's group columns."""

    name: str
    root: Node
    level_names: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    denominators: tuple[str, ...] = ()
    title_zh: str = ""
    title_en: str = ""
    _levels: dict[str, int] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        seen: dict[str, int] = {}
        _level(self.root, seen)
        object.__setattr__(self, "_levels", seen)

    def nodes(self) -> Iterator[tuple[Node, Node | None]]:
        """Every node with its parent, depth first."""
        stack: list[tuple[Node, Node | None]] = [(self.root, None)]
        while stack:
            node, parent = stack.pop()
            yield node, parent
            stack.extend((c, node) for c in reversed(node.children))

    @property
    def indicators(self) -> list[Node]:
        return [n for n, _ in self.nodes() if not n.children]

    @property
    def indicator_codes(self) -> list[str]:
        return [n.code for n in self.indicators]

    @property
    def index_code(self) -> str:
        return self.root.code

    @property
    def max_level(self) -> int:
        return self._levels[self.root.code]

    def level(self, code: str) -> int:
        return self._levels[code]

    def node(self, code: str) -> Node:
        for n, _ in self.nodes():
            if n.code == code:
                return n
        raise InvalidFramework(f"no indicator or aggregate {code!r} in framework {self.name}")

    @property
    def parents(self) -> dict[str, str]:
        return {n.code: p.code for n, p in self.nodes() if p is not None}

    def aggregates_by_level(self) -> list[tuple[int, list[Node]]]:
        """Aggregates from the lowest level up; within a level, by code (COINr's column order)."""
        by: dict[int, list[Node]] = {}
        for n, _ in self.nodes():
            if n.children:
                by.setdefault(self._levels[n.code], []).append(n)
        return [(lvl, sorted(by[lvl], key=lambda n: n.code)) for lvl in sorted(by)]

    def meta(self) -> pd.DataFrame:
        """The framework as COINr's ``iMeta`` (indicators first, then aggregates by level)."""
        rows = []
        for n, p in self.nodes():
            rows.append(
                {
                    "Level": self._levels[n.code],
                    "iCode": n.code,
                    "iName": n.name_en or n.name_zh or n.code,
                    "iName_zh": n.name_zh,
                    "Direction": n.direction if n.direction is not None else 1,
                    "Weight": n.weight,
                    "Unit": n.unit,
                    "Target": n.target,
                    "Reference": n.reference,
                    "Denominator": n.denominator,
                    "Parent": p.code if p else None,
                    "Type": "Aggregate" if n.children else "Indicator",
                    "PSR": n.psr,
                }
            )
        meta = pd.DataFrame(rows)
        return meta.sort_values("Level", kind="stable").reset_index(drop=True)


def _level(node: Node, seen: dict[str, int]) -> int:
    if node.code in seen:
        raise InvalidFramework(f"code {node.code!r} appears more than once in the framework")
    lvl = 1 + max((_level(c, seen) for c in node.children), default=0)
    seen[node.code] = lvl
    return lvl


def _prune(node: Node, variant: str) -> Node | None:
    """The subtree of ``variant``: nodes of other variants and emptied aggregates removed."""
    if node.variants is not None and variant not in node.variants:
        return None
    if not node.children:
        return node
    kids = [k for k in (_prune(c, variant) for c in node.children) if k is not None]
    return node.model_copy(update={"children": kids}) if kids else None


def parse_framework(
    doc: Any, *, origin: str = "framework", variant: str | None = None
) -> Framework:
    """A framework from an already-parsed YAML document, narrowed to ``variant`` if given."""
    if not isinstance(doc, dict):
        raise InvalidFramework(f"{origin}: expected a mapping with 'name' and 'index'")
    try:
        spec = FrameworkFile.model_validate(doc)
    except ValidationError as exc:
        raise InvalidFramework(f"{origin}: {describe_errors(exc, 'framework')}") from None
    root: Node | None = spec.index
    for n, _ in Framework(name=spec.name, root=spec.index).nodes():
        unknown = sorted(set(n.variants or ()) - set(spec.variants))
        if unknown:
            raise InvalidFramework(
                f"{origin}: {n.code} names variant(s) {', '.join(unknown)} not declared in "
                f"'variants' ({', '.join(spec.variants) or 'none'})"
            )
    if variant is not None:
        if variant not in spec.variants:
            raise InvalidFramework(
                f"{origin}: no variant {variant!r} (declared: {', '.join(spec.variants) or 'none'})"
            )
        root = _prune(spec.index, variant)
        if root is None:
            raise InvalidFramework(f"{origin}: variant {variant} leaves no indicator")
    fw = Framework(
        name=spec.name if variant is None else f"{spec.name}:{variant}",
        root=root,
        level_names=tuple(spec.level_names or ()),
        title_zh=spec.title_zh,
        title_en=spec.title_en,
    )
    if not fw.root.children:
        raise InvalidFramework(f"{origin}: the index {fw.root.code} has no children")
    if fw.level_names and len(fw.level_names) != fw.max_level:
        raise InvalidFramework(
            f"{origin}: {len(fw.level_names)} level_names for a hierarchy of {fw.max_level} levels"
        )
    return fw


def from_imeta(meta: pd.DataFrame, *, name: str = "imeta") -> Framework:
    """A framework from COINr's ``iMeta`` table (Level, iCode, Parent, Type, Direction, Weight…)."""
    missing = {"iCode", "Type", "Parent"} - set(meta.columns)
    if missing:
        raise InvalidFramework(f"{name}: iMeta lacks column(s) {', '.join(sorted(missing))}")
    rows = meta[meta["Type"].isin(["Indicator", "Aggregate"])]
    children: dict[str | None, list[str]] = {}
    for _, r in rows.iterrows():
        parent = r["Parent"] if isinstance(r["Parent"], str) and r["Parent"] else None
        children.setdefault(parent, []).append(r["iCode"])
    roots = children.get(None, [])
    if len(roots) != 1:
        raise InvalidFramework(f"{name}: expected exactly one row without a Parent, found {roots}")
    by_code = {r["iCode"]: r for _, r in rows.iterrows()}
    unknown = sorted(p for p in children if p is not None and p not in by_code)
    if unknown:
        raise InvalidFramework(f"{name}: Parent(s) {', '.join(unknown)} are not rows of iMeta")

    def opt(r: pd.Series, col: str) -> Any:
        v = r.get(col)
        return None if v is None or (isinstance(v, float) and pd.isna(v)) else v

    def build(code: str) -> dict[str, Any]:
        r = by_code[code]
        node: dict[str, Any] = {
            "code": code,
            "name_en": str(opt(r, "iName") or ""),
            "weight": float(opt(r, "Weight") if opt(r, "Weight") is not None else 1.0),
        }
        if r["Type"] == "Indicator":
            node.update(
                direction=int(opt(r, "Direction") or 1),
                unit=opt(r, "Unit"),
                target=opt(r, "Target"),
                denominator=opt(r, "Denominator"),
            )
        else:
            node["children"] = [build(c) for c in children.get(code, [])]
        return node

    try:
        root = Node.model_validate(build(roots[0]))
    except ValidationError as exc:
        raise InvalidFramework(f"{name}: {describe_errors(exc, 'framework')}") from None
    return Framework(
        name=name,
        root=root,
        groups=tuple(meta.loc[meta["Type"] == "Group", "iCode"]),
        denominators=tuple(meta.loc[meta["Type"] == "Denominator", "iCode"]),
    )


def load_framework(path: Path, variant: str | None = None) -> Framework:
    """Read a framework: YAML (``.yaml``/``.yml``) or a COINr ``iMeta`` CSV."""
    path = Path(path)
    if not path.is_file():
        raise InvalidFramework(f"framework file {path} does not exist")
    if path.suffix.lower() == ".csv":
        try:
            meta = pd.read_csv(path)
        except (pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise InvalidFramework(f"{path}: not a readable CSV ({exc})") from None
        if variant is not None:
            raise InvalidFramework(f"{path}: an iMeta table has no variants")
        return from_imeta(meta, name=path.stem)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InvalidFramework(f"{path}: not valid YAML ({exc})") from None
    return parse_framework(doc, origin=str(path), variant=variant)
