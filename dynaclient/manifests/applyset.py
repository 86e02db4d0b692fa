"""ApplySet (KEP-3659) bookkeeping as kubectl ships it (``kubectl/pkg/cmd/apply/applyset*.go``).

A parent object (a Secret or ConfigMap) carries the set's ID label and annotations listing the group-kinds and
namespaces of its members; each member carries the ``part-of`` label. Pruning lists, for every group-kind the
parent records and every namespace in scope, the objects labelled ``part-of=<id>`` and deletes those the current
apply did not touch. The parent is applied with the superset of the old and new kinds and namespaces before the
members, and with the new ones only after a successful prune, so an interrupted run never loses track of an object.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import version
from typing import Literal

from dynaclient._types import JSONObject
from dynaclient.exceptions import ManifestError, NotFoundError, ResourceNotFoundError
from dynaclient.gvr import GroupVersionKind
from dynaclient.objects import get_annotations, get_labels, get_uid
from dynaclient.resources.client import ResourceClient
from dynaclient.resources.dynamic import DynamicClient

ID_LABEL = "applyset.kubernetes.io/id"
PART_OF_LABEL = "applyset.kubernetes.io/part-of"
TOOLING_ANNOTATION = "applyset.kubernetes.io/tooling"
GROUP_KINDS_ANNOTATION = "applyset.kubernetes.io/contains-group-kinds"
GROUP_RESOURCES_ANNOTATION = "applyset.kubernetes.io/contains-group-resources"  # deprecated; read, never written
NAMESPACES_ANNOTATION = "applyset.kubernetes.io/additional-namespaces"

DEFAULT_TOOLING = f"dynaclient/v{version('dynaclient')}"


def applyset_id(name: str, namespace: str, kind: str, group: str = "") -> str:
    """Return the ID of the ApplySet whose parent is ``kind.group`` ``namespace/name`` (kubectl ``ApplySet.ID``).

    >>> applyset_id("my-set", "test", "Secret")
    'applyset-0eFHV8ySqp7XoShsGvyWFQD3s96yqwHmzc4e0HR1dsY-v1'
    """
    digest = hashlib.sha256(f"{name}.{namespace}.{kind}.{group}".encode()).digest()
    return f"applyset-{base64.urlsafe_b64encode(digest).decode().rstrip('=')}-v1"


def group_kind(gvk: GroupVersionKind) -> str:
    """Return ``Kind.group`` as the annotation lists it (``Kind`` for the core group).

    >>> group_kind(GroupVersionKind("apps", "v1", "Deployment")), group_kind(GroupVersionKind("", "v1", "Secret"))
    ('Deployment.apps', 'Secret')
    """
    return f"{gvk.kind}.{gvk.group}" if gvk.group else gvk.kind


@dataclass(frozen=True, slots=True)
class ApplySet:
    """An ApplySet and its parent object.

    Args:
        name: the parent's name.
        namespace: the parent's namespace (it also scopes the set).
        kind: the parent's kind.
        tooling: ``<tool>/<version>`` written on the parent. kubectl refuses a set another tool manages (compared
            by the part before the last ``/``); pass ``kubectl/v1.33.0`` to share a set with ``kubectl apply
            --prune --applyset``.

    Thread-safety: immutable.
    """

    name: str
    namespace: str
    kind: Literal["Secret", "ConfigMap"] = "Secret"
    tooling: str = DEFAULT_TOOLING

    @property
    def id(self) -> str:
        """The set's ID (the parent's ``applyset.kubernetes.io/id`` label)."""
        return applyset_id(self.name, self.namespace, self.kind)

    @property
    def description(self) -> str:
        """``ApplySet parent secret ns/name``, for messages."""
        return f"ApplySet parent {self.kind.lower()} {self.namespace}/{self.name}"

    def member_labels(self) -> dict[str, str]:
        """The label every member carries."""
        return {PART_OF_LABEL: self.id}

    def parent_client(self, client: DynamicClient) -> ResourceClient:
        """The client of the parent's resource, bound to its namespace."""
        return client.resource(GroupVersionKind("", "v1", self.kind)).namespace(self.namespace)

    def read_parent(self, client: DynamicClient) -> tuple[set[str], set[str]]:
        """Return the group-kinds and additional namespaces the existing parent records (empty when it is new).

        Raises:
            ManifestError: the parent exists but belongs to another set or tool (the message says which).
        """
        try:
            parent = self.parent_client(client).get(self.name)
        except NotFoundError:
            return set(), set()
        labels, annotations = get_labels(parent), get_annotations(parent)
        if labels.get(ID_LABEL) != self.id:
            raise ManifestError(f"it is not the parent of ApplySet {self.id}", source=self.description)
        tooling = annotations.get(TOOLING_ANNOTATION, "")
        if tooling.rpartition("/")[0] != self.tooling.rpartition("/")[0]:
            raise ManifestError(
                f"ApplySet {self.id} is managed by {tooling or 'an unknown tool'}, not {self.tooling}",
                source=self.description,
            )
        kinds = annotations.get(GROUP_KINDS_ANNOTATION) or annotations.get(GROUP_RESOURCES_ANNOTATION) or ""
        namespaces = annotations.get(NAMESPACES_ANNOTATION, "")
        return {k for k in kinds.split(",") if k}, {n for n in namespaces.split(",") if n}

    def write_parent(
        self,
        client: DynamicClient,
        kinds: Iterable[str],
        namespaces: Iterable[str],
        *,
        field_manager: str,
        dry_run: bool = False,
    ) -> JSONObject:
        """Server-side apply the parent recording ``kinds`` and ``namespaces`` (its own namespace left out)."""
        body = {
            "apiVersion": "v1",
            "kind": self.kind,
            "metadata": {
                "name": self.name,
                "namespace": self.namespace,
                "labels": {ID_LABEL: self.id},
                "annotations": {
                    TOOLING_ANNOTATION: self.tooling,
                    GROUP_KINDS_ANNOTATION: ",".join(sorted(set(kinds))),
                    NAMESPACES_ANNOTATION: ",".join(sorted(set(namespaces) - {self.namespace})),
                },
            },
        }
        return self.parent_client(client).apply(
            body, field_manager=f"{field_manager}-applyset", force=True, dry_run=dry_run
        )

    def find_orphans(
        self, client: DynamicClient, kinds: Iterable[str], namespaces: Iterable[str], keep_uids: set[str]
    ) -> list[tuple[ResourceClient, JSONObject]]:
        """Return the members of ``kinds`` in scope whose uid is not in ``keep_uids``, with their clients."""
        found: list[tuple[ResourceClient, JSONObject]] = []
        scope = sorted({self.namespace, *namespaces})
        for entry in sorted(set(kinds)):
            kind, _, group = entry.partition(".")
            try:
                resource = client.resource(GroupVersionKind(group, "", kind))
            except ResourceNotFoundError:
                continue  # a kind no longer served (its CRD is gone) has no objects left to prune
            clients = [resource.namespace(ns) for ns in scope] if resource.api_resource.namespaced else [resource]
            for each in clients:
                for obj in each.list(label_selector={PART_OF_LABEL: self.id}):
                    if get_uid(obj) not in keep_uids:
                        found.append((each, obj))
        return found


__all__ = [
    "DEFAULT_TOOLING",
    "GROUP_KINDS_ANNOTATION",
    "ID_LABEL",
    "NAMESPACES_ANNOTATION",
    "PART_OF_LABEL",
    "TOOLING_ANNOTATION",
    "ApplySet",
    "applyset_id",
    "group_kind",
]
