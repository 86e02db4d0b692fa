"""Discovery's disk cache: private files, its age counted towards the memory TTL, stale and corrupt files rewritten."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from dynaclient.client import APIClient
from dynaclient.discovery.cache import DiscoveryDiskCache, default_cache_root
from dynaclient.discovery.discovery import Discovery
from tests.unit.dynaclient.discovery.scripted_server import (
    PODS,
    SERVER,
    FakeClock,
    ScriptedTransport,
    by_gvr,
    discovery_for,
    serve,
)


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
