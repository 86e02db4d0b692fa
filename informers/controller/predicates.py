"""Update predicates: skip updates that change nothing a reconcile cares about (controller-runtime pkg/predicate).

A predicate takes ``(old, new)`` of an update and says whether to enqueue. As in controller-runtime, predicates
filter updates only: adds and deletes always pass. Combine them with :func:`any_of` and :func:`all_of`.

>>> old = {"metadata": {"generation": 1, "labels": {"a": "1"}}}
>>> new = {"metadata": {"generation": 1, "labels": {"a": "2"}}}
>>> generation_changed(old, new), labels_changed(old, new), any_of(generation_changed, labels_changed)(old, new)
(False, True, True)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dynaclient import JSONObject

UpdatePredicate = Callable[[JSONObject, JSONObject], bool]
"""``predicate(old, new)``: whether an update should enqueue."""


def _metadata(obj: JSONObject, field: str) -> Any:
    return (obj.get("metadata") or {}).get(field)


def generation_changed(old: JSONObject, new: JSONObject) -> bool:
    """Pass when ``metadata.generation`` changed: spec writes, not status-subresource writes.

    A deletion request on an object with finalizers also bumps the generation, so deletes still reconcile. A
    status wiped by hand is not noticed (controller-runtime ``GenerationChangedPredicate``'s caveat).
    """
    return bool(_metadata(old, "generation") != _metadata(new, "generation"))


def labels_changed(old: JSONObject, new: JSONObject) -> bool:
    """Pass when the labels changed (``LabelChangedPredicate``)."""
    return (_metadata(old, "labels") or {}) != (_metadata(new, "labels") or {})


def annotations_changed(old: JSONObject, new: JSONObject) -> bool:
    """Pass when the annotations changed (``AnnotationChangedPredicate``)."""
    return (_metadata(old, "annotations") or {}) != (_metadata(new, "annotations") or {})


def resource_version_changed(old: JSONObject, new: JSONObject) -> bool:
    """Pass when the resourceVersion changed: drops the informer's periodic resync replays."""
    return bool(_metadata(old, "resourceVersion") != _metadata(new, "resourceVersion"))


def any_of(*predicates: UpdatePredicate) -> UpdatePredicate:
    """Return a predicate that passes when one of ``predicates`` passes (controller-runtime ``Or``)."""
    return lambda old, new: any(predicate(old, new) for predicate in predicates)


def all_of(*predicates: UpdatePredicate) -> UpdatePredicate:
    """Return a predicate that passes when every one of ``predicates`` passes (controller-runtime ``And``)."""
    return lambda old, new: all(predicate(old, new) for predicate in predicates)


__all__ = [
    "UpdatePredicate",
    "all_of",
    "annotations_changed",
    "any_of",
    "generation_changed",
    "labels_changed",
    "resource_version_changed",
]
