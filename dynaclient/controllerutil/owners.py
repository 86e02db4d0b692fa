"""Owner references: set and check an object's controller (controller-runtime controllerutil).

Pure functions over object dicts; the caller writes the object. Two references refer to the same owner when their
API group, kind and name match: the version is ignored and so is the uid, as in controller-runtime
``referSameObject``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from dynaclient._types import JSONObject
from dynaclient.exceptions import AlreadyOwnedError, OwnerReferenceError


def owner_reference(
    owner: Mapping[str, Any], *, controller: bool = True, block_owner_deletion: bool = True
) -> JSONObject:
    """Return an ``ownerReferences`` entry pointing at ``owner``.

    Raises:
        OwnerReferenceError: ``owner`` lacks ``apiVersion``, ``kind``, ``metadata.name`` or ``metadata.uid`` (an
            object read from the server has them all).

    >>> owner_reference({"apiVersion": "example.com/v1", "kind": "Sawtooth", "metadata": {"name": "a", "uid": "u1"}})
    {'apiVersion': 'example.com/v1', 'kind': 'Sawtooth', 'name': 'a', 'uid': 'u1', 'controller': True, \
'blockOwnerDeletion': True}
    """
    metadata = owner.get("metadata") or {}
    fields = {
        "apiVersion": owner.get("apiVersion"),
        "kind": owner.get("kind"),
        "name": metadata.get("name"),
        "uid": metadata.get("uid"),
    }
    missing = [name for name, value in fields.items() if not isinstance(value, str) or not value]
    if missing:
        raise OwnerReferenceError(
            f"the owner has no {', '.join(missing)}: read it from the server before referencing it"
        )
    return {**fields, "controller": controller, "blockOwnerDeletion": block_owner_deletion}


def get_controller_of(obj: Mapping[str, Any]) -> JSONObject | None:
    """Return the owner reference of ``obj`` that has ``controller: true``, or ``None`` (``metav1.GetControllerOf``).

    >>> get_controller_of({"metadata": {"ownerReferences": [{"kind": "A", "name": "a", "controller": True}]}})
    {'kind': 'A', 'name': 'a', 'controller': True}
    """
    for reference in (obj.get("metadata") or {}).get("ownerReferences") or []:
        if isinstance(reference, dict) and reference.get("controller") is True:
            return reference
    return None


def is_controlled_by(obj: Mapping[str, Any], owner: Mapping[str, Any]) -> bool:
    """Tell whether ``owner`` is the controller of ``obj`` (same group, kind and name; ``HasControllerReference``).

    >>> owner = {"apiVersion": "example.com/v1", "kind": "Sawtooth", "metadata": {"name": "a", "uid": "u1"}}
    >>> child = {"metadata": {}}
    >>> set_controller_reference(owner, child); is_controlled_by(child, owner)
    True
    """
    reference = get_controller_of(obj)
    return reference is not None and _same_owner(reference, owner_reference(owner))


def set_controller_reference(
    owner: Mapping[str, Any],
    obj: JSONObject,
    *,
    block_owner_deletion: bool = True,
    owner_namespaced: bool | None = None,
) -> None:
    """Make ``owner`` the controller of ``obj``, in place (controller-runtime ``SetControllerReference``).

    An existing reference to the same owner is replaced; otherwise the reference is appended.

    Args:
        owner: the owning object, as read from the server.
        obj: the object to own; its ``metadata.ownerReferences`` is updated.
        block_owner_deletion: whether foreground deletion of the owner waits for ``obj``.
        owner_namespaced: whether the owner's kind is namespaced; ``None``: it is when the owner has a namespace.

    Raises:
        OwnerReferenceError: the owner is incomplete, in another namespace, or namespaced while ``obj`` is not.
        AlreadyOwnedError: another object controls ``obj``.
    """
    reference = owner_reference(owner, block_owner_deletion=block_owner_deletion)
    owner_namespace = str((owner.get("metadata") or {}).get("namespace") or "")
    namespaced = bool(owner_namespace) if owner_namespaced is None else owner_namespaced
    metadata = obj.setdefault("metadata", {})
    namespace = str(metadata.get("namespace") or "")
    if namespaced and not namespace:
        raise OwnerReferenceError(
            f"{reference['kind']} {owner_namespace}/{reference['name']} is namespaced: "
            "a cluster-scoped resource must not have a namespace-scoped owner"
        )
    if namespaced and namespace != owner_namespace:
        raise OwnerReferenceError(
            f"{reference['kind']} {owner_namespace}/{reference['name']} is in another namespace than {namespace!r}: "
            "cross-namespace owner references are disallowed"
        )
    existing = get_controller_of(obj)
    if existing is not None and not _same_owner(existing, reference):
        name = f"{namespace}/{metadata.get('name', '')}" if namespace else str(metadata.get("name", ""))
        raise AlreadyOwnedError(
            f"object {name} is already owned by another {existing.get('kind')} controller {existing.get('name')}",
            owner=existing,
        )
    references = [r for r in metadata.get("ownerReferences") or [] if not _same_owner(r, reference)]
    metadata["ownerReferences"] = [*references, reference]


def owner_group(api_version: str) -> str:
    """Return the API group of an ``apiVersion`` (``""`` for the core group).

    >>> owner_group("apps/v1"), owner_group("v1")
    ('apps', '')
    """
    return api_version.rpartition("/")[0]


def _same_owner(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    return (
        owner_group(str(a.get("apiVersion", ""))) == owner_group(str(b.get("apiVersion", "")))
        and a.get("kind") == b.get("kind")
        and a.get("name") == b.get("name")
    )


__all__ = ["get_controller_of", "is_controlled_by", "owner_group", "owner_reference", "set_controller_reference"]
