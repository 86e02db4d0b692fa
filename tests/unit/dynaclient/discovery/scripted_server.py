"""A scripted API server for the discovery tests: a small cluster served as aggregated and legacy documents.

The fixtures (``transport``, ``clock``, ``wall_clock``, ``on_disk``) are registered in this folder's conftest.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dynaclient._types import JSONObject
from dynaclient.client import APIClient
from dynaclient.discovery.discovery import APIResource, Discovery
from dynaclient.discovery.documents import AGGREGATED_ACCEPT
from dynaclient.request import Request, Response
from dynaclient.transport.base import BaseTransport

SERVER = "https://127.0.0.1:6443"
AGGREGATED_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
READ = ("get", "list", "watch")


@dataclass(frozen=True)
class Served:
    """One resource of the scripted server.

    Thread-safety: immutable.
    """

    name: str
    kind: str
    namespaced: bool = True
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()
    verbs: tuple[str, ...] = READ


# group -> [(version, resources)], most preferred version first; core first, as servers list them.
CLUSTER: dict[str, list[tuple[str, list[Served]]]] = {
    "": [
        (
            "v1",
            [
                Served("pods", "Pod", short_names=("po",), categories=("all",), subresources=("log", "status")),
                Served("namespaces", "Namespace", namespaced=False, short_names=("ns",), subresources=("status",)),
                Served("endpoints", "Endpoints", short_names=("ep",)),
            ],
        )
    ],
    "apps": [("v1", [Served("deployments", "Deployment", short_names=("deploy",), subresources=("scale", "status"))])],
    "autoscaling": [
        ("v2", [Served("horizontalpodautoscalers", "HorizontalPodAutoscaler", short_names=("hpa",))]),
        ("v1", [Served("horizontalpodautoscalers", "HorizontalPodAutoscaler", short_names=("hpa",))]),
    ],
    "stable.example.com": [
        ("v1", [Served("crontabs", "CronTab", short_names=("ct",))]),
        ("v1beta1", [Served("crontabs", "CronTab"), Served("oldthings", "OldThing")]),
    ],
}


def singular(served: Served) -> str:
    return served.kind.lower()


def aggregated_item(group: str, versions: list[tuple[str, list[Served]]], stale: tuple[str, ...] = ()) -> JSONObject:
    def resource(r: Served) -> JSONObject:
        subresources = [{"subresource": s, "responseKind": {"kind": r.kind}, "verbs": ["get"]} for s in r.subresources]
        return {
            "resource": r.name,
            "responseKind": {"group": "", "version": "", "kind": r.kind},
            "scope": "Namespaced" if r.namespaced else "Cluster",
            "singularResource": singular(r),
            "verbs": list(r.verbs),
            "shortNames": list(r.short_names),
            "categories": list(r.categories),
            "subresources": subresources,
        }

    entries = [{"version": v, "resources": [resource(r) for r in rs], "freshness": "Current"} for v, rs in versions]
    entries += [{"version": v, "freshness": "Stale"} for v in stale]
    return {"metadata": {"name": group} if group else {}, "versions": entries}


def legacy_resource_list(group: str, version: str, resources: list[Served]) -> JSONObject:
    entries: list[JSONObject] = []
    for r in resources:
        entry = {"name": r.name, "singularName": singular(r), "namespaced": r.namespaced, "kind": r.kind}
        entries.append({**entry, "verbs": list(r.verbs), "shortNames": list(r.short_names)})
        if r.categories:
            entries[-1]["categories"] = list(r.categories)
        sub = {"singularName": "", "namespaced": r.namespaced, "kind": r.kind, "verbs": ["get"]}
        entries += [{"name": f"{r.name}/{s}", **sub} for s in r.subresources]
    group_version = f"{group}/{version}" if group else version
    return {"kind": "APIResourceList", "groupVersion": group_version, "resources": entries}


class ScriptedTransport(BaseTransport):
    """Answers (method, path, accept) from a table; ``None`` as accept matches any. Unknown paths get 404.

    Thread-safety: confined to the test (the legacy walk's threads only read the table and append).
    """

    server = SERVER

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str, str | None], tuple[int, bytes, dict[str, str]]] = {}
        self.requests: list[Request] = []

    def route(self, path: str, body: object, *, status: int = 200, accept: str | None = None, ctype: str = "") -> None:
        headers = {"Content-Type": ctype or "application/json"}
        self.routes["GET", path, accept] = (status, json.dumps(body).encode(), headers)

    def send(self, request: Request) -> Response:
        self.requests.append(request)
        key = (request.method, request.path, request.accept)
        status, body, headers = self.routes.get(key) or self.routes.get((*key[:2], None)) or (404, b"{}", {})
        return Response.from_bytes(status, body, headers)


def serve(
    transport: ScriptedTransport,
    cluster: dict[str, list[tuple[str, list[Served]]]] = CLUSTER,
    *,
    aggregated: bool = True,
    broken: tuple[str, str] | None = None,
) -> ScriptedTransport:
    """Serve ``cluster`` in both formats (aggregated only when ``aggregated``); ``broken`` is a failing g/v."""
    core, named = {k: v for k, v in cluster.items() if not k}, {k: v for k, v in cluster.items() if k}
    legacy_groups = [
        {"name": g, "versions": [{"version": v} for v, _ in vs], "preferredVersion": {"version": vs[0][0]}}
        for g, vs in named.items()
    ]
    if broken:
        legacy_groups.append({"name": broken[0], "versions": [{"version": broken[1]}]})
        transport.route(f"/apis/{broken[0]}/{broken[1]}", {"kind": "Status", "code": 503}, status=503)
    transport.route("/api", {"kind": "APIVersions", "versions": [v for v, _ in core.get("", [])]})
    transport.route("/apis", {"kind": "APIGroupList", "groups": legacy_groups})
    for group, versions in cluster.items():
        for version, resources in versions:
            path = f"/apis/{group}/{version}" if group else f"/api/{version}"
            transport.route(path, legacy_resource_list(group, version, resources))
    if aggregated:
        stale = [aggregated_item(broken[0], [], stale=(broken[1],))] if broken else []
        for path, groups, extra in (("/api", core, []), ("/apis", named, stale)):
            items = [aggregated_item(g, vs) for g, vs in groups.items()] + extra
            body = {"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "items": items}
            transport.route(path, body, accept=AGGREGATED_ACCEPT, ctype=AGGREGATED_TYPE)
    return transport


class FakeClock:
    """A clock the test moves by hand.

    Thread-safety: confined to the test.
    """

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def transport() -> ScriptedTransport:
    return serve(ScriptedTransport())


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def wall_clock() -> FakeClock:
    return FakeClock(1_700_000_000.0)


def discovery_for(transport: ScriptedTransport, clock: FakeClock | None = None, **kwargs: Any) -> Discovery:
    kwargs.setdefault("cache_dir", False)
    if clock is not None:
        kwargs["clock"] = clock
    return Discovery(APIClient(transport), **kwargs)


@pytest.fixture
def on_disk(transport: ScriptedTransport, tmp_path: Path, wall_clock: FakeClock) -> Callable[..., Discovery]:
    """Build Discovery instances sharing one disk cache under ``tmp_path`` and one wall clock."""
    return lambda **kwargs: discovery_for(transport, cache_dir=tmp_path, wall_clock=wall_clock, **kwargs)


def by_gvr(resources: list[APIResource]) -> dict[str, APIResource]:
    return {str(r.gvr): r for r in resources}


PODS = APIResource(
    group="",
    version="v1",
    resource="pods",
    kind="Pod",
    namespaced=True,
    singular="pod",
    verbs=READ,
    short_names=("po",),
    categories=("all",),
    subresources=("log", "status"),
)


__all__ = [
    "AGGREGATED_TYPE",
    "CLUSTER",
    "PODS",
    "READ",
    "SERVER",
    "FakeClock",
    "ScriptedTransport",
    "Served",
    "aggregated_item",
    "by_gvr",
    "clock",
    "discovery_for",
    "legacy_resource_list",
    "on_disk",
    "serve",
    "singular",
    "transport",
    "wall_clock",
]
