"""Listers: get and list cached objects by name, namespace and label selector, without calling the server."""

from __future__ import annotations

import builtins
import logging
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar, cast

from dynaclient import (
    GroupResource,
    JSONObject,
    NotFoundError,
    ObjectT,
    get_labels,
    label_selector,
    matches_labels,
    parse_label_selector,
)
from informers.cache.index import NAMESPACE_INDEX
from informers.cache.store import StoreReader
from informers.exceptions import IndexNotFoundError

logger = logging.getLogger("informers.lister")

TypedObject = TypeVar("TypedObject", bound=Mapping[str, Any])

LabelSelector = str | Mapping[str, Any] | None
"""A label selector: a string (``"app=web,tier!=db"``), a mapping as :func:`dynaclient.label_selector` takes, or
``None`` for every object."""


class Lister(Generic[ObjectT]):
    """Read access to an informer's cache by name, namespace and labels (client-go tools/cache/listers.go).

    Objects are shared with the cache: never modify them (deep-copy first). :meth:`typed` gives the same lister
    typed with a generated ``TypedDict`` (``Lister[Pod]``); the objects stay the cached dicts.

    Thread-safety: thread-safe.

    >>> from informers.cache.store import Store
    >>> from informers.cache.index import namespace_index
    >>> store = Store({"namespace": namespace_index})
    >>> store.add({"metadata": {"name": "web", "namespace": "prod", "labels": {"app": "web"}}})
    >>> lister = Lister(store, GroupResource("apps", "deployments"))
    >>> lister.get("web", namespace="prod")["metadata"]["name"]
    'web'
    >>> [obj["metadata"]["name"] for obj in lister.list(namespace="prod", label_selector="app=web")]
    ['web']
    >>> lister.get("api", namespace="prod")
    Traceback (most recent call last):
    ...
    dynaclient.exceptions.NotFoundError: 404 NotFound: deployments.apps "api" not found
    """

    def __init__(self, store: StoreReader, resource: GroupResource | str = "") -> None:
        """Read ``store``; ``resource`` names the resource in not-found errors (client-go ``NewNotFound``)."""
        self._store = store
        self._resource = resource

    def __repr__(self) -> str:
        return f"<Lister {self._resource or 'objects'} ({len(self._store)} cached)>"

    def typed(self, object_type: type[TypedObject]) -> Lister[TypedObject]:
        """Return this lister typed with ``object_type`` (a generated ``TypedDict``) for the type checker.

        >>> from informers.cache.store import Store
        >>> lister = Lister(Store({}))
        >>> lister.typed(dict) is lister
        True
        """
        return cast("Lister[TypedObject]", self)

    def get(self, name: str, namespace: str | None = None) -> ObjectT:
        """Return the cached object ``name`` in ``namespace`` (``None`` or ``""`` for a cluster-scoped object).

        Raises:
            NotFoundError: the cache holds no such object; the error carries a ``Status`` like the server's 404
                (client-go dynamic/dynamiclister/lister.go ``errors.NewNotFound``), so callers handle both alike.
        """
        obj = self._store.get_by_key(f"{namespace}/{name}" if namespace else name)
        if obj is None:
            raise NotFoundError(_not_found_status(self._resource, name), code=404)
        return cast(ObjectT, obj)

    def list(self, namespace: str | None = None, label_selector: LabelSelector = None) -> builtins.list[ObjectT]:
        """Return the cached objects in ``namespace`` (``None`` or ``""``: every namespace) matching the selector.

        A namespace is looked up in the ``namespace`` index; without it the cache is scanned, with a warning
        (client-go ``ListAllByNamespace``). Objects come sorted by key.

        Raises:
            SelectorError: ``label_selector`` is invalid.
        """
        matches = _label_matcher(label_selector)
        if not namespace:
            candidates = self._store.list()
        else:
            try:
                candidates = self._store.by_index(NAMESPACE_INDEX, namespace)
            except IndexNotFoundError:
                logger.warning(
                    "%r has no %r index: listing namespace %r scans every object", self, NAMESPACE_INDEX, namespace
                )
                candidates = [obj for obj in self._store.list() if _namespace(obj) == namespace]
        return cast("builtins.list[ObjectT]", candidates if matches is None else [o for o in candidates if matches(o)])


def _label_matcher(selector: LabelSelector) -> Callable[[JSONObject], bool] | None:
    # Parse once for the whole list (client-go parses the selector before ListAll); None when it matches everything.
    requirements = parse_label_selector(selector if isinstance(selector, str) else label_selector(selector))
    if not requirements:
        return None
    return lambda obj: matches_labels(requirements, get_labels(obj))


def _namespace(obj: JSONObject) -> str:
    metadata = obj.get("metadata")
    namespace = metadata.get("namespace") if isinstance(metadata, dict) else None
    return namespace if isinstance(namespace, str) else ""


def _not_found_status(resource: GroupResource | str, name: str) -> JSONObject:
    # apimachinery pkg/api/errors/errors.go NewNotFound: message `<resource>[.<group>] "<name>" not found`.
    if isinstance(resource, GroupResource):
        group, kind = resource.group, resource.resource
    else:
        group, kind = "", resource
    qualified = f"{kind}.{group}" if group else kind
    subject = f'{qualified} "{name}"' if qualified else f'"{name}"'
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": f"{subject} not found",
        "reason": "NotFound",
        "details": {"name": name, "group": group, "kind": kind},
        "code": 404,
    }


__all__ = ["LabelSelector", "Lister"]
