"""Discovery: aggregated and legacy documents, partial failures, the memory TTL and the disk cache."""

from __future__ import annotations

import json
import logging
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from dynaclient._types import JSONObject
from dynaclient.client import APIClient
from dynaclient.discovery.cache import DiscoveryDiskCache, default_cache_root
from dynaclient.discovery.discovery import DISCOVERY_TIMEOUT, APIGroup, APIResource, Discovery
from dynaclient.discovery.documents import AGGREGATED_ACCEPT, is_aggregated
from dynaclient.exceptions import DecodeError, ForbiddenError, ResourceNotFoundError
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


# -- documents -------------------------------------------------------------------------------------------------


def test_aggregated_discovery_reads_everything_from_two_requests(transport: ScriptedTransport) -> None:
    discovery = discovery_for(transport)

    resources = by_gvr(discovery.resources())

    assert [(r.path, r.accept) for r in transport.requests] == [
        ("/api", AGGREGATED_ACCEPT),
        ("/apis", AGGREGATED_ACCEPT),
    ]
    assert discovery.requests_made == 2
    assert all(DISCOVERY_TIMEOUT - 1 < (r.timeout or 0) <= DISCOVERY_TIMEOUT for r in transport.requests)
    assert discovery.snapshot().aggregated
    assert resources["pods.v1"] == PODS
    assert not resources["namespaces.v1"].namespaced
    assert resources["deployments.v1.apps"].subresources == ("scale", "status")
    assert discovery.failed_group_versions == {}


def test_the_legacy_walk_is_used_when_the_server_answers_plain_json() -> None:
    transport = serve(ScriptedTransport(), aggregated=False)
    discovery = discovery_for(transport)

    resources = discovery.resources()

    group_versions = sum(len(versions) for versions in CLUSTER.values())
    assert discovery.requests_made == 2 + group_versions
    assert not discovery.snapshot().aggregated
    assert by_gvr(resources)["pods.v1"] == PODS
    assert resources == discovery_for(serve(ScriptedTransport())).resources()


def test_legacy_discovery_can_be_forced(transport: ScriptedTransport) -> None:
    discovery = discovery_for(transport, use_legacy_discovery=True)

    discovery.resources()

    assert transport.requests[0].accept == "application/json"
    assert not discovery.snapshot().aggregated


def test_resources_are_ordered_by_group_then_version_preference(transport: ScriptedTransport) -> None:
    order = [(r.group, r.version, r.resource) for r in discovery_for(transport).resources()]

    assert order[:3] == [("", "v1", "pods"), ("", "v1", "namespaces"), ("", "v1", "endpoints")]
    assert order[-3:] == [
        ("stable.example.com", "v1", "crontabs"),
        ("stable.example.com", "v1beta1", "crontabs"),
        ("stable.example.com", "v1beta1", "oldthings"),
    ]


def test_groups_and_preferred_versions(transport: ScriptedTransport) -> None:
    discovery = discovery_for(transport)

    assert discovery.server_groups()[:3] == [
        APIGroup("", ("v1",), "v1"),
        APIGroup("apps", ("v1",), "v1"),
        APIGroup("autoscaling", ("v2", "v1"), "v2"),
    ]
    assert discovery.preferred_version("autoscaling") == "v2"
    with pytest.raises(ResourceNotFoundError, match=r"nosuch\.example\.com"):
        discovery.preferred_version("nosuch.example.com")


def test_preferred_resources_take_the_preferred_version_else_the_first_serving_one(
    transport: ScriptedTransport,
) -> None:
    preferred = {(r.group, r.resource): r.version for r in discovery_for(transport).preferred_resources()}

    assert preferred[("autoscaling", "horizontalpodautoscalers")] == "v2"
    assert preferred[("stable.example.com", "crontabs")] == "v1"
    assert preferred[("stable.example.com", "oldthings")] == "v1beta1"
    assert len(preferred) == 7


@pytest.mark.parametrize(
    ("content_type", "aggregated"),
    [
        (AGGREGATED_TYPE, True),
        ("application/json;as=APIGroupDiscoveryList;v=v2beta1;g=apidiscovery.k8s.io;charset=utf-8", True),
        ("application/json;g=apidiscovery.k8s.io;v=v3;as=APIGroupDiscoveryList", False),
        ("application/json;g=apidiscovery.k8s.io;v=v2", False),
        ("application/json", False),
        ("", False),
    ],
    ids=["v2", "v2beta1-any-order", "unknown-version", "no-as", "plain", "missing"],
)
def test_only_the_aggregated_media_type_counts_as_aggregated(content_type: str, aggregated: bool) -> None:
    assert is_aggregated(content_type) is aggregated


def test_a_resource_without_a_kind_is_dropped_from_aggregated_discovery(transport: ScriptedTransport) -> None:
    item = aggregated_item("x.example.com", [("v1", [Served("things", "Thing"), Served("kindless", "")])])
    body = {"kind": "APIGroupDiscoveryList", "items": [item]}
    transport.route("/apis", body, accept=AGGREGATED_ACCEPT, ctype=AGGREGATED_TYPE)

    names = [r.resource for r in discovery_for(transport).resources() if r.group == "x.example.com"]

    assert names == ["things"]


def test_a_server_without_the_core_group_is_tolerated(transport: ScriptedTransport) -> None:
    del transport.routes["GET", "/api", AGGREGATED_ACCEPT], transport.routes["GET", "/api", None]
    transport.route("/api", {"kind": "Status", "code": 404}, status=404)

    discovery = discovery_for(transport)

    assert "" not in {r.group for r in discovery.resources()}
    assert "deployments.v1.apps" in by_gvr(discovery.resources())


def test_a_failing_group_list_fails_discovery(transport: ScriptedTransport) -> None:
    transport.route(
        "/apis", {"kind": "Status", "code": 403, "reason": "Forbidden"}, status=403, accept=AGGREGATED_ACCEPT
    )

    with pytest.raises(ForbiddenError):
        discovery_for(transport).resources()


def test_a_malformed_document_is_a_decode_error_naming_the_field(transport: ScriptedTransport) -> None:
    body = {"kind": "APIGroupDiscoveryList", "items": [{"metadata": {"name": "x.io"}, "versions": "v1"}]}
    transport.route("/apis", body, accept=AGGREGATED_ACCEPT, ctype=AGGREGATED_TYPE)

    with pytest.raises(DecodeError, match=r"items\[0\]\.versions: expected list"):
        discovery_for(transport).resources()


# -- partial failure -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("aggregated", "reason"), [(True, "stale GroupVersion discovery"), (False, "503")], ids=["aggregated", "legacy"]
)
def test_a_broken_group_version_is_recorded_and_logged_and_the_rest_works(
    aggregated: bool, reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    transport = serve(ScriptedTransport(), aggregated=aggregated, broken=("broken.example.com", "v1alpha1"))
    discovery = discovery_for(transport)

    with caplog.at_level(logging.WARNING, logger="dynaclient.discovery"):
        resources = by_gvr(discovery.resources())

    assert list(discovery.failed_group_versions) == ["broken.example.com/v1alpha1"]
    assert reason in discovery.failed_group_versions["broken.example.com/v1alpha1"]
    assert "broken.example.com/v1alpha1" in caplog.text
    assert resources["pods.v1"] == PODS
    assert len(resources) == 9


# -- memory cache ----------------------------------------------------------------------------------------------


def test_the_memory_cache_serves_until_the_ttl_expires(transport: ScriptedTransport, clock: FakeClock) -> None:
    discovery = discovery_for(transport, clock, ttl=60)
    discovery.resources()

    clock.now += 59.9
    discovery.resources()
    discovery.preferred_resources()
    assert discovery.requests_made == 2
    assert discovery.age() == pytest.approx(59.9)

    clock.now += 0.1
    discovery.resources()
    assert discovery.requests_made == 4
    assert discovery.age() == 0


def test_invalidate_and_refresh_fetch_again(transport: ScriptedTransport, clock: FakeClock) -> None:
    discovery = discovery_for(transport, clock)
    assert discovery.age() == float("inf")
    discovery.resources()

    discovery.invalidate()
    assert discovery.requests_made == 2
    discovery.resources()
    assert discovery.requests_made == 4

    discovery.refresh()
    assert discovery.requests_made == 6


# -- disk cache ------------------------------------------------------------------------------------------------


def test_the_disk_cache_is_private_and_lets_a_new_discovery_make_zero_requests(
    on_disk: Callable[..., Discovery], tmp_path: Path, wall_clock: FakeClock
) -> None:
    first = on_disk()
    expected = first.resources()

    wall_clock.now += 599
    second = on_disk()

    assert second.resources() == expected
    assert second.server_groups() == first.server_groups()
    assert second.requests_made == 0
    assert first.cache_path == tmp_path / "127.0.0.1_6443" / "discovery.json"
    assert stat.S_IMODE(first.cache_path.stat().st_mode) == 0o600
    assert stat.S_IMODE(first.cache_path.parent.stat().st_mode) == 0o700
    assert json.loads(first.cache_path.read_text())["fetchedAt"] == 1_700_000_000.0
    assert os.listdir(first.cache_path.parent) == ["discovery.json"]


def test_the_disk_cache_age_counts_towards_the_memory_ttl(
    on_disk: Callable[..., Discovery], clock: FakeClock, wall_clock: FakeClock
) -> None:
    on_disk().resources()
    wall_clock.now += 500
    discovery = on_disk(clock=clock)

    discovery.resources()
    assert (discovery.requests_made, discovery.age()) == (0, 500)
    clock.now += 100
    wall_clock.now += 100
    discovery.resources()
    assert discovery.requests_made == 2


def test_a_stale_disk_cache_is_refetched_and_rewritten(
    on_disk: Callable[..., Discovery], wall_clock: FakeClock
) -> None:
    on_disk().resources()
    wall_clock.now += 601

    second = on_disk()
    second.resources()

    assert second.requests_made == 2
    assert second.cache_path is not None
    assert json.loads(second.cache_path.read_text())["fetchedAt"] == wall_clock.now


@pytest.mark.parametrize(
    "content",
    [
        b"not json",
        b'{"format": 1, "server": "https://127.0.0.1:6443", "fetchedAt": 1700000000.0',
        b"[]",
        b'{"format": 99}',
        b'{"format": 1, "server": "https://elsewhere:6443", "fetchedAt": 1700000000.0, "groups": [], "resources": []}',
        b'{"format": 1, "server": "https://127.0.0.1:6443", "fetchedAt": "yesterday"}',
        b'{"format": 1, "server": "https://127.0.0.1:6443", "fetchedAt": 1700000000.0, "aggregated": true,'
        b' "groups": [], "resources": [{"group": 1}], "failedGroupVersions": {}}',
        b'{"format": 1, "server": "https://127.0.0.1:6443", "fetchedAt": 1700000000.0, "aggregated": true,'
        b' "groups": "v1", "resources": [], "failedGroupVersions": {}}',
        b"\xff\xfe\x00",
    ],
    ids=["garbage", "truncated", "not-an-object", "other-format", "other-server", "bad-time", "bad-resource",
         "bad-groups", "binary"],
)  # fmt: skip
def test_a_corrupt_cache_file_is_ignored_and_rewritten(
    on_disk: Callable[..., Discovery], tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "127.0.0.1_6443" / "discovery.json"
    path.parent.mkdir()
    path.write_bytes(content)

    discovery = on_disk()

    assert by_gvr(discovery.resources())["pods.v1"] == PODS
    assert discovery.requests_made == 2
    assert json.loads(path.read_text())["server"] == SERVER


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary_file(
    on_disk: Callable[..., Discovery], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = on_disk()
    first.resources()
    assert first.cache_path is not None
    before = first.cache_path.read_bytes()

    def fail(*args: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    first.refresh()

    assert first.cache_path.read_bytes() == before
    assert os.listdir(first.cache_path.parent) == ["discovery.json"]


def test_a_partial_result_is_not_written_to_disk(tmp_path: Path) -> None:
    transport = serve(ScriptedTransport(), broken=("broken.example.com", "v1alpha1"))
    discovery = discovery_for(transport, cache_dir=tmp_path)

    discovery.resources()

    assert discovery.cache_path is not None
    assert not discovery.cache_path.exists()


def test_refresh_and_invalidate_bypass_a_fresh_disk_cache(on_disk: Callable[..., Discovery]) -> None:
    on_disk().resources()
    discovery = on_disk()
    discovery.resources()
    assert discovery.requests_made == 0

    discovery.invalidate()
    discovery.resources()
    assert discovery.requests_made == 2
    discovery.refresh()
    assert discovery.requests_made == 4


def test_the_default_cache_root_follows_xdg_cache_home(
    transport: ScriptedTransport, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))

    discovery = Discovery(APIClient(transport))
    discovery.resources()

    assert default_cache_root() == tmp_path / "dynaclient" / "discovery"
    assert discovery.cache_path == tmp_path / "dynaclient" / "discovery" / "127.0.0.1_6443" / "discovery.json"
    assert discovery.cache_path.is_file()
    assert stat.S_IMODE((tmp_path / "dynaclient").stat().st_mode) == 0o700


def test_cache_dir_false_writes_nothing(
    transport: ScriptedTransport, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))

    discovery = Discovery(APIClient(transport), cache_dir=False)
    discovery.resources()

    assert discovery.cache_path is None
    assert list(tmp_path.iterdir()) == []


def test_a_corrupt_deeply_nested_cache_file_is_ignored_as_documented(tmp_path: Path) -> None:
    # Before: json's RecursionError escaped, although corrupt files are documented as "no cache".
    cache = DiscoveryDiskCache(tmp_path, "https://127.0.0.1:6443")
    cache.directory.mkdir(parents=True)
    cache.path.write_text("[" * 100000 + "]" * 100000)

    assert cache.load(now=0, ttl=600) is None
