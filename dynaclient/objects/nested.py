"""The ``nested_*`` helpers: read and write fields of objects held as plain dicts, by path.

They follow apimachinery ``pkg/apis/meta/v1/unstructured/helpers.go``:

* A path is a sequence of map keys; there is no list syntax (``"e[0]"`` is a literal key).
* A missing key, or a JSON ``null`` on the way, means *not found*; a value on the way that is not a map is a
  :class:`~dynaclient.exceptions.FieldTypeError` naming the path.
* Typed accessors return ``(value, found)``. A value of the wrong JSON type, a present ``null`` included, raises
  ``FieldTypeError``; a missing value gives ``(zero value, False)``.
* Numbers keep apimachinery's split: JSON ``3`` is an int (int64) and ``3.0`` a float. :func:`nested_int` accepts
  no float and no bool; :func:`nested_float` accepts no int (``NestedFloat64``); :func:`nested_number_as_float`
  accepts both when the int converts exactly (``NestedNumberAsFloat64``).

Error messages show the offending value shortened, and never the values under ``data``, ``stringData`` or
``binaryData`` (Secret and ConfigMap payloads).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from dynaclient._json_values import (
    deep_copy,
    is_bool,
    is_exact_number,
    is_float,
    is_int64,
    is_list,
    is_map,
    is_str,
    json_path,
    type_error,
)
from dynaclient._types import JSONObject
from dynaclient.exceptions import FieldTypeError


def nested_field(obj: Mapping[str, Any], *path: str) -> tuple[Any, bool]:
    """Return ``(value, found)`` for the field at ``path``, without copying (apimachinery ``NestedFieldNoCopy``).

    A field present with value ``null`` gives ``(None, True)``.

    Raises:
        FieldTypeError: a value on the way is not a map; the message names the path up to that value.

    >>> nested_field({"spec": {"replicas": 3}}, "spec", "replicas")
    (3, True)
    >>> nested_field({"spec": None}, "spec", "replicas")
    (None, False)
    >>> nested_field({"spec": "x"}, "spec", "replicas")
    Traceback (most recent call last):
    ...
    dynaclient.exceptions.FieldTypeError: .spec.replicas accessor error: "x" is of the type str, expected dict
    """
    value: Any = obj
    for depth, key in enumerate(path):
        if value is None:
            return None, False
        if not isinstance(value, Mapping):
            raise type_error(path[: depth + 1], value, "dict")
        if key not in value:
            return None, False
        value = value[key]
    return value, True


def nested_field_copy(obj: Mapping[str, Any], *path: str) -> tuple[Any, bool]:
    """Return ``(deep copy of value, found)`` for the field at ``path`` (apimachinery ``NestedFieldCopy``).

    Raises:
        FieldTypeError: a value on the way is not a map.
    """
    value, found = nested_field(obj, *path)
    return (deep_copy(value), True) if found else (None, False)


def nested_get(obj: Mapping[str, Any], *path: str, default: Any = None) -> Any:
    """Return the field at ``path``, or ``default`` when it is missing; the value is not copied.

    A field present with value ``null`` is returned as ``None``, not replaced by ``default``.

    Raises:
        FieldTypeError: a value on the way is not a map.

    >>> deployment = {"spec": {"replicas": 3, "template": {"metadata": None}}}
    >>> nested_get(deployment, "spec", "replicas")
    3
    >>> nested_get(deployment, "spec", "paused", default=False)
    False
    >>> nested_get(deployment, "spec", "template", "metadata", "labels", default={})
    {}
    """
    value, found = nested_field(obj, *path)
    return value if found else default


def nested_string(obj: Mapping[str, Any], *path: str) -> tuple[str, bool]:
    """Return ``(value, found)`` for a string field; ``("", False)`` when missing.

    Raises:
        FieldTypeError: the field is not a string (``null`` included), or a value on the way is not a map.

    >>> nested_string({"spec": {"replicas": "3"}}, "spec", "replicas")
    ('3', True)
    >>> nested_int({"spec": {"replicas": "3"}}, "spec", "replicas")
    Traceback (most recent call last):
    ...
    dynaclient.exceptions.FieldTypeError: .spec.replicas accessor error: "3" is of the type str, expected int
    """
    value, found = _nested_checked(obj, path, is_str, "str")
    return (value, True) if found else ("", False)


def nested_int(obj: Mapping[str, Any], *path: str) -> tuple[int, bool]:
    """Return ``(value, found)`` for an integer field (apimachinery ``NestedInt64``); ``(0, False)`` when missing.

    Raises:
        FieldTypeError: the field is not an int in the int64 range; a bool or a float (even ``1.0``) is an error.
    """
    value, found = _nested_checked(obj, path, is_int64, "int")
    return (value, True) if found else (0, False)


def nested_float(obj: Mapping[str, Any], *path: str) -> tuple[float, bool]:
    """Return ``(value, found)`` for a float field (apimachinery ``NestedFloat64``); ``(0.0, False)`` when missing.

    Like apimachinery, an int is not accepted: JSON ``1`` decodes to an int, ``1.0`` to a float. Use
    :func:`nested_number_as_float` to accept both.

    Raises:
        FieldTypeError: the field is not a float.
    """
    value, found = _nested_checked(obj, path, is_float, "float")
    return (value, True) if found else (0.0, False)


def nested_number_as_float(obj: Mapping[str, Any], *path: str) -> tuple[float, bool]:
    """Return ``(value, found)`` for a number field as a float (apimachinery ``NestedNumberAsFloat64``).

    >>> nested_number_as_float({"a": 2}, "a")
    (2.0, True)

    Raises:
        FieldTypeError: the field is not a number, or an int that no float represents exactly.
    """
    value, found = _nested_checked(obj, path, is_exact_number, "float")
    return (float(value), True) if found else (0.0, False)


def nested_bool(obj: Mapping[str, Any], *path: str) -> tuple[bool, bool]:
    """Return ``(value, found)`` for a boolean field; ``(False, False)`` when missing.

    Raises:
        FieldTypeError: the field is not a bool.
    """
    value, found = _nested_checked(obj, path, is_bool, "bool")
    return (value, True) if found else (False, False)


def nested_list(obj: Mapping[str, Any], *path: str) -> tuple[list[Any], bool]:
    """Return ``(deep copy, found)`` for a list field (apimachinery ``NestedSlice``); ``([], False)`` when missing.

    Raises:
        FieldTypeError: the field is not a list.
    """
    value, found = _nested_checked(obj, path, is_list, "list")
    return (deep_copy(value), True) if found else ([], False)


def nested_map(obj: Mapping[str, Any], *path: str) -> tuple[JSONObject, bool]:
    """Return ``(deep copy, found)`` for a map field (apimachinery ``NestedMap``); ``({}, False)`` when missing.

    Raises:
        FieldTypeError: the field is not a map.
    """
    value, found = _nested_checked(obj, path, is_map, "dict")
    return (deep_copy(value), True) if found else ({}, False)


def nested_string_list(obj: Mapping[str, Any], *path: str) -> tuple[list[str], bool]:
    """Return ``(new list, found)`` for a list of strings (apimachinery ``NestedStringSlice``).

    Raises:
        FieldTypeError: the field is not a list, or an item is not a string.

    >>> nested_string_list({"f": ["a", 1]}, "f")
    Traceback (most recent call last):
    ...
    dynaclient.exceptions.FieldTypeError: .f accessor error: contains non-string item in the list: 1 is ...
    """
    items, found = _nested_checked(obj, path, is_list, "list")
    if not found:
        return [], False
    for item in items:
        if not isinstance(item, str):
            raise type_error(path, item, "str", "contains non-string item in the list: ")
    return list(items), True


def nested_string_map(obj: Mapping[str, Any], *path: str) -> tuple[dict[str, str], bool]:
    """Return ``(new dict, found)`` for a map of strings (apimachinery ``NestedStringMap``).

    Raises:
        FieldTypeError: the field is not a map, or a value in it is not a string.
    """
    mapping, found = _nested_checked(obj, path, is_map, "dict")
    if not found:
        return {}, False
    for key, value in mapping.items():
        if not isinstance(value, str):
            raise type_error(path, value, "str", f"contains non-string value in the map under key {key!r}: ")
    return dict(mapping), True


def nested_set(obj: JSONObject, value: Any, *path: str) -> None:
    """Set the field at ``path`` to a deep copy of ``value``, creating missing maps (``SetNestedField``).

    >>> obj = {}
    >>> nested_set(obj, 3, "spec", "replicas")
    >>> obj
    {'spec': {'replicas': 3}}

    Raises:
        FieldTypeError: a value on the way exists and is not a map (``null`` included).
        ValueError: ``path`` is empty.
    """
    if not path:
        raise ValueError("nested_set needs at least one field name")
    current = obj
    for depth, key in enumerate(path[:-1]):
        child = current.setdefault(key, {})
        if not isinstance(child, dict):
            where = json_path(path[: depth + 1])
            raise FieldTypeError(f"value cannot be set because {where} is not a map", path=where)
        current = child
    current[path[-1]] = deep_copy(value)


def nested_delete(obj: JSONObject, *path: str) -> None:
    """Remove the field at ``path``; do nothing when it or a map on the way is missing (``RemoveNestedField``).

    Never raises, even when a value on the way is not a map.

    >>> obj = {"metadata": {"name": "a", "uid": "u"}}
    >>> nested_delete(obj, "metadata", "uid")
    >>> nested_delete(obj, "metadata", "name", "nothing-below")
    >>> obj
    {'metadata': {'name': 'a'}}
    """
    current: Any = obj
    for key in path[:-1]:
        current = current.get(key)
        if not isinstance(current, dict):
            return
    if path:
        current.pop(path[-1], None)


def _nested_checked(
    obj: Mapping[str, Any], path: Sequence[str], accept: Callable[[Any], bool], expected: str
) -> tuple[Any, bool]:
    value, found = nested_field(obj, *path)
    if found and not accept(value):
        raise type_error(path, value, expected)
    return value, found


__all__ = [
    "nested_bool",
    "nested_delete",
    "nested_field",
    "nested_field_copy",
    "nested_float",
    "nested_get",
    "nested_int",
    "nested_list",
    "nested_map",
    "nested_number_as_float",
    "nested_set",
    "nested_string",
    "nested_string_list",
    "nested_string_map",
]
