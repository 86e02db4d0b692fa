"""What the API server does to an object on create, update and delete, as pure functions over dicts.

Rules from apiserver ``pkg/registry/rest`` (``BeforeCreate``, ``BeforeUpdate``, ``BeforeDelete``) and the
registry strategies: the server owns ``uid``, ``creationTimestamp``, ``resourceVersion``, ``generation`` and the
deletion fields; ``generateName`` gets five random characters; with a ``status`` subresource the main resource
keeps the stored ``status`` and the subresource changes nothing but ``status`` (apiextensions-apiserver
``customresource/status_strategy.go``); ``generation`` grows when anything outside ``metadata`` and ``status``
changes, and when deletion starts. Built-ins are not defaulted or validated beyond their names.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from dynaclient._types import JSONObject
from dynaclient.testing.fake import strategies
from dynaclient.testing.fake.registry import ResourceType
from dynaclient.testing.fake.statuses import StatusError, bad_request, failure, invalid

# Fields of metadata only the server sets (rest.FillObjectMetaSystemFields and BeforeUpdate).
_SERVER_METADATA = ("uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "generation")
_OMITTED_WHEN_EMPTY = ("generateName", "labels", "annotations", "finalizers", "ownerReferences")
_CLEARED_ON_CREATE = ("deletionTimestamp", "deletionGracePeriodSeconds", "selfLink", "managedFields")

# apimachinery util/validation: DNS-1123 subdomain (most names) and label (namespaces).
_DNS1123_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_SUBDOMAIN = re.compile(rf"{_DNS1123_LABEL}(\.{_DNS1123_LABEL})*")
_LABEL = re.compile(_DNS1123_LABEL)
_SUBDOMAIN_MESSAGE = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must "
    "start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is "
    f"'{_SUBDOMAIN.pattern}')"
)
_LABEL_MESSAGE = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and "
    f"end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is "
    f"'{_LABEL.pattern}')"
)


def timestamp(epoch: float) -> str:
    """Render a time as Kubernetes does (RFC 3339, whole seconds, UTC).

    >>> timestamp(0)
    '1970-01-01T00:00:00Z'
    """
    return datetime.fromtimestamp(int(epoch), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def metadata(obj: JSONObject) -> dict[str, Any]:
    """Return ``obj["metadata"]``, creating an empty one when absent or not a map."""
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        meta = obj["metadata"] = {}
    return meta


def prepare_create(
    resource_type: ResourceType,
    body: JSONObject,
    namespace: str,
    *,
    api_version: str,
    now: float,
    uid: str,
    exists: Callable[[str], bool],
    random_suffix: Callable[[], str],
) -> JSONObject:
    """Return the object to store for a create of ``body`` (without ``resourceVersion``).

    Raises:
        StatusError: the body names another namespace, sets a resourceVersion, or has no valid name.
    """
    obj = copy.deepcopy(body)
    meta = metadata(obj)
    api = resource_type.api_resource
    _place(resource_type, meta, namespace)
    if meta.get("resourceVersion"):
        # storage/etcd3/store.go Create: a plain error, so a 500 without a reason.
        raise failure(500, "", "resourceVersion should not be set on objects to be created")
    if not meta.get("name") and meta.get("generateName"):
        # apiserver names.SimpleNameGenerator; the registry retries a generated name that is taken.
        prefix = str(meta["generateName"])[:58]
        meta["name"] = f"{prefix}{random_suffix()}"
        while exists(meta["name"]):
            meta["name"] = f"{prefix}{random_suffix()}"
    check_name(resource_type, obj)
    for key in _CLEARED_ON_CREATE:
        meta.pop(key, None)
    meta["uid"] = uid
    meta["creationTimestamp"] = timestamp(now)
    if resource_type.has_generation:
        meta["generation"] = 1
    else:
        meta.pop("generation", None)
    obj["apiVersion"], obj["kind"] = api_version, api.kind
    if resource_type.has_status and api.kind not in strategies.STATUS_SET_ON_CREATE:
        obj.pop("status", None)  # a status subresource ignores status on create
        if not resource_type.custom:  # built-ins start with their Go status struct
            obj["status"] = strategies.initial_status(api.kind, obj)
    if not resource_type.custom:
        strategies.on_write(api.kind, obj)
    drop_empty_metadata(obj)
    return obj


def check_type(resource_type: ResourceType, body: JSONObject, api_version: str) -> None:
    """Check the ``kind`` and ``apiVersion`` a client sent for ``resource_type`` at ``api_version``.

    Custom resources are decoded as unstructured objects, which need both (apimachinery
    ``unstructuredJSONScheme``); built-ins decode into their Go type, where both may be left out.

    Raises:
        StatusError: 400 for a missing or foreign type, 422 for a custom resource of another kind.
    """
    api = resource_type.api_resource
    kind, sent_version = body.get("kind"), body.get("apiVersion")
    if resource_type.custom:
        for field, value in (("kind", kind), ("apiVersion", sent_version)):
            if not value:
                label = "Kind" if field == "kind" else field
                raise bad_request(
                    f"the object provided is unrecognized (must be of type {api.kind}): Object '{label}' is missing"
                )
        if sent_version != api_version:
            raise bad_request(
                f"the API version in the data ({sent_version}) does not match the expected API version ({api_version})"
            )
        if kind != api.kind:
            cause = ("kind", "FieldValueInvalid", f'Invalid value: "{kind}": must be {api.kind}')
            raise invalid(str(kind), api.group, str(metadata(body).get("name", "")), [cause])
    elif (kind and kind != api.kind) or (sent_version and sent_version != api_version):
        raise bad_request(
            f'{kind or api.kind} in version "{sent_version or api_version}" cannot be handled as a {api.kind}'
        )


def check_version_given(resource_type: ResourceType, body: JSONObject) -> None:
    """Refuse an update without ``metadata.resourceVersion`` where the resource does not allow one.

    Raises:
        StatusError: 422, as for leases, CRDs and custom resources (``AllowUnconditionalUpdate`` is false).
    """
    if resource_type.unconditional_update or metadata(body).get("resourceVersion"):
        return
    api = resource_type.api_resource
    cause = ("metadata.resourceVersion", "FieldValueInvalid", "Invalid value: 0: must be specified for an update")
    raise invalid(api.resource, api.group, str(metadata(body).get("name", "")), [cause])


def _place(resource_type: ResourceType, meta: dict[str, Any], namespace: str) -> None:
    if not resource_type.api_resource.namespaced:
        meta.pop("namespace", None)  # the server drops the namespace of a cluster-scoped object
        return
    if meta.get("namespace") and meta["namespace"] != namespace:
        raise bad_request("the namespace of the provided object does not match the namespace sent on the request")
    meta["namespace"] = namespace


def drop_empty_metadata(obj: JSONObject) -> None:
    """Drop empty ``omitempty`` fields of ``metadata`` in place, as the round trip through ``ObjectMeta`` does."""
    meta = metadata(obj)
    for key in _OMITTED_WHEN_EMPTY:
        if key in meta and not meta[key]:
            del meta[key]


def check_name(resource_type: ResourceType, obj: JSONObject) -> None:
    """Validate ``metadata.name`` as the resource's validation does.

    Raises:
        StatusError: 422 Invalid: the name is missing or not a DNS-1123 subdomain (a label for namespaces).
    """
    kind = resource_type.api_resource.kind
    group = resource_type.api_resource.group
    name = str(metadata(obj).get("name") or "")
    if not name:
        cause = ("metadata.name", "FieldValueRequired", "Required value: name or generateName is required")
        raise invalid(kind, group, name, [cause])
    is_namespace = kind == "Namespace"
    pattern, text, limit = (_LABEL, _LABEL_MESSAGE, 63) if is_namespace else (_SUBDOMAIN, _SUBDOMAIN_MESSAGE, 253)
    if len(name) > limit:
        text = f"must be no more than {limit} characters"
    elif pattern.fullmatch(name):
        return
    raise invalid(kind, group, name, [("metadata.name", "FieldValueInvalid", f'Invalid value: "{name}": {text}')])


def prepare_update(resource_type: ResourceType, old: JSONObject, body: JSONObject, subresource: str) -> JSONObject:
    """Return the object to store for an update of ``old`` to ``body`` (without ``resourceVersion``).

    Raises:
        StatusError: 422 Invalid: a finalizer is added to an object being deleted.
    """
    if subresource == "status":
        new = copy.deepcopy(old)
        if "status" in body:
            new["status"] = copy.deepcopy(body["status"])
        else:
            new.pop("status", None)
        return new
    new = copy.deepcopy(body)
    meta, old_meta = metadata(new), metadata(old)
    for key in ("name", "namespace", *_SERVER_METADATA):
        if key in old_meta:
            meta[key] = old_meta[key]
        else:
            meta.pop(key, None)
    meta.pop("managedFields", None)
    meta.pop("resourceVersion", None)
    if resource_type.has_status:
        if "status" in old:
            new["status"] = copy.deepcopy(old["status"])
        else:
            new.pop("status", None)
    new["apiVersion"], new["kind"] = old["apiVersion"], old["kind"]
    if not resource_type.custom:
        strategies.on_write(old["kind"], new)
    drop_empty_metadata(new)
    if resource_type.has_generation and _spec_changed(old, new):
        meta["generation"] = int(old_meta.get("generation") or 0) + 1
    _check_no_new_finalizers(resource_type, old, new)
    return new


def _spec_changed(old: JSONObject, new: JSONObject) -> bool:
    def rest(obj: JSONObject) -> JSONObject:
        return {key: value for key, value in obj.items() if key not in ("metadata", "status", "apiVersion", "kind")}

    return rest(old) != rest(new)


def _check_no_new_finalizers(resource_type: ResourceType, old: JSONObject, new: JSONObject) -> None:
    # apimachinery pkg/api/validation/objectmeta.go ValidateObjectMetaUpdate.
    if not metadata(old).get("deletionTimestamp"):
        return
    added = [f for f in metadata(new).get("finalizers") or [] if f not in (metadata(old).get("finalizers") or [])]
    if added:
        quoted = ", ".join(f'"{name}"' for name in added)
        cause = (
            "metadata.finalizers",
            "FieldValueForbidden",
            f"Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers "
            f"[]string{{{quoted}}}",
        )
        api = resource_type.api_resource
        raise invalid(api.kind, api.group, str(metadata(new).get("name", "")), [cause])


def pending_finalizers(obj: JSONObject) -> bool:
    """Whether ``obj`` has finalizers that keep it after a delete (``spec.finalizers`` too, for namespaces)."""
    if metadata(obj).get("finalizers"):
        return True
    spec = obj.get("spec")
    return obj.get("kind") == "Namespace" and isinstance(spec, dict) and bool(spec.get("finalizers"))


def start_deletion(old: JSONObject, *, now: float, propagation_policy: str | None) -> JSONObject:
    """Return ``old`` marked for deletion (``BeforeDelete`` and ``updateForGracefulDeletionAndFinalizers``).

    ``Foreground`` and ``Orphan`` add their finalizer, as the registry does before the garbage collector acts.
    """
    new = copy.deepcopy(old)
    meta = metadata(new)
    added = {"Foreground": "foregroundDeletion", "Orphan": "orphan"}.get(propagation_policy or "")
    if new.get("kind") == "CustomResourceDefinition" and new.get("apiVersion", "").startswith("apiextensions.k8s.io/"):
        added = strategies.CRD_CLEANUP_FINALIZER  # customresourcedefinition/etcd.go Delete
    if added and added not in meta.setdefault("finalizers", []):
        meta["finalizers"].append(added)
    if not meta.get("finalizers"):
        meta.pop("finalizers", None)
    if not meta.get("deletionTimestamp"):
        meta["deletionTimestamp"] = timestamp(now)
        meta["deletionGracePeriodSeconds"] = 0
        if int(meta.get("generation") or 0) > 0:
            meta["generation"] = int(meta["generation"]) + 1
    if new.get("kind") == "Namespace":
        new["status"] = {**(new.get("status") or {}), "phase": "Terminating"}
    meta.pop("resourceVersion", None)
    return new


def check_preconditions(obj: JSONObject, preconditions: Any, conflict: Callable[[str], StatusError]) -> None:
    """Raise ``conflict(why)`` when ``obj`` no longer meets a delete's ``preconditions``."""
    if not isinstance(preconditions, dict):
        return
    meta = metadata(obj)
    for field, label in (("uid", "UID"), ("resourceVersion", "ResourceVersion")):
        wanted = preconditions.get(field)
        if wanted is not None and wanted != meta.get(field):
            raise conflict(
                f"Precondition failed: {label} in precondition: {wanted}, {label} in object meta: {meta.get(field, '')}"
            )


__all__ = [
    "StatusError",
    "check_name",
    "check_preconditions",
    "check_type",
    "check_version_given",
    "drop_empty_metadata",
    "metadata",
    "pending_finalizers",
    "prepare_create",
    "prepare_update",
    "start_deletion",
    "timestamp",
]
