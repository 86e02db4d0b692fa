"""The resource types a :class:`~dynaclient.testing.fake.FakeAPIServer` serves, and its discovery documents.

Each :class:`ResourceType` says what the fake needs to behave like the API server for that resource: its scope,
whether it has a ``status`` subresource (then the main resource ignores ``status`` and the subresource changes only
``status``, as the registry strategies do), whether it tracks ``metadata.generation``, and which field labels its
field selectors accept (apimachinery ``DefaultMetaV1FieldSelectorConversion`` plus each resource's own
``GetAttrs``). Custom resources are added from CustomResourceDefinition objects (:func:`types_from_crd`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from dynaclient._types import JSONObject
from dynaclient.discovery.documents import APIResource

AGGREGATED_CONTENT_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

_META_FIELDS = ("metadata.name", "metadata.namespace")
_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")


@dataclass(frozen=True, slots=True)
class ResourceType:
    """One served resource and the server behaviour the fake models for it.

    Attributes:
        api_resource: the resource as discovery describes it (group, version, plural, kind, scope, names).
        has_status: whether it serves a ``status`` subresource.
        has_generation: whether ``metadata.generation`` starts at 1 and grows with every change outside
            ``metadata`` and ``status``.
        field_labels: the field selector labels it accepts besides ``metadata.name`` and ``metadata.namespace``.
        served_versions: every version it is served at, preferred first (default: ``api_resource.version``);
            objects are stored once and served at each version with only ``apiVersion`` changed (a CRD's
            ``conversion: None``).
        custom: a custom resource (from a CRD): decoded as unstructured (``kind`` and ``apiVersion`` required),
            no status but the one written through the subresource, no strategic merge patch.
        unconditional_update: whether an update may leave out ``metadata.resourceVersion``
            (``AllowUnconditionalUpdate``: false for leases, CRDs and custom resources).

    Thread-safety: immutable.
    """

    api_resource: APIResource
    has_status: bool = False
    has_generation: bool = False
    field_labels: tuple[str, ...] = ()
    served_versions: tuple[str, ...] = field(default=())
    custom: bool = False
    unconditional_update: bool = True

    @property
    def group_resource(self) -> tuple[str, str]:
        """``(group, plural)``: the identity of the stored objects, whatever the version."""
        return self.api_resource.group, self.api_resource.resource

    @property
    def versions(self) -> tuple[str, ...]:
        """The versions served, preferred first."""
        return self.served_versions or (self.api_resource.version,)

    def accepts_field(self, label: str) -> bool:
        """Whether a field selector may name ``label``."""
        return label in _META_FIELDS or label in self.field_labels


def _builtin(
    group: str,
    version: str,
    resource: str,
    kind: str,
    *,
    namespaced: bool = True,
    short_names: tuple[str, ...] = (),
    has_status: bool = False,
    has_generation: bool = False,
    field_labels: tuple[str, ...] = (),
    unconditional_update: bool = True,
) -> ResourceType:
    subresources = ("status",) if has_status else ()
    api_resource = APIResource(
        group, version, resource, kind, namespaced, kind.lower(), _VERBS, short_names, (), subresources
    )
    return ResourceType(
        api_resource, has_status, has_generation, field_labels, unconditional_update=unconditional_update
    )


# The built-ins a controller's unit tests usually touch; field labels from each resource's GetAttrs
# (pkg/registry/core/pod/strategy.go PodToSelectableFields, secret/strategy.go, namespace/strategy.go).
BUILTIN_TYPES: tuple[ResourceType, ...] = (
    _builtin("", "v1", "namespaces", "Namespace", namespaced=False, short_names=("ns",), has_status=True,
             field_labels=("status.phase",)),
    _builtin("", "v1", "configmaps", "ConfigMap", short_names=("cm",)),
    _builtin("", "v1", "secrets", "Secret", field_labels=("type",)),
    _builtin("", "v1", "serviceaccounts", "ServiceAccount", short_names=("sa",)),
    _builtin("", "v1", "services", "Service", short_names=("svc",), has_status=True),
    _builtin("", "v1", "pods", "Pod", short_names=("po",), has_status=True, has_generation=True, field_labels=(
        "spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
        "spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName")),
    _builtin("", "v1", "events", "Event", short_names=("ev",)),
    _builtin("", "v1", "nodes", "Node", namespaced=False, short_names=("no",), has_status=True,
             field_labels=("spec.unschedulable",)),
    _builtin("events.k8s.io", "v1", "events", "Event", short_names=("ev",)),
    _builtin("apps", "v1", "deployments", "Deployment", short_names=("deploy",), has_status=True,
             has_generation=True),
    _builtin("apps", "v1", "statefulsets", "StatefulSet", short_names=("sts",), has_status=True,
             has_generation=True),
    _builtin("apps", "v1", "daemonsets", "DaemonSet", short_names=("ds",), has_status=True, has_generation=True),
    _builtin("apps", "v1", "replicasets", "ReplicaSet", short_names=("rs",), has_status=True, has_generation=True),
    _builtin("batch", "v1", "cronjobs", "CronJob", short_names=("cj",), has_status=True, has_generation=True),
    _builtin("batch", "v1", "jobs", "Job", has_status=True, has_generation=True),
    _builtin("coordination.k8s.io", "v1", "leases", "Lease", unconditional_update=False),
    _builtin("apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition",
             namespaced=False, short_names=("crd", "crds"), has_status=True, has_generation=True,
             unconditional_update=False),
)  # fmt: skip

CRD_GROUP_RESOURCE = ("apiextensions.k8s.io", "customresourcedefinitions")


def types_from_crd(crd: JSONObject) -> list[ResourceType]:
    """Return the resource type a CustomResourceDefinition object defines (one entry, every served version).

    The status subresource and selectable fields come from the first served version, as the fake stores one
    copy per object.
    """
    spec: dict[str, Any] = crd.get("spec") or {}
    names: dict[str, Any] = spec.get("names") or {}
    served = [v for v in spec.get("versions") or [] if v.get("served", True)]
    if not served:
        return []
    storage = next((v for v in served if v.get("storage")), served[0])
    subresources = storage.get("subresources") or {}
    selectable = tuple(
        str(item.get("jsonPath", "")).lstrip(".") for item in storage.get("selectableFields") or [] if item
    )
    api_resource = APIResource(
        group=str(spec.get("group", "")),
        version=str(served[0]["name"]),
        resource=str(names.get("plural", "")),
        kind=str(names.get("kind", "")),
        namespaced=spec.get("scope", "Namespaced") == "Namespaced",
        singular=str(names.get("singular") or str(names.get("kind", "")).lower()),
        verbs=_VERBS,
        short_names=tuple(names.get("shortNames") or ()),
        categories=tuple(names.get("categories") or ()),
        subresources=("status",) if "status" in subresources else (),
    )
    return [
        ResourceType(
            api_resource,
            has_status="status" in subresources,
            has_generation=True,
            field_labels=selectable,
            served_versions=tuple(str(v["name"]) for v in served),
            custom=True,
            unconditional_update=False,
        )
    ]


def is_established(crd: JSONObject) -> bool:
    """Whether a CRD's ``Established`` condition is true."""
    conditions = (crd.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Established" and c.get("status") == "True" for c in conditions)


def crd_status(crd: JSONObject, now: str) -> JSONObject:
    """The status the CRD controllers write: names accepted, established, storage version recorded."""
    spec = crd.get("spec") or {}
    versions = spec.get("versions") or []
    storage = [str(v["name"]) for v in versions if v.get("storage")]
    conditions = [
        {"type": kind, "status": "True", "reason": reason, "message": message, "lastTransitionTime": now}
        for kind, reason, message in (
            ("NamesAccepted", "NoConflicts", "no conflicts found"),
            ("Established", "InitialNamesAccepted", "the initial names have been accepted"),
        )
    ]
    return {"conditions": conditions, "acceptedNames": spec.get("names") or {}, "storedVersions": storage}


def aggregated_discovery(types: Iterable[ResourceType], *, core: bool) -> JSONObject:
    """Render the ``APIGroupDiscoveryList`` of ``/api`` (``core``) or ``/apis`` for ``types``."""
    groups: dict[str, dict[str, list[JSONObject]]] = {}
    for resource_type in types:
        api_resource = resource_type.api_resource
        if (api_resource.group == "") != core:
            continue
        for version in resource_type.versions:
            groups.setdefault(api_resource.group, {}).setdefault(version, []).append(_discovered(api_resource))
    items = [
        {
            "metadata": {"name": group},
            "versions": [
                {"version": version, "resources": resources, "freshness": "Current"}
                for version, resources in versions.items()
            ],
        }
        for group, versions in groups.items()
    ]
    return {"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {}, "items": items}


def _discovered(api_resource: APIResource) -> JSONObject:
    return {
        "resource": api_resource.resource,
        "responseKind": {"group": "", "version": "", "kind": api_resource.kind},
        "scope": "Namespaced" if api_resource.namespaced else "Cluster",
        "singularResource": api_resource.singular,
        "verbs": list(api_resource.verbs),
        "shortNames": list(api_resource.short_names),
        "categories": list(api_resource.categories),
        "subresources": [
            {"subresource": name, "responseKind": {"group": "", "version": "", "kind": api_resource.kind}}
            for name in api_resource.subresources
        ],
    }


__all__ = [
    "AGGREGATED_CONTENT_TYPE",
    "BUILTIN_TYPES",
    "CRD_GROUP_RESOURCE",
    "ResourceType",
    "aggregated_discovery",
    "crd_status",
    "is_established",
    "types_from_crd",
]
