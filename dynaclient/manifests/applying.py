"""Apply a set of manifests with server-side apply, in dependency order, after a server-side dry run of them all.

:func:`apply_manifests` runs, in order:

1. **Plan** (:func:`~dynaclient.manifests.plan.plan`): resolve every object; unknown kinds, wrong apiVersions,
   contradicting namespaces and duplicates fail here, before any request that writes.
2. **Dry run**: every object the server can already judge is applied with ``dryRun=All``; a refusal (validation,
   admission, a field-manager conflict) fails the whole call before anything is written.
3. **Foundation**: the set's Namespaces, then (with ``applyset``) the ApplySet parent with the superset of the old
   and new kinds and namespaces, then the set's CustomResourceDefinitions, each waited for until Established.
4. **Second dry run** of the objects the first could not judge (those in a namespace, or of a kind, the set
   creates): a refusal now leaves only the foundation applied, none of the other objects.
5. **Apply** the other objects in install order.
6. **Prune** (with ``applyset``): members of the set that this apply did not touch are deleted, then the parent
   records the new kinds and namespaces only.
7. **Wait** (with ``wait``): every object until it is ready by kstatus rules.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

from dynaclient._types import JSONObject
from dynaclient.discovery.restmapper import RESTMapper
from dynaclient.exceptions import APIError, ManifestError, NotFoundError, ResourceNotFoundError, WaitTimeoutError
from dynaclient.manifests.applyset import PART_OF_LABEL, ApplySet, group_kind
from dynaclient.manifests.loading import Manifest
from dynaclient.manifests.plan import CRD_GROUP_KIND, PlannedObject, plan
from dynaclient.objects import get_resource_version, get_uid
from dynaclient.resources.client import ResourceClient
from dynaclient.resources.dynamic import DynamicClient
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
        dry_run: stop after the server-side dry run; nothing is written. Objects the server cannot judge yet
            (in a namespace, or of a kind, the set creates) are reported as they would be sent.
        namespace: the namespace of objects that name none (default: ``client.default_namespace``); when given,
            objects naming another namespace are refused, as with ``kubectl -n``.
        applyset: label the objects as members of this ApplySet and prune the members that left the set.
        wait: wait until every object is ready (kstatus rules).
        timeout: seconds for the waits (CRDs established, objects ready), in all.
        progress: called with a line of progress text (dry runs, what is waited for, what was pruned).

    Raises:
        ManifestError: an object is invalid, or the server refused it; the message names its file and document
            and ``__cause__`` is the server's :class:`~dynaclient.exceptions.APIError`.
        WaitTimeoutError: an object was not ready (or a CRD not established) within ``timeout``.
        ObjectFailedError: an awaited object failed (kstatus Failed: a Job failed, a rollout's deadline passed).
    """
    run = _SetApply(client, field_manager, force=force, applyset=applyset, timeout=timeout, progress=progress)
    planned = plan(manifests, client.mapper, default_namespace=client.default_namespace, namespace=namespace)
    if applyset is not None:
        planned = [_as_member(item, applyset) for item in planned]
    checks = run.dry_run(planned, range(len(planned)))
    if dry_run:
        return _dry_run_result(planned, checks)
    run.read_parent(planned)
    split = next((index for index, item in enumerate(planned) if not _is_foundation(item)), len(planned))
    for index in range(split):
        run.apply(planned[index], checks.get(index))
    planned[split:] = run.resolve_pending(planned[split:])
    checks.update(run.dry_run(planned, [index for index in range(split, len(planned)) if index not in checks]))
    for index in range(split, len(planned)):
        run.apply(planned[index], checks.get(index))
    run.prune()
    if wait:
        _wait_ready(client, run.result.applied, run.deadline, run.say)
    return run.result


def _is_foundation(item: PlannedObject) -> bool:
    """Namespaces and CRDs: what other objects of a set may need before the server can judge them."""
    return (item.gvk.group, item.gvk.kind) in (("", "Namespace"), CRD_GROUP_KIND)


class _SetApply:
    """The state of one :func:`apply_manifests` call: options, the ApplySet's kinds and namespaces, the result.

    Thread-safety: confined to the calling thread.
    """

    def __init__(
        self,
        client: DynamicClient,
        field_manager: str,
        *,
        force: bool,
        applyset: ApplySet | None,
        timeout: float,
        progress: Progress | None,
    ) -> None:
        self.client, self.field_manager, self.force, self.applyset = client, field_manager, force, applyset
        self.deadline = time.monotonic() + timeout
        self.say: Progress = progress or (lambda _message: None)
        self.result = ApplyResult()
        self.kinds: set[str] = set()
        self.namespaces: set[str] = set()
        self.parent_pending = applyset is not None

    def dry_run(self, planned: list[PlannedObject], indexes: Iterable[int]) -> dict[int, JSONObject]:
        """Dry-run the objects at ``indexes`` that the server can judge now; return the answers by index."""
        chosen = list(indexes)
        created = {item.name for item in planned if (item.gvk.group, item.gvk.kind) == ("", "Namespace")}
        missing = {ns for ns in created if not _exists(self.client, "namespaces", ns)}
        answers: dict[int, JSONObject] = {}
        for index in chosen:
            item = planned[index]
            if item.resource is None or item.namespace in missing:
                continue
            answers[index] = self._apply(item, dry_run=True)
        if chosen:
            self.say(f"server-side dry run passed for {len(answers)} of {len(chosen)} objects")
        return answers

    def read_parent(self, planned: list[PlannedObject]) -> None:
        """Record the kinds and namespaces of the set, with those the ApplySet parent lists already."""
        self.kinds = {group_kind(item.gvk) for item in planned}
        self.namespaces = {item.namespace for item in planned if item.namespace}
        if self.applyset is not None:
            old_kinds, old_namespaces = self.applyset.read_parent(self.client)
            self.kinds |= old_kinds  # the superset, until the prune is done
            self.namespaces |= old_namespaces

    def apply(self, item: PlannedObject, checked: JSONObject | None) -> None:
        """Apply ``item`` (the ApplySet parent first, once the set's Namespaces are applied)."""
        if self.parent_pending and (item.gvk.group, item.gvk.kind) != ("", "Namespace"):
            self._write_parent(self.kinds, self.namespaces)  # the parent may live in a namespace the set creates
            self.parent_pending = False
        answer = self._apply(item, dry_run=False)
        self.result.applied.append(AppliedObject(item, _action(checked, answer), answer))

    def resolve_pending(self, items: list[PlannedObject]) -> list[PlannedObject]:
        """Resolve the custom resources of the set's CRDs, once each CRD is Established and served."""
        pending = sorted({item.crd for item in items if item.resource is None})
        crds = self.client.resource("customresourcedefinitions.apiextensions.k8s.io")
        for crd in pending:
            self.say(f"waiting for customresourcedefinition.apiextensions.k8s.io/{crd} to be established")
            crds.wait_for(crd, crd_established, self._remaining())
        return [item if item.resource is not None else self._served(item) for item in items]

    def prune(self) -> None:
        """Delete the ApplySet members this apply did not touch, then record the current kinds and namespaces."""
        if self.applyset is None:
            return
        keep = {get_uid(entry.object) for entry in self.result.applied}
        for resource, obj in self.applyset.find_orphans(self.client, self.kinds, self.namespaces, keep):
            try:
                resource.delete(obj["metadata"]["name"], propagation_policy="Background")
            except NotFoundError:
                continue
            self.result.pruned.append(_describe(resource, obj))
        if self.result.pruned:
            self.say(f"pruned {len(self.result.pruned)} object(s) that left ApplySet {self.applyset.id}")
        current = [entry.planned for entry in self.result.applied]
        self._write_parent({group_kind(i.gvk) for i in current}, {i.namespace for i in current if i.namespace})

    def _apply(self, item: PlannedObject, *, dry_run: bool) -> JSONObject:
        try:
            return _resource(self.client, item).apply(
                item.manifest.object, field_manager=self.field_manager, force=self.force, dry_run=dry_run
            )
        except APIError as exc:
            raise item.manifest.error(f"{item.description}: {exc}") from exc

    def _write_parent(self, kinds: set[str], namespaces: set[str]) -> None:
        assert self.applyset is not None  # called only with an ApplySet
        try:
            self.applyset.write_parent(self.client, kinds, namespaces, field_manager=self.field_manager)
        except APIError as exc:
            raise ManifestError(str(exc), source=self.applyset.description) from exc

    def _served(self, item: PlannedObject) -> PlannedObject:
        """Resolve ``item`` through discovery, which can lag a moment behind Established (kube-rs notes it too)."""
        while True:
            if isinstance(self.client.mapper, RESTMapper):
                self.client.mapper.reset()
            try:
                return item.with_resource(self.client.mapper.resource_for(item.gvk))
            except ResourceNotFoundError:
                if self._remaining() <= 0:
                    raise item.manifest.error(
                        f"{item.gvk.kind} is not served after {item.crd} was established"
                    ) from None
                time.sleep(0.2)

    def _remaining(self) -> float:
        return max(0.0, self.deadline - time.monotonic())


def _as_member(item: PlannedObject, applyset: ApplySet) -> PlannedObject:
    obj = item.manifest.object
    labels = (obj.get("metadata") or {}).get("labels") or {}
    if PART_OF_LABEL in labels:
        raise item.manifest.error(f"{item.ref}: the ApplySet label {PART_OF_LABEL} is already set in the input")
    body = {**obj, "metadata": {**obj["metadata"], "labels": {**labels, **applyset.member_labels()}}}
    manifest = Manifest(body, item.manifest.source, item.manifest.document, item.manifest.line)
    return PlannedObject(manifest, item.gvk, item.namespace, item.resource, item.crd)


def _resource(client: DynamicClient, item: PlannedObject) -> ResourceClient:
    assert item.resource is not None  # resolved before use
    resource = client.resource(item.resource)
    return resource.namespace(item.namespace) if item.namespace else resource


def _dry_run_result(planned: list[PlannedObject], checks: dict[int, JSONObject]) -> ApplyResult:
    """Report the dry run; unchecked objects (their namespace or CRD does not exist yet) as they would be sent."""
    result = ApplyResult()
    for index, item in enumerate(planned):
        answer = checks.get(index, item.manifest.object)
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
