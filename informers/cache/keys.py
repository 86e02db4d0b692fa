"""Object keys: ``namespace/name`` strings, built and split the way client-go does."""

from __future__ import annotations

from collections.abc import Callable

from dynaclient import JSONObject
from informers.exceptions import KeyFuncError
from informers.handlers import DeletedFinalStateUnknown

KeyFunc = Callable[[JSONObject | DeletedFinalStateUnknown], str]
"""A function from an object (or a tombstone) to its store key."""


def meta_namespace_key(obj: JSONObject | DeletedFinalStateUnknown) -> str:
    """Return the store key of an object: ``"namespace/name"``, or ``"name"`` for a cluster-scoped object.

    A :class:`~informers.handlers.DeletedFinalStateUnknown` tombstone passes through as its ``key``
    (client-go tools/cache/controller.go ``DeletionHandlingMetaNamespaceKeyFunc`` on top of store.go
    ``MetaNamespaceKeyFunc``). Unlike client-go, an object without a name is an error rather than the key ``""``.

    Args:
        obj: a Kubernetes object as a dict, or a tombstone.

    Returns:
        The key.

    Raises:
        KeyFuncError: the object is not a dict, or its ``metadata``, ``metadata.name`` or ``metadata.namespace``
            is missing or not a string.

    >>> meta_namespace_key({"metadata": {"namespace": "default", "name": "web"}})
    'default/web'
    >>> meta_namespace_key({"metadata": {"name": "node-1"}})
    'node-1'
    >>> meta_namespace_key(DeletedFinalStateUnknown("default/gone", {}))
    'default/gone'
    """
    if isinstance(obj, DeletedFinalStateUnknown):
        return obj.key
    try:
        metadata = obj.get("metadata")
    except AttributeError:
        metadata = None
    if not isinstance(metadata, dict):
        raise KeyFuncError(f"object has no metadata: cannot compute a key for a {type(obj).__name__} without it")
    name = metadata.get("name")
    if not isinstance(name, str) or not name:
        raise KeyFuncError(f"object has no metadata.name (got {type(name).__name__}): cannot compute its key")
    namespace = metadata.get("namespace")
    if namespace is None or namespace == "":
        return name
    if not isinstance(namespace, str):
        raise KeyFuncError(f"metadata.namespace of {name!r} is a {type(namespace).__name__}, expected a string")
    return f"{namespace}/{name}"


def split_meta_namespace_key(key: str) -> tuple[str, str]:
    """Split a key made by :func:`meta_namespace_key` into ``(namespace, name)``.

    A key without a slash is a cluster-scoped name and has namespace ``""`` (client-go tools/cache/store.go
    ``SplitMetaNamespaceKey``). Stricter than client-go, which accepts them, empty names and namespaces are errors.

    Args:
        key: ``"namespace/name"`` or ``"name"``.

    Returns:
        The namespace (``""`` for cluster-scoped keys) and the name.

    Raises:
        KeyFuncError: the key has more than one slash, or an empty namespace or name.

    >>> split_meta_namespace_key("default/web")
    ('default', 'web')
    >>> split_meta_namespace_key("node-1")
    ('', 'node-1')
    """
    parts = key.split("/")
    if len(parts) > 2:
        raise KeyFuncError(f"unexpected key format: {key!r} has more than one '/'")
    if not all(parts):
        raise KeyFuncError(f"unexpected key format: {key!r} has an empty namespace or name")
    if len(parts) == 1:
        return "", parts[0]
    return parts[0], parts[1]


__all__ = ["KeyFunc", "meta_namespace_key", "split_meta_namespace_key"]
