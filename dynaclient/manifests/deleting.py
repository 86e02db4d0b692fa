"""Delete a set of manifests in reverse apply order and wait until the objects are gone."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from dynaclient.exceptions import APIError, NotFoundError, ResourceNotFoundError, WaitTimeoutError
from dynaclient.manifests.applying import DEFAULT_TIMEOUT, Progress
from dynaclient.manifests.loading import Manifest
from dynaclient.manifests.plan import PlannedObject, plan
from dynaclient.objects import get_uid
from dynaclient.resources.client import ResourceClient
from dynaclient.resources.dynamic import DynamicClient
from dynaclient.resources.options import PropagationPolicy
from dynaclient.wait import is_deleted


@dataclass(slots=True)
class DeleteResult:
    """What :func:`delete_manifests` did, in delete order.

    Attributes:
        deleted: the objects deleted.
        missing: the objects that did not exist (or whose kind is no longer served).

    Thread-safety: not thread-safe; a plain record.
    """

    deleted: list[PlannedObject] = field(default_factory=list)
    missing: list[PlannedObject] = field(default_factory=list)


def delete_manifests(
    client: DynamicClient,
    manifests: Iterable[Manifest],
    *,
    namespace: str | None = None,
    propagation_policy: PropagationPolicy = "Background",
    wait: bool = True,
    timeout: float = DEFAULT_TIMEOUT,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> DeleteResult:
    """Delete the objects of ``manifests``, custom resources and workloads first, Namespaces and CRDs last.

    Objects that do not exist are recorded in :attr:`DeleteResult.missing`, as are those of a kind the server no
    longer serves because the set's CRD is already gone.

    Args:
        client: the dynamic client.
        manifests: the objects.
        namespace: as for :func:`~dynaclient.manifests.apply_manifests`.
        propagation_policy: ``Background`` (kubectl's default), ``Foreground`` or ``Orphan``.
        wait: wait until every deleted object is gone (its finalizers done).
        timeout: seconds for the waits, in all.
        dry_run: ask the server to check the deletes without doing them.
        progress: called with a line of progress text.

    Raises:
        ManifestError: an object is invalid or the server refused to delete it.
        WaitTimeoutError: an object was still there after ``timeout``.
    """
    say = progress or (lambda _message: None)
    deadline = time.monotonic() + timeout
    planned = plan(manifests, client.mapper, default_namespace=client.default_namespace, namespace=namespace)
    result = DeleteResult()
    uids: list[tuple[PlannedObject, ResourceClient, str]] = []
    for item in reversed(planned):
        resource = _resource_of(client, item)
        if resource is None:
            result.missing.append(item)
            continue
        try:
            answer = resource.delete(item.name, propagation_policy=propagation_policy, dry_run=dry_run)
        except NotFoundError:
            result.missing.append(item)
            continue
        except APIError as exc:
            raise item.manifest.error(f"{item.description}: {exc}") from exc
        result.deleted.append(item)
        uids.append((item, resource, get_uid(answer) or str((answer.get("details") or {}).get("uid", ""))))
    if wait and not dry_run:
        for done, (item, resource, uid) in enumerate(uids, start=1):
            say(f"waiting for {item.ref} to be deleted ({done}/{len(uids)})")
            try:
                resource.wait_for(item.name, is_deleted(uid), max(0.0, deadline - time.monotonic()))
            except WaitTimeoutError as exc:
                where = f"{item.manifest.source} document {item.manifest.document}"
                raise WaitTimeoutError(f"{where}: {exc}", last=exc.last) from exc
    return result


def _resource_of(client: DynamicClient, item: PlannedObject) -> ResourceClient | None:
    try:
        api_resource = item.resource or client.mapper.resource_for(item.gvk)
    except ResourceNotFoundError:
        return None
    resource = client.resource(api_resource)
    return resource.namespace(item.namespace) if item.namespace else resource


__all__ = ["DeleteResult", "delete_manifests"]
