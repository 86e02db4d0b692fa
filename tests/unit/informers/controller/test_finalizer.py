"""The finalizer flow's four cases (kube-rs finalizer()), its conditional writes, and a cache one write behind."""

from __future__ import annotations

from typing import Any, cast

import pytest

from dynaclient import ConflictError, JSONObject, ResourceClient
from informers.controller import finalizer

NAME = "demo.example.com/cleanup"


class FakeResource:
    """Answers the merge patches of add_finalizer/remove_finalizer; a stale resourceVersion is a 409."""

    def __init__(self, server: JSONObject) -> None:
        self.server = server
        self.patches: list[Any] = []

    def namespace(self, namespace: str) -> FakeResource:
        return self

    def get(self, name: str) -> JSONObject:
        return self.server

    def patch(self, name: str, patch: Any, patch_type: str = "merge") -> JSONObject:
        self.patches.append(patch)
        if patch["metadata"]["resourceVersion"] != self.server["metadata"]["resourceVersion"]:
            raise ConflictError({"reason": "Conflict"}, code=409)
        metadata = {**self.server["metadata"], **patch["metadata"], "resourceVersion": "9"}
        self.server = {**self.server, "metadata": metadata, "written": True}
        return self.server


def _obj(finalizers: list[str] | None, deleting: bool = False, rv: str = "7") -> JSONObject:
    metadata: JSONObject = {"name": "a", "namespace": "prod", "resourceVersion": rv, "finalizers": finalizers}
    if deleting:
        metadata["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return {"metadata": metadata}


def _run(fake: FakeResource, obj: JSONObject, calls: list[str]) -> Any:
    def apply(written: JSONObject) -> Any:
        calls.append("apply")
        return ("applied", written.get("written", False))

    def cleanup(deleting: JSONObject) -> Any:
        calls.append("cleanup")
        return "cleaned"

    return finalizer(cast(ResourceClient, fake), NAME, obj, apply=apply, cleanup=cleanup)


def test_without_the_finalizer_it_is_added_before_apply_runs() -> None:
    fake, calls = FakeResource(_obj(["other/x"])), list[str]()
    assert _run(fake, _obj(["other/x"]), calls) == ("applied", True)  # apply saw the object as written
    assert calls == ["apply"]
    assert fake.patches == [{"metadata": {"resourceVersion": "7", "finalizers": ["other/x", NAME]}}]


def test_with_the_finalizer_apply_runs_without_writes() -> None:
    fake, calls = FakeResource(_obj([NAME])), list[str]()
    assert _run(fake, _obj(["other/x", NAME]), calls) == ("applied", False)
    assert (calls, fake.patches) == (["apply"], [])


def test_deleting_runs_cleanup_then_removes_only_its_finalizer() -> None:
    fake, calls = FakeResource(_obj(["other/x", NAME], deleting=True)), list[str]()
    assert _run(fake, _obj(["other/x", NAME], deleting=True), calls) == "cleaned"
    assert calls == ["cleanup"]
    assert fake.patches == [{"metadata": {"resourceVersion": "7", "finalizers": ["other/x"]}}]


def test_a_failed_cleanup_keeps_the_finalizer() -> None:
    fake = FakeResource(_obj([NAME], deleting=True))

    def failing(obj: JSONObject) -> None:
        raise RuntimeError("external system down")

    with pytest.raises(RuntimeError, match="down"):
        finalizer(cast(ResourceClient, fake), NAME, _obj([NAME], deleting=True), apply=lambda o: None, cleanup=failing)
    assert fake.patches == []


def test_deleting_without_the_finalizer_does_nothing() -> None:
    fake, calls = FakeResource(_obj(None, deleting=True)), list[str]()
    assert _run(fake, _obj(None, deleting=True), calls) is None
    assert (calls, fake.patches) == ([], [])


def test_a_cache_one_write_behind_is_read_again_from_the_server() -> None:
    # The cache has no finalizer yet; the server has it (rv 8): the write conflicts, the server's object is applied.
    fake, calls = FakeResource(_obj([NAME], rv="8")), list[str]()
    assert _run(fake, _obj(None), calls) == ("applied", False)
    assert calls == ["apply"]
    assert len(fake.patches) == 1


def test_deleted_before_the_finalizer_landed_runs_no_apply() -> None:
    fake, calls = FakeResource(_obj(None, deleting=True, rv="8")), list[str]()
    assert _run(fake, _obj(None), calls) is None
    assert calls == []
