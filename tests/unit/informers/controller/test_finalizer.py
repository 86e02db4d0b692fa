"""The finalizer flow's four cases (kube-rs finalizer()), its JSON patches, and the stale-cache retry."""

from __future__ import annotations

from typing import Any, cast

import pytest

from dynaclient import InvalidError, JSONObject, ResourceClient
from informers.controller import finalizer

NAME = "demo.example.com/cleanup"


class FakeResource:
    def __init__(self, server: JSONObject | None = None, fail_tests: int = 0) -> None:
        self.server = server
        self.fail_tests = fail_tests
        self.patches: list[Any] = []

    def namespace(self, namespace: str) -> FakeResource:
        return self

    def get(self, name: str) -> JSONObject:
        assert self.server is not None
        return self.server

    def patch(self, name: str, patch: Any, patch_type: str = "merge") -> JSONObject:
        assert patch_type == "json"
        self.patches.append(patch)
        if self.fail_tests:
            self.fail_tests -= 1
            raise InvalidError({"reason": "Invalid", "message": "test operation failed"}, code=422)
        return {"metadata": {"name": name, "finalizers": [NAME]}, "patched": True}


def _obj(finalizers: list[str] | None, deleting: bool = False) -> JSONObject:
    metadata: JSONObject = {"name": "a", "namespace": "prod", "finalizers": finalizers}
    if deleting:
        metadata["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return {"metadata": metadata}


def _run(fake: FakeResource, obj: JSONObject, calls: list[str]) -> Any:
    def apply(written: JSONObject) -> Any:
        calls.append("apply")
        return ("applied", written.get("patched", False))

    def cleanup(deleting: JSONObject) -> Any:
        calls.append("cleanup")
        return "cleaned"

    return finalizer(cast(ResourceClient, fake), NAME, obj, apply=apply, cleanup=cleanup)


def test_without_the_finalizer_it_is_added_before_apply_runs() -> None:
    fake, calls = FakeResource(), list[str]()
    assert _run(fake, _obj(None), calls) == ("applied", True)  # apply saw the object as written
    assert calls == ["apply"]
    assert fake.patches == [
        [
            {"op": "test", "path": "/metadata/finalizers", "value": None},
            {"op": "add", "path": "/metadata/finalizers", "value": [NAME]},
        ]
    ]
    fake.patches.clear()
    _run(fake, _obj(["other/x"]), calls)
    assert fake.patches[0][0] == {"op": "test", "path": "/metadata/finalizers", "value": ["other/x"]}
    assert fake.patches[0][1] == {"op": "add", "path": "/metadata/finalizers/-", "value": NAME}


def test_with_the_finalizer_apply_runs_without_writes() -> None:
    fake, calls = FakeResource(), list[str]()
    assert _run(fake, _obj(["other/x", NAME]), calls) == ("applied", False)
    assert (calls, fake.patches) == (["apply"], [])


def test_deleting_runs_cleanup_then_removes_only_its_finalizer() -> None:
    fake, calls = FakeResource(), list[str]()
    assert _run(fake, _obj(["other/x", NAME], deleting=True), calls) == "cleaned"
    assert calls == ["cleanup"]
    assert fake.patches == [
        [
            {"op": "test", "path": "/metadata/finalizers/1", "value": NAME},
            {"op": "remove", "path": "/metadata/finalizers/1"},
        ]
    ]


def test_a_failed_cleanup_keeps_the_finalizer() -> None:
    fake = FakeResource()

    def failing(obj: JSONObject) -> None:
        raise RuntimeError("external system down")

    with pytest.raises(RuntimeError, match="down"):
        finalizer(cast(ResourceClient, fake), NAME, _obj([NAME], deleting=True), apply=lambda o: None, cleanup=failing)
    assert fake.patches == []


def test_deleting_without_the_finalizer_does_nothing() -> None:
    fake, calls = FakeResource(), list[str]()
    assert _run(fake, _obj(None, deleting=True), calls) is None
    assert (calls, fake.patches) == ([], [])


def test_a_stale_finalizer_list_is_read_again_from_the_server() -> None:
    # The cache had no finalizer yet; the server has it: the add's test fails, the server's object is applied.
    fake, calls = FakeResource(server=_obj([NAME]), fail_tests=1), list[str]()
    assert _run(fake, _obj(None), calls) == ("applied", False)
    assert calls == ["apply"]
    assert len(fake.patches) == 1
