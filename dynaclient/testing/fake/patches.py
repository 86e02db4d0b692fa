"""JSON merge patch (RFC 7386), JSON patch (RFC 6902) and the fake's server-side apply: pure functions over dicts.

Server-side apply is modelled in a documented subset. Ownership is tracked per field manager as the set of leaf
paths it set, where a leaf is any value that is not a non-empty map: **every list is atomic** (true for custom
resources without ``x-kubernetes-list-type`` and for ``metadata.finalizers``' value as a whole; wrong for the
associative lists of built-ins such as ``containers``, which the real server merges by key). Writes that are not
applies (create, update, merge or JSON patch) make their manager own the leaves they changed, as the server's
``Update`` entries do. An apply conflicts with another manager that owns a leaf it sets to a different value;
``force`` takes the leaf over. Leaves a manager applied before and omits now are removed unless another manager
owns them. ``managedFields`` is not rendered.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping
from typing import Any

Path = tuple[str, ...]

_MISSING: Any = object()


class PatchError(ValueError):
    """A patch cannot be applied; ``code`` is the HTTP status the server answers (400 or 422).

    Thread-safety: immutable once raised.
    """

    def __init__(self, message: str, code: int = 422) -> None:
        super().__init__(message)
        self.code = code


def merge_patch(target: Any, patch: Any) -> Any:
    """Apply an RFC 7386 JSON merge patch and return the result (``target`` is not changed).

    >>> merge_patch({"a": 1, "b": {"c": 2, "d": 3}}, {"a": None, "b": {"c": 4}, "e": [1]})
    {'b': {'c': 4, 'd': 3}, 'e': [1]}
    """
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def json_patch(target: Any, operations: Any) -> Any:
    """Apply an RFC 6902 JSON patch and return the result (``target`` is not changed).

    Raises:
        PatchError: an operation is malformed, names a missing path, or a ``test`` fails.

    >>> json_patch({"a": [1, 2]}, [{"op": "replace", "path": "/b", "value": 0}])
    Traceback (most recent call last):
    ...
    dynaclient.testing.fake.patches.PatchError: replace operation does not apply: doc is missing key: /b
    >>> json_patch({"a": [1, 2]}, [{"op": "add", "path": "/a/-", "value": 3}, {"op": "remove", "path": "/a/0"}])
    {'a': [2, 3]}
    """
    if not isinstance(operations, list):
        raise PatchError("json patch must be a list of operations", 400)
    document = copy.deepcopy(target)
    for operation in operations:
        if not isinstance(operation, dict) or not isinstance(operation.get("path"), str):
            raise PatchError(f"invalid json patch operation: {operation!r}", 400)
        op = operation.get("op")
        run = _OPERATIONS.get(op) if isinstance(op, str) else None
        if run is None:
            raise PatchError(f"unexpected kind of json patch operation: {op!r}", 400)
        if op in ("add", "replace", "test") and "value" not in operation:
            raise PatchError(f"{op} operation needs a value", 400)
        document = run(document, _pointer(operation["path"]), operation)
    return document


def _op_add(document: Any, path: list[str], operation: dict[str, Any]) -> Any:
    return _add(document, path, copy.deepcopy(operation["value"]))


def _op_remove(document: Any, path: list[str], operation: dict[str, Any]) -> Any:
    _remove(document, path, "remove")
    return document


def _op_replace(document: Any, path: list[str], operation: dict[str, Any]) -> Any:
    _remove(document, path, "replace")
    return _add(document, path, copy.deepcopy(operation["value"]))


def _op_move_or_copy(document: Any, path: list[str], operation: dict[str, Any]) -> Any:
    op = operation["op"]
    source = _pointer(str(operation.get("from", "")))
    value = copy.deepcopy(_get(document, source, op))
    if op == "move":
        _remove(document, source, op)
    return _add(document, path, value)


def _op_test(document: Any, path: list[str], operation: dict[str, Any]) -> Any:
    if _get(document, path, "test") != operation["value"]:
        raise PatchError(f"testing value {operation['path']} failed")
    return document


_OPERATIONS: dict[str, Callable[[Any, list[str], dict[str, Any]], Any]] = {
    "add": _op_add,
    "remove": _op_remove,
    "replace": _op_replace,
    "move": _op_move_or_copy,
    "copy": _op_move_or_copy,
    "test": _op_test,
}


def leaves(obj: Any, prefix: Path = ()) -> Iterator[tuple[Path, Any]]:
    """Yield ``(path, value)`` of every leaf: a value that is not a non-empty map.

    >>> list(leaves({"a": {"b": 1, "c": []}, "d": {}}))
    [(('a', 'b'), 1), (('a', 'c'), []), (('d',), {})]
    """
    if isinstance(obj, dict) and obj:
        for key, value in obj.items():
            yield from leaves(value, (*prefix, key))
    else:
        yield prefix, obj


def value_at(obj: Any, path: Path) -> Any:
    """Return the value at ``path``, or a sentinel that equals nothing but itself when absent."""
    for key in path:
        if not isinstance(obj, dict) or key not in obj:
            return _MISSING
        obj = obj[key]
    return obj


def changed_leaves(old: Mapping[str, Any], new: Mapping[str, Any]) -> set[Path]:
    """Return the leaf paths whose value differs between ``old`` and ``new`` (present in ``new``)."""
    return {path for path, value in leaves(new) if value_at(old, path) != value}


def deep_merge(live: Any, applied: Any) -> Any:
    """Merge an applied configuration into the live object: maps recursively, anything else replaced.

    >>> deep_merge({"data": {"a": "1"}, "x": [1]}, {"data": {"b": "2"}, "x": [2]})
    {'data': {'a': '1', 'b': '2'}, 'x': [2]}
    """
    if not (isinstance(live, dict) and isinstance(applied, dict)):
        return copy.deepcopy(applied)
    result = dict(live)
    for key, value in applied.items():
        result[key] = deep_merge(live.get(key), value)
    return result


def remove_path(obj: dict[str, Any], path: Path) -> None:
    """Delete the value at ``path`` in place, then the maps it leaves empty."""
    parents = [obj]
    for key in path[:-1]:
        child = parents[-1].get(key)
        if not isinstance(child, dict):
            return
        parents.append(child)
    parents[-1].pop(path[-1], None)
    for depth in range(len(path) - 2, -1, -1):
        if parents[depth + 1] == {}:
            parents[depth].pop(path[depth], None)


def format_path(path: Path) -> str:
    """Render a path as the server names fields in apply conflicts.

    >>> format_path(("data", "key"))
    '.data.key'
    """
    return "".join(f".{key}" for key in path)


def _pointer(text: str) -> list[str]:
    if text == "":
        return []
    if not text.startswith("/"):
        raise PatchError(f"invalid json pointer {text!r}", 400)
    return [part.replace("~1", "/").replace("~0", "~") for part in text[1:].split("/")]


def _parent(document: Any, path: list[str], op: str) -> Any:
    parent = _get(document, path[:-1], op)
    if not isinstance(parent, dict | list):
        raise PatchError(f"{op} operation does not apply: doc is missing path: /{'/'.join(path)}")
    return parent


def _get(document: Any, path: list[str], op: str) -> Any:
    for key in path:
        if isinstance(document, dict) and key in document:
            document = document[key]
        elif isinstance(document, list) and key.isdigit() and int(key) < len(document):
            document = document[int(key)]
        else:
            raise PatchError(f"{op} operation does not apply: doc is missing path: /{'/'.join(path)}")
    return document


def _add(document: Any, path: list[str], value: Any) -> Any:
    if not path:
        return value
    parent = _parent(document, path, "add")
    key = path[-1]
    if isinstance(parent, dict):
        parent[key] = value
    elif key == "-":
        parent.append(value)
    elif key.isdigit() and int(key) <= len(parent):
        parent.insert(int(key), value)
    else:
        raise PatchError(f"add operation does not apply: index out of range: /{'/'.join(path)}")
    return document


def _remove(document: Any, path: list[str], op: str) -> None:
    if not path:
        raise PatchError(f"{op} operation does not apply: empty path")
    parent = _parent(document, path, op)
    key = path[-1]
    if isinstance(parent, dict) and key in parent:
        del parent[key]
    elif isinstance(parent, list) and key.isdigit() and int(key) < len(parent):
        del parent[int(key)]
    else:
        raise PatchError(f"{op} operation does not apply: doc is missing key: /{'/'.join(path)}")


__all__ = [
    "PatchError",
    "Path",
    "changed_leaves",
    "deep_merge",
    "format_path",
    "json_patch",
    "leaves",
    "merge_patch",
    "remove_path",
    "value_at",
]
