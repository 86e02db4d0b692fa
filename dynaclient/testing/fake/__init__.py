"""An in-memory fake of the API server behind a real :class:`~dynaclient.DynamicClient`, for users' unit tests.

``FakeDynamicClient()`` is a ``DynamicClient`` whose transport hands requests to a :class:`FakeAPIServer` in the
same process. Everything above the transport is dynaclient's own code, so lists, watches, typed errors and
informers behave as they do against a cluster. What the server models is checked against a real kube-apiserver
by one conformance suite (``tests/conformance``) that runs on both.

Modelled:

* resources: namespaces, configmaps, secrets, serviceaccounts, services, pods, events, deployments,
  statefulsets, daemonsets, jobs, leases, customresourcedefinitions; and every custom resource whose CRD is
  created (served at once, ``Established`` at once; deleting the CRD deletes its objects). Namespaced and
  cluster-scoped; the namespaces ``default``, ``kube-system``, ``kube-public`` and ``kube-node-lease`` exist.
* discovery (aggregated), so names, kinds, short names and GVRs resolve as on a cluster;
* ``resourceVersion``: one counter over all resources, as etcd's revision; writes that change nothing keep it;
* create: ``generateName``, ``uid``, ``creationTimestamp``, ``generation`` (custom resources, CRDs and the
  workload kinds), name validation (422), a missing namespace (404) or terminating one (403), 409
  AlreadyExists; ``dryRun``;
* update: 404, 409 Conflict on a stale ``resourceVersion``, unconditional without one; the ``status``
  subresource splits spec and status as the server does; ``generation`` grows with changes outside metadata and
  status;
* patch: JSON merge patch, JSON patch (RFC 6902, ``test`` included), strategic merge patch read as a merge patch
  for built-ins (415 for custom resources, as the server answers);
* server-side apply, in a subset: create-or-merge, field ownership per manager with conflicts (409) and
  ``force``, removal of fields a manager stops applying; every list is atomic; ``managedFields`` is not rendered;
* delete: with finalizers (and ``Foreground``/``Orphan``, which add theirs) the object gets
  ``deletionTimestamp`` and stays until an update removes the last finalizer; preconditions (409); deleting a
  namespace leaves it ``Terminating`` (there is no namespace controller, as on a bare control plane);
  delete-collection;
* list: label selectors, field selectors (``metadata.name``, ``metadata.namespace`` and the resource's own
  labels; 400 for others), pagination with continue tokens served at the first page's revision,
  ``resourceVersionMatch=Exact``, metadata-only lists;
* watch: from a resourceVersion, or with the current objects first (``resourceVersion`` unset or ``"0"``,
  ``sendInitialEvents`` with its ``initial-events-end`` bookmark), selector transitions as ``ADDED``/``DELETED``,
  ``timeoutSeconds``, 410 Gone for a resourceVersion older than the last compaction
  (:meth:`FakeAPIServer.compact` makes one, as etcd compaction does);
* thread-safety: requests from any number of threads are serialised by one lock.

Not modelled: defaulting and schema validation (built-ins are stored as sent; no OpenAPI pruning of custom
resources), admission, authentication and RBAC, controllers (no garbage collection of owned objects, no
Deployment pods, no namespace cleanup), graceful deletion of pods, periodic watch bookmarks, ``managedFields``,
strategic merge patch directives and associative lists, subresources other than ``status``, conversion webhooks
(versions of a CRD differ only in ``apiVersion``), protobuf, and ``resourceVersion`` waits (a list or watch at a
future version is served at once).
"""

from __future__ import annotations

from dynaclient.testing.fake.client import FakeDynamicClient, FakeTransport
from dynaclient.testing.fake.registry import BUILTIN_TYPES, ResourceType
from dynaclient.testing.fake.server import FakeAPIServer

__all__ = ["BUILTIN_TYPES", "FakeAPIServer", "FakeDynamicClient", "FakeTransport", "ResourceType"]
