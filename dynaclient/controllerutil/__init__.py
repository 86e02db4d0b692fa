"""Helpers controllers use on objects: owner references, finalizers, status conditions, conflict retries."""

from __future__ import annotations

from dynaclient.controllerutil.conditions import (
    find_status_condition,
    is_status_condition_true,
    remove_status_condition,
    set_status_condition,
)
from dynaclient.controllerutil.conflicts import retry_on_conflict
from dynaclient.controllerutil.finalizers import add_finalizer, finalizers_patch, has_finalizer, remove_finalizer
from dynaclient.controllerutil.owners import (
    get_controller_of,
    is_controlled_by,
    owner_group,
    owner_reference,
    set_controller_reference,
)

__all__ = [
    "add_finalizer",
    "finalizers_patch",
    "find_status_condition",
    "get_controller_of",
    "has_finalizer",
    "is_controlled_by",
    "is_status_condition_true",
    "owner_group",
    "owner_reference",
    "remove_finalizer",
    "remove_status_condition",
    "retry_on_conflict",
    "set_controller_reference",
    "set_status_condition",
]
