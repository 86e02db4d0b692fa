"""Resolve manifests through the RESTMapper and order them for apply (pure except for discovery lookups).

Each object becomes a :class:`PlannedObject`: its served resource and namespace, checked before anything is
written. A custom resource whose CustomResourceDefinition is in the same set may not be served yet; it is
checked against that CRD (kind, served version, scope) and resolved once the CRD is established.

The apply order is Namespaces, then CustomResourceDefinitions (Helm installs its ``crds/`` before the rest),
then Helm's install order (``pkg/release/util/kind_sorter.go``): policies, accounts, configuration and storage,
RBAC, Services, workloads, and the webhook configurations; unknown kinds (custom resources) come last. Objects of
equal rank keep their order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from dynaclient.discovery.discovery import APIResource
from dynaclient.exceptions import ResourceNotFoundError
from dynaclient.gvr import GroupVersionKind
from dynaclient.manifests.loading import Manifest
from dynaclient.resources.dynamic import ResourceMapper

CRD_GROUP_KIND = ("apiextensions.k8s.io", "CustomResourceDefinition")

# fmt: off
INSTALL_ORDER = (
    "Namespace", "CustomResourceDefinition", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodSecurityPolicy",
    "PodDisruptionBudget", "ServiceAccount", "Secret", "SecretList", "ConfigMap", "StorageClass", "PersistentVolume",
    "PersistentVolumeClaim", "ClusterRole", "ClusterRoleList", "ClusterRoleBinding", "ClusterRoleBindingList", "Role",
    "RoleList", "RoleBinding", "RoleBindingList", "Service", "DaemonSet", "Pod", "ReplicationController",
    "ReplicaSet", "Deployment", "HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob", "IngressClass", "Ingress",
    "APIService", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration",
)
# fmt: on
_RANK = {kind: rank for rank, kind in enumerate(INSTALL_ORDER)}


@dataclass(frozen=True, slots=True)
class PlannedObject:
    """An object resolved for apply or delete.

    Attributes:
        manifest: the object and where it came from.
        gvk: its group, version and kind, from ``apiVersion`` and ``kind``.
        namespace: its namespace (defaulted), ``""`` when cluster-scoped.
        resource: the served resource; ``None`` while its CRD (in the same set) is not yet served.
        crd: the name of the CRD in the set that defines it, or ``""``.

    Thread-safety: immutable.
    """

    manifest: Manifest
    gvk: GroupVersionKind
    namespace: str
    resource: APIResource | None
    crd: str = ""

    @property
    def name(self) -> str:
        """The object's name."""
        return str(self.manifest.object["metadata"]["name"])

    @property
    def ref(self) -> str:
        """``kind.group/name`` as kubectl ``-o name`` prints it (``deployment.apps/web``, ``configmap/c``)."""
        group = f".{self.gvk.group}" if self.gvk.group else ""
        return f"{self.gvk.kind.lower()}{group}/{self.name}"

    @property
    def description(self) -> str:
        """``ref`` plus the namespace, for messages."""
        return f"{self.ref} in namespace {self.namespace}" if self.namespace else self.ref

    def with_resource(self, resource: APIResource) -> PlannedObject:
        """Return a copy resolved to ``resource``."""
        return replace(self, resource=resource)


@dataclass(frozen=True, slots=True)
class _DefinedKind:
    """A kind a CRD of the set defines: the CRD's name, its served versions and its scope.

    Thread-safety: immutable.
    """

    crd: str
    versions: tuple[str, ...]
    namespaced: bool


def plan(
    manifests: Iterable[Manifest], mapper: ResourceMapper, *, default_namespace: str, namespace: str | None = None
) -> list[PlannedObject]:
    """Resolve every manifest, check the set, and return it in apply order.

    Args:
        manifests: the objects.
        mapper: resolves kinds through discovery.
        default_namespace: the namespace of namespaced objects that name none.
        namespace: when given (kubectl ``-n``), every namespaced object must be in it or name none.

    Raises:
        ManifestError: an unknown kind, an apiVersion that does not serve the kind, a namespace that contradicts
            ``namespace``, or the same object twice; the message names the file and the document.
    """
    listed = list(manifests)
    defined = _defined_kinds(listed)
    planned = [
        _resolve(m, mapper, defined, default_namespace=namespace or default_namespace, required=namespace)
        for m in listed
    ]
    seen: dict[tuple[str, str, str, str], PlannedObject] = {}
    for item in planned:
        key = (item.gvk.group, item.gvk.kind, item.namespace, item.name)
        if key in seen:
            first = seen[key].manifest
            raise item.manifest.error(f"{item.description} is also in {first.source} document {first.document}")
        seen[key] = item
    return sorted(planned, key=lambda item: _RANK.get(item.gvk.kind, len(_RANK)) if not item.crd else len(_RANK))


def _defined_kinds(manifests: list[Manifest]) -> dict[tuple[str, str], _DefinedKind]:
    defined: dict[tuple[str, str], _DefinedKind] = {}
    for manifest in manifests:
        obj = manifest.object
        if (str(obj["apiVersion"]).partition("/")[0], obj["kind"]) != CRD_GROUP_KIND:
            continue
        spec = obj.get("spec")
        spec = spec if isinstance(spec, dict) else {}
        names = spec.get("names")
        names = names if isinstance(names, dict) else {}
        versions = tuple(
            str(v.get("name")) for v in spec.get("versions") or () if isinstance(v, dict) and v.get("served", True)
        )
        defined[(str(spec.get("group", "")), str(names.get("kind", "")))] = _DefinedKind(
            obj["metadata"]["name"], versions, spec.get("scope") == "Namespaced"
        )
    return defined


def _resolve(
    manifest: Manifest,
    mapper: ResourceMapper,
    defined: dict[tuple[str, str], _DefinedKind],
    *,
    default_namespace: str,
    required: str | None,
) -> PlannedObject:
    obj = manifest.object
    group, _, version = str(obj["apiVersion"]).rpartition("/")
    gvk = GroupVersionKind(group, version, str(obj["kind"]))
    definition = defined.get((group, gvk.kind))
    resource: APIResource | None = None
    if definition is not None:
        if version not in definition.versions:
            raise manifest.error(
                f"apiVersion {obj['apiVersion']} is not served by {definition.crd} in this set "
                f"(it serves {', '.join(definition.versions) or 'no version'})"
            )
        namespaced = definition.namespaced
        try:
            resource = mapper.resource_for(gvk)  # served already (the CRD exists): check it with the rest
        except ResourceNotFoundError:
            resource = None
    else:
        resource = _lookup(manifest, mapper, gvk)
        namespaced = resource.namespaced
    namespace = ""
    if namespaced:
        namespace = str(obj["metadata"].get("namespace") or default_namespace)
        if required is not None and namespace != required:
            raise manifest.error(
                f"the namespace from the object ({namespace}) does not match the namespace {required} asked for"
            )
    crd = definition.crd if definition is not None else ""
    return PlannedObject(manifest, gvk, namespace, resource, crd)


def _lookup(manifest: Manifest, mapper: ResourceMapper, gvk: GroupVersionKind) -> APIResource:
    try:
        return mapper.resource_for(gvk)
    except ResourceNotFoundError:
        pass
    try:
        served = mapper.resource_for(GroupVersionKind("", "", gvk.kind))
    except ResourceNotFoundError:
        raise manifest.error(f"unknown kind {gvk.kind}: the server has no resource of that kind") from None
    api_version = f"{served.group}/{served.version}" if served.group else served.version
    raise manifest.error(
        f"apiVersion {manifest.object['apiVersion']} does not serve kind {gvk.kind} "
        f"(the server serves it as {api_version})"
    )


__all__ = ["CRD_GROUP_KIND", "INSTALL_ORDER", "PlannedObject", "plan"]
