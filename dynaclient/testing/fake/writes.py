"""The write verbs of the fake API server: create, update, patch, server-side apply, delete.

Each write runs under the store's lock from read to commit, so concurrent writers see the API server's
optimistic concurrency: a stale ``resourceVersion`` is a 409 Conflict, never a lost update. A write that changes
nothing keeps the resourceVersion and sends no watch event, as the registry's ``GuaranteedUpdate`` skips writing
identical bytes. Field ownership for apply is described in :mod:`dynaclient.testing.fake.patches`.
"""

from __future__ import annotations

import copy
import json
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml

from dynaclient._types import JSONObject
from dynaclient.testing.fake import lifecycle, patches, statuses, strategies
from dynaclient.testing.fake.patches import Path
from dynaclient.testing.fake.registry import ResourceType
from dynaclient.testing.fake.routing import Route
from dynaclient.testing.fake.statuses import bad_request
from dynaclient.testing.fake.store import GroupResource, ObjectKey, ObjectStore
from dynaclient.testing.fake.strategic import strategic_merge

DEFAULT_FIELD_MANAGER = "dynaclient"
"""The manager of writes without ``fieldManager``: the server takes the User-Agent up to its ``/``."""

# Metadata the server owns or that apply never tracks.
_UNTRACKED_METADATA = {
    "name", "namespace", "uid", "resourceVersion", "generation", "creationTimestamp", "deletionTimestamp",
    "deletionGracePeriodSeconds", "managedFields", "selfLink", "generateName",
}  # fmt: skip
_NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"  # apimachinery util/rand: no vowels, no confusable digits

Ownership = dict[tuple[str, str], set[Path]]  # (manager, "Apply" | "Update") -> leaf paths


@dataclass(frozen=True, slots=True)
class Write:
    """Who writes where: the route, the field manager and whether it is a dry run.

    Thread-safety: immutable.
    """

    route: Route
    manager: str
    dry_run: bool


class ObjectWriter:
    """Create, update, patch, apply and delete objects in an :class:`ObjectStore`.

    Args:
        store: where objects live.
        clock: epoch seconds, for creation and deletion timestamps.
        rng: the random source of generated names and uids.
        on_commit: called with the resource type and object after each committed write (CRD registration).

    Thread-safety: thread-safe; every write holds the store's lock.
    """

    def __init__(
        self,
        store: ObjectStore,
        *,
        clock: Callable[[], float],
        rng: random.Random,
        on_commit: Callable[[ResourceType, JSONObject, bool], None],
    ) -> None:
        self._store = store
        self._clock = clock
        self._rng = rng
        self._on_commit = on_commit
        self._owners: dict[tuple[GroupResource, ObjectKey], Ownership] = {}

    def create(self, rt: ResourceType, write: Write, body: JSONObject) -> JSONObject:
        """Create ``body`` in the route's namespace."""
        route = write.route
        lifecycle.check_type(rt, body, _api_version(rt, route.version))
        with self._store.locked():
            self._check_namespace(rt, route.namespace, body)
            obj = lifecycle.prepare_create(
                rt,
                body,
                route.namespace,
                api_version=_api_version(rt, route.version),
                now=self._clock(),
                uid=str(uuid.UUID(int=self._rng.getrandbits(128), version=4)),
                exists=lambda name: self._get(rt, (route.namespace, name)) is not None,
                random_suffix=lambda: "".join(self._rng.choice(_NAME_ALPHABET) for _ in range(5)),
            )
            key = (route.namespace, lifecycle.metadata(obj)["name"])
            if self._get(rt, key) is not None:
                raise statuses.already_exists(rt.api_resource.group, rt.api_resource.resource, key[1])
            if write.dry_run:
                return obj
            self._owners[(rt.group_resource, key)] = {(write.manager, "Update"): set(self._tracked(rt, obj, ""))}
            return self._commit(rt, "ADDED", key, obj)

    def update(self, rt: ResourceType, write: Write, body: JSONObject, *, patched: bool = False) -> JSONObject:
        """Replace the object (or its status); a ``metadata.resourceVersion`` in ``body`` must be current."""
        route = write.route
        with self._store.locked():
            name = str(lifecycle.metadata(body).get("name") or "")
            if not patched:
                lifecycle.check_type(rt, body, _api_version(rt, route.version))
                if name != route.name:
                    raise bad_request(
                        f"the name of the object ({name}) does not match the name on the URL ({route.name})"
                    )
            old = self._existing(rt, route)
            if not patched:
                lifecycle.check_version_given(rt, body)
            self._check_version(rt, route, old, body)
            new = lifecycle.prepare_update(rt, old, body, route.subresource)
            return self._write_update(rt, write, old, new)

    def patch(self, rt: ResourceType, write: Write, body: bytes, *, content_type: str) -> JSONObject:
        """Apply a merge, JSON or strategic patch (strategic: built-ins only, see :mod:`.strategic`)."""
        patch_type = content_type.split(";")[0].strip()
        try:
            patch = json.loads(body)
        except ValueError:
            raise bad_request(f"error decoding patch: {body[:80]!r}") from None
        with self._store.locked():
            current = _without_version(self._existing(rt, write.route))
            if patch_type == "application/json-patch+json":
                result = self._patched(lambda: patches.json_patch(current, patch))
            elif patch_type == "application/merge-patch+json" and isinstance(patch, dict):
                result = patches.merge_patch(current, patch)
            elif patch_type == "application/strategic-merge-patch+json" and not rt.custom:
                if not isinstance(patch, dict):
                    raise bad_request("strategic merge patch must be a JSON object")
                result = strategic_merge(current, patch)
            elif patch_type == "application/merge-patch+json":
                raise bad_request("merge patch must be a JSON object")
            else:
                raise statuses.unsupported_media_type(patch_type)
            if not isinstance(result, dict):
                raise bad_request("the patched object is not a JSON object")
            lifecycle.metadata(result)["name"] = write.route.name
            return self.update(rt, write, result, patched=True)

    def apply(self, rt: ResourceType, write: Write, body: bytes, *, force: bool) -> JSONObject:
        """Server-side apply ``body`` as the write's manager (the subset in :mod:`dynaclient.testing.fake.patches`)."""
        route = write.route
        config = _apply_configuration(body, route)
        with self._store.locked():
            old = self._get(rt, (route.namespace, route.name))
            applied = self._tracked(rt, config, route.subresource)
            if old is None:
                if route.subresource:
                    raise statuses.not_found(rt.api_resource.group, rt.api_resource.resource, route.name)
                created = self.create(rt, write, config)
                if not write.dry_run:
                    self._owners[(rt.group_resource, _key(created))] = {(write.manager, "Apply"): set(applied)}
                return created
            self._check_version(rt, route, old, config)
            owners = copy.deepcopy(self._owners.get((rt.group_resource, _key(old)), {}))
            conflicts = _conflicts(owners, write.manager, old, applied)
            if conflicts and not force:
                raise statuses.apply_conflict([(manager, patches.format_path(path)) for manager, path in conflicts])
            for other, path in conflicts:  # forced: the applier takes the fields over from their managers
                for (owner, _), paths in owners.items():
                    if owner == other:
                        paths.discard(path)
            new = _without_version(old)
            for path, value in applied.items():
                new = patches.deep_merge(new, _nested(path, value))
            mine = (write.manager, "Apply")
            still_owned: set[Path] = set().union(*(paths for key, paths in owners.items() if key != mine))
            for path in owners.get(mine, set()) - applied.keys() - still_owned:
                patches.remove_path(new, path)
            owners[mine] = set(applied)
            new = lifecycle.prepare_update(rt, old, new, route.subresource)
            return self._write_update(rt, write, old, new, owners=owners)

    def delete(self, rt: ResourceType, write: Write, options: JSONObject) -> tuple[JSONObject, bool]:
        """Delete the object, or start its deletion when finalizers hold it; return it and whether it is gone."""
        route = write.route
        with self._store.locked():
            old = self._existing(rt, route)
            group, resource = rt.api_resource.group, rt.api_resource.resource
            lifecycle.check_preconditions(
                old, options.get("preconditions"), lambda why: statuses.conflict(group, resource, route.name, why)
            )
            policy = options.get("propagationPolicy")
            marked = lifecycle.start_deletion(old, now=self._clock(), propagation_policy=policy)
            if lifecycle.pending_finalizers(marked):
                if marked == _without_version(old):
                    return old, False
                return (marked if write.dry_run else self._commit(rt, "MODIFIED", _key(old), marked)), False
            if write.dry_run:
                return old, True
            if rt.api_resource.kind in strategies.RETURNS_DELETED_OBJECT:
                # Graceful deletion with a zero grace period: marked first, then removed (pod/strategy.go).
                return self._remove(rt, self._commit(rt, "MODIFIED", _key(old), marked)), True
            return self._remove(rt, old), True

    def set_status(self, rt: ResourceType, obj: JSONObject, status: JSONObject) -> JSONObject:
        """Write ``status`` as a controller would (no field manager)."""
        with self._store.locked():
            return self._commit(rt, "MODIFIED", _key(obj), {**_without_version(obj), "status": status})

    def remove_finalizer(self, rt: ResourceType, obj: JSONObject, finalizer: str) -> None:
        """Remove ``finalizer`` as its controller would, deleting the object when it was the last one."""
        with self._store.locked():
            new = _without_version(obj)
            meta = lifecycle.metadata(new)
            meta["finalizers"] = [f for f in meta.get("finalizers") or [] if f != finalizer]
            if not meta["finalizers"]:
                del meta["finalizers"]
            committed = self._commit(rt, "MODIFIED", _key(obj), new)
            if meta.get("deletionTimestamp") and not lifecycle.pending_finalizers(committed):
                self._remove(rt, committed)

    def delete_all(self, rt: ResourceType) -> None:
        """Delete every object of ``rt`` at once, finalizers or not."""
        with self._store.locked():
            for _, obj in self._store.items(rt.group_resource):
                self._remove(rt, obj)

    def _check_version(self, rt: ResourceType, route: Route, old: JSONObject, body: JSONObject) -> None:
        version = str(lifecycle.metadata(body).get("resourceVersion") or "")
        if version and version != lifecycle.metadata(old)["resourceVersion"]:
            raise statuses.conflict(rt.api_resource.group, rt.api_resource.resource, route.name)

    def _write_update(
        self, rt: ResourceType, write: Write, old: JSONObject, new: JSONObject, *, owners: Ownership | None = None
    ) -> JSONObject:
        if new == _without_version(old):
            return old
        if write.dry_run:
            return {
                **new,
                "metadata": {**lifecycle.metadata(new), "resourceVersion": old["metadata"]["resourceVersion"]},
            }
        key = _key(old)
        if owners is None:
            owners = self._owners.setdefault((rt.group_resource, key), {})
            changed = patches.changed_leaves(old, new) & self._tracked(rt, new, write.route.subresource).keys()
            for paths in owners.values():
                paths -= changed
            owners.setdefault((write.manager, "Update"), set()).update(changed)
        self._owners[(rt.group_resource, key)] = {k: v for k, v in owners.items() if v}
        if lifecycle.metadata(new).get("deletionTimestamp") and not lifecycle.pending_finalizers(new):
            committed = self._commit(rt, "MODIFIED", key, new)
            return self._remove(rt, committed)
        return self._commit(rt, "MODIFIED", key, new)

    def _remove(self, rt: ResourceType, obj: JSONObject) -> JSONObject:
        key = _key(obj)
        self._owners.pop((rt.group_resource, key), None)
        gone = _without_version(obj)
        return self._commit(rt, "DELETED", key, gone)

    def _commit(self, rt: ResourceType, change_type: Any, key: ObjectKey, obj: JSONObject) -> JSONObject:
        def stamp(revision: str) -> JSONObject:
            stamped = copy.deepcopy(obj)
            lifecycle.metadata(stamped)["resourceVersion"] = revision
            return stamped

        committed = self._store.commit(change_type, rt.group_resource, key, stamp)
        self._on_commit(rt, committed, change_type == "DELETED")
        return committed

    def _tracked(self, rt: ResourceType, obj: JSONObject, subresource: str) -> dict[Path, Any]:
        """The leaves of ``obj`` that field ownership tracks on ``subresource`` (``""``: the main resource)."""
        found: dict[Path, Any] = {}
        for path, value in patches.leaves(obj):
            if (
                not path
                or path[0] in ("apiVersion", "kind")
                or (path[0] == "metadata" and len(path) > 1 and path[1] in _UNTRACKED_METADATA)
            ):
                continue
            in_status = path[0] == "status"
            if rt.has_status and in_status != (subresource == "status"):
                continue
            found[path] = value
        return found

    def _check_namespace(self, rt: ResourceType, namespace: str, body: JSONObject) -> None:
        if not rt.api_resource.namespaced:
            return
        found = self._store.get(("", "namespaces"), ("", namespace))
        if found is None:
            raise statuses.not_found("", "namespaces", namespace)
        if lifecycle.metadata(found).get("deletionTimestamp"):
            name = str(lifecycle.metadata(body).get("name") or lifecycle.metadata(body).get("generateName") or "")
            why = f"unable to create new content in namespace {namespace} because it is being terminated"
            raise statuses.forbidden(rt.api_resource.group, rt.api_resource.resource, name, why)

    def _existing(self, rt: ResourceType, route: Route) -> JSONObject:
        found = self._get(rt, (route.namespace, route.name))
        if found is None:
            raise statuses.not_found(rt.api_resource.group, rt.api_resource.resource, route.name)
        return found

    def _get(self, rt: ResourceType, key: ObjectKey) -> JSONObject | None:
        return self._store.get(rt.group_resource, key)

    @staticmethod
    def _patched(run: Callable[[], Any]) -> Any:
        try:
            return run()
        except patches.PatchError as exc:
            raise statuses.failure(exc.code, "Invalid" if exc.code == 422 else "BadRequest", str(exc)) from None


def _api_version(rt: ResourceType, version: str) -> str:
    group = rt.api_resource.group
    return f"{group}/{version}" if group else version


def _key(obj: JSONObject) -> ObjectKey:
    meta = lifecycle.metadata(obj)
    return str(meta.get("namespace") or ""), str(meta["name"])


def _without_version(obj: JSONObject) -> JSONObject:
    copied = copy.deepcopy(obj)
    lifecycle.metadata(copied).pop("resourceVersion", None)
    return copied


def _apply_configuration(body: bytes, route: Route) -> JSONObject:
    try:
        config = yaml.safe_load(body)
    except yaml.YAMLError:
        raise bad_request("error decoding YAML apply configuration") from None
    if not isinstance(config, dict):
        raise bad_request("apply configuration must be an object")
    api_version, kind = str(config.get("apiVersion") or ""), str(config.get("kind") or "")
    if not api_version or not kind:  # apply configurations always name their type (fieldmanager)
        group_version = api_version if "/" in api_version else f"/{api_version}"
        raise bad_request(f"invalid object type: {group_version}, Kind={kind}")
    name = str(lifecycle.metadata(config).get("name") or "")
    if name != route.name:
        raise bad_request(f"the name of the object ({name}) does not match the name on the URL ({route.name})")
    return config


def _conflicts(owners: Ownership, manager: str, live: JSONObject, applied: dict[Path, Any]) -> list[tuple[str, Path]]:
    """The fields another manager owns that ``applied`` sets to a different value than ``live`` has."""
    return sorted(
        {
            (other, path)
            for (other, _), paths in owners.items()
            if other != manager
            for path in paths & applied.keys()
            if patches.value_at(live, path) != applied[path]
        }
    )


def _nested(path: Path, value: Any) -> Any:
    for key in reversed(path):
        value = {key: value}
    return value


__all__ = ["DEFAULT_FIELD_MANAGER", "ObjectWriter", "Write"]
