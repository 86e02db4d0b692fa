"""Check a decoded object against a generated ``TypedDict`` at run time (for tests: the types match the server).

Only what generated types use is understood: ``TypedDict`` (``Required`` keys, open to nothing else: a key the
type does not declare is reported, since it means the schema missed a field), ``list``, ``dict``, ``Literal``,
unions, ``Any`` and the JSON scalars. A ``float`` accepts an ``int``, as it does for mypy; a ``bool`` is never an
``int``.
"""

from __future__ import annotations

import functools
import types
import typing
from dataclasses import dataclass
from typing import Any, Literal, Required, Union, get_args, get_origin, is_typeddict


@dataclass(frozen=True)
class TypeMismatch:
    """Where a value does not match its type.

    Attributes:
        path: the JSON path of the value (``.spec.containers[0].image``; ``""`` for the object itself).
        problem: what is wrong.

    Thread-safety: immutable.
    """

    path: str
    problem: str

    def __str__(self) -> str:
        return f"{self.path or '.'}: {self.problem}"


def type_mismatches(value: object, expected: object, *, limit: int = 20) -> list[TypeMismatch]:
    """Return where ``value`` does not match ``expected`` (a generated ``TypedDict`` or any type it uses).

    Args:
        value: decoded JSON.
        expected: the type.
        limit: stop after this many mismatches.

    >>> from typing import TypedDict
    >>> class Port(TypedDict, total=False):
    ...     port: Required[int]
    ...     protocol: Literal["TCP", "UDP"]
    >>> [str(m) for m in type_mismatches({"port": "80", "protocol": "SCTP", "name": "web"}, Port)]
    ['.port: expected int, got str', '.protocol: expected one of TCP, UDP, got SCTP', '.name: not a key of Port']
    >>> [str(m) for m in type_mismatches({}, Port)]
    ['.: required key port is missing']
    """
    found: list[TypeMismatch] = []
    _check(value, expected, "", found, limit)
    return found


def _check(value: object, expected: Any, path: str, found: list[TypeMismatch], limit: int) -> None:  # noqa: C901, PLR0912
    if len(found) >= limit or expected is Any:
        return
    origin = get_origin(expected)
    if origin is Required:
        _check(value, get_args(expected)[0], path, found, limit)
    elif is_typeddict(expected):
        _check_typeddict(value, expected, path, found, limit)
    elif origin in (Union, types.UnionType):
        if not any(not type_mismatches(value, member, limit=1) for member in get_args(expected)):
            names = " | ".join(_name(member) for member in get_args(expected))
            found.append(TypeMismatch(path, f"expected {names}, got {_name(type(value))}"))
    elif origin is Literal:
        if value not in get_args(expected) or isinstance(value, bool) != isinstance(get_args(expected)[0], bool):
            allowed = ", ".join(str(arg) for arg in get_args(expected))
            found.append(TypeMismatch(path, f"expected one of {allowed}, got {value}"))
    elif origin is list:
        if not isinstance(value, list):
            found.append(TypeMismatch(path, f"expected a list, got {_name(type(value))}"))
            return
        for index, item in enumerate(value):
            _check(item, get_args(expected)[0], f"{path}[{index}]", found, limit)
    elif origin is dict:
        if not isinstance(value, dict):
            found.append(TypeMismatch(path, f"expected a map, got {_name(type(value))}"))
            return
        for key, item in value.items():
            _check(item, get_args(expected)[1], f"{path}[{key!r}]", found, limit)
    elif not _is_instance(value, expected):
        found.append(TypeMismatch(path, f"expected {_name(expected)}, got {_name(type(value))}"))


def _check_typeddict(value: object, expected: Any, path: str, found: list[TypeMismatch], limit: int) -> None:
    if not isinstance(value, dict):
        found.append(TypeMismatch(path, f"expected a {expected.__name__} map, got {_name(type(value))}"))
        return
    hints = _hints(expected)
    # __required_keys__ is wrong at run time when annotations are strings (3.11 cannot see Required in a string).
    required = sorted(key for key, hint in hints.items() if get_origin(hint) is Required and key not in value)
    found.extend(TypeMismatch(path, f"required key {key} is missing") for key in required)
    for key, item in value.items():
        if key not in hints:
            found.append(TypeMismatch(f"{path}.{key}", f"not a key of {expected.__name__}"))
        else:
            _check(item, hints[key], f"{path}.{key}", found, limit)


@functools.cache
def _hints(typed_dict: Any) -> dict[str, Any]:
    # Generated modules import each other by module, so annotations resolve in the defining module's namespace.
    return typing.get_type_hints(typed_dict, include_extras=True)


def _is_instance(value: object, expected: Any) -> bool:
    if expected is None or expected is type(None):
        return value is None
    if expected is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if expected is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, expected)


def _name(expected: Any) -> str:
    if expected is None or expected is type(None):
        return "None"
    return str(getattr(expected, "__name__", expected))


__all__ = ["TypeMismatch", "type_mismatches"]
