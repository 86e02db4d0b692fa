"""Ready-made conditions and kstatus rules over plain dicts."""

from __future__ import annotations

from typing import Any

import pytest

from dynaclient.exceptions import ObjectFailedError
from dynaclient.wait import (
    compute_status,
    condition_true,
    crd_established,
    deployment_available,
    is_created,
    is_deleted,
    is_ready,
    job_complete,
    pod_running,
)


def obj(kind: str, api_version: str = "v1", generation: int = 1, **status: Any) -> dict[str, Any]:
    return {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {"name": "x", "generation": generation, "uid": "u"},
        "status": status,
    }


def deployment(replicas: int = 2, **status: Any) -> dict[str, Any]:
    d = obj("Deployment", "apps/v1", **status)
    d["spec"] = {"replicas": replicas, "progressDeadlineSeconds": 600}
    return d


AVAILABLE = {"type": "Available", "status": "True"}
PROGRESSED = {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}


@pytest.mark.parametrize("conditions", [None, [], [{"type": "Established", "status": "False"}], "garbage"])
def test_conditions_absent_null_or_false_do_not_hold(conditions: Any) -> None:
    crd = obj("CustomResourceDefinition", "apiextensions.k8s.io/v1", conditions=conditions)
    assert not crd_established(crd)
    assert not condition_true("Ready")(crd)


def test_none_means_absent() -> None:
    assert not crd_established(None)
    assert not is_created(None)
    assert is_deleted("u")(None)
    assert not is_deleted("u")(obj("ConfigMap"))


def test_condition_status_is_case_insensitive_and_can_be_false() -> None:
    pod = obj("Pod", conditions=[{"type": "Ready", "status": "False"}])
    assert condition_true("Ready", "false")(pod)
    assert not condition_true("Ready")(pod)


def test_observed_generation_behind_does_not_count() -> None:
    stale = obj("Widget", generation=3, observedGeneration=2, conditions=[{"type": "Ready", "status": "True"}])
    assert not condition_true("Ready")(stale)
    assert compute_status(stale).status == "InProgress"
    stale["status"]["observedGeneration"] = 3
    assert condition_true("Ready")(stale)


def test_job_and_pod() -> None:
    assert job_complete(obj("Job", "batch/v1", conditions=[{"type": "Complete", "status": "True"}]))
    assert pod_running(obj("Pod", phase="Running"))
    assert not pod_running(obj("Pod", phase="Pending"))
    failed = obj(
        "Job",
        "batch/v1",
        startTime="t",
        conditions=[{"type": "Failed", "status": "True", "message": "BackoffLimitExceeded"}],
    )
    assert compute_status(failed).status == "Failed"
    with pytest.raises(ObjectFailedError, match="BackoffLimitExceeded"):
        is_ready(failed)


def test_deployment_available_needs_every_replica_updated_and_available() -> None:
    rolling = deployment(replicas=2, replicas_=0)
    rolling["status"] = {
        "replicas": 3,
        "updatedReplicas": 2,
        "availableReplicas": 2,
        "readyReplicas": 2,
        "conditions": [AVAILABLE, PROGRESSED],
    }
    assert not deployment_available(rolling)  # an old pod is still there
    assert compute_status(rolling).message == "pending termination: 1 extra pods"
    rolling["status"]["replicas"] = 2
    assert deployment_available(rolling)
    assert compute_status(rolling).status == "Current"


def test_deployment_past_its_progress_deadline_failed() -> None:
    stuck = deployment(conditions=[{"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}])
    assert compute_status(stuck).status == "Failed"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (obj("ConfigMap"), "Current"),
        (obj("Service", spec=None), "Current"),
        (obj("Widget", conditions=[{"type": "Ready", "status": "False"}]), "InProgress"),
        (obj("Widget", conditions=[{"type": "Reconciling", "status": "True"}]), "InProgress"),
        (obj("Widget", conditions=[{"type": "Stalled", "status": "True"}]), "Failed"),
        (obj("Pod", phase="Running", conditions=[{"type": "Ready", "status": "True"}]), "Current"),
        (obj("Pod", phase="Pending"), "InProgress"),
        (obj("PersistentVolumeClaim", phase="Pending"), "InProgress"),
        (
            obj(
                "CustomResourceDefinition",
                "apiextensions.k8s.io/v1",
                conditions=[{"type": "Established", "status": "True"}],
            ),
            "Current",
        ),
        (
            obj(
                "CustomResourceDefinition",
                "apiextensions.k8s.io/v1",
                conditions=[{"type": "NamesAccepted", "status": "False"}],
            ),
            "Failed",
        ),
    ],
)
def test_kstatus_rules(body: dict[str, Any], expected: str) -> None:
    assert compute_status(body).status == expected


def test_terminating() -> None:
    body = obj("ConfigMap")
    body["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    assert compute_status(body).status == "Terminating"


def test_conditions_combine() -> None:
    either = condition_true("A") | condition_true("B")
    assert str(either) == "condition A or condition B"
    assert either(obj("W", conditions=[{"type": "B", "status": "True"}]))
    assert not (~is_created)(obj("W"))
