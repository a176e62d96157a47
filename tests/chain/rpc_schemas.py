"""The execution-apis method schemas (tests/specs/execution-apis), as JSON-schema validators.

A result conforms when it validates against its method's ``result.schema`` with every
``#/components/schemas/NAME`` resolved from the union of ``src/schemas/*.yaml`` (the spec's
own rule, see the README there). The requests the tests send are validated against the
methods' ``params`` schemas too, so that the tests ask only standard questions.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

SPEC = Path(__file__).resolve().parent.parent / "specs" / "execution-apis" / "src"


@cache
def _components() -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    for path in sorted((SPEC / "schemas").glob("*.yaml")):
        schemas.update(yaml.safe_load(path.read_text()))
    return {"schemas": schemas}


@cache
def methods() -> dict[str, dict[str, Any]]:
    """Every method of the spec, by name: its ``params`` and ``result`` definitions."""
    out: dict[str, dict[str, Any]] = {}
    for path in sorted((SPEC / "eth").glob("*.yaml")):
        for method in yaml.safe_load(path.read_text()):
            out[method["name"]] = method
    return out


def _validator(schema: dict[str, Any]) -> Draft202012Validator:
    # the method's schema becomes the root document, so that '#/components/...' resolves
    return Draft202012Validator({**schema, "components": _components()})


def result_errors(method: str, result: Any) -> list[str]:
    """Why ``result`` does not conform to ``method``'s result schema (empty when it does)."""
    schema = methods()[method]["result"]["schema"]
    return [_describe(e) for e in _validator(schema).iter_errors(result)]


def params_errors(method: str, params: list[Any]) -> list[str]:
    """Why ``params`` are not a standard request of ``method`` (empty when they are)."""
    spec = methods()[method]["params"]
    errors = []
    for i, param in enumerate(spec):
        if i >= len(params):
            if param.get("required"):
                errors.append(f"param {i} ({param['name']}) is required")
            continue
        errors += [
            f"param {i}: {_describe(e)}" for e in _validator(param["schema"]).iter_errors(params[i])
        ]
    if len(params) > len(spec):
        errors.append(f"{len(params)} params, the spec defines {len(spec)}")
    return errors


def _describe(error: ValidationError) -> str:
    # a oneOf/anyOf failure says little by itself: name the failure deepest in the answer
    # (the branch that got furthest), not "is not valid under any of the given schemas"
    leaves = list(_leaves(error))
    deepest = max(leaves, key=lambda e: (len(e.absolute_path), e.validator != "type"))
    where = "/".join(str(p) for p in deepest.absolute_path) or "(root)"
    return f"{where}: {deepest.message[:200]}"


def _leaves(error: ValidationError) -> Iterator[ValidationError]:
    if not error.context:
        yield error
    for sub in error.context:
        yield from _leaves(sub)
