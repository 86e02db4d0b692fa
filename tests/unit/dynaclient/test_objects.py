"""Nested field access on plain dict objects: nested_field, nested_get, the typed accessors, nested_set and
nested_delete, with apimachinery's unstructured helpers as the reference.

The metadata accessors are tested in test_object_metadata.py.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

import pytest

from dynaclient._types import JSONObject
from dynaclient.exceptions import FieldTypeError
from dynaclient.objects import (
    nested_bool,
    nested_delete,
    nested_field,
    nested_field_copy,
    nested_float,
    nested_get,
    nested_int,
    nested_list,
    nested_map,
    nested_number_as_float,
    nested_set,
    nested_string,
    nested_string_list,
    nested_string_map,
)

Accessor = Callable[..., tuple[Any, bool]]


def _fixture() -> JSONObject:
    # The object of apimachinery helpers_test.go TestNestedFieldNoCopy.
    return {
        "a": {
            "b": {"foo": "bar"},
            "c": None,
            "d": ["foo"],
            "e": [{"f": "bar"}],
        }
    }


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (("a", "b"), ({"foo": "bar"}, True)),
        (("a", "c"), (None, True)),
        (("a", "g"), (None, False)),
        (("a", "g", "f"), (None, False)),
        (("a", "c", "f"), (None, False)),
        (("a", "e[0]"), (None, False)),
        ((), (_fixture(), True)),
    ],
    ids=[
        "exists",
        "exists-as-null",
        "missing",
        "missing-intermediate",
        "null-intermediate-is-not-found",
        "no-array-syntax",
        "empty-path-is-the-object",
    ],
)
def test_nested_field_finds_values_like_nested_field_no_copy(path: tuple[str, ...], expected: tuple[Any, bool]) -> None:
    assert nested_field(_fixture(), *path) == expected


def test_nested_field_returns_the_stored_value_itself() -> None:
    obj = _fixture()
    value, found = nested_field(obj, "a", "b")
    assert found
    assert value is obj["a"]["b"]


def test_nested_field_raises_naming_the_path_when_an_intermediate_is_not_a_map() -> None:
    with pytest.raises(FieldTypeError) as info:
        nested_field(_fixture(), "a", "d", "foo")
    assert info.value.path == ".a.d.foo"
    assert str(info.value) == ".a.d.foo accessor error: a list of 1 items is of the type list, expected dict"


def test_nested_field_reads_read_only_mappings() -> None:
    frozen = MappingProxyType({"spec": MappingProxyType({"replicas": 2})})
    assert nested_field(frozen, "spec", "replicas") == (2, True)


def test_nested_field_copy_returns_a_deep_copy() -> None:
    obj = _fixture()
    value, found = nested_field_copy(obj, "a", "e")
    assert (value, found) == ([{"f": "bar"}], True)
    value[0]["f"] = "changed"
    assert obj["a"]["e"] == [{"f": "bar"}]
    assert nested_field_copy(obj, "a", "zz") == (None, False)


@pytest.mark.parametrize(
    ("path", "default", "expected"),
    [
        (("a", "b", "foo"), None, "bar"),
        (("a", "missing"), 7, 7),
        (("a", "c"), 7, None),
        (("a", "c", "deeper"), 7, 7),
    ],
    ids=["found", "missing-gives-default", "null-is-a-value", "null-intermediate-gives-default"],
)
def test_nested_get_returns_value_or_default(path: tuple[str, ...], default: Any, expected: Any) -> None:
    assert nested_get(_fixture(), *path, default=default) == expected


def test_nested_get_raises_when_an_intermediate_is_not_a_map() -> None:
    with pytest.raises(FieldTypeError, match=r"^\.a\.b\.foo\.x accessor error"):
        nested_get(_fixture(), "a", "b", "foo", "x")


# The typed accessor table: accessor, stored value, and the (value, found) result or the expected type name.
_TYPED_CASES: list[tuple[str, Accessor, Any, tuple[Any, bool] | str]] = [
    ("string", nested_string, "x", ("x", True)),
    ("string-empty", nested_string, "", ("", True)),
    ("string-from-int", nested_string, 1, "expected str"),
    ("string-from-null", nested_string, None, "expected str"),
    ("int", nested_int, 3, (3, True)),
    ("int-negative", nested_int, -(2**63), (-(2**63), True)),
    ("int-from-str", nested_int, "3", "expected int"),
    ("int-from-integral-float", nested_int, 1.0, "expected int"),
    ("int-from-bool", nested_int, True, "expected int"),
    ("int-beyond-int64", nested_int, 2**63, "expected int"),
    ("int-from-null", nested_int, None, "expected int"),
    ("float", nested_float, 1.5, (1.5, True)),
    ("float-integral", nested_float, 2.0, (2.0, True)),
    ("float-from-int", nested_float, 2, "expected float"),
    ("float-from-bool", nested_float, False, "expected float"),
    ("number-from-float", nested_number_as_float, 1.5, (1.5, True)),
    ("number-from-int", nested_number_as_float, 2, (2.0, True)),
    ("number-from-inexact-int", nested_number_as_float, 2**63 - 1, "expected float"),
    ("number-from-str", nested_number_as_float, "1", "expected float"),
    ("number-from-bool", nested_number_as_float, True, "expected float"),
    ("bool", nested_bool, False, (False, True)),
    ("bool-from-int", nested_bool, 0, "expected bool"),
    ("bool-from-str", nested_bool, "true", "expected bool"),
    ("list", nested_list, [1, {"a": 2}], ([1, {"a": 2}], True)),
    ("list-from-map", nested_list, {}, "expected list"),
    ("list-from-null", nested_list, None, "expected list"),
    ("map", nested_map, {"a": [1]}, ({"a": [1]}, True)),
    ("map-from-list", nested_map, [], "expected dict"),
    ("string-list", nested_string_list, ["a", "b"], (["a", "b"], True)),
    ("string-list-empty", nested_string_list, [], ([], True)),
    ("string-list-from-str", nested_string_list, "a", "expected list"),
    ("string-list-with-int", nested_string_list, ["a", 1], "contains non-string item in the list: 1"),
    ("string-list-with-null", nested_string_list, ["a", None], "contains non-string item in the list: null"),
    ("string-map", nested_string_map, {"a": "b"}, ({"a": "b"}, True)),
    ("string-map-from-list", nested_string_map, ["a"], "expected dict"),
    ("string-map-with-int", nested_string_map, {"a": 1}, "under key 'a': 1 is of the type int"),
    ("string-map-with-null", nested_string_map, {"a": None}, "under key 'a': null is of the type NoneType"),
]


@pytest.mark.parametrize(
    ("accessor", "stored", "expected"),
    [case[1:] for case in _TYPED_CASES],
    ids=[case[0] for case in _TYPED_CASES],
)
def test_typed_accessors_follow_the_apimachinery_type_table(
    accessor: Accessor, stored: Any, expected: tuple[Any, bool] | str
) -> None:
    obj = {"spec": {"field": stored}}
    if isinstance(expected, str):
        with pytest.raises(FieldTypeError, match=r"^\.spec\.field accessor error: ") as info:
            accessor(obj, "spec", "field")
        assert expected in str(info.value)
        assert info.value.path == ".spec.field"
    else:
        result = accessor(obj, "spec", "field")
        assert result == expected
        assert type(result[0]) is type(expected[0])


@pytest.mark.parametrize(
    ("accessor", "zero"),
    [
        (nested_string, ""),
        (nested_int, 0),
        (nested_float, 0.0),
        (nested_number_as_float, 0.0),
        (nested_bool, False),
        (nested_list, []),
        (nested_map, {}),
        (nested_string_list, []),
        (nested_string_map, {}),
    ],
    ids=lambda value: getattr(value, "__name__", repr(value)),
)
def test_typed_accessors_return_the_zero_value_and_not_found_for_missing_fields(accessor: Accessor, zero: Any) -> None:
    assert accessor({"spec": {}}, "spec", "field") == (zero, False)
    assert accessor({"spec": None}, "spec", "field") == (zero, False)
    with pytest.raises(FieldTypeError, match=r"^\.spec\.field accessor error"):
        accessor({"spec": "scalar"}, "spec", "field")


def test_the_brief_error_message_format_is_kept() -> None:
    with pytest.raises(FieldTypeError) as info:
        nested_int({"spec": {"replicas": "3"}}, "spec", "replicas")
    assert str(info.value) == '.spec.replicas accessor error: "3" is of the type str, expected int'


@pytest.mark.parametrize(
    "accessor",
    [nested_list, nested_map, nested_string_list, nested_string_map],
    ids=lambda accessor: accessor.__name__,
)
def test_container_accessors_return_copies_that_do_not_alias_the_object(accessor: Accessor) -> None:
    stored: Any = {"k": "v"} if accessor in (nested_map, nested_string_map) else ["v"]
    obj = {"x": stored}
    original = copy.deepcopy(obj)
    value, _ = accessor(obj, "x")
    value.clear()
    assert obj == original


def test_error_messages_shorten_long_values_and_hide_secret_payloads() -> None:
    with pytest.raises(FieldTypeError) as long_value:
        nested_int({"spec": {"x": "y" * 500}}, "spec", "x")
    assert len(str(long_value.value)) < 150
    with pytest.raises(FieldTypeError) as secret:
        nested_int({"data": {"password": "aHVudGVyMg=="}}, "data", "password")
    assert "aHVudGVyMg" not in str(secret.value)
    assert "<redacted>" in str(secret.value)


def test_nested_set_creates_intermediate_maps_and_copies_the_value() -> None:
    obj: JSONObject = {"metadata": {"name": "a"}}
    labels = {"app": "web"}
    nested_set(obj, labels, "metadata", "labels")
    nested_set(obj, 3, "spec", "template", "replicas")
    assert obj == {"metadata": {"name": "a", "labels": {"app": "web"}}, "spec": {"template": {"replicas": 3}}}
    labels["app"] = "changed"
    assert obj["metadata"]["labels"] == {"app": "web"}


def test_nested_set_replaces_an_existing_leaf_of_any_type() -> None:
    obj: JSONObject = {"spec": {"replicas": "three"}}
    nested_set(obj, {"nested": True}, "spec", "replicas")
    assert obj == {"spec": {"replicas": {"nested": True}}}


@pytest.mark.parametrize(
    ("obj", "path", "where"),
    [
        ({"spec": "x"}, ("spec", "replicas"), ".spec"),
        ({"spec": None}, ("spec", "replicas"), ".spec"),
        ({"a": {"b": [1]}}, ("a", "b", "c", "d"), ".a.b"),
    ],
    ids=["scalar-intermediate", "null-intermediate", "list-intermediate"],
)
def test_nested_set_refuses_to_overwrite_a_non_map_intermediate(
    obj: JSONObject, path: tuple[str, ...], where: str
) -> None:
    before = copy.deepcopy(obj)
    with pytest.raises(FieldTypeError, match=f"value cannot be set because {where} is not a map") as info:
        nested_set(obj, 1, *path)
    assert info.value.path == where
    assert obj == before


def test_nested_set_needs_a_path() -> None:
    with pytest.raises(ValueError, match="at least one field"):
        nested_set({}, 1)


def test_nested_delete_follows_remove_nested_field() -> None:
    # apimachinery helpers_test.go TestRemoveNestedField.
    obj: JSONObject = {"x": {"y": 1, "a": "foo"}}
    nested_delete(obj, "x", "a")
    assert obj == {"x": {"y": 1}}
    nested_delete(obj, "x", "y")
    assert obj == {"x": {}}
    nested_delete(obj, "x")
    assert obj == {}
    nested_delete(obj, "x")
    assert obj == {}


@pytest.mark.parametrize(
    "path",
    [("x", "y", "z"), ("s", "t"), ("n", "t"), ()],
    ids=["missing-intermediate", "scalar-intermediate", "null-intermediate", "empty-path"],
)
def test_nested_delete_never_raises_and_leaves_the_object_alone(path: tuple[str, ...]) -> None:
    obj: JSONObject = {"s": "scalar", "n": None}
    nested_delete(obj, *path)
    assert obj == {"s": "scalar", "n": None}
