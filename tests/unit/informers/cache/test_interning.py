from __future__ import annotations

import copy
from typing import Any, cast

import pytest

from dynaclient import JSONObject
from informers import ListerWatcher, SharedIndexInformer
from informers.cache import interning
from informers.cache.interning import MAX_INTERNED_CHARS, RECENT_VALUES, intern_repeated_strings
from informers.testing import IdleReflector, RecordingHandler


def fresh(text: str) -> str:
    """Return a string equal to ``text`` that is not the same object (as a decoder makes them)."""
    return "".join(list(text))


def configmap(name: str, annotation: str = "short") -> JSONObject:
    return {
        "apiVersion": fresh("v1"),
        "kind": fresh("ConfigMap"),
        "metadata": {
            "name": fresh(name),
            "namespace": fresh("prod"),
            "creationTimestamp": fresh("2026-01-01T00:00:00Z"),
            "labels": {"app": fresh("web")},
            "annotations": {"note": fresh(annotation)},
            "ownerReferences": [{"apiVersion": fresh("apps/v1"), "kind": fresh("Deployment"), "name": fresh("web")}],
            "managedFields": [
                {"manager": fresh("kubectl"), "operation": fresh("Update"), "time": fresh("2026-01-01T00:00:00Z")}
            ],
        },
        "data": {"key": fresh("value")},
    }


SHARED_PATHS = [
    ("apiVersion",),
    ("kind",),
    ("metadata", "namespace"),
    ("metadata", "creationTimestamp"),
    ("metadata", "labels", "app"),
    ("metadata", "annotations", "note"),
    ("metadata", "ownerReferences", 0, "kind"),
    ("metadata", "managedFields", 0, "manager"),
    ("metadata", "managedFields", 0, "time"),
]


def at(obj: Any, path: tuple[str | int, ...]) -> Any:
    for step in path:
        obj = obj[step]
    return obj


@pytest.mark.parametrize("path", SHARED_PATHS, ids=["/".join(map(str, path)) for path in SHARED_PATHS])
def test_a_repeated_field_holds_one_shared_string_in_every_object(path: tuple[str | int, ...]) -> None:
    first, second = intern_repeated_strings(configmap("a")), intern_repeated_strings(configmap("b"))

    assert at(first, path) is at(second, path)


@pytest.mark.parametrize(
    "path",
    [("metadata", "name"), ("data", "key"), ("metadata", "ownerReferences", 0, "name")],
    ids=["name", "data", "owner-name"],
)
def test_fields_that_do_not_repeat_and_payloads_are_left_alone(path: tuple[str | int, ...]) -> None:
    first, second = intern_repeated_strings(configmap("web-a")), intern_repeated_strings(configmap("web-a"))

    assert at(first, path) == at(second, path)
    assert at(first, path) is not at(second, path)


def test_a_long_annotation_value_is_not_interned() -> None:
    long_value = "x" * (MAX_INTERNED_CHARS + 1)
    first, second = (
        intern_repeated_strings(configmap("a", long_value)),
        intern_repeated_strings(configmap("b", long_value)),
    )

    assert at(first, ("metadata", "annotations", "note")) is not at(second, ("metadata", "annotations", "note"))


def test_interning_changes_no_value() -> None:
    original = configmap("a")

    assert intern_repeated_strings(copy.deepcopy(original)) == original


@pytest.mark.parametrize(
    "obj",
    [
        {"kind": "Status"},
        {"metadata": None},
        {"metadata": {"labels": ["a"], "managedFields": {"manager": "x"}, "ownerReferences": [None]}},
        {"metadata": {"namespace": 5, "annotations": {"n": 1}}},
    ],
    ids=["no-metadata", "null-metadata", "wrong-container-types", "non-string-values"],
)
def test_fields_of_unexpected_types_are_left_as_they_are(obj: JSONObject) -> None:
    assert intern_repeated_strings(copy.deepcopy(obj)) == obj


def test_the_informer_caches_objects_with_their_repeated_strings_shared() -> None:
    informer = SharedIndexInformer(cast(ListerWatcher, object()), name="configmaps", reflector_factory=IdleReflector)
    informer.add_event_handler(RecordingHandler())
    informer.on_replace([configmap("a"), configmap("b")], "10")

    first, second = informer.store.list()
    assert first["metadata"]["namespace"] is second["metadata"]["namespace"]


def test_unique_label_values_are_not_kept_alive_and_the_sharing_table_stays_bounded() -> None:
    objects = [intern_repeated_strings(configmap("a", annotation=f"id-{index}")) for index in range(3 * RECENT_VALUES)]
    assert len(interning._recent) <= RECENT_VALUES + 2  # the table was emptied whenever it filled up
    app_values = {id(obj["metadata"]["labels"]["app"]) for obj in objects}
    assert len(app_values) <= 3 * RECENT_VALUES // (RECENT_VALUES // 2)  # a repeated value: a few copies in all
