"""RESTMapper: from what a user types (``deploy``, ``Deployment``, ``deployments.v1.apps``) to a served resource.

Resolution follows kubectl (cli-runtime ``resource/builder.go mappingFor``) over client-go's discovery mapper
(``restmapper/discovery.go``, ``restmapper/shortcut.go``, apimachinery ``pkg/api/meta/priority.go``):

1. The argument is read as ``resource.version.group`` when it has two dots and that exists, else as
   ``resource.group`` (an unknown group is also tried as a prefix: ``storageclass.storage`` finds
   ``storage.k8s.io``), else as a bare name. Names are case-insensitive, so ``Deployment`` works.
2. The name is matched in tiers, the first tier with a match winning: plural or singular, then short names, then
   kinds. Plurals always come from discovery; nothing is guessed.
3. In each group the group's preferred version wins, else the most preferred version serving the resource.
4. Across groups, the core group wins (client-go puts ``{"", "v1"}`` first); then a Kubernetes group (no dot, or
   ``*.k8s.io``, whose APIServices rank above CRDs and aggregated APIs). Several other groups are ambiguous:
   kubectl silently takes the one the server lists first, which for CRDs of equal priority is alphabetical, so
   this raises :class:`~dynaclient.exceptions.AmbiguousResourceError` and lets the caller qualify the name.

A lookup that finds nothing refreshes discovery at once and tries again, so a CRD is usable as soon as the server
serves it (client-go ``DeferredDiscoveryRESTMapper`` refreshes whenever its cache is not fresh). Against storms of
unknown names: misses that overlap share one refresh (a result fetched after a lookup began counts as fresh for
it), and refreshes are rate-limited by a token bucket, ``refresh_burst`` at once then one per
``min_refresh_interval`` seconds; a miss beyond that fails without a request. A deleted CRD disappears when
discovery expires (its TTL) or on :meth:`RESTMapper.reset`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from dynaclient.discovery.discovery import APIResource, Discovery, DiscoverySnapshot
from dynaclient.exceptions import AmbiguousResourceError, ResourceNotFoundError
from dynaclient.gvr import GroupResource, GroupVersionKind, GroupVersionResource, parse_resource_arg
from dynaclient.rate_limit import TokenBucketRateLimiter

DEFAULT_MIN_REFRESH_INTERVAL = 1.0
"""Seconds between discovery refreshes caused by lookup misses, once the burst is spent."""

DEFAULT_REFRESH_BURST = 3
"""Discovery refreshes lookup misses may cause back to back."""

ResourceArg = str | GroupVersionResource | GroupVersionKind | GroupResource
"""What :meth:`RESTMapper.resource_for` accepts."""


@dataclass(frozen=True, slots=True)
class _Query:
    """One reading of a lookup: a name, optionally restricted to a group and version.

    Thread-safety: immutable.
    """

    name: str
    group: str | None = None
    version: str | None = None
    group_prefix: bool = False  # retry an unmatched group as a prefix
    kinds_only: bool = False  # a GroupVersionKind matches kinds, never resource names

    def __str__(self) -> str:
        return ".".join(part for part in (self.name, self.version, self.group) if part)


class _Index:
    """Name tiers and group preferences of one discovery snapshot.

    Thread-safety: immutable after construction.
    """

    def __init__(self, snapshot: DiscoverySnapshot) -> None:
        self.snapshot = snapshot
        self.preferred = {group.name: group.preferred_version for group in snapshot.groups}
        self.by_name: dict[str, list[APIResource]] = {}
        self.by_short_name: dict[str, list[APIResource]] = {}
        self.by_kind: dict[str, list[APIResource]] = {}
        for resource in snapshot.resources:
            # client-go falls back to the lower-case kind when a server sends no singular name.
            singular = resource.singular or resource.kind.lower()
            for name in dict.fromkeys((resource.resource, singular)):
                self.by_name.setdefault(name.lower(), []).append(resource)
            for short_name in resource.short_names:
                self.by_short_name.setdefault(short_name.lower(), []).append(resource)
            self.by_kind.setdefault(resource.kind.lower(), []).append(resource)

    def find(self, query: _Query) -> APIResource | None:
        """Return the resource ``query`` names, ``None`` when nothing matches.

        Raises:
            AmbiguousResourceError: several resources match and no rule prefers one.
        """
        tiers = (self.by_kind,) if query.kinds_only else (self.by_name, self.by_short_name, self.by_kind)
        for tier in tiers:
            matches = tier.get(query.name.lower(), [])
            candidates = [r for r in matches if _in(r, query.group, query.version)]
            if not candidates and query.group_prefix and query.group:
                candidates = [
                    r for r in matches if r.group.startswith(query.group + ".") and _in(r, None, query.version)
                ]
            if candidates:
                return self._choose(candidates, query)
        return None

    def _choose(self, candidates: list[APIResource], query: _Query) -> APIResource:
        by_group: dict[str, list[APIResource]] = {}
        for resource in candidates:
            by_group.setdefault(resource.group, []).append(resource)
        chosen = [self._best_version(group, resources, query) for group, resources in by_group.items()]
        if len(chosen) > 1:
            core = [r for r in chosen if r.group == ""]
            kubernetes = [r for r in chosen if _is_kubernetes_group(r.group)]
            chosen = core or (kubernetes if len(kubernetes) == 1 else chosen)
        if len(chosen) > 1:
            raise AmbiguousResourceError(f"{query} matches several resources", candidates=[str(r.gvr) for r in chosen])
        return chosen[0]

    def _best_version(self, group: str, resources: list[APIResource], query: _Query) -> APIResource:
        preferred = [r for r in resources if r.version == self.preferred.get(group)]
        version = (preferred or resources)[0].version  # resources are in version preference order
        in_version = [r for r in resources if r.version == version]
        if len(in_version) > 1:
            exact = [r for r in in_version if (r.singular or r.kind.lower()) == query.name.lower()]
            if len(exact) == 1:
                return exact[0]
            raise AmbiguousResourceError(
                f"{query} matches several resources", candidates=[str(r.gvr) for r in in_version]
            )
        return in_version[0]


class RESTMapper:
    """Resolves kinds and resource names to the resources discovery reports.

    Args:
        discovery: where the resources come from.
        min_refresh_interval: once ``refresh_burst`` refreshes are spent, lookup misses refresh discovery at most
            once per this many seconds; ``0`` refreshes on every miss.
        refresh_burst: refreshes misses may cause back to back.

    Thread-safety: thread-safe (discovery serialises fetches; the index is rebuilt per discovery result).
    """

    def __init__(
        self,
        discovery: Discovery,
        *,
        min_refresh_interval: float = DEFAULT_MIN_REFRESH_INTERVAL,
        refresh_burst: int = DEFAULT_REFRESH_BURST,
    ) -> None:
        self.discovery = discovery
        self.min_refresh_interval = min_refresh_interval
        self._refreshes = (
            TokenBucketRateLimiter(1 / min_refresh_interval, refresh_burst, clock=discovery.clock)
            if min_refresh_interval > 0
            else None
        )
        self._index: _Index | None = None

    def __repr__(self) -> str:
        return f"<RESTMapper {self.discovery!r}>"

    def resource_for(self, arg: ResourceArg) -> APIResource:
        """Return the served resource that ``arg`` names.

        Args:
            arg: a kind (``Deployment``, any case), plural, singular or short name, optionally qualified as
                ``name.group`` or ``name.version.group``; or a GroupVersionResource, GroupResource or
                GroupVersionKind (an empty version means the preferred one).

        Returns:
            The resource, at the group's preferred version unless ``arg`` names a version.

        Raises:
            ResourceNotFoundError: no served resource matches, even after refreshing discovery.
            AmbiguousResourceError: several groups serve a match and no rule prefers one; ``candidates`` lists
                them as ``resource.version.group``.
            APIError: discovery failed.
            TransportError: discovery could not reach the server.
        """
        queries = _queries(arg)
        started = self.discovery.clock()
        found = self._lookup(queries)
        if found is None and self._may_refresh(started):
            self.discovery.refresh(unless_fetched_since=started)
            found = self._lookup(queries)
        if found is None:
            failed = self.discovery.failed_group_versions
            note = f" (discovery failed for {', '.join(sorted(failed))})" if failed else ""
            raise ResourceNotFoundError(f"the server doesn't have a resource type {_describe(arg)}{note}")
        return found

    def kind_for(self, gvr: GroupVersionResource) -> GroupVersionKind:
        """Return the kind of ``gvr`` (an empty version means the preferred one).

        Raises:
            ResourceNotFoundError: the resource is not served.
        """
        return self.resource_for(gvr).gvk

    def reset(self) -> None:
        """Drop the discovery result; the next lookup fetches anew (``DeferredDiscoveryRESTMapper.Reset``)."""
        self.discovery.invalidate()

    def _may_refresh(self, started: float) -> bool:
        if self.discovery.fetched_since(started):
            return False  # fetched while this lookup ran: as fresh as a refresh would be
        return self._refreshes is None or self._refreshes.reserve(max_wait=0) is not None

    def _lookup(self, queries: Iterable[_Query]) -> APIResource | None:
        snapshot = self.discovery.snapshot()
        index = self._index
        if index is None or index.snapshot is not snapshot:
            index = self._index = _Index(snapshot)
        for query in queries:
            found = index.find(query)
            if found is not None:
                return found
        return None


def _queries(arg: ResourceArg) -> list[_Query]:
    """Return the readings of ``arg`` to try in order.

    >>> [(q.name, q.group, q.version) for q in _queries("Deployments.v1.apps")]
    [('deployments', 'apps', 'v1'), ('deployments', 'v1.apps', None)]
    >>> [(q.name, q.group, q.version, q.kinds_only) for q in _queries(GroupVersionKind("apps", "", "Deployment"))]
    [('Deployment', 'apps', None, True)]
    """
    if isinstance(arg, GroupVersionKind):
        group = arg.group if arg.version or arg.group else None  # an empty version and group: any group
        return [_Query(arg.kind, group=group, version=arg.version or None, kinds_only=True)]
    if isinstance(arg, GroupVersionResource):
        if arg.version:
            return [_Query(arg.resource.lower(), group=arg.group, version=arg.version)]
        arg = arg.group_resource
    if isinstance(arg, GroupResource):
        return [_Query(arg.resource.lower(), group=arg.group or None)]
    gvr, group_resource = parse_resource_arg(arg.strip().lower())
    queries = [_Query(gvr.resource, group=gvr.group, version=gvr.version)] if gvr else []
    return [*queries, _Query(group_resource.resource, group=group_resource.group or None, group_prefix=True)]


def _in(resource: APIResource, group: str | None, version: str | None) -> bool:
    return (group is None or resource.group == group) and (version is None or resource.version == version)


def _is_kubernetes_group(group: str) -> bool:
    """Tell whether a group belongs to Kubernetes itself (a CRD group needs a dot; ``*.k8s.io`` needs approval).

    >>> [_is_kubernetes_group(g) for g in ("apps", "storage.k8s.io", "cert-manager.io")]
    [True, True, False]
    """
    return "." not in group or group.endswith(".k8s.io")


def _describe(arg: ResourceArg) -> str:
    return repr(arg) if isinstance(arg, str) else f"{type(arg).__name__} {arg}"


__all__ = ["DEFAULT_MIN_REFRESH_INTERVAL", "DEFAULT_REFRESH_BURST", "RESTMapper", "ResourceArg"]
