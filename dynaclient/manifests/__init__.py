"""Manifests: load YAML and JSON, apply them as a set with server-side apply, prune with ApplySets, delete.

::

    from dynaclient import DynamicClient
    from dynaclient.manifests import ApplySet, apply_manifests, delete_manifests, load_path

    client = DynamicClient.from_kubeconfig()
    objects = load_path("deploy/")
    result = apply_manifests(client, objects, wait=True, applyset=ApplySet("demo", "default"))
    delete_manifests(client, objects)
"""

from dynaclient.manifests.applying import (
    DEFAULT_FIELD_MANAGER,
    Action,
    AppliedObject,
    ApplyResult,
    apply_manifests,
)
from dynaclient.manifests.applyset import ApplySet, applyset_id
from dynaclient.manifests.deleting import DeleteResult, delete_manifests
from dynaclient.manifests.loading import Manifest, load_manifests, load_path, load_paths
from dynaclient.manifests.plan import PlannedObject, plan

__all__ = [
    "DEFAULT_FIELD_MANAGER",
    "Action",
    "AppliedObject",
    "ApplyResult",
    "ApplySet",
    "DeleteResult",
    "Manifest",
    "PlannedObject",
    "apply_manifests",
    "applyset_id",
    "delete_manifests",
    "load_manifests",
    "load_path",
    "load_paths",
    "plan",
]
