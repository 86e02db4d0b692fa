"""The chaos tests' yardstick: an informer's handler history replayed key by key and compared with the server.

Replaying the history gives a model of the server (key to the last version delivered); every step is checked
for consistency with the ones before it (:func:`inconsistencies`). Pure: no server, no threads.
"""

from __future__ import annotations

from dataclasses import dataclass

from dynaclient import JSONObject, get_resource_version, get_uid
from informers import DeletedFinalStateUnknown, meta_namespace_key
from informers.testing import HandlerCall, RecordingHandler

Version = tuple[str, str]
"""``(uid, resourceVersion)``: one version of one object."""


@dataclass(frozen=True, slots=True)
class Replay:
    """The handler history replayed into a model of the server: key to the last version delivered.

    Attributes:
        model: each key the history leaves present, with the version last delivered for it.
        violations: every notification inconsistent with the ones before it, described.
        recreates: objects deleted and created again under one name that the handler saw only as a tombstone of
            the old object then an add of the new one (both missed by the watch, found by a relist).

    Thread-safety: immutable.
    """

    model: dict[str, Version]
    violations: tuple[str, ...]
    recreates: int


def replay(handler: RecordingHandler) -> Replay:
    """Replay ``handler``'s calls: add and update set a key, delete and tombstone remove it; check each step.

    See :func:`inconsistencies` for the checks.
    """
    model: dict[str, Version] = {}
    newest: dict[str, int] = {}
    violations: list[str] = []
    recreates = 0
    tombstoned: dict[str, str] = {}  # key -> the uid of the tombstone just delivered for it
    for index, (call, obj) in enumerate(zip(handler.calls, handler.objects, strict=True)):
        kind, key, version, extra = call
        uid = get_uid(obj.obj if isinstance(obj, DeletedFinalStateUnknown) else obj)
        new_version = str(extra) if kind == "update" else version
        last = model.get(key)
        found = inconsistencies(call, uid, last, newest.get(key))
        violations += [f"#{index} {call} uid={uid}: {what} (the handler had {last})" for what in found]
        recreates += kind == "add" and key in tombstoned and tombstoned[key] != uid
        tombstoned.pop(key, None)
        if kind == "delete" and extra is True:
            tombstoned[key] = uid
        newest[key] = max(newest.get(key, 0), int(new_version))
        if kind == "delete":
            model.pop(key, None)
        else:
            model[key] = (uid, new_version)
    return Replay(model, tuple(violations), recreates)


def inconsistencies(call: HandlerCall, uid: str, last: Version | None, newest: int | None) -> list[str]:
    """Return what is wrong with ``call`` after a history that left ``last`` and reached ``newest`` for its key.

    Per key, resourceVersions (etcd revisions) only grow: an add, an update and a watched delete each carry a newer
    one than any delivered before; a tombstone (a delete inferred from a relist) carries the last one delivered. An
    update's old object is the one last delivered, and differs from the new one (no resync is configured). A key
    is added only when absent, updated and deleted only when present.
    """
    kind, _, version, extra = call
    tombstone = kind == "delete" and extra is True
    old_version, version = version, str(extra) if kind == "update" else version
    found = []
    if kind == "add" and last is not None:
        found.append("add of a key the handler already has")
    if kind != "add" and last is None:
        found.append(f"{kind} of a key the handler does not have")
    if kind == "update" and last is not None and old_version != last[1]:
        found.append("the update's old object is not the last one delivered")
    if kind == "update" and old_version == version:
        found.append("an update without a new resourceVersion")
    if kind == "update" and last is not None and uid != last[0]:
        found.append("an update from one object to another of the same name (a delete and a create)")
    if tombstone and last is not None and (uid, version) != last:
        found.append("a tombstone that is not the last version delivered")
    if kind == "delete" and not tombstone and last is not None and uid != last[0]:
        found.append("a delete of another object than the one delivered")
    if not tombstone and newest is not None and int(version) <= newest:
        found.append(f"resourceVersion {version} is not newer than {newest}")
    return found


def versions(objects: list[JSONObject]) -> dict[str, Version]:
    """Return each object's version by ``namespace/name`` key."""
    return {meta_namespace_key(obj): (get_uid(obj), get_resource_version(obj)) for obj in objects}


def diff(name: str, got: dict[str, Version], server: dict[str, Version]) -> list[str]:
    """Describe every key where ``got`` differs from ``server``."""
    keys = sorted(set(got) | set(server))
    return [
        f"{name} {key}: {got.get(key)} != server {server.get(key)}" for key in keys if got.get(key) != server.get(key)
    ]
