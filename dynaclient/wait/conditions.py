"""Conditions to wait for: predicates over an object, or ``None`` when the object does not exist.

They follow kube-rs ``kube-runtime/src/wait.rs`` (``conditions::*``) and kubectl ``wait``: a condition sees the
object's latest state, so a fresh object whose ``status.conditions`` is ``null`` or missing simply does not satisfy
it yet. Conditions combine with ``&``, ``|`` and ``~``; any plain ``Callable[[JSONObject | None], bool]`` works
too.

>>> crd = {"metadata": {"generation": 1}, "status": {"conditions": None}}
>>> crd_established(crd)
False
>>> crd["status"]["conditions"] = [{"type": "Established", "status": "True"}]
>>> crd_established(crd), (crd_established & ~is_created)(crd)
(True, False)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from dynaclient._types import JSONObject
from dynaclient.controllerutil.conditions import find_status_condition
from dynaclient.objects import get_generation, get_uid

Predicate = Callable[[JSONObject | None], bool]
"""What :meth:`~dynaclient.resources.client.ResourceClient.wait_for` accepts: ``None`` means absent."""


@dataclass(frozen=True, slots=True)
class Condition:
    """A named predicate over an object's state (``None``: the object does not exist).

    Attributes:
        description: what is waited for, as error messages show it (``condition Established``).
        test: the predicate.

    Thread-safety: immutable.
    """

    description: str
    test: Predicate

    def __call__(self, obj: JSONObject | None) -> bool:
        """Tell whether ``obj`` (``None``: absent) satisfies the condition."""
        return self.test(obj)

    def __str__(self) -> str:
        return self.description

    def __and__(self, other: Condition) -> Condition:
        return Condition(f"{self} and {other}", lambda obj: self.test(obj) and other.test(obj))

    def __or__(self, other: Condition) -> Condition:
        return Condition(f"{self} or {other}", lambda obj: self.test(obj) or other.test(obj))

    def __invert__(self) -> Condition:
        return Condition(f"not {self}", lambda obj: not self.test(obj))


def find_condition(obj: Mapping[str, Any], condition_type: str) -> Mapping[str, Any] | None:
    """Return the ``status.conditions`` entry of ``condition_type`` of ``obj``, or ``None`` (also when null).

    :func:`~dynaclient.find_status_condition` over the object's ``status.conditions``.

    >>> find_condition({"status": {"conditions": [{"type": "Ready", "status": "True"}]}}, "Ready")
    {'type': 'Ready', 'status': 'True'}
    >>> find_condition({"status": {"conditions": None}}, "Ready") is None
    True
    """
    status = obj.get("status")
    return find_status_condition(status.get("conditions") if isinstance(status, Mapping) else None, condition_type)


def generation_observed(obj: Mapping[str, Any]) -> bool:
    """Tell whether the controller has seen the latest spec: ``status.observedGeneration`` is absent or current.

    >>> generation_observed({"metadata": {"generation": 2}, "status": {"observedGeneration": 1}})
    False
    >>> generation_observed({"metadata": {"generation": 2}, "status": {}})
    True
    """
    status = obj.get("status")
    observed = status.get("observedGeneration") if isinstance(status, Mapping) else None
    return not isinstance(observed, int) or observed >= get_generation(obj)


def has_condition(obj: Mapping[str, Any], condition_type: str, status: str = "True") -> bool:
    """Tell whether ``condition_type`` has ``status`` for the object's current generation (as kubectl ``wait``).

    The status compares case-insensitively. A condition (or status) that records an older ``observedGeneration``
    than ``metadata.generation`` describes an old spec and does not count.

    >>> obj = {"metadata": {"generation": 3}, "status": {"conditions": [
    ...     {"type": "Ready", "status": "True", "observedGeneration": 2}]}}
    >>> has_condition(obj, "Ready")
    False
    """
    entry = find_condition(obj, condition_type)
    if entry is None or str(entry.get("status", "")).lower() != status.lower():
        return False
    observed = entry.get("observedGeneration")
    if isinstance(observed, int) and observed < get_generation(obj):
        return False
    return generation_observed(obj)


def condition_true(condition_type: str, status: str = "True") -> Condition:
    """Wait until ``status.conditions[type=condition_type].status`` is ``status`` (kubectl ``--for=condition=``)."""
    suffix = "" if status == "True" else f"={status}"
    return Condition(
        f"condition {condition_type}{suffix}",
        lambda obj: obj is not None and has_condition(obj, condition_type, status),
    )


def is_deleted(uid: str) -> Condition:
    """Wait until the object is gone, or replaced by another of the same name (a different ``uid``)."""
    return Condition("deletion", lambda obj: obj is None or (bool(uid) and get_uid(obj) != uid))


is_created = Condition("creation", lambda obj: obj is not None)
"""The object exists."""

crd_established = condition_true("Established")
"""A CustomResourceDefinition is served (discovery may lag a little further)."""

job_complete = condition_true("Complete")
"""A Job finished successfully."""

pod_running = Condition(
    "pod Running",
    lambda obj: obj is not None and isinstance(obj.get("status"), dict) and obj["status"].get("phase") == "Running",
)
"""A Pod's phase is ``Running``."""


def _deployment_available(obj: JSONObject | None) -> bool:
    # kubectl rollout status (polymorphichelpers/rollout_status.go DeploymentStatusViewer): the new ReplicaSet has
    # every replica updated and available and no old replica is left; Available=True as kubectl wait would see it.
    if obj is None or not generation_observed(obj) or not has_condition(obj, "Available"):
        return False
    spec, status = obj.get("spec"), obj.get("status")
    spec, status = spec if isinstance(spec, dict) else {}, status if isinstance(status, dict) else {}
    wanted = spec.get("replicas", 1)
    updated = status.get("updatedReplicas", 0)
    return bool(
        updated >= wanted and status.get("replicas", 0) <= updated and status.get("availableReplicas", 0) >= updated
    )


deployment_available = Condition("Deployment available", _deployment_available)
"""A Deployment is rolled out: every replica updated and available, no old one left, ``Available=True``."""


__all__ = [
    "Condition",
    "Predicate",
    "condition_true",
    "crd_established",
    "deployment_available",
    "find_condition",
    "generation_observed",
    "has_condition",
    "is_created",
    "is_deleted",
    "job_complete",
    "pod_running",
]
