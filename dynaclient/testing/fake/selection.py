"""Which objects a list, watch or delete-collection selects, and the continue tokens of paginated lists.

Field selectors accept ``metadata.name``, ``metadata.namespace`` and the resource's own field labels; values are
compared as the strings the server renders (``true``/``false`` for booleans, ``""`` when absent). Continue tokens
carry the list's revision and the last key, as apiserver ``storage/continue.go`` encodes them, so every page is
read at the first page's revision.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from dynaclient._types import JSONObject
from dynaclient.exceptions import SelectorError
from dynaclient.selectors import FieldRequirement, LabelRequirement, parse_field_selector, parse_label_selector
from dynaclient.testing.fake.lifecycle import metadata
from dynaclient.testing.fake.registry import ResourceType
from dynaclient.testing.fake.routing import Query
from dynaclient.testing.fake.statuses import bad_request
from dynaclient.testing.fake.store import ObjectKey


@dataclass(frozen=True, slots=True)
class Selection:
    """A namespace (``""``: all) and the parsed label and field selectors of a request.

    Thread-safety: immutable.
    """

    namespace: str
    labels: tuple[LabelRequirement, ...] = ()
    fields: tuple[FieldRequirement, ...] = ()

    @classmethod
    def from_query(cls, resource_type: ResourceType, namespace: str, query: Query) -> Selection:
        """Read ``labelSelector`` and ``fieldSelector``.

        Raises:
            StatusError: 400 for a selector that does not parse or a field label the resource does not know.
        """
        try:
            labels = parse_label_selector(query.get("labelSelector") or "")
            fields = parse_field_selector(query.get("fieldSelector") or "")
        except SelectorError as exc:
            raise bad_request(f"unable to parse requirement: {exc}") from None
        for requirement in fields:
            if not resource_type.accepts_field(requirement.field):
                raise bad_request(_unknown_field(resource_type, requirement.field))
        return cls(namespace, labels, fields)

    @property
    def filters(self) -> bool:
        """Whether a selector narrows the result (then lists report no ``remainingItemCount``)."""
        return bool(self.labels or self.fields)

    def in_namespace(self, key: ObjectKey) -> bool:
        """Whether the object at ``key`` is in the selected namespace."""
        return not self.namespace or key[0] == self.namespace

    def matches(self, obj: JSONObject) -> bool:
        """Whether ``obj`` passes the label and field selectors."""
        labels = metadata(obj).get("labels") or {}
        if not all(requirement.matches(labels) for requirement in self.labels):
            return False
        return all(
            requirement.matches({requirement.field: field_value(obj, requirement.field)}) for requirement in self.fields
        )


def _unknown_field(resource_type: ResourceType, label: str) -> str:
    if resource_type.field_labels and not resource_type.custom:
        return f"field label not supported: {label}"  # a built-in's own field label conversion
    known = ", ".join(f'"{name}"' for name in ("metadata.name", "metadata.namespace", *resource_type.field_labels))
    return f'"{label}" is not a known field selector: only {known}'


def field_value(obj: JSONObject, label: str) -> str:
    """The value of a field label as field selectors compare it.

    >>> field_value({"spec": {"hostNetwork": True}}, "spec.hostNetwork"), field_value({}, "status.phase")
    ('true', '')
    """
    value: Any = obj
    for part in label.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def key_text(key: ObjectKey) -> str:
    """The storage key order of objects: ``namespace/name``."""
    return f"{key[0]}/{key[1]}"


def encode_continue(revision: int, start: str) -> str:
    """A continue token for the page after ``start`` at ``revision``.

    >>> decode_continue(encode_continue(42, "default/a"))
    (42, 'default/a')
    """
    data = json.dumps({"v": "meta.k8s.io/v1", "rv": revision, "start": start}, separators=(",", ":"))
    return base64.urlsafe_b64encode(data.encode()).decode().rstrip("=")


def decode_continue(token: str) -> tuple[int, str]:
    """Read a continue token.

    Raises:
        StatusError: 400 for a token this server did not make.
    """
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        return int(data["rv"]), str(data["start"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise bad_request("invalid continue token: continue key is not valid") from None


__all__ = ["Selection", "decode_continue", "encode_continue", "field_value", "key_text"]
