"""The notifications an informer sends its handlers: one callback (add, update or delete) for one handler.

client-go tools/cache/shared_informer.go ``addNotification``, ``updateNotification``, ``deleteNotification``.
"""

from __future__ import annotations

from dataclasses import dataclass

from dynaclient import JSONObject
from informers.handlers import DeletedFinalStateUnknown


@dataclass(frozen=True, slots=True)
class AddNotification:
    """Call ``on_add(obj, is_initial)``.

    Thread-safety: immutable.
    """

    obj: JSONObject
    is_initial: bool = False


@dataclass(frozen=True, slots=True)
class UpdateNotification:
    """Call ``on_update(old, new)``.

    Thread-safety: immutable.
    """

    old: JSONObject
    new: JSONObject


@dataclass(frozen=True, slots=True)
class DeleteNotification:
    """Call ``on_delete(obj)``.

    Thread-safety: immutable.
    """

    obj: JSONObject | DeletedFinalStateUnknown


Notification = AddNotification | UpdateNotification | DeleteNotification
"""One callback for one handler."""


__all__ = ["AddNotification", "DeleteNotification", "Notification", "UpdateNotification"]
