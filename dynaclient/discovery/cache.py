"""The on-disk discovery cache: one private JSON file per server, written atomically, with its fetch time.

Layout: ``<root>/<sanitised host_port>/discovery.json``, where ``root`` defaults to
``${XDG_CACHE_HOME:-~/.cache}/dynaclient/discovery``. Directories this module creates are ``0700`` and the file
is ``0600``: discovery documents name every API the cluster serves. Writes go to a temporary file in the same
directory and are renamed over the old one (as client-go ``discovery/cached/disk/cached_discovery.go``), so a
reader never sees half a file. A missing, stale, foreign or corrupt file reads as "no cache"; the next fetch
rewrites it. Cache failures never fail discovery.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from dynaclient.discovery.documents import APIGroup, APIResource, DiscoverySnapshot

logger = logging.getLogger("dynaclient.discovery")

CACHE_FORMAT = 1
"""The version of the cache file layout; a file with another version is ignored."""

_FILE_NAME = "discovery.json"


def default_cache_root() -> Path:
    """Return ``${XDG_CACHE_HOME:-~/.cache}/dynaclient/discovery``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "dynaclient" / "discovery"


def server_directory_name(server: str) -> str:
    """Return the directory name for a server URL, like kubectl's ``computeDiscoverCacheDir``.

    >>> server_directory_name("https://127.0.0.1:6443")
    '127.0.0.1_6443'
    >>> server_directory_name("https://rancher.example.com/k8s/clusters/c-1")
    'rancher.example.com_k8s_clusters_c-1'
    """
    schemeless = re.sub(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", "", server).rstrip("/")
    name = re.sub(r"[^A-Za-z0-9._-]", "_", schemeless)
    return "_" if name in ("", ".", "..") else name


class DiscoveryDiskCache:
    """Reads and writes one server's discovery result.

    Args:
        root: the cache root; the server's directory is created below it.
        server: the server URL, kept in the file so that a file for another server is never used.

    Thread-safety: thread-safe; each write is an atomic rename and readers tolerate any file.
    """

    def __init__(self, root: Path, server: str) -> None:
        self.server = server
        self.directory = Path(root).expanduser() / server_directory_name(server)
        self.path = self.directory / _FILE_NAME

    def __repr__(self) -> str:
        return f"<DiscoveryDiskCache {self.path}>"

    def load(self, *, now: float, ttl: float) -> DiscoverySnapshot | None:
        """Return the cached result if it was fetched less than ``ttl`` seconds before ``now``, else ``None``."""
        try:
            data = json.loads(self.path.read_bytes())
            snapshot = _snapshot_from_json(data, self.server)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, RecursionError) as exc:
            logger.warning("ignoring unreadable discovery cache %s: %s", self.path, exc)
            return None
        if not 0 <= now - snapshot.fetched_at < ttl:
            return None
        return snapshot

    def store(self, snapshot: DiscoverySnapshot) -> None:
        """Write ``snapshot`` atomically; a failure is logged, never raised."""
        data = json.dumps(_snapshot_to_json(snapshot, self.server), separators=(",", ":")).encode()
        temporary = None
        try:
            _make_private_directories(self.directory)
            fd, temporary = tempfile.mkstemp(dir=self.directory, prefix=f".{_FILE_NAME}.", suffix=".tmp")
            with os.fdopen(fd, "wb") as file:
                os.fchmod(file.fileno(), 0o600)
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self.path)
        except OSError as exc:
            logger.warning("could not write the discovery cache %s: %s", self.path, exc)
            if temporary is not None:
                Path(temporary).unlink(missing_ok=True)


def _make_private_directories(directory: Path) -> None:
    """Create ``directory`` and its missing parents with mode 0700 (umask aside); existing ones are left alone."""
    missing = [d for d in (directory, *directory.parents) if not d.exists()]
    for path in reversed(missing):
        path.mkdir(mode=0o700, exist_ok=True)
        path.chmod(0o700)


def _snapshot_to_json(snapshot: DiscoverySnapshot, server: str) -> dict[str, Any]:
    return {
        "format": CACHE_FORMAT,
        "server": server,
        "fetchedAt": snapshot.fetched_at,
        "aggregated": snapshot.aggregated,
        "groups": [asdict(group) for group in snapshot.groups],
        "resources": [asdict(resource) for resource in snapshot.resources],
        "failedGroupVersions": dict(snapshot.failed_group_versions),
    }


def _snapshot_from_json(data: Any, server: str) -> DiscoverySnapshot:
    """Rebuild a snapshot, raising ValueError, KeyError or TypeError on anything unexpected."""
    if not isinstance(data, dict) or data.get("format") != CACHE_FORMAT or data.get("server") != server:
        raise ValueError("not a discovery cache file of this format and server")
    fetched_at = data["fetchedAt"]
    if not isinstance(fetched_at, int | float) or isinstance(fetched_at, bool):
        raise TypeError("fetchedAt is not a number")
    groups = tuple(
        APIGroup(_text(g["name"]), _texts(g["versions"]), _text(g["preferred_version"])) for g in _list(data["groups"])
    )
    failed = data["failedGroupVersions"]
    if not isinstance(failed, dict):
        raise TypeError("failedGroupVersions is not an object")
    return DiscoverySnapshot(
        groups=groups,
        resources=tuple(_resource_from_json(r) for r in _list(data["resources"])),
        failed_group_versions={_text(k): _text(v) for k, v in failed.items()},
        fetched_at=float(fetched_at),
        aggregated=data["aggregated"] is True,
    )


def _resource_from_json(data: dict[str, Any]) -> APIResource:
    if not isinstance(data["namespaced"], bool):
        raise TypeError("namespaced is not a boolean")
    return APIResource(
        group=_text(data["group"]),
        version=_text(data["version"]),
        resource=_text(data["resource"]),
        kind=_text(data["kind"]),
        namespaced=data["namespaced"],
        singular=_text(data["singular"]),
        verbs=_texts(data["verbs"]),
        short_names=_texts(data["short_names"]),
        categories=_texts(data["categories"]),
        subresources=_texts(data["subresources"]),
    )


def _list(value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise TypeError(f"expected a list, got {type(value).__name__}")
    return value


def _texts(value: Any) -> tuple[str, ...]:
    return tuple(_text(v) for v in _list(value))


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


__all__ = ["CACHE_FORMAT", "DiscoveryDiskCache", "default_cache_root", "server_directory_name"]
