"""Discovery: which groups, versions and resources the API server serves, cached in memory and on disk.

:class:`Discovery` asks for aggregated discovery first (``apidiscovery.k8s.io/v2``: the whole map in two
requests, ``GET /api`` and ``GET /apis``) and falls back to the legacy walk (``/api``, ``/apis``, then one
request per group/version) when the server answers with the plain kinds. A group/version that cannot be served
(an aggregated API whose backend is down) is recorded in :attr:`Discovery.failed_group_versions`; the rest works.
The documents are parsed by :mod:`dynaclient.discovery.documents`; the disk cache is
:mod:`dynaclient.discovery.cache`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from cachetools import TLRUCache

from dynaclient._types import JSONObject
from dynaclient.client import APIClient, decode_json
from dynaclient.discovery.cache import DiscoveryDiskCache, default_cache_root
from dynaclient.discovery.documents import (
    AGGREGATED_ACCEPT,
    APIGroup,
    APIResource,
    DiscoverySnapshot,
    groups_from_api_group_list,
    groups_from_api_versions,
    is_aggregated,
    parse_aggregated,
    resources_from_resource_list,
)
from dynaclient.exceptions import APIError, DecodeError, NotFoundError, ResourceNotFoundError, UnsupportedRequestError
from dynaclient.gvr import GroupVersion
from dynaclient.request import JSON_CONTENT_TYPE, Request

logger = logging.getLogger("dynaclient.discovery")

DEFAULT_TTL = 600.0
"""Seconds a discovery result stays valid in memory and on disk (kubectl keeps its disk cache for 6 hours)."""

DISCOVERY_TIMEOUT = 32.0
"""Seconds each discovery request may take (client-go ``discovery_client.go setDiscoveryDefaults``)."""

# client-go fetches the group/version lists of the legacy walk in parallel (discovery_client.go
# fetchGroupVersionResources); a small pool is enough for the few dozen group/versions of a cluster.
_LEGACY_WORKERS = 8


_CURRENT = "current"


@dataclass(frozen=True, slots=True)
class _Fetched:
    """A discovery result and when it was fetched (on the discovery clock).

    Thread-safety: immutable.
    """

    snapshot: DiscoverySnapshot
    at: float


class Discovery:
    """The server's API groups and resources, fetched once and cached in memory (TTL) and on disk.

    Args:
        client: the client that sends discovery requests.
        cache_dir: the root of the disk cache; ``None`` uses ``${XDG_CACHE_HOME:-~/.cache}/dynaclient/discovery``,
            ``False`` disables the disk cache. Each server gets its own directory below the root.
        ttl: seconds a result stays valid, in memory and on disk.
        server: the server URL that names the disk cache directory; defaults to the transport's ``server``. Without
            one the disk cache is disabled.
        use_legacy_discovery: skip aggregated discovery and walk every group/version (client-go
            ``UseLegacyDiscovery``). A transport that refuses the aggregated ``Accept`` (kubectl ``--raw``) gets the
            legacy walk without asking.
        clock: monotonic seconds, for the memory TTL and :meth:`age`.
        wall_clock: epoch seconds, for the fetch time kept in the disk cache.

    Thread-safety: thread-safe. One fetch runs at a time; concurrent callers wait for it and share its result.
    """

    def __init__(
        self,
        client: APIClient,
        *,
        cache_dir: Path | Literal[False] | None = None,
        ttl: float = DEFAULT_TTL,
        server: str | None = None,
        use_legacy_discovery: bool = False,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.ttl = ttl
        self.clock = clock
        self._accept = JSON_CONTENT_TYPE if use_legacy_discovery else AGGREGATED_ACCEPT
        self._wall_clock = wall_clock
        server = server if server is not None else getattr(client.transport, "server", None)
        self._disk: DiscoveryDiskCache | None = None
        if cache_dir is not False and isinstance(server, str) and server:
            self._disk = DiscoveryDiskCache(cache_dir or default_cache_root(), server)
        self._lock = threading.Lock()
        self._counter_lock = threading.Lock()
        # The current result, expiring ttl seconds after it was fetched (a result read from disk is older already).
        self._memory: TLRUCache[str, _Fetched] = TLRUCache(
            maxsize=1, ttu=lambda _key, fetched, _now: fetched.at + self.ttl, timer=clock
        )
        self._skip_disk = False
        self._requests_made = 0

    def __repr__(self) -> str:
        return f"<Discovery {self._disk.directory if self._disk else 'memory only'} ttl={self.ttl}>"

    @property
    def requests_made(self) -> int:
        """How many discovery requests this instance has sent (for tests and diagnostics)."""
        return self._requests_made

    @property
    def cache_path(self) -> Path | None:
        """The disk cache file, or ``None`` when the disk cache is disabled."""
        return self._disk.path if self._disk else None

    @property
    def failed_group_versions(self) -> dict[str, str]:
        """The group/versions (``group/version``, or ``v1`` for core) that could not be discovered, with the reason."""
        return dict(self.snapshot().failed_group_versions)

    def snapshot(self) -> DiscoverySnapshot:
        """Return the current discovery result, fetching it when the cached one expired.

        Raises:
            APIError: ``GET /apis`` (or ``/api``, other than a 404) failed.
            TransportError: the server could not be reached.
        """
        with self._lock:
            fetched = self._memory.get(_CURRENT)
            return fetched.snapshot if fetched is not None else self._load_locked()

    def age(self) -> float:
        """Return the seconds since the current result was fetched from the server (``inf`` when there is none)."""
        with self._lock:
            fetched = self._memory.get(_CURRENT)
            return float("inf") if fetched is None else self.clock() - fetched.at

    def resources(self) -> list[APIResource]:
        """Return every resource at every served version, in group then version preference order."""
        return list(self.snapshot().resources)

    def preferred_resources(self) -> list[APIResource]:
        """Return each resource once, at its group's preferred version when served there.

        As client-go ``ServerPreferredResources``: a resource missing from the preferred version is returned at
        the first (most preferred) version that serves it.
        """
        snapshot = self.snapshot()
        preferred = {group.name: group.preferred_version for group in snapshot.groups}
        chosen: dict[tuple[str, str], APIResource] = {}
        for resource in snapshot.resources:
            key = (resource.group, resource.resource)
            if key not in chosen or resource.version == preferred.get(resource.group):
                chosen[key] = resource
        return list(chosen.values())

    def preferred_version(self, group: str) -> str:
        """Return the preferred version of ``group`` (``""`` is the core group).

        Raises:
            ResourceNotFoundError: the server does not serve the group.
        """
        for api_group in self.snapshot().groups:
            if api_group.name == group:
                return api_group.preferred_version
        raise ResourceNotFoundError(f"the server does not serve API group {group!r}")

    def server_groups(self) -> list[APIGroup]:
        """Return the served API groups, the core group first, in the server's priority order."""
        return list(self.snapshot().groups)

    def invalidate(self) -> None:
        """Forget the cached result; the next read fetches from the server, ignoring the disk cache."""
        with self._lock:
            self._memory.clear()
            self._skip_disk = True

    def refresh(self, *, unless_fetched_since: float | None = None) -> DiscoverySnapshot:
        """Fetch from the server now, replacing the memory and disk caches; return the new result.

        Args:
            unless_fetched_since: a time on :attr:`clock`; when the current result was fetched at or after it
                (another thread refreshed meanwhile), that result is returned without a request.
        """
        with self._lock:
            fetched = self._memory.get(_CURRENT)
            if fetched is not None and unless_fetched_since is not None and fetched.at >= unless_fetched_since:
                return fetched.snapshot
            self._skip_disk = True
            return self._load_locked()

    def fetched_since(self, moment: float) -> bool:
        """Whether the current result was fetched from the server at or after ``moment`` (on :attr:`clock`)."""
        with self._lock:
            fetched = self._memory.get(_CURRENT)
            return fetched is not None and fetched.at >= moment

    # -- loading ---------------------------------------------------------------------------------------------

    def _load_locked(self) -> DiscoverySnapshot:
        if self._disk is not None and not self._skip_disk:
            cached = self._disk.load(now=self._wall_clock(), ttl=self.ttl)
            if cached is not None:
                age = max(0.0, self._wall_clock() - cached.fetched_at)
                return self._keep_locked(cached, fetched_at=self.clock() - age)
        snapshot = self._fetch()
        for group_version, reason in snapshot.failed_group_versions.items():
            logger.warning("discovery of %s failed: %s", group_version, reason)
        # As client-go's disk cache, a partial result is not written: other processes fetch for themselves.
        if self._disk is not None and not snapshot.failed_group_versions:
            self._disk.store(snapshot)
        self._skip_disk = False
        return self._keep_locked(snapshot, fetched_at=self.clock())

    def _keep_locked(self, snapshot: DiscoverySnapshot, *, fetched_at: float) -> DiscoverySnapshot:
        self._memory[_CURRENT] = _Fetched(snapshot, fetched_at)
        return snapshot

    def _fetch(self) -> DiscoverySnapshot:
        fetched_at = self._wall_clock()
        core = self._get_root("/api")
        named = self._get_root("/apis")
        groups: list[APIGroup] = []
        resources: list[APIResource] = []
        failed: dict[str, str] = {}
        walk: list[GroupVersion] = []
        for path, (document, aggregated) in (("/api", core), ("/apis", named)):
            if aggregated:
                parsed = parse_aggregated(document)
                groups += parsed.groups
                resources += parsed.resources
                failed.update(parsed.failed_group_versions)
                continue
            legacy_groups = (
                groups_from_api_versions(document) if path == "/api" else groups_from_api_group_list(document)
            )
            groups += legacy_groups
            walk += [GroupVersion(group.name, version) for group in legacy_groups for version in group.versions]
        walked = self._walk(walk)
        for group_version, outcome in zip(walk, walked, strict=True):
            if isinstance(outcome, str):
                failed[group_version.api_version] = outcome
            else:
                resources += outcome
        return DiscoverySnapshot(
            groups=tuple(groups),
            resources=tuple(_in_group_order(resources, groups)),
            failed_group_versions=failed,
            fetched_at=fetched_at,
            aggregated=core[1] and named[1],
        )

    def _get_root(self, path: str) -> tuple[JSONObject, bool]:
        """GET /api or /apis asking for aggregated discovery; return the document and whether it is aggregated."""
        try:
            response = self._send_root(path)
        except NotFoundError:
            if path == "/apis":
                raise
            # client-go tolerates a server without the core group (discovery_client.go,
            # TestDiscoveryToleratesMissingCoreGroup).
            return {}, True
        document = decode_json(response[0], what=f"GET {path}")
        return document, is_aggregated(response[1])

    def _send_root(self, path: str) -> tuple[bytes, str]:
        request = Request("GET", path, accept=self._accept, timeout=DISCOVERY_TIMEOUT)
        try:
            return self._send(request)
        except UnsupportedRequestError:
            if self._accept == JSON_CONTENT_TYPE:
                raise
        # The transport carries only plain JSON (kubectl --raw): walk the legacy documents from now on.
        logger.debug("discovery: the transport refuses aggregated discovery; using the legacy documents")
        self._accept = JSON_CONTENT_TYPE
        return self._send(replace(request, accept=JSON_CONTENT_TYPE))

    def _walk(self, group_versions: list[GroupVersion]) -> list[list[APIResource] | str]:
        if not group_versions:
            return []
        with ThreadPoolExecutor(max_workers=min(_LEGACY_WORKERS, len(group_versions))) as pool:
            return list(pool.map(self._resource_list, group_versions))

    def _resource_list(self, group_version: GroupVersion) -> list[APIResource] | str:
        """Fetch one group/version's APIResourceList; a failure is returned as its reason."""
        prefix = "/apis/" if group_version.group else "/api/"
        path = prefix + group_version.api_version
        try:
            body, _ = self._send(Request("GET", path, accept=JSON_CONTENT_TYPE, timeout=DISCOVERY_TIMEOUT))
            return resources_from_resource_list(decode_json(body, what=f"GET {path}"), group_version)
        except NotFoundError as exc:
            # A 404 for exactly the core v1 means "no resources" (client-go ServerResourcesForGroupVersion).
            return [] if group_version == GroupVersion("", "v1") else str(exc)
        except (APIError, DecodeError) as exc:
            return str(exc)

    def _send(self, request: Request) -> tuple[bytes, str]:
        with self._counter_lock:
            self._requests_made += 1
        response = self.client.send(request)
        return response.read(), response.headers.get("content-type", "")


def _in_group_order(resources: list[APIResource], groups: list[APIGroup]) -> list[APIResource]:
    """Order resources by group (server order), then version (preference order), keeping the server's order."""
    rank = {(g.name, v): (i, j) for i, g in enumerate(groups) for j, v in enumerate(g.versions)}
    unranked = (len(groups), 0)
    return sorted(resources, key=lambda r: rank.get((r.group, r.version), unranked))


__all__ = ["DEFAULT_TTL", "DISCOVERY_TIMEOUT", "APIGroup", "APIResource", "Discovery", "DiscoverySnapshot"]
