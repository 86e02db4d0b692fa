"""Wait for objects: conditions, kstatus readiness, and a watch that resumes (kube-rs ``kube-runtime`` ``wait``).

Most code calls :meth:`ResourceClient.wait_for <dynaclient.resources.client.ResourceClient.wait_for>` and
:meth:`~dynaclient.resources.client.ResourceClient.wait_for_deletion`, with a condition from here::

    from dynaclient.wait import crd_established, deployment_available
    client.resource("customresourcedefinitions").wait_for("widgets.example.com", crd_established, 30)
"""

from dynaclient.wait.awaiting import await_condition, await_deletion
from dynaclient.wait.conditions import (
    Condition,
    Predicate,
    condition_true,
    crd_established,
    deployment_available,
    find_condition,
    has_condition,
    is_created,
    is_deleted,
    job_complete,
    pod_running,
)
from dynaclient.wait.kstatus import ObjectStatus, compute_status, is_ready
from dynaclient.wait.stream import resumed_watch

__all__ = [
    "Condition",
    "ObjectStatus",
    "Predicate",
    "await_condition",
    "await_deletion",
    "compute_status",
    "condition_true",
    "crd_established",
    "deployment_available",
    "find_condition",
    "has_condition",
    "is_created",
    "is_deleted",
    "is_ready",
    "job_complete",
    "pod_running",
    "resumed_watch",
]
