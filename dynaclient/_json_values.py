"""Classify, copy, coerce and describe decoded JSON values with apimachinery's unstructured rules.

Type checks keep apimachinery's number split (``pkg/util/json`` decodes ``3`` as int64 and ``3.0`` as float64);
copies follow ``runtime.DeepCopyJSONValue``; error messages show the offending value shortened, and never the
values under ``data``, ``stringData`` or ``binaryData`` (Secret and ConfigMap payloads).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, TypeGuard

from dynaclient.exceptions import FieldTypeError

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_PAYLOAD_KEYS = frozenset({"data", "stringData", "binaryData"})
_PREVIEW_CHARS = 40


def is_str(value: Any) -> bool:
    """Tell whether ``value`` is a JSON string."""
    return isinstance(value, str)


def is_bool(value: Any) -> bool:
    """Tell whether ``value`` is a JSON boolean."""
    return isinstance(value, bool)


def is_int64(value: Any) -> TypeGuard[int]:
    """Tell whether ``value`` is a JSON integer in the int64 range; a bool is not.

    >>> is_int64(3), is_int64(True), is_int64(3.0), is_int64(2**63)
    (True, False, False, False)
    """
    # bool is a subclass of int; apimachinery decodes integers beyond int64 as float64 (pkg/util/json convertNumber).
    return isinstance(value, int) and not isinstance(value, bool) and _INT64_MIN <= value <= _INT64_MAX


def is_float(value: Any) -> bool:
    """Tell whether ``value`` is a JSON number decoded as a float."""
    return isinstance(value, float)


def is_exact_number(value: Any) -> bool:
    """Tell whether ``value`` is a float, or an int64 that a float represents exactly (``NestedNumberAsFloat64``).

    >>> is_exact_number(2), is_exact_number(2.5), is_exact_number(2**53 + 1)
    (True, True, False)
    """
    return is_float(value) or (is_int64(value) and int(float(value)) == value)


def is_list(value: Any) -> bool:
    """Tell whether ``value`` is a JSON array."""
    return isinstance(value, list)


def is_map(value: Any) -> bool:
    """Tell whether ``value`` is a JSON object."""
    return isinstance(value, Mapping)


def type_error(path: Sequence[str], value: Any, expected: str, detail: str = "") -> FieldTypeError:
    """Build the FieldTypeError for ``value`` found at ``path`` where ``expected`` was wanted.

    Args:
        path: the field path, from the object's root.
        value: the offending value; shown shortened, or redacted under a Secret or ConfigMap payload.
        expected: the Python type name wanted.
        detail: text put before the value, for an item inside a list or map.

    Returns:
        The error, worded like apimachinery's ``accessor error``.

    >>> str(type_error(["data", "key"], "s3cr3t", "int"))
    '.data.key accessor error: <redacted> is of the type str, expected int'
    """
    where = json_path(path)
    shown = "<redacted>" if path and path[0] in _PAYLOAD_KEYS else _preview(value)
    message = f"{where} accessor error: {detail}{shown} is of the type {type(value).__name__}, expected {expected}"
    return FieldTypeError(message, path=where)


def _preview(value: Any) -> str:
    if isinstance(value, Mapping):
        return f"a map of {len(value)} keys"
    if isinstance(value, list):
        return f"a list of {len(value)} items"
    if isinstance(value, str) and len(value) > _PREVIEW_CHARS:
        return json.dumps(value[:_PREVIEW_CHARS] + "...")
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return f"a {type(value).__name__}"


def json_path(path: Sequence[str]) -> str:
    """Render a field path as apimachinery's error messages do.

    >>> json_path(["spec", "replicas"])
    '.spec.replicas'
    """
    return "." + ".".join(path)


def deep_copy(value: Any) -> Any:
    """Copy maps and lists recursively; scalars are immutable and shared (``runtime.DeepCopyJSONValue``)."""
    if isinstance(value, Mapping):
        return {key: deep_copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [deep_copy(item) for item in value]
    return value


def null_coercing_string_map(value: Any) -> dict[str, str]:
    """Return a copy of a map of strings with ``null`` read as ``""``, or ``{}`` when any other value is not a str.

    Follows apimachinery ``NestedNullCoercingStringMap`` as ``Unstructured.GetLabels`` uses it.
    """
    if not isinstance(value, Mapping):
        return {}
    result: dict[str, str] = {}
    for key, item in value.items():
        if item is None:
            result[key] = ""
        elif isinstance(item, str):
            result[key] = item
        else:
            return {}
    return result


def parse_time(text: str) -> datetime | None:
    """Parse an RFC 3339 ``metav1.Time``, or return ``None`` for ``""``, ``null`` or a time without an offset.

    >>> parse_time("2024-05-01T10:00:00+02:00"), parse_time("2024-05-01")
    (datetime.datetime(2024, 5, 1, 10, 0, tzinfo=datetime.timezone(datetime.timedelta(seconds=7200))), None)
    """
    # metav1.Time.UnmarshalQueryParameter: "" and "null" are the zero time; RFC 3339 needs a date, a time and an offset.
    if "T" not in text.upper():
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


__all__ = [
    "deep_copy",
    "is_bool",
    "is_exact_number",
    "is_float",
    "is_int64",
    "is_list",
    "is_map",
    "is_str",
    "json_path",
    "null_coercing_string_map",
    "parse_time",
    "type_error",
]
