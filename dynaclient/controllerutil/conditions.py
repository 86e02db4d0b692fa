"""Status conditions: set, find and remove ``metav1.Condition`` entries by type (apimachinery meta/conditions.go).

:func:`set_status_condition` keeps ``lastTransitionTime`` unless the status changes, so the time tells when the
condition last flipped, not when a controller last wrote it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from dynaclient._types import JSONObject

_COPIED_FIELDS = ("reason", "message", "observedGeneration")


def set_status_condition(
    conditions: list[JSONObject],
    condition: Mapping[str, Any],
    *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> bool:
    """Set ``condition`` in ``conditions`` (in place) by its ``type``; return whether anything changed.

    apimachinery ``meta.SetStatusCondition``: a new type is appended, with ``lastTransitionTime`` set to now if
    missing; for an existing type, ``lastTransitionTime`` changes only when ``status`` does (to the new
    condition's time, or now), while ``reason``, ``message`` and ``observedGeneration`` are copied when they differ.

    Raises:
        ValueError: ``condition`` has no ``type`` or ``status``.

    >>> conditions = []
    >>> at = lambda: datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    >>> set_status_condition(conditions, {"type": "Ready", "status": "False", "reason": "Waiting"}, now=at)
    True
    >>> later = lambda: datetime(2026, 1, 2, 4, 0, 0, tzinfo=UTC)
    >>> set_status_condition(conditions, {"type": "Ready", "status": "False", "reason": "Still"}, now=later)
    True
    >>> conditions[0]["lastTransitionTime"], conditions[0]["reason"]
    ('2026-01-02T03:04:05Z', 'Still')
    >>> set_status_condition(conditions, {"type": "Ready", "status": "True", "reason": "Done"}, now=later)
    True
    >>> conditions[0]["lastTransitionTime"]
    '2026-01-02T04:00:00Z'
    """
    kind, status = condition.get("type"), condition.get("status")
    if not isinstance(kind, str) or not kind or status not in ("True", "False", "Unknown"):
        raise ValueError(f"a condition needs a type and a status of True, False or Unknown, got {dict(condition)!r}")
    existing = find_status_condition(conditions, kind)
    if existing is None:
        conditions.append({**condition, "lastTransitionTime": condition.get("lastTransitionTime") or _stamp(now())})
        return True
    changed = False
    if existing.get("status") != status:
        existing["status"] = status
        existing["lastTransitionTime"] = condition.get("lastTransitionTime") or _stamp(now())
        changed = True
    for field in _COPIED_FIELDS:
        if field in condition and existing.get(field) != condition[field]:
            existing[field] = condition[field]
            changed = True
    return changed


def find_status_condition(conditions: Sequence[Any] | None, kind: str) -> JSONObject | None:
    """Return the condition of type ``kind``, or ``None`` (apimachinery ``meta.FindStatusCondition``).

    The one lookup of a condition by type: :func:`dynaclient.wait.find_condition` (from an object) and the wait
    conditions use it. ``conditions`` may be ``None`` (a fresh object's ``"conditions": null``) or, in an object
    as served by any controller, not a list at all; entries that are not objects are skipped.

    >>> find_status_condition(None, "Ready") is None
    True
    >>> find_status_condition(["junk", {"type": "Ready", "status": "True"}], "Ready")
    {'type': 'Ready', 'status': 'True'}
    """
    for condition in conditions if isinstance(conditions, list) else ():
        if isinstance(condition, dict) and condition.get("type") == kind:
            return condition
    return None


def remove_status_condition(conditions: list[JSONObject], kind: str) -> bool:
    """Remove the condition of type ``kind`` in place; return whether there was one."""
    before = len(conditions)
    conditions[:] = [c for c in conditions if c.get("type") != kind]
    return len(conditions) != before


def is_status_condition_true(conditions: list[JSONObject] | None, kind: str) -> bool:
    """Tell whether the condition of type ``kind`` is present with status ``True``.

    >>> is_status_condition_true([{"type": "Ready", "status": "True"}], "Ready")
    True
    """
    condition = find_status_condition(conditions, kind)
    return condition is not None and condition.get("status") == "True"


def _stamp(moment: datetime) -> str:
    # metav1.Time serialises as RFC 3339 in UTC with second precision.
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


__all__ = ["find_status_condition", "is_status_condition_true", "remove_status_condition", "set_status_condition"]
