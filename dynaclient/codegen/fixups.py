"""Where served objects differ from their OpenAPI schemas: keys written as ``null``, or left out though required.

The schemas say what a field holds, not whether Go writes ``null`` for it: a ``metav1.Time`` that is zero (not a
pointer) marshals as ``null`` even with ``omitempty``, and a nil slice without ``omitempty`` does too. Those keys
are typed ``T | None`` here. Each entry was seen on a real server (the round-trip test lists every object the
local control plane serves and checks it against its type) or is a known upstream case that k8s-openapi patches
(``k8s-openapi-codegen/src/fixups/upstream_bugs.rs``: ``ContainerImage.names``, ``Event.eventTime``).

A fixup whose component is generated but lacks the key raises, so that schema drift is noticed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dynaclient.codegen.documents import OpenAPIError

NULLABLE: Mapping[str, frozenset[str]] = {
    # zero metav1.Time / MicroTime structs (kubectl shows `lastProbeTime: null` on every pod condition)
    "io.k8s.api.core.v1.PodCondition": frozenset({"lastProbeTime"}),
    "io.k8s.api.batch.v1.JobCondition": frozenset({"lastProbeTime"}),
    "io.k8s.api.core.v1.PersistentVolumeClaimCondition": frozenset({"lastProbeTime"}),
    "io.k8s.api.core.v1.Event": frozenset({"eventTime", "firstTimestamp", "lastTimestamp"}),
    "io.k8s.api.events.v1.Event": frozenset({"deprecatedFirstTimestamp", "deprecatedLastTimestamp", "eventTime"}),
    # nil slices without omitempty
    "io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerStatus": frozenset({"currentMetrics"}),
    "io.k8s.api.rbac.v1.ClusterRole": frozenset({"rules"}),
    "io.k8s.api.core.v1.ContainerImage": frozenset({"names"}),
    # a CRD's create answer: `status: {conditions: null, ...}`
    "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionStatus": frozenset(
        {"conditions"}
    ),
}
"""Keys the server may write as ``null``, by component."""

NOT_REQUIRED: Mapping[str, frozenset[str]] = {
    # An events.k8s.io Event read back from a core/v1 Event has no eventTime (k8s-openapi upstream_bugs.rs).
    "io.k8s.api.events.v1.Event": frozenset({"eventTime"}),
}
"""Keys the schema lists as required that the server may leave out, by component."""


class FixupError(OpenAPIError):
    """A fixup names a key its component does not have: the schemas changed; review the fixup.

    Thread-safety: immutable once raised.
    """


def check_fixups(schemas: Mapping[str, Any]) -> None:
    """Raise :class:`FixupError` when a fixup's component is in ``schemas`` without the key it names.

    >>> check_fixups({"io.k8s.api.rbac.v1.ClusterRole": {"properties": {"rules": {}}}})
    >>> check_fixups({"io.k8s.api.rbac.v1.ClusterRole": {"properties": {}}})
    Traceback (most recent call last):
    ...
    dynaclient.codegen.fixups.FixupError: fixup for io.k8s.api.rbac.v1.ClusterRole names rules, which it lacks
    """
    for table in (NULLABLE, NOT_REQUIRED):
        for component, keys in table.items():
            properties = schemas.get(component, {}).get("properties")
            if properties is None:
                continue
            for key in sorted(keys - set(properties)):
                raise FixupError(f"fixup for {component} names {key}, which it lacks")


__all__ = ["NOT_REQUIRED", "NULLABLE", "FixupError", "check_fixups"]
