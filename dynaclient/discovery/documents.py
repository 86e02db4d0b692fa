"""The discovery records (APIResource, APIGroup) and the parsing of the server's discovery documents.

Pure functions, no I/O. Three shapes are read:

* aggregated discovery, ``APIGroupDiscoveryList`` (``apidiscovery.k8s.io/v2``) from ``/api`` and ``/apis``;
* legacy ``APIVersions`` (``/api``) and ``APIGroupList`` (``/apis``);
* legacy ``APIResourceList`` (``/api/v1``, ``/apis/<group>/<version>``), where subresources are ``pods/status``.

Conversion rules follow client-go ``discovery/aggregated_discovery.go`` and ``discovery/discovery_client.go``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from dynaclient._types import JSONObject
from dynaclient.exceptions import DecodeError
from dynaclient.gvr import GroupVersion, GroupVersionKind, GroupVersionResource

_AGGREGATED_VERSIONS = ("v2", "v2beta1")

# Kubernetes 1.34 serves v2 only; 1.26-1.29 served v2beta1 only (same schema). Offering both, as client-go up to
# v0.34 did (discovery/discovery_client.go acceptDiscoveryFormats), then plain JSON for the legacy documents.
AGGREGATED_ACCEPT = ",".join(
    [f"application/json;g=apidiscovery.k8s.io;v={v};as=APIGroupDiscoveryList" for v in _AGGREGATED_VERSIONS]
    + ["application/json"]
)
"""The ``Accept`` header of ``GET /api`` and ``GET /apis``: aggregated discovery, else the legacy documents."""


@dataclass(frozen=True, slots=True)
class APIResource:
    """One resource served by the API server, as discovery describes it.

    Attributes:
        group: the API group; ``""`` for the core group.
        version: the API version within the group.
        resource: the plural resource name used in URLs (``deployments``).
        kind: the object kind (``Deployment``).
        namespaced: whether objects live in namespaces.
        singular: the singular name (``deployment``); may be empty for old servers.
        verbs: the verbs the resource supports (``get``, ``list``, ``watch``, ...).
        short_names: short names (``deploy``).
        categories: categories (``all``).
        subresources: the subresources served (``status``, ``scale``).

    Thread-safety: immutable.
    """

    group: str
    version: str
    resource: str
    kind: str
    namespaced: bool
    singular: str = ""
    verbs: tuple[str, ...] = ()
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()

    @property
    def gvr(self) -> GroupVersionResource:
        """The resource's group, version and plural name."""
        return GroupVersionResource(self.group, self.version, self.resource)

    @property
    def gvk(self) -> GroupVersionKind:
        """The resource's group, version and kind."""
        return GroupVersionKind(self.group, self.version, self.kind)


@dataclass(frozen=True, slots=True)
class APIGroup:
    """An API group and the versions the server serves, most preferred first.

    Attributes:
        name: the group; ``""`` is the core group.
        versions: the served versions, in the server's preference order.
        preferred_version: the version clients should use.

    Thread-safety: immutable.
    """

    name: str
    versions: tuple[str, ...]
    preferred_version: str


@dataclass(frozen=True, slots=True)
class DiscoverySnapshot:
    """One complete discovery result.

    Attributes:
        groups: the served groups, core first, in the server's priority order.
        resources: every resource at every version, in group then version preference order.
        failed_group_versions: ``group/version`` to the reason it could not be discovered.
        fetched_at: when the result was fetched, in epoch seconds.
        aggregated: whether it came from aggregated discovery.

    Thread-safety: immutable (do not mutate ``failed_group_versions``).
    """

    groups: tuple[APIGroup, ...]
    resources: tuple[APIResource, ...]
    failed_group_versions: Mapping[str, str] = field(default_factory=dict)
    fetched_at: float = 0.0
    aggregated: bool = False


def is_aggregated(content_type: str) -> bool:
    """Tell whether a response ``Content-Type`` is aggregated discovery.

    As client-go ``isV2Beta1ContentType``/``isV2ContentType``: the media type is JSON and ``g``, ``v`` and ``as``
    name the list; parameter order and extra parameters do not matter.

    >>> is_aggregated("application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList")
    True
    >>> is_aggregated("application/json; charset=utf-8; as=APIGroupDiscoveryList; v=v2beta1; g=apidiscovery.k8s.io")
    True
    >>> is_aggregated("application/json")
    False
    """
    media_type, *parameters = (part.strip() for part in content_type.split(";"))
    params = dict(p.partition("=")[::2] for p in parameters)
    return (
        media_type.lower() == "application/json"
        and params.get("g") == "apidiscovery.k8s.io"
        and params.get("v") in _AGGREGATED_VERSIONS
        and params.get("as") == "APIGroupDiscoveryList"
    )


def parse_aggregated(document: JSONObject) -> DiscoverySnapshot:
    """Convert an ``APIGroupDiscoveryList`` into groups, resources and stale group/versions.

    Rules of client-go ``discovery/aggregated_discovery.go``: versions are listed most preferred first; a
    ``Stale`` version is skipped and reported; the preferred version is the first fresh one; a resource without a
    ``responseKind`` kind is dropped; ``responseKind`` group and version are empty when they are the enclosing ones.

    Raises:
        DecodeError: a field has the wrong JSON type.
    """
    groups: list[APIGroup] = []
    resources: list[APIResource] = []
    failed: dict[str, str] = {}
    for i, item in enumerate(_objects(document, "items", "APIGroupDiscoveryList")):
        where = f"items[{i}]"
        name = _str(_object(item, "metadata", where), "name", f"{where}.metadata")
        versions: list[str] = []
        for j, entry in enumerate(_objects(item, "versions", where)):
            version = _str(entry, "version", f"{where}.versions[{j}]")
            group_version = GroupVersion(name, version)
            if entry.get("freshness") == "Stale":
                failed[group_version.api_version] = f"stale GroupVersion discovery: {group_version.api_version}"
                continue
            versions.append(version)
            resources += _aggregated_resources(entry, group_version, f"{where}.versions[{j}]")
        if versions:
            groups.append(APIGroup(name, tuple(versions), versions[0]))
    return DiscoverySnapshot(groups=tuple(groups), resources=tuple(resources), failed_group_versions=failed)


def _aggregated_resources(entry: JSONObject, group_version: GroupVersion, where: str) -> list[APIResource]:
    resources = []
    for k, raw in enumerate(_objects(entry, "resources", where)):
        at = f"{where}.resources[{k}]"
        kind = _str(_object(raw, "responseKind", at), "kind", f"{at}.responseKind")
        if not kind:
            continue
        subresources = [_str(sub, "subresource", at) for sub in _objects(raw, "subresources", at)]
        resources.append(
            APIResource(
                group=group_version.group,
                version=group_version.version,
                resource=_str(raw, "resource", at),
                kind=kind,
                namespaced=_str(raw, "scope", at) == "Namespaced",
                singular=_str(raw, "singularResource", at),
                verbs=_strings(raw, "verbs", at),
                short_names=_strings(raw, "shortNames", at),
                categories=_strings(raw, "categories", at),
                subresources=tuple(subresources),
            )
        )
    return resources


def groups_from_api_versions(document: JSONObject) -> list[APIGroup]:
    """Convert the legacy ``/api`` ``APIVersions`` into the core group; the first version is preferred.

    >>> groups_from_api_versions({"kind": "APIVersions", "versions": ["v1"]})
    [APIGroup(name='', versions=('v1',), preferred_version='v1')]
    """
    versions = _strings(document, "versions", "APIVersions")
    return [APIGroup("", versions, versions[0])] if versions else []


def groups_from_api_group_list(document: JSONObject) -> list[APIGroup]:
    """Convert the legacy ``/apis`` ``APIGroupList``; a group without ``preferredVersion`` prefers its first version.

    Raises:
        DecodeError: a field has the wrong JSON type.
    """
    groups = []
    for i, raw in enumerate(_objects(document, "groups", "APIGroupList")):
        where = f"groups[{i}]"
        versions = tuple(_str(v, "version", where) for v in _objects(raw, "versions", where))
        preferred = _str(_object(raw, "preferredVersion", where), "version", where)
        if versions:
            groups.append(APIGroup(_str(raw, "name", where), versions, preferred or versions[0]))
    return groups


def resources_from_resource_list(document: JSONObject, group_version: GroupVersion) -> list[APIResource]:
    """Convert a legacy ``APIResourceList``; ``parent/sub`` entries become the parent's subresources.

    Raises:
        DecodeError: a field has the wrong JSON type.
    """
    where = f"APIResourceList {group_version}"
    entries = _objects(document, "resources", where)
    subresources: dict[str, list[str]] = {}
    for raw in entries:
        parent, slash, sub = _str(raw, "name", where).partition("/")
        if slash:
            subresources.setdefault(parent, []).append(sub)
    resources = []
    for raw in entries:
        name = _str(raw, "name", where)
        if "/" in name:
            continue
        resources.append(
            APIResource(
                group=group_version.group,
                version=group_version.version,
                resource=name,
                kind=_str(raw, "kind", where),
                namespaced=raw.get("namespaced") is True,
                singular=_str(raw, "singularName", where),
                verbs=_strings(raw, "verbs", where),
                short_names=_strings(raw, "shortNames", where),
                categories=_strings(raw, "categories", where),
                subresources=tuple(subresources.get(name, ())),
            )
        )
    return resources


# -- typed field access: a wrong JSON type is a DecodeError naming the field; a missing field is empty ----------


def _field(obj: JSONObject, key: str, where: str, expected: type, empty: Any) -> Any:
    value = obj.get(key)
    if value is None:
        return empty
    if not isinstance(value, expected):
        raise DecodeError(f"{where}.{key}: expected {expected.__name__}, got {type(value).__name__}")
    return value


def _str(obj: JSONObject, key: str, where: str) -> str:
    value: str = _field(obj, key, where, str, "")
    return value


def _object(obj: JSONObject, key: str, where: str) -> JSONObject:
    value: JSONObject = _field(obj, key, where, dict, {})
    return value


def _objects(obj: JSONObject, key: str, where: str) -> list[JSONObject]:
    values: list[Any] = _field(obj, key, where, list, [])
    if not all(isinstance(v, dict) for v in values):
        raise DecodeError(f"{where}.{key}: expected a list of objects")
    return values


def _strings(obj: JSONObject, key: str, where: str) -> tuple[str, ...]:
    values: list[Any] = _field(obj, key, where, list, [])
    if not all(isinstance(v, str) for v in values):
        raise DecodeError(f"{where}.{key}: expected a list of strings")
    return tuple(values)


__all__ = [
    "AGGREGATED_ACCEPT",
    "APIGroup",
    "APIResource",
    "DiscoverySnapshot",
    "groups_from_api_group_list",
    "groups_from_api_versions",
    "is_aggregated",
    "parse_aggregated",
    "resources_from_resource_list",
]
