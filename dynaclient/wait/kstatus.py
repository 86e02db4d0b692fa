"""Readiness of any object by kstatus rules (kubernetes-sigs/cli-utils ``pkg/kstatus/status``): pure functions.

:func:`compute_status` returns ``InProgress``, ``Failed``, ``Current`` or ``Terminating`` with a message:

1. ``metadata.deletionTimestamp`` set: Terminating. ``status.observedGeneration`` present and behind
   ``metadata.generation``: InProgress. ``Reconciling=True``: InProgress; ``Stalled=True``: Failed.
2. Rules of the built-in kinds (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, Pod, CRD, Service, PVC).
3. Otherwise a ``Ready`` condition decides (True: Current; False or Unknown: InProgress); without one the object
   is Current ("absence of any known conditions means current").

>>> compute_status({"kind": "ConfigMap", "metadata": {"name": "a"}})
ObjectStatus(status='Current', message='')
>>> compute_status({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
...                 "metadata": {"generation": 1}, "status": {"conditions": None}})
ObjectStatus(status='InProgress', message='not yet Established')
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from dynaclient._types import JSONObject
from dynaclient.exceptions import ObjectFailedError
from dynaclient.objects import get_api_version, get_deletion_timestamp, get_generation, get_kind
from dynaclient.wait.conditions import Condition, find_condition, has_condition

Status = Literal["InProgress", "Failed", "Current", "Terminating"]


@dataclass(frozen=True, slots=True)
class ObjectStatus:
    """The kstatus of one object: ``status`` and why (empty when Current for no particular reason).

    Thread-safety: immutable.
    """

    status: Status
    message: str = ""


_CURRENT = ObjectStatus("Current")


def _in_progress(message: str) -> ObjectStatus:
    return ObjectStatus("InProgress", message)


def _map(obj: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = obj.get(key)
    return value if isinstance(value, Mapping) else {}


def _int(mapping: Mapping[str, Any], key: str, default: int = 0) -> int:
    value = mapping.get(key)
    return value if isinstance(value, int) else default


def _generic(obj: Mapping[str, Any]) -> ObjectStatus | None:
    if get_deletion_timestamp(obj) is not None:
        return ObjectStatus("Terminating", "deletion in progress")
    observed = _map(obj, "status").get("observedGeneration")
    if isinstance(observed, int) and observed != get_generation(obj):
        return _in_progress(f"generation {get_generation(obj)} not yet observed (observed {observed})")
    if has_condition(obj, "Reconciling"):
        return _in_progress(_condition_message(obj, "Reconciling"))
    if has_condition(obj, "Stalled"):
        return ObjectStatus("Failed", _condition_message(obj, "Stalled"))
    return None


def _condition_message(obj: Mapping[str, Any], condition_type: str) -> str:
    entry = find_condition(obj, condition_type) or {}
    detail = entry.get("message") or entry.get("reason") or entry.get("status") or "absent"
    return f"{condition_type}: {detail}"


def _replicas(obj: Mapping[str, Any], checks: list[tuple[str, str]]) -> ObjectStatus | None:
    """Compare ``spec.replicas`` (default 1) with status counters; the first one behind wins."""
    wanted = _int(_map(obj, "spec"), "replicas", 1)
    status = _map(obj, "status")
    for field, what in checks:
        if _int(status, field) < wanted:
            return _in_progress(f"{what}: {_int(status, field)} of {wanted}")
    if _int(status, "replicas") > wanted:
        return _in_progress(f"pending termination: {_int(status, 'replicas') - wanted} extra pods")
    return None


def _deployment(obj: Mapping[str, Any]) -> ObjectStatus:
    progressing = find_condition(obj, "Progressing") or {}
    if progressing.get("reason") == "ProgressDeadlineExceeded":
        return ObjectStatus("Failed", f"progress deadline exceeded: {progressing.get('message', '')}")
    counts = _replicas(
        obj,
        [
            ("replicas", "replicas"),
            ("updatedReplicas", "updated"),
            ("availableReplicas", "available"),
            ("readyReplicas", "ready"),
        ],
    )
    if counts is not None:
        return counts
    if "progressDeadlineSeconds" in _map(obj, "spec") and progressing.get("reason") != "NewReplicaSetAvailable":
        return _in_progress("rollout in progress")
    if not has_condition(obj, "Available"):
        return _in_progress("not yet Available")
    return _CURRENT


def _statefulset(obj: Mapping[str, Any]) -> ObjectStatus:
    spec, status = _map(obj, "spec"), _map(obj, "status")
    if _map(spec, "updateStrategy").get("type") == "OnDelete":
        return _CURRENT
    counts = _replicas(obj, [("replicas", "replicas"), ("readyReplicas", "ready"), ("currentReplicas", "current")])
    if counts is not None:
        return counts
    if status.get("currentRevision") != status.get("updateRevision"):
        return _in_progress("rolling update in progress")
    return _CURRENT


def _daemonset(obj: Mapping[str, Any]) -> ObjectStatus:
    status = _map(obj, "status")
    if "observedGeneration" not in status:
        return _in_progress("generation not yet observed")
    desired = _int(status, "desiredNumberScheduled", -1)
    if desired < 0:
        return _in_progress("desiredNumberScheduled not yet set")
    for field in ("currentNumberScheduled", "updatedNumberScheduled", "numberAvailable", "numberReady"):
        if _int(status, field) < desired:
            return _in_progress(f"{field}: {_int(status, field)} of {desired}")
    return _CURRENT


def _replicaset(obj: Mapping[str, Any]) -> ObjectStatus:
    if has_condition(obj, "ReplicaFailure"):
        return _in_progress(_condition_message(obj, "ReplicaFailure"))
    counts = _replicas(
        obj, [("fullyLabeledReplicas", "labelled"), ("availableReplicas", "available"), ("readyReplicas", "ready")]
    )
    return counts or _CURRENT


def _job(obj: Mapping[str, Any]) -> ObjectStatus:
    if has_condition(obj, "Failed"):
        return ObjectStatus("Failed", _condition_message(obj, "Failed"))
    if has_condition(obj, "Complete") or (has_condition(obj, "Suspended") and _map(obj, "spec").get("suspend")):
        return _CURRENT
    return _CURRENT if _map(obj, "status").get("startTime") else _in_progress("not yet started")


def _pod(obj: Mapping[str, Any]) -> ObjectStatus:
    status = _map(obj, "status")
    phase = status.get("phase")
    if phase in ("Succeeded", "Failed"):
        return _CURRENT  # a finished pod is as current as it will get (kstatus reports Failed pods Current)
    if phase == "Running":
        for container in status.get("containerStatuses") or ():
            waiting = _map(_map(container, "state"), "waiting")
            if waiting.get("reason") == "CrashLoopBackOff":
                return ObjectStatus("Failed", f"container {container.get('name')} in CrashLoopBackOff")
        return _CURRENT if has_condition(obj, "Ready") else _in_progress("running, not yet Ready")
    return _in_progress(f"phase {phase or 'not yet set'}")


def _crd(obj: Mapping[str, Any]) -> ObjectStatus:
    names = find_condition(obj, "NamesAccepted") or {}
    if names.get("status") == "False":
        return ObjectStatus("Failed", f"names not accepted: {names.get('message', '')}")
    established = find_condition(obj, "Established") or {}
    if established.get("status") == "True":
        return _CURRENT
    if established.get("status") == "False" and established.get("reason") != "Installing":
        return ObjectStatus("Failed", f"not Established: {established.get('message', '')}")
    return _in_progress("not yet Established")


def _service(obj: Mapping[str, Any]) -> ObjectStatus:
    spec = _map(obj, "spec")
    if spec.get("type") == "LoadBalancer" and not spec.get("clusterIP"):
        return _in_progress("cluster IP not yet allocated")
    return _CURRENT


def _pvc(obj: Mapping[str, Any]) -> ObjectStatus:
    phase = _map(obj, "status").get("phase")
    return _CURRENT if phase == "Bound" else _in_progress(f"phase {phase or 'not yet set'}")


_RULES: dict[tuple[str, str], Callable[[Mapping[str, Any]], ObjectStatus]] = {
    ("apps", "Deployment"): _deployment,
    ("apps", "StatefulSet"): _statefulset,
    ("apps", "DaemonSet"): _daemonset,
    ("apps", "ReplicaSet"): _replicaset,
    ("batch", "Job"): _job,
    ("", "Pod"): _pod,
    ("apiextensions.k8s.io", "CustomResourceDefinition"): _crd,
    ("", "Service"): _service,
    ("", "PersistentVolumeClaim"): _pvc,
}


def compute_status(obj: Mapping[str, Any]) -> ObjectStatus:
    """Return the kstatus of ``obj`` (see the module docstring for the rules)."""
    generic = _generic(obj)
    if generic is not None:
        return generic
    group = get_api_version(obj).rpartition("/")[0]
    rule = _RULES.get((group, get_kind(obj)))
    if rule is not None:
        return rule(obj)
    ready = find_condition(obj, "Ready")
    if ready is not None and not has_condition(obj, "Ready"):
        return _in_progress(_condition_message(obj, "Ready"))
    return _CURRENT


def _is_current(obj: JSONObject | None) -> bool:
    if obj is None:
        return False
    status = compute_status(obj)
    if status.status == "Failed":
        raise ObjectFailedError(status.message, obj=obj)
    return status.status == "Current"


is_ready = Condition("ready", _is_current)
"""The object is Current by kstatus rules; raises :class:`~dynaclient.exceptions.ObjectFailedError` on Failed."""

__all__ = ["ObjectStatus", "Status", "compute_status", "is_ready"]
