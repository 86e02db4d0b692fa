"""What the registry strategies of some built-in kinds add to objects (kubernetes ``pkg/registry/...``).

Only what a bare control plane shows and the conformance suite checks: a namespace gets its ``kubernetes``
finalizer, its ``kubernetes.io/metadata.name`` label and phase ``Active``; a pod starts ``Pending`` with its QoS
class; a Service has an empty load balancer status, a ReplicaSet ``replicas: 0``; other built-in kinds with a
status subresource start with an empty status (their Go status struct), except a Node, created with the status it
sends; a CustomResourceDefinition being deleted gets the cleanup finalizer that the apiextensions finalizing
controller removes once its custom resources are gone.
"""

from __future__ import annotations

from typing import Any

from dynaclient._types import JSONObject

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
CRD_CLEANUP_FINALIZER = "customresourcecleanup.apiextensions.k8s.io"
STATUS_SET_ON_CREATE = frozenset({"Node"})
"""Kinds whose create keeps the status sent (``nodeStrategy``: a node registers itself with its status)."""
RETURNS_DELETED_OBJECT = frozenset({"Pod"})
"""Kinds whose immediate delete answers with the object rather than a ``Status`` (``ReturnDeletedObject``)."""

_QOS_RESOURCES = ("cpu", "memory")


def initial_status(kind: str, obj: JSONObject) -> JSONObject:
    """The status a built-in object of ``kind`` is created with."""
    if kind == "Namespace":
        return {"phase": "Active"}
    if kind == "Pod":
        return {"phase": "Pending", "qosClass": qos_class(obj.get("spec") or {})}
    if kind == "Service":
        return {"loadBalancer": {}}
    if kind == "ReplicaSet":
        return {"replicas": 0}  # not omitempty in apps/v1 ReplicaSetStatus
    return {}


def on_write(kind: str, obj: JSONObject) -> None:
    """Apply what every create and update of ``kind`` enforces, in place."""
    if kind != "Namespace":
        return
    meta = obj.setdefault("metadata", {})
    labels = meta.get("labels")
    meta["labels"] = {**(labels if isinstance(labels, dict) else {}), NAMESPACE_NAME_LABEL: meta.get("name", "")}
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        spec = obj["spec"] = {}
    finalizers = spec.get("finalizers")
    if finalizers is None:
        spec["finalizers"] = ["kubernetes"]


def qos_class(spec: dict[str, Any]) -> str:
    """The pod's QoS class (kubernetes ``pkg/apis/core/helper/qos``, for cpu and memory).

    >>> qos_class({"containers": [{"name": "a"}]})
    'BestEffort'
    >>> qos_class({"containers": [{"resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}]})
    'Guaranteed'
    >>> qos_class({"containers": [{"resources": {"requests": {"cpu": "1"}}}]})
    'Burstable'
    """
    containers = [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]
    guaranteed, any_set = True, False
    for container in containers:
        resources = container.get("resources") or {}
        limits = {k: v for k, v in (resources.get("limits") or {}).items() if k in _QOS_RESOURCES}
        requests = {k: v for k, v in (resources.get("requests") or {}).items() if k in _QOS_RESOURCES}
        any_set = any_set or bool(limits or requests)
        # Requests default to limits; Guaranteed needs both resources limited, with requests equal to limits.
        if set(limits) != set(_QOS_RESOURCES) or any(requests.get(k, limits[k]) != limits[k] for k in limits):
            guaranteed = False
    if not any_set:
        return "BestEffort"
    return "Guaranteed" if guaranteed else "Burstable"


__all__ = [
    "CRD_CLEANUP_FINALIZER",
    "NAMESPACE_NAME_LABEL",
    "RETURNS_DELETED_OBJECT",
    "STATUS_SET_ON_CREATE",
    "initial_status",
    "on_write",
    "qos_class",
]
