"""Share the strings that repeat from one cached object to the next, so that a cache of many objects holds one copy.

A decoder makes a new string for every value it reads: 10,000 objects in one namespace hold 10,000 copies of the
namespace's name, and as many of each ``managedFields`` entry's manager, operation, apiVersion, fieldsType and
time. :func:`intern_repeated_strings` replaces the values of the fields that typically repeat with interned strings
(``sys.intern``: one shared copy, freed with its last user). Values are equal before and after, so nothing but
memory changes; names, uids, resourceVersions and payloads, which do not repeat, are left alone, as is everything
under ``spec``, ``status`` and ``data``. The informer applies it to each object before storing it.

Label and annotation values are shared differently: many repeat (``app: web``, a pod-template-hash) but many do
not (a per-object id), and ``sys.intern`` keeps an entry for every distinct string alive, which for unique values
costs about 90 bytes each and saves nothing. They go through a table of the :data:`RECENT_VALUES` most recent
distinct values instead, emptied when full: a value that repeats is shared with its recent copies (a few copies
in all instead of one per object), and a unique value costs nothing once the table has moved on.
"""

from __future__ import annotations

import sys
from typing import Any

from dynaclient import JSONObject

MAX_INTERNED_CHARS = 256
"""Label and annotation values longer than this are not shared (long values rarely repeat)."""

RECENT_VALUES = 4096
"""Distinct label and annotation values remembered for sharing before the table is emptied."""

_OBJECT_FIELDS = ("apiVersion", "kind")
_METADATA_FIELDS = ("namespace", "generateName", "creationTimestamp")
_OWNER_FIELDS = ("apiVersion", "kind")
_MANAGED_FIELDS = ("manager", "operation", "apiVersion", "time", "fieldsType", "subresource")
_intern = sys.intern
# Shared by every informer: setdefault and clear are atomic under the GIL, and a race costs at most a copy.
_recent: dict[str, str] = {}


def intern_repeated_strings(obj: JSONObject) -> JSONObject:
    """Intern, in place, the string values that typically repeat across objects; return the object.

    Interned: ``apiVersion`` and ``kind``; ``metadata`` ``namespace``, ``generateName`` and ``creationTimestamp``;
    ``ownerReferences`` apiVersion and kind; ``managedFields`` manager, operation, apiVersion, time, fieldsType and
    subresource. Label and annotation values of at most :data:`MAX_INTERNED_CHARS` characters are shared with
    equal recent values. Fields of another type than expected are left as they are.

    >>> first = intern_repeated_strings({"metadata": {"namespace": "".join(["pr", "od"]), "name": "a"}})
    >>> second = intern_repeated_strings({"metadata": {"namespace": "".join(["pr", "od"]), "name": "b"}})
    >>> first["metadata"]["namespace"] is second["metadata"]["namespace"]
    True
    """
    _intern_fields(obj, _OBJECT_FIELDS)
    metadata = obj.get("metadata")
    if type(metadata) is not dict:
        return obj
    _intern_fields(metadata, _METADATA_FIELDS)
    if type(labels := metadata.get("labels")) is dict:
        _intern_short_values(labels)
    if type(annotations := metadata.get("annotations")) is dict:
        _intern_short_values(annotations)
    if type(owners := metadata.get("ownerReferences")) is list:
        _intern_entries(owners, _OWNER_FIELDS)
    if type(managed := metadata.get("managedFields")) is list:
        _intern_entries(managed, _MANAGED_FIELDS)
    return obj


def _intern_fields(mapping: dict[str, Any], fields: tuple[str, ...]) -> None:
    for field in fields:
        if type(value := mapping.get(field)) is str:
            mapping[field] = _intern(value)


def _intern_entries(entries: list[Any], fields: tuple[str, ...]) -> None:
    for entry in entries:
        if type(entry) is dict:
            for field in fields:
                if type(value := entry.get(field)) is str:
                    entry[field] = _intern(value)


def _intern_short_values(mapping: dict[str, Any]) -> None:
    recent = _recent
    for key, value in mapping.items():
        if type(value) is str and len(value) <= MAX_INTERNED_CHARS:
            mapping[key] = recent.setdefault(value, value)  # replacing an existing key's value is safe while iterating
    if len(recent) > RECENT_VALUES:
        recent.clear()


__all__ = ["MAX_INTERNED_CHARS", "RECENT_VALUES", "intern_repeated_strings"]
