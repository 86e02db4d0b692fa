"""Apply a set of manifests with server-side apply, in dependency order, after a server-side dry run of them all.

:func:`apply_manifests` runs, in order:

1. **Plan** (:func:`~dynaclient.manifests.plan.plan`): resolve every object; unknown kinds, wrong apiVersions,
   contradicting namespaces and duplicates fail here, before any request that writes.
2. **Dry run**: every object the server can already judge is applied with ``dryRun=All``; a refusal (validation,
   admission, a field-manager conflict) fails the whole call before anything is written. Objects in a namespace
   the set creates, and custom resources whose CRD the set creates, cannot be judged yet; the server checks them
   when they are applied.
3. **ApplySet parent** (with ``applyset``): recorded with the superset of the old and new kinds and namespaces.
4. **Apply**, in install order; a custom resource whose CRD is in the set first waits for it to be Established.
5. **Prune** (with ``applyset``): members of the set that this apply did not touch are deleted, then the parent
   records the new kinds and namespaces only.
6. **Wait** (with ``wait``): every object until it is ready by kstatus rules.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

from dynaclient._types import JSONObject
from dynaclient.discovery import APIResource
from dynaclient.dynamic import DynamicClient
from dynaclient.exceptions import APIError, ManifestError, NotFoundError, ResourceNotFoundError, WaitTimeoutError
from dynaclient.manifests.applyset import PART_OF_LABEL, ApplySet, group_kind
from dynaclient.manifests.loading import Manifest
from dynaclient.manifests.plan import PlannedObject, plan
from dynaclient.objects import get_resource_version, get_uid
from dynaclient.resource_client import ResourceClient
from dynaclient.restmapper import RESTMapper
from dynaclient.wait import crd_established, is_ready

DEFAULT_FIELD_MANAGER = "dynaclient"
DEFAULT_TIMEOUT = 300.0
"""Seconds :func:`apply_manifests` waits, in all, for CRDs to be established and objects to be ready."""

Action = Literal["created", "configured", "unchanged", "pruned"]
Progress = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class AppliedObject:
    """One object of an apply and what happened to it.

    Attributes:
        planned: the object as resolved.
        action: ``created``, ``configured`` or ``unchanged`` (its resourceVersion did not move).
        object: the server's answer (with ``dry_run``, what the object would be).

    Thread-safety: immutable.
    """

    planned: PlannedObject
    action: Action
    object: JSONObject


@dataclass(slots=True)
class ApplyResult:
    """What :func:`apply_manifests` did, in apply order.

    Attributes:
        applied: every object of the set.
        pruned: the ``kind.group/name`` (and namespace) of each object pruned from the ApplySet.

    Thread-safety: not thread-safe; a plain record.
    """

    applied: list[AppliedObject] = field(default_factory=list)
    pruned: list[str] = field(default_factory=list)


def apply_manifests(
    client: DynamicClient,
    manifests: Iterable[Manifest],
    *,
    field_manager: str = DEFAULT_FIELD_MANAGER,
    force: bool = False,
    dry_run: bool = False,
    namespace: str | None = None,
    applyset: ApplySet | None = None,
    wait: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
    progress: Progress | None = None,
) -> ApplyResult:
    """Server-side apply ``manifests`` as one set (see the module docstring for the steps).

    Args:
        client: the dynamic client.
        manifests: the objects (from :func:`~dynaclient.manifests.load_path` or
            :func:`~dynaclient.manifests.load_manifests`).
        field_manager: the field manager of every object.
        force: take over fields other managers own instead of failing with a conflict.
        dry_run: stop after the server-side dry run; nothing is written.
        namespace: the namespace of objects that name none (default: ``client.default_namespace``); when given,
            objects naming another namespace are refused, as with ``kubectl -n``.
        applyset: label the objects as members of this ApplySet and prune the members that left the set.
        wait: wait until every object is ready (kstatus rules).
        timeout: seconds for the waits (CRDs established, objects ready), in all.
        progress: called with a line of progress text (which object is applied, waited for, pruned).

    Raises:
        ManifestError: an object is invalid, or the server refused it; the message names its file and document
            and ``__cause__`` is the server's :class:`~dynaclient.exceptions.APIError`.
        WaitTimeoutError: an object was not ready (or a CRD not established) within ``timeout``.
        ObjectFailedError: an awaited object failed (kstatus Failed: a Job failed, a rollout's deadline passed).
    """
    say = progress or (lambda _message: None)
    deadline = time.monotonic() + timeout
    planned = plan(manifests, client.mapper, default_namespace=client.default_namespace, namespace=namespace)
    if applyset is not None:
        planned = [_as_member(item, applyset) for item in planned]
    checked = _dry_run(client, planned, field_manager=field_manager, force=force, say=say)
    if dry_run:
        return _dry_run_result(planned, checked)
    result = ApplyResult()
    kinds = {group_kind(item.gvk) for item in planned}
    namespaces = {item.namespace for item in planned if item.namespace}
    if applyset is not None:
        old_kinds, old_namespaces = applyset.read_parent(client)
        kinds, namespaces = kinds | old_kinds, namespaces | old_namespaces  # the superset, until the prune is done
    parent_written = applyset is None
    for item in planned:
        if not parent_written and not (item.gvk.kind == "Namespace" and not item.gvk.group):
            # before the first member, but after the Namespaces: the parent may live in one the set creates
            _write_parent(client, applyset, kinds, namespaces, field_manager=field_manager)
            parent_written = True
        dry = checked.get(id(item))
        if item.resource is None:
            item = _resolve_when_established(client, item, deadline, say)
        try:
            answer = _resource(client, item).apply(item.manifest.object, field_manager=field_manager, force=force)
        except APIError as exc:
            raise item.manifest.error(f"{item.description}: {exc}") from exc
        result.applied.append(AppliedObject(item, _action(dry, answer), answer))
    if applyset is not None:
        result.pruned = _prune(client, applyset, kinds, namespaces, applied=result.applied, say=say)
        current = [entry.planned for entry in result.applied]
        kinds = {group_kind(item.gvk) for item in current}
        _write_parent(
            client, applyset, kinds, {i.namespace for i in current if i.namespace}, field_manager=field_manager
        )
    if wait:
        _wait_ready(client, result.applied, deadline, say)
    return result


def _write_parent(
    client: DynamicClient, applyset: ApplySet | None, kinds: set[str], namespaces: set[str], *, field_manager: str
) -> None:
    assert applyset is not None  # called only with an ApplySet
    try:
        applyset.write_parent(client, kinds, namespaces, field_manager=field_manager)
    except APIError as exc:
        raise ManifestError(str(exc), source=applyset.description) from exc


def _prune(
    client: DynamicClient,
    applyset: ApplySet,
    kinds: set[str],
    namespaces: set[str],
    *,
    applied: list[AppliedObject],
    say: Progress,
) -> list[str]:
    """Delete the members of ``applyset`` that this apply did not touch; return their descriptions."""
    pruned = []
    keep = {get_uid(entry.object) for entry in applied}
    for resource, obj in applyset.find_orphans(client, kinds, namespaces, keep):
        try:
            resource.delete(obj["metadata"]["name"], propagation_policy="Background")
        except NotFoundError:
            continue
        pruned.append(_describe(resource, obj))
    if pruned:
        say(f"pruned {len(pruned)} object(s) that left ApplySet {applyset.id}")
    return pruned


def _as_member(item: PlannedObject, applyset: ApplySet) -> PlannedObject:
    obj = item.manifest.object
    labels = (obj.get("metadata") or {}).get("labels") or {}
    if PART_OF_LABEL in labels:
        raise item.manifest.error(f"{item.ref}: the ApplySet label {PART_OF_LABEL} is already set in the input")
    body = {**obj, "metadata": {**obj["metadata"], "labels": {**labels, **applyset.member_labels()}}}
    manifest = Manifest(body, item.manifest.source, item.manifest.document)
    return PlannedObject(manifest, item.gvk, item.namespace, item.resource, item.crd)


def _resource(client: DynamicClient, item: PlannedObject) -> ResourceClient:
    assert item.resource is not None
    resource = client.resource(item.resource)
    return resource.namespace(item.namespace) if item.namespace else resource


def _dry_run(
    client: DynamicClient, planned: list[PlannedObject], *, field_manager: str, force: bool, say: Progress
) -> dict[int, JSONObject]:
    """Dry-run every object the server can judge now; return the answers by ``id(item)``."""
    created_namespaces = {item.name for item in planned if item.gvk.kind == "Namespace" and not item.gvk.group}
    missing = {ns for ns in created_namespaces if not _exists(client, "namespaces", ns)}
    answers: dict[int, JSONObject] = {}
    for item in planned:
        if item.resource is None or item.namespace in missing:
            continue
        try:
            answer = _resource(client, item).apply(
                item.manifest.object, field_manager=field_manager, force=force, dry_run=True
            )
        except APIError as exc:
            raise item.manifest.error(f"{item.description}: {exc}") from exc
        answers[id(item)] = answer
    say(f"server-side dry run passed for {len(answers)} of {len(planned)} objects")
    return answers


def _dry_run_result(planned: list[PlannedObject], checked: dict[int, JSONObject]) -> ApplyResult:
    """Report the dry run; unchecked objects (their namespace or CRD does not exist yet) as they would be sent."""
    result = ApplyResult()
    for item in planned:
        answer = checked.get(id(item), item.manifest.object)
        action: Action = "configured" if get_resource_version(answer) else "created"
        result.applied.append(AppliedObject(item, action, answer))
    return result


def _exists(client: DynamicClient, resource: str, name: str) -> bool:
    try:
        client.resource(resource).get(name, metadata_only=True)
    except NotFoundError:
        return False
    return True


def _action(dry_run: JSONObject | None, answer: JSONObject) -> Action:
    """``created`` when the dry run found no object; ``unchanged`` when the resourceVersion did not move."""
    if dry_run is None or not get_resource_version(dry_run):
        return "created"
    return "unchanged" if get_resource_version(dry_run) == get_resource_version(answer) else "configured"


def _resolve_when_established(
    client: DynamicClient, item: PlannedObject, deadline: float, say: Progress
) -> PlannedObject:
    say(f"waiting for customresourcedefinition.apiextensions.k8s.io/{item.crd} to be established")
    crds = client.resource("customresourcedefinitions.apiextensions.k8s.io")
    crds.wait_for(item.crd, crd_established, max(0.0, deadline - time.monotonic()))
    while True:  # discovery can lag a moment behind Established (kube-rs wait::conditions::is_crd_established)
        if isinstance(client.mapper, RESTMapper):
            client.mapper.reset()
        try:
            resource: APIResource = client.mapper.resource_for(item.gvk)
            return item.with_resource(resource)
        except ResourceNotFoundError:
            if time.monotonic() > deadline:
                raise item.manifest.error(f"{item.gvk.kind} is not served after {item.crd} was established") from None
            time.sleep(0.2)


def _wait_ready(client: DynamicClient, applied: list[AppliedObject], deadline: float, say: Progress) -> None:
    for done, entry in enumerate(applied, start=1):
        item = entry.planned
        say(f"waiting for {item.ref} to be ready ({done}/{len(applied)})")
        try:
            _resource(client, item).wait_for(item.name, is_ready, max(0.0, deadline - time.monotonic()))
        except WaitTimeoutError as exc:
            raise WaitTimeoutError(
                f"{item.manifest.source} document {item.manifest.document}: {exc}", last=exc.last
            ) from exc


def _describe(resource: ResourceClient, obj: JSONObject) -> str:
    api = resource.api_resource
    group = f".{api.group}" if api.group else ""
    where = f" in namespace {resource.namespace_name}" if resource.namespace_name else ""
    return f"{api.kind.lower()}{group}/{obj['metadata']['name']}{where}"


__all__ = ["DEFAULT_FIELD_MANAGER", "DEFAULT_TIMEOUT", "Action", "AppliedObject", "ApplyResult", "apply_manifests"]
