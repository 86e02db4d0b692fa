"""Debug-mode detection of cached objects modified after a store handed them out."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable

from dynaclient import JSONObject
from informers.exceptions import MutationDetectedError

DETECT_MUTATION_ENV = "DYNACLIENT_DETECT_MUTATION"
"""Environment variable that turns detection on for every store (client-go: KUBE_CACHE_MUTATION_DETECTOR)."""


def detection_enabled_by_env() -> bool:
    """Return whether ``DYNACLIENT_DETECT_MUTATION`` is ``1``, ``true`` or ``yes``."""
    return os.environ.get(DETECT_MUTATION_ENV, "").strip().lower() in {"1", "true", "yes"}


class MutationDetector:
    """Canonical JSON fingerprints of stored objects, compared when they are replaced, removed or checked.

    client-go's cacheMutationDetector (tools/cache/mutation_detector.go) keeps deep copies and compares them
    periodically; a fingerprint string is smaller than a copy and, unlike ``==`` on dicts, tells ``true`` from
    ``1`` and ``1`` from ``1.0``.

    Thread-safety: confined: the owning store calls it while holding its writer lock.
    """

    def __init__(self) -> None:
        self._fingerprints: dict[str, str] = {}

    def track(self, key: str, old: JSONObject | None, new: JSONObject | None) -> list[str]:
        """Record the object now stored under ``key`` (``None``: removed); return ``[key]`` if ``old`` was modified."""
        mutated = [key] if old is not None and self._fingerprints.get(key) != _fingerprint(old) else []
        if new is None:
            self._fingerprints.pop(key, None)
        else:
            self._fingerprints[key] = _fingerprint(new)
        return mutated

    def check(self, items: Iterable[tuple[str, JSONObject]]) -> list[str]:
        """Return the keys of the stored ``(key, object)`` pairs that changed since they were recorded."""
        return [key for key, obj in items if self._fingerprints.get(key) != _fingerprint(obj)]

    def reset(self, items: Iterable[tuple[str, JSONObject]]) -> None:
        """Forget every record and record ``items`` instead (after a replace)."""
        self._fingerprints = {key: _fingerprint(obj) for key, obj in items}


def raise_if_mutated(keys: list[str]) -> None:
    """Raise :class:`MutationDetectedError` naming ``keys`` if there are any.

    Raises:
        MutationDetectedError: ``keys`` is not empty.
    """
    if keys:
        raise MutationDetectedError(keys)


def _fingerprint(obj: JSONObject) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=repr)


__all__ = ["DETECT_MUTATION_ENV", "MutationDetector", "detection_enabled_by_env", "raise_if_mutated"]
