"""The metadata accessors (``get_*``) and :func:`object_key`, with apimachinery's unstructured semantics.

They follow ``unstructured.go``: they never raise and give the zero value when a
field is missing or has the wrong type.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from dynaclient._json_values import (
    deep_copy,
    is_int64,
    null_coercing_string_map,
    parse_time,
)
from dynaclient._types import JSONObject


def get_api_version(obj: Mapping[str, Any]) -> str:
    """Return ``apiVersion``, or ``""`` when missing or not a string."""
    value = obj.get("apiVersion")
    return value if isinstance(value, str) else ""


def get_kind(obj: Mapping[str, Any]) -> str:
    """Return ``kind``, or ``""`` when missing or not a string."""
    value = obj.get("kind")
    return value if isinstance(value, str) else ""


def get_name(obj: Mapping[str, Any]) -> str:
    """Return ``metadata.name``, or ``""`` when missing or not a string (``Unstructured.GetName``).

    >>> get_name({"metadata": {"name": "web"}}), get_name({"metadata": {"name": 1}}), get_name({"metadata": []})
    ('web', '', '')
    """
    return _metadata_string(obj, "name")


def get_namespace(obj: Mapping[str, Any]) -> str:
    """Return ``metadata.namespace``, or ``""`` when missing, not a string, or the object is cluster-scoped."""
    return _metadata_string(obj, "namespace")


def get_resource_version(obj: Mapping[str, Any]) -> str:
    """Return ``metadata.resourceVersion``, or ``""`` when missing or not a string."""
    return _metadata_string(obj, "resourceVersion")


def get_uid(obj: Mapping[str, Any]) -> str:
    """Return ``metadata.uid``, or ``""`` when missing or not a string."""
    return _metadata_string(obj, "uid")


def get_generation(obj: Mapping[str, Any]) -> int:
    """Return ``metadata.generation``, or ``0`` when missing or not an int."""
    value = _metadata(obj).get("generation")
    return value if is_int64(value) else 0


def get_labels(obj: Mapping[str, Any]) -> dict[str, str]:
    """Return a copy of ``metadata.labels``; ``null`` values read as ``""``; ``{}`` when missing or malformed.

    Follows ``Unstructured.GetLabels`` (``NestedNullCoercingStringMap``): any non-string, non-null value makes the
    whole map unreadable.

    >>> get_labels({"metadata": {"labels": {"app": "web", "tier": None}}})
    {'app': 'web', 'tier': ''}
    """
    return null_coercing_string_map(_metadata(obj).get("labels"))


def get_annotations(obj: Mapping[str, Any]) -> dict[str, str]:
    """Return a copy of ``metadata.annotations``, read like :func:`get_labels`."""
    return null_coercing_string_map(_metadata(obj).get("annotations"))


def get_finalizers(obj: Mapping[str, Any]) -> list[str]:
    """Return a copy of ``metadata.finalizers``; ``[]`` when missing or when an item is not a string."""
    value = _metadata(obj).get("finalizers")
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return list(value)
    return []


def get_owner_references(obj: Mapping[str, Any]) -> list[JSONObject]:
    """Return deep copies of ``metadata.ownerReferences``; ``[]`` when missing or when an item is not a map."""
    value = _metadata(obj).get("ownerReferences")
    if isinstance(value, list) and all(isinstance(item, Mapping) for item in value):
        return [deep_copy(item) for item in value]
    return []


def get_creation_timestamp(obj: Mapping[str, Any]) -> datetime | None:
    """Return ``metadata.creationTimestamp`` as an aware datetime, or ``None`` when missing or not RFC 3339."""
    return parse_time(_metadata_string(obj, "creationTimestamp"))


def get_deletion_timestamp(obj: Mapping[str, Any]) -> datetime | None:
    """Return ``metadata.deletionTimestamp`` as an aware datetime, or ``None`` when not being deleted.

    >>> get_deletion_timestamp({"metadata": {"deletionTimestamp": "2024-05-01T10:00:00Z"}})
    datetime.datetime(2024, 5, 1, 10, 0, tzinfo=datetime.timezone.utc)
    """
    return parse_time(_metadata_string(obj, "deletionTimestamp"))


def object_key(obj: Mapping[str, Any]) -> str:
    """Return the cache key ``namespace/name``, or ``name`` for a cluster-scoped object.

    Matches client-go ``cache.MetaNamespaceKeyFunc``.

    >>> object_key({"metadata": {"namespace": "prod", "name": "web"}}), object_key({"metadata": {"name": "n1"}})
    ('prod/web', 'n1')
    """
    namespace, name = get_namespace(obj), get_name(obj)
    return f"{namespace}/{name}" if namespace else name


def _metadata(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    metadata = obj.get("metadata")
    return metadata if isinstance(metadata, Mapping) else {}


def _metadata_string(obj: Mapping[str, Any], key: str) -> str:
    value = _metadata(obj).get(key)
    return value if isinstance(value, str) else ""


__all__ = [
    "get_annotations",
    "get_api_version",
    "get_creation_timestamp",
    "get_deletion_timestamp",
    "get_finalizers",
    "get_generation",
    "get_kind",
    "get_labels",
    "get_name",
    "get_namespace",
    "get_owner_references",
    "get_resource_version",
    "get_uid",
    "object_key",
]
