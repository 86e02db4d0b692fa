"""The informer's transform: run once per object before it is stored."""

from __future__ import annotations

import pytest

from dynaclient import JSONObject
from informers import DeletedFinalStateUnknown, strip_managed_fields
from tests.unit.informers.informer_harness import WAIT, Harness, obj


def test_the_transform_runs_once_per_object_before_it_is_stored_and_never_on_tombstones() -> None:
    transformed: list[str] = []

    def transform(obj: JSONObject) -> JSONObject:
        transformed.append(obj["metadata"]["name"])
        return strip_managed_fields(obj)

    harness = Harness(transform=transform)
    try:
        managed = {"metadata": {"name": "a", "namespace": "default", "resourceVersion": "1", "managedFields": [{}]}}
        harness.informer.on_replace([managed, obj("b")], "5")
        harness.event("MODIFIED", {**obj("a", "2"), "metadata": {**obj("a", "2")["metadata"], "managedFields": []}})
        harness.informer.on_replace([obj("a", "2")], "6")

        assert harness.calls()[-1] == ("delete", "default/b", "1", True)
        assert transformed == ["a", "b", "a", "a"]
        stored = harness.informer.store.get_by_key("default/a")
        assert stored is not None
        assert "managedFields" not in stored["metadata"]
        assert all(
            "managedFields" not in o.obj["metadata"]
            for o in harness.handler.objects
            if isinstance(o, DeletedFinalStateUnknown)
        )
    finally:
        assert harness.informer.stop(WAIT)


def test_a_transform_that_returns_no_object_is_a_clear_error() -> None:
    harness = Harness(transform=lambda obj: None)
    try:
        with pytest.raises(TypeError, match="transform of informer pods returned a NoneType"):
            harness.informer.on_replace([obj("a")], "5")
        assert len(harness.informer.store) == 0
    finally:
        assert harness.informer.stop(WAIT)
