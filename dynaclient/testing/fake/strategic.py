"""Strategic merge patch for built-in kinds, for the lists that real controllers and ``kubectl`` patch.

apimachinery ``pkg/util/strategicpatch`` merges a list item by item when the Go type tags the list
``patchStrategy:"merge"`` with a ``patchMergeKey``. The fake knows those tags by field name for the common lists of
built-ins (:data:`MERGE_KEYS`, from ``k8s.io/api``); every other list is replaced, as a merge patch would. Maps
merge recursively and ``null`` deletes. Directives: ``$patch: delete`` removes a list item, ``$patch: replace``
replaces a map or list, ``$deleteFromPrimitiveList/<field>`` removes values from a merged primitive list;
``$setElementOrder`` and ``$retainKeys`` are accepted and ignored.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

MERGE_KEYS: dict[str, str] = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "imagePullSecrets": "name",
    "hostAliases": "ip",
    "readinessGates": "conditionType",
    "resourceClaims": "name",
    "conditions": "type",
    "ownerReferences": "uid",
}
"""Merged lists of maps, by field name, and their merge key (``k8s.io/api`` ``patchMergeKey`` tags)."""

MERGED_PRIMITIVE_LISTS = frozenset({"finalizers"})
"""Lists of strings merged as sets (``ObjectMeta.Finalizers`` is ``patchStrategy:"merge"``)."""

_DELETE_FROM = "$deleteFromPrimitiveList/"


def strategic_merge(target: Any, patch: Any) -> Any:
    """Apply a strategic merge patch to ``target`` and return the result (``target`` is not changed).

    >>> live = {"spec": {"containers": [{"name": "a", "image": "1"}, {"name": "b", "image": "1"}]}}
    >>> strategic_merge(live, {"spec": {"containers": [{"name": "b", "image": "2"}, {"name": "c"}]}})
    {'spec': {'containers': [{'name': 'a', 'image': '1'}, {'name': 'b', 'image': '2'}, {'name': 'c'}]}}
    >>> strategic_merge({"env": [{"name": "A"}]}, {"env": [{"name": "B"}]})
    {'env': [{'name': 'B'}, {'name': 'A'}]}
    """
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        return _clean(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if key.startswith(("$setElementOrder/", "$retainKeys", "$patch")):
            continue
        if key.startswith(_DELETE_FROM):
            field = key[len(_DELETE_FROM) :]
            result[field] = [item for item in result.get(field) or [] if item not in value]
        elif value is None:
            result.pop(key, None)
        elif isinstance(value, list):
            result[key] = _merge_list(key, result.get(key), value)
        else:
            result[key] = strategic_merge(result.get(key), value)
    return result


def _merge_list(field: str, live: Any, patch: list[Any]) -> list[Any]:
    merge_key = MERGE_KEYS.get(field)
    if field == "ports" and patch and all(isinstance(item, dict) for item in patch):
        merge_key = "containerPort" if "containerPort" in patch[0] else "port"  # containers[].ports vs Service
    if not isinstance(live, list):
        live = []
    if field in MERGED_PRIMITIVE_LISTS:
        return _in_order(live, list(dict.fromkeys(patch)), lambda item: item)
    if merge_key is None or any(isinstance(item, dict) and item.get("$patch") == "replace" for item in patch):
        return [_clean(item) for item in patch if not (isinstance(item, dict) and item.get("$patch"))]
    key = merge_key

    def merge_value(item: Any) -> Any:
        return item.get(key) if isinstance(item, dict) else item

    by_key = {merge_value(item): item for item in live}
    deleted = {merge_value(item) for item in patch if isinstance(item, dict) and item.get("$patch") == "delete"}
    patched = [
        strategic_merge(by_key[merge_value(item)], item) if merge_value(item) in by_key else _clean(item)
        for item in patch
        if isinstance(item, dict) and merge_value(item) not in deleted
    ]
    return _in_order([item for item in live if merge_value(item) not in deleted], patched, merge_value)


def _in_order(live: list[Any], patched: list[Any], key: Callable[[Any], Any]) -> list[Any]:
    """Order a merged list as ``normalizeElementOrder`` does without ``$setElementOrder``.

    The patch's items keep the patch's order; an item only the server has goes before a patch item only when
    both are on the server and it came first there.
    """
    server_order = {key(item): index for index, item in enumerate(live)}
    in_patch = {key(item) for item in patched}
    left = [item for item in live if key(item) not in in_patch]
    merged: list[Any] = []
    i = j = 0
    while i < len(left) or j < len(patched):
        if j >= len(patched):
            merged.append(left[i])
            i += 1
            continue
        if i < len(left):
            li, ri = server_order.get(key(left[i])), server_order.get(key(patched[j]))
            if li is not None and ri is not None and li < ri:
                merged.append(left[i])
                i += 1
                continue
        merged.append(patched[j])
        j += 1
    return merged


def _clean(value: Any) -> Any:
    """Drop directives from a value that replaces what is there."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if not k.startswith("$")}
    if isinstance(value, list):
        return [_clean(item) for item in value]
    return value


__all__ = ["MERGED_PRIMITIVE_LISTS", "MERGE_KEYS", "strategic_merge"]
