"""Metadata accessors on plain dict objects: names, labels, owners and timestamps, zero values for malformed
metadata, and the namespace/name key."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from dynaclient._types import JSONObject
from dynaclient.objects import (
    get_annotations,
    get_api_version,
    get_creation_timestamp,
    get_deletion_timestamp,
    get_finalizers,
    get_generation,
    get_kind,
    get_labels,
    get_name,
    get_namespace,
    get_owner_references,
    get_resource_version,
    get_uid,
    object_key,
)

Accessor = Callable[..., tuple[Any, bool]]


_FULL_POD: JSONObject = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {
        "name": "web-0",
        "namespace": "prod",
        "uid": "1234",
        "resourceVersion": "42",
        "generation": 3,
        "labels": {"app": "web", "empty": None},
        "annotations": {"note": "x"},
        "finalizers": ["example.com/f"],
        "ownerReferences": [{"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web", "controller": True}],
        "creationTimestamp": "2024-05-01T10:00:00Z",
        "deletionTimestamp": "2024-05-01T12:30:00+02:00",
    },
}


def test_metadata_accessors_read_a_well_formed_object() -> None:
    pod = _FULL_POD
    assert (get_api_version(pod), get_kind(pod)) == ("v1", "Pod")
    assert (get_name(pod), get_namespace(pod), get_uid(pod), get_resource_version(pod)) == (
        "web-0",
        "prod",
        "1234",
        "42",
    )
    assert get_generation(pod) == 3
    assert get_labels(pod) == {"app": "web", "empty": ""}
    assert get_annotations(pod) == {"note": "x"}
    assert get_finalizers(pod) == ["example.com/f"]
    assert get_owner_references(pod) == [
        {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "web", "controller": True}
    ]
    assert get_creation_timestamp(pod) == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    assert get_deletion_timestamp(pod) == datetime(2024, 5, 1, 12, 30, tzinfo=timezone(timedelta(hours=2)))
    assert object_key(pod) == "prod/web-0"


def test_metadata_accessors_return_copies() -> None:
    pod = copy.deepcopy(_FULL_POD)
    get_labels(pod)["app"] = "changed"
    get_owner_references(pod)[0]["name"] = "changed"
    get_finalizers(pod).clear()
    assert pod == _FULL_POD


_MALFORMED: list[tuple[str, JSONObject]] = [
    ("no-metadata", {}),
    ("null-metadata", {"metadata": None}),
    ("metadata-is-a-list", {"metadata": ["x"]}),
    (
        "wrong-types",
        {
            "apiVersion": 1,
            "kind": ["Pod"],
            "metadata": {
                "name": 1,
                "namespace": None,
                "uid": {},
                "resourceVersion": 42,
                "generation": "3",
                "labels": {"a": "b", "c": 1},
                "annotations": ["x"],
                "finalizers": ["a", 2],
                "ownerReferences": [{"name": "a"}, "b"],
                "creationTimestamp": "yesterday",
                "deletionTimestamp": "2024-05-01T10:00:00",
            },
        },
    ),
]


@pytest.mark.parametrize("obj", [case[1] for case in _MALFORMED], ids=[case[0] for case in _MALFORMED])
def test_metadata_accessors_give_zero_values_for_missing_or_malformed_metadata(obj: JSONObject) -> None:
    assert (get_api_version(obj), get_kind(obj)) == ("", "")
    assert (get_name(obj), get_namespace(obj), get_uid(obj), get_resource_version(obj)) == ("", "", "", "")
    assert get_generation(obj) == 0
    assert get_labels(obj) == {}
    assert get_annotations(obj) == {}
    assert get_finalizers(obj) == []
    assert get_owner_references(obj) == []
    assert get_creation_timestamp(obj) is None
    assert get_deletion_timestamp(obj) is None
    assert object_key(obj) == ""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01T10:00:00Z", datetime(2024, 5, 1, 10, tzinfo=UTC)),
        ("2024-05-01T10:00:00.123456Z", datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=UTC)),
        ("", None),
        ("null", None),
        ("2024-05-01", None),
        ("2024-05-01T10:00:00", None),
    ],
    ids=["utc", "micro-time", "empty", "null-string", "date-only", "no-offset"],
)
def test_timestamps_parse_rfc3339_only(text: str, expected: datetime | None) -> None:
    assert get_deletion_timestamp({"metadata": {"deletionTimestamp": text}}) == expected


@pytest.mark.parametrize(
    ("metadata", "key"),
    [
        ({"namespace": "ns", "name": "a"}, "ns/a"),
        ({"name": "node-1"}, "node-1"),
        ({"namespace": "", "name": "pv"}, "pv"),
    ],
    ids=["namespaced", "cluster-scoped", "empty-namespace"],
)
def test_object_key_matches_meta_namespace_key_func(metadata: JSONObject, key: str) -> None:
    assert object_key({"metadata": metadata}) == key
