"""Discovery: what resources the server serves (stub: the APIResource record; the client lands with issue 4)."""

from __future__ import annotations

from dataclasses import dataclass

from dynaclient.gvr import GroupVersionKind, GroupVersionResource


@dataclass(frozen=True, slots=True)
class APIResource:
    """One resource served by the API server, as discovery describes it.

    Attributes:
        group: the API group; ``""`` for the core group.
        version: the API version within the group.
        resource: the plural resource name used in URLs (``deployments``).
        kind: the object kind (``Deployment``).
        namespaced: whether objects live in namespaces.
        singular: the singular name (``deployment``); may be empty for old servers.
        verbs: the verbs the resource supports (``get``, ``list``, ``watch``, ...).
        short_names: short names (``deploy``).
        categories: categories (``all``).
        subresources: the subresources served (``status``, ``scale``).

    Thread-safety: immutable.
    """

    group: str
    version: str
    resource: str
    kind: str
    namespaced: bool
    singular: str = ""
    verbs: tuple[str, ...] = ()
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()

    @property
    def gvr(self) -> GroupVersionResource:
        """The resource's group, version and plural name."""
        return GroupVersionResource(self.group, self.version, self.resource)

    @property
    def gvk(self) -> GroupVersionKind:
        """The resource's group, version and kind."""
        return GroupVersionKind(self.group, self.version, self.kind)


__all__ = ["APIResource"]
