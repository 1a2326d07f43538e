"""Matrices: one runner declared with `matrix = { python = ["3.10", "3.11"], include = [...], exclude = [...] }`
runs once per combination of the values, as runners named `test (python=3.10)`.

The combinations are the product of the lists (in declaration order), minus those matching an `exclude`
entry (every key it gives equal), then each `include` entry is added to every combination whose original
values it does not contradict, or, when it fits none, becomes a combination of its own (as GitHub
Actions does).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any, TypeAlias

from gryt.config import describe
from gryt.errors import ConfigError
from gryt.expressions import to_text

Scalar: TypeAlias = "str | int | float | bool"
Combination: TypeAlias = "dict[str, Scalar]"

MAX_COMBINATIONS = 256
"""More runners than that from one matrix is a mistake (a product grown by accident), not a pipeline."""
RESERVED = ("include", "exclude")


def expand(matrix: Mapping[str, Any], where: str = "matrix") -> list[Combination]:
    """The combinations of `matrix`, in order; ConfigError (`where.key: ...`) for a malformed one."""
    if not isinstance(matrix, Mapping):
        raise ConfigError(f"{where}: expected a table of lists, got {describe(matrix)}")
    dimensions: dict[str, list[Scalar]] = {}
    for key, values in matrix.items():
        if key in RESERVED:
            continue
        if not isinstance(values, list) or not values:
            raise ConfigError(f"{where}.{key}: expected a non-empty list of values, got {describe(values)}")
        for index, value in enumerate(values):
            _scalar(value, f"{where}.{key}[{index}]")
        dimensions[str(key)] = list(values)
    exclude = _entries(matrix.get("exclude", []), f"{where}.exclude")
    include = _entries(matrix.get("include", []), f"{where}.include")
    for index, entry in enumerate(exclude):
        for key in entry:
            if key not in dimensions:
                known = ", ".join(dimensions) or "none"
                raise ConfigError(f"{where}.exclude[{index}].{key}: not a key of the matrix; keys: {known}")
    if not dimensions and not include:
        raise ConfigError(f"{where}: no values: give at least one key with a list of values, or include")
    size = 1
    for values in dimensions.values():
        size *= len(values)
    if size > MAX_COMBINATIONS:
        raise ConfigError(f"{where}: {size} combinations, more than {MAX_COMBINATIONS}; split the runner")
    combos: list[Combination] = []
    if dimensions:
        for values in itertools.product(*dimensions.values()):
            combo = dict(zip(dimensions, values, strict=True))
            if not any(all(_same(combo.get(k), v) for k, v in entry.items()) for entry in exclude):
                combos.append(combo)
    originals = list(combos)
    for entry in include:
        fits = [c for c in originals if all(k not in dimensions or _same(c[k], v) for k, v in entry.items())]
        for combo in fits:
            combo.update(entry)
        if not fits:
            combos.append(dict(entry))
    if not combos:
        raise ConfigError(f"{where}: exclude leaves no combination")
    if len(combos) > MAX_COMBINATIONS:
        raise ConfigError(
            f"{where}: {len(combos)} combinations, more than {MAX_COMBINATIONS}; split the runner"
        )
    return combos


def runner_id(group: str, combo: Mapping[str, Scalar]) -> str:
    """`test (python=3.10, os=linux)`: the id of one combination's runner."""
    return f"{group} ({', '.join(f'{k}={to_text(v)}' for k, v in combo.items())})"


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


def _scalar(value: Any, where: str) -> Scalar:
    if not isinstance(value, (str, int, float, bool)):
        raise ConfigError(f"{where}: expected a string, number or boolean, got {describe(value)}")
    return value


def _entries(values: Any, where: str) -> list[Combination]:
    if not isinstance(values, list):
        raise ConfigError(f"{where}: expected a list of tables, got {describe(values)}")
    out: list[Combination] = []
    for index, entry in enumerate(values):
        if not isinstance(entry, Mapping) or not entry:
            raise ConfigError(f"{where}[{index}]: expected a non-empty table, got {describe(entry)}")
        out.append({str(k): _scalar(v, f"{where}[{index}].{k}") for k, v in entry.items()})
    return out
