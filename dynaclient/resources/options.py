"""The options of the dynamic-client verbs, as frozen values that render their wire query or body; no I/O.

Field names follow apimachinery ``pkg/apis/meta/v1/types.go`` (``ListOptions``, ``CreateOptions``,
``UpdateOptions``, ``PatchOptions``, ``DeleteOptions``) in snake case; the wire (camelCase) names appear only here
and in :mod:`dynaclient.resources.requests`. Rendering follows apimachinery ``pkg/conversion/queryparams``: unset
fields are left out, a Go pointer that is set is always sent (``force=false``, ``sendInitialEvents=false``), and
keys are sorted as Go's ``url.Values.Encode`` sorts them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, TypeAlias, cast

from dynaclient._types import JSONObject
from dynaclient.selectors import LabelSpec, NotEqual, field_selector, label_selector

PatchType: TypeAlias = Literal["json", "merge", "strategic", "apply"]
"""A patch flavour; :data:`PATCH_CONTENT_TYPES` gives its ``Content-Type``."""

FieldValidation: TypeAlias = Literal["Ignore", "Warn", "Strict"]
"""How the server treats unknown or duplicate fields (``fieldValidation``)."""

PropagationPolicy: TypeAlias = Literal["Orphan", "Background", "Foreground"]
"""What happens to an object's dependents when it is deleted."""

ResourceVersionMatch: TypeAlias = Literal["NotOlderThan", "Exact"]
"""How ``resourceVersion`` is read on list and watch."""


@dataclass(frozen=True, slots=True)
class ListOptions:
    """The options of list, watch and delete-collection (apimachinery ``metav1.ListOptions``).

    Selectors may be strings or mappings (see :mod:`dynaclient.selectors`); they are validated and rendered to
    strings on construction.

    Attributes:
        label_selector: the label selector; ``""`` selects everything.
        field_selector: the field selector; ``""`` selects everything.
        resource_version: ``None`` for a consistent read, ``"0"`` for any cached state, else "not older than".
        resource_version_match: how ``resource_version`` is read.
        limit: the page size of a list; ``None`` or ``0`` asks for everything at once.
        continue_token: the ``continue`` token of the previous page.
        timeout_seconds: the server ends the list or watch after this many seconds.
        allow_bookmarks: watch only: let the server send ``BOOKMARK`` events.
        send_initial_events: watch only: start with synthetic ``ADDED`` events for the current state, then a
            bookmark annotated ``k8s.io/initial-events-end`` (needs ``resource_version_match="NotOlderThan"``).

    Thread-safety: immutable.

    Example:
        >>> ListOptions(label_selector={"app": ["a", "b"]}, resource_version="0").query()
        (('labelSelector', 'app in (a,b)'), ('resourceVersion', '0'))
    """

    label_selector: str | Mapping[str, LabelSpec] | None = None
    field_selector: str | Mapping[str, str | NotEqual] | None = None
    resource_version: str | None = None
    resource_version_match: ResourceVersionMatch | None = None
    limit: int | None = None
    continue_token: str | None = None
    timeout_seconds: int | None = None
    allow_bookmarks: bool = False
    send_initial_events: bool | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "label_selector", label_selector(self.label_selector))
        object.__setattr__(self, "field_selector", field_selector(self.field_selector))

    def query(self, *, watch: bool = False) -> tuple[tuple[str, str], ...]:
        """Return the wire query parameters, sorted by key; ``watch`` adds ``watch=true``."""
        pairs = [
            ("labelSelector", cast(str, self.label_selector)),
            ("fieldSelector", cast(str, self.field_selector)),
            ("resourceVersion", self.resource_version),
            ("resourceVersionMatch", self.resource_version_match),
            ("limit", str(self.limit) if self.limit else None),
            ("continue", self.continue_token),
            ("timeoutSeconds", _optional_str(self.timeout_seconds)),
            ("allowWatchBookmarks", "true" if self.allow_bookmarks else None),
            # A pointer in Go: sent whenever set, false included (apimachinery queryparams/convert.go).
            ("sendInitialEvents", _optional_bool(self.send_initial_events)),
            ("watch", "true" if watch else None),
        ]
        return sorted_query(pairs)


@dataclass(frozen=True, slots=True)
class WriteOptions:
    """The options of create, update and patch (apimachinery ``CreateOptions``, ``UpdateOptions``, ``PatchOptions``).

    Attributes:
        dry_run: validate and admit the request without persisting it (``dryRun=All``).
        field_manager: the manager name recorded in ``managedFields``; required by server-side apply.
        field_validation: how the server treats unknown or duplicate fields.
        force: apply patches only: take ownership of conflicting fields; always sent for apply.

    Thread-safety: immutable.

    Example:
        >>> WriteOptions(dry_run=True, field_manager="me", force=False).query()
        (('dryRun', 'All'), ('fieldManager', 'me'), ('force', 'false'))
    """

    dry_run: bool = False
    field_manager: str | None = None
    field_validation: FieldValidation | None = None
    force: bool | None = None

    def query(self) -> tuple[tuple[str, str], ...]:
        """Return the wire query parameters, sorted by key."""
        return sorted_query(
            [
                ("dryRun", _DRY_RUN_ALL if self.dry_run else None),
                ("fieldManager", self.field_manager),
                ("fieldValidation", self.field_validation),
                ("force", _optional_bool(self.force)),
            ]
        )


@dataclass(frozen=True, slots=True)
class Preconditions:
    """Conditions the object must still meet for a delete to proceed (else 409 Conflict).

    Attributes:
        uid: the object's ``metadata.uid``.
        resource_version: the object's ``metadata.resourceVersion``.

    Thread-safety: immutable.
    """

    uid: str | None = None
    resource_version: str | None = None


@dataclass(frozen=True, slots=True)
class DeleteOptions:
    """The options of delete and delete-collection, sent as a ``DeleteOptions`` body.

    Attributes:
        propagation_policy: what happens to dependents; the server's default depends on the resource.
        grace_period_seconds: seconds before the object is deleted; ``0`` deletes at once.
        preconditions: the uid and/or resourceVersion the object must still have.
        dry_run: check the delete without doing it.

    Thread-safety: immutable.

    Example:
        >>> DeleteOptions(propagation_policy="Foreground", preconditions=Preconditions(uid="u1")).body()
        {'kind': 'DeleteOptions', 'apiVersion': 'v1', 'propagationPolicy': 'Foreground', 'preconditions': {'uid': 'u1'}}
    """

    propagation_policy: PropagationPolicy | None = None
    grace_period_seconds: int | None = None
    preconditions: Preconditions | None = None
    dry_run: bool = False

    def body(self) -> JSONObject:
        """Return the ``DeleteOptions`` object (client-go always sends one with its kind and apiVersion)."""
        body: JSONObject = {"kind": "DeleteOptions", "apiVersion": "v1"}
        if self.propagation_policy is not None:
            body["propagationPolicy"] = self.propagation_policy
        if self.grace_period_seconds is not None:
            body["gracePeriodSeconds"] = self.grace_period_seconds
        if self.preconditions is not None:
            pairs = (("uid", self.preconditions.uid), ("resourceVersion", self.preconditions.resource_version))
            body["preconditions"] = {key: value for key, value in pairs if value is not None}
        if self.dry_run:
            body["dryRun"] = [_DRY_RUN_ALL]
        return body


_DRY_RUN_ALL = "All"  # the only dryRun value the server accepts (apimachinery metav1.DryRunAll)


def sorted_query(pairs: list[tuple[str, str | None]]) -> tuple[tuple[str, str], ...]:
    """Drop the unset pairs and sort the rest by key, keeping the order of repeated keys.

    >>> sorted_query([("watch", "true"), ("limit", None), ("fieldSelector", "a=b")])
    (('fieldSelector', 'a=b'), ('watch', 'true'))
    """
    return tuple(sorted(((key, value) for key, value in pairs if value), key=lambda pair: pair[0]))


def _optional_str(value: int | None) -> str | None:
    return None if value is None else str(value)


def _optional_bool(value: bool | None) -> str | None:
    return None if value is None else "true" if value else "false"


__all__ = [
    "DeleteOptions",
    "FieldValidation",
    "ListOptions",
    "PatchType",
    "Preconditions",
    "PropagationPolicy",
    "ResourceVersionMatch",
    "WriteOptions",
    "sorted_query",
]
