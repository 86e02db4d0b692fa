"""Object helpers: owner references (controller-runtime controllerutil), finalizers, conditions, conflict retries."""

from __future__ import annotations

from typing import Any, cast

import pytest

from dynaclient import (
    AlreadyOwnedError,
    ConflictError,
    JSONObject,
    NotFoundError,
    OwnerReferenceError,
    ResourceClient,
    add_finalizer,
    find_status_condition,
    has_finalizer,
    is_controlled_by,
    is_status_condition_true,
    remove_finalizer,
    remove_status_condition,
    retry_on_conflict,
    set_controller_reference,
    set_status_condition,
)

OWNER: JSONObject = {
    "apiVersion": "demo.example.com/v1",
    "kind": "Sawtooth",
    "metadata": {"name": "a", "namespace": "prod", "uid": "u-1"},
}


def _child(namespace: str = "prod", **metadata: Any) -> JSONObject:
    return {"metadata": {"name": "a-config", "namespace": namespace, **metadata}}


def test_set_controller_reference_appends_then_replaces_in_place() -> None:
    child = _child(ownerReferences=[{"apiVersion": "v1", "kind": "Other", "name": "x", "uid": "u-x"}])
    set_controller_reference(OWNER, child)
    assert child["metadata"]["ownerReferences"][1] == {
        "apiVersion": "demo.example.com/v1",
        "kind": "Sawtooth",
        "name": "a",
        "uid": "u-1",
        "controller": True,
        "blockOwnerDeletion": True,
    }
    # another version of the same owner is the same owner (group, kind and name compared; uid not)
    newer = {**OWNER, "apiVersion": "demo.example.com/v2", "metadata": {**OWNER["metadata"], "uid": "u-2"}}
    set_controller_reference(newer, child, block_owner_deletion=False)
    assert len(child["metadata"]["ownerReferences"]) == 2
    assert child["metadata"]["ownerReferences"][1]["uid"] == "u-2"
    assert is_controlled_by(child, OWNER)


def test_a_second_controller_is_refused() -> None:
    child = _child()
    set_controller_reference(OWNER, child)
    other = {**OWNER, "metadata": {**OWNER["metadata"], "name": "b"}}
    with pytest.raises(AlreadyOwnedError, match="already owned by another Sawtooth controller a") as caught:
        set_controller_reference(other, child)
    assert caught.value.owner["name"] == "a"
    assert not is_controlled_by(child, other)


@pytest.mark.parametrize(
    ("child", "message"),
    [
        (_child(namespace="dev"), "cross-namespace owner references are disallowed"),
        (_child(namespace=""), "cluster-scoped resource must not have a namespace-scoped owner"),
    ],
)
def test_owner_scope_is_checked(child: JSONObject, message: str) -> None:
    with pytest.raises(OwnerReferenceError, match=message):
        set_controller_reference(OWNER, child)


def test_a_cluster_scoped_owner_may_own_anything_and_an_incomplete_owner_is_named() -> None:
    node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1", "uid": "u-n"}}
    child = _child(namespace="dev")
    set_controller_reference(node, child)
    assert is_controlled_by(child, node)
    with pytest.raises(OwnerReferenceError, match="the owner has no kind, uid"):
        set_controller_reference({"apiVersion": "v1", "metadata": {"name": "x"}}, _child())


class FakeResource:
    """The two calls the finalizer helpers make; ``conflicts`` patches fail with 409 first."""

    def __init__(self, stored: JSONObject, conflicts: int = 0) -> None:
        self.stored = stored
        self.conflicts = conflicts
        self.patches: list[Any] = []

    def namespace(self, namespace: str) -> FakeResource:
        return self

    def get(self, name: str) -> JSONObject:
        return self.stored

    def patch(self, name: str, patch: Any, patch_type: str = "merge") -> JSONObject:
        self.patches.append(patch)
        if self.conflicts:
            self.conflicts -= 1
            self.stored = {"metadata": {**self.stored["metadata"], "resourceVersion": "9"}}
            raise ConflictError({"reason": "Conflict"}, code=409)
        self.stored = {"metadata": {**self.stored["metadata"], **patch["metadata"]}}
        return self.stored


def test_add_finalizer_patches_with_the_resource_version_and_retries_a_conflict() -> None:
    obj: JSONObject = {"metadata": {"name": "a", "namespace": "prod", "resourceVersion": "7", "finalizers": ["x/y"]}}
    fake = FakeResource(obj, conflicts=1)
    written = add_finalizer(cast(ResourceClient, fake), obj, "demo/cleanup")
    assert fake.patches == [
        {"metadata": {"resourceVersion": "7", "finalizers": ["x/y", "demo/cleanup"]}},
        {"metadata": {"resourceVersion": "9", "finalizers": ["x/y", "demo/cleanup"]}},
    ]
    assert has_finalizer(written, "demo/cleanup")
    assert add_finalizer(cast(ResourceClient, fake), written, "demo/cleanup") is written  # already there: no write
    removed = remove_finalizer(cast(ResourceClient, fake), written, "demo/cleanup")
    assert removed["metadata"]["finalizers"] == ["x/y"]
    assert len(fake.patches) == 3


def test_retry_on_conflict_gives_up_after_its_steps_and_passes_other_errors() -> None:
    calls: list[int] = []

    def always_conflicts() -> None:
        calls.append(1)
        raise ConflictError({"reason": "Conflict"}, code=409)

    with pytest.raises(ConflictError):
        retry_on_conflict(always_conflicts, steps=3, sleep=lambda seconds: None)
    assert len(calls) == 3

    def missing() -> None:
        calls.append(1)
        raise NotFoundError({"reason": "NotFound"}, code=404)

    with pytest.raises(NotFoundError):
        retry_on_conflict(missing, sleep=lambda seconds: None)
    assert len(calls) == 4


def test_set_status_condition_follows_meta_set_status_condition() -> None:
    conditions: list[JSONObject] = []
    assert set_status_condition(conditions, {"type": "Ready", "status": "True", "lastTransitionTime": "T1"})
    # same status: the transition time stays even when another is passed
    assert set_status_condition(
        conditions, {"type": "Ready", "status": "True", "lastTransitionTime": "T2", "reason": "R"}
    )
    assert conditions[0]["lastTransitionTime"] == "T1"
    assert not set_status_condition(conditions, {"type": "Ready", "status": "True", "reason": "R"})
    assert set_status_condition(conditions, {"type": "Ready", "status": "False", "lastTransitionTime": "T3"})
    assert conditions[0]["lastTransitionTime"] == "T3"
    assert not is_status_condition_true(conditions, "Ready")
    assert find_status_condition(conditions, "Other") is None
    assert remove_status_condition(conditions, "Ready")
    assert not remove_status_condition(conditions, "Ready")
    with pytest.raises(ValueError, match="True, False or Unknown"):
        set_status_condition(conditions, {"type": "Ready", "status": "yes"})
