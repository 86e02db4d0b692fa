"""An in-memory fake of the API server behind a real :class:`~dynaclient.DynamicClient`, for users' unit tests.

``FakeDynamicClient()`` is a ``DynamicClient`` whose transport hands each request to a :class:`FakeAPIServer` in
the same process. Everything above the transport is dynaclient's own code, so lists, watches, typed errors and
informers behave as they do against a cluster. Each behaviour below is checked against a real kube-apiserver
(1.34) by the conformance suite in ``tests/conformance``, which runs every test on both.

Modelled:

* resources: namespaces, nodes, configmaps, secrets, serviceaccounts, services, pods, events (core and
  events.k8s.io), deployments, replicasets, statefulsets, daemonsets, jobs, cronjobs, leases,
  customresourcedefinitions, and every custom resource whose CRD is created: served and ``Established`` at once,
  at each served version (objects differ only in ``apiVersion``); deleting a CRD deletes its objects (through
  the ``customresourcecleanup`` finalizer, as the server does). The namespaces ``default``, ``kube-system``,
  ``kube-public`` and ``kube-node-lease`` exist from the start.
* discovery (aggregated), so plurals, kinds, short names and GVRs resolve as on a cluster;
* ``resourceVersion``: one counter over all resources, as etcd's revision; a write that changes nothing keeps it;
  empty ``labels``, ``annotations``, ``finalizers`` and ``ownerReferences`` are dropped, as ``ObjectMeta`` does;
* create: ``generateName``, ``uid``, ``creationTimestamp``, ``generation`` (custom resources, CRDs, pods,
  workload kinds), name validation (422), a missing (404) or terminating (403) namespace, a body naming another
  namespace (400), 409 AlreadyExists, custom resources without ``kind`` (400); a namespace's finalizer, name
  label and phase; a pod's ``Pending`` phase and QoS class; a node keeps the status it is created with; the
  initial (empty) status of other built-ins; ``dryRun``;
* update: 404, 409 Conflict on a stale ``resourceVersion``, unconditional without one (422 for leases, CRDs and
  custom resources, which need it); the ``status`` subresource splits spec and status as the server does;
  ``generation`` grows with changes outside metadata and status, and when deletion starts;
* create and update: a body of another kind or apiVersion is refused (400, or 422 for a custom resource of
  another kind);
* patch: JSON merge patch, JSON patch (RFC 6902, all six operations), and for built-ins strategic merge patch:
  the common keyed lists (containers, env, volumes, conditions, ...) merged by key in the server's order,
  finalizers merged as a set, ``$patch: delete`` and ``$deleteFromPrimitiveList`` (see
  :mod:`~dynaclient.testing.fake.strategic`); custom resources answer 415, as the server does;
* server-side apply, in a subset (see :mod:`~dynaclient.testing.fake.patches`): create or merge, ownership of
  fields per manager (updates own what they change), 409 conflicts and ``force``, removal of fields a manager
  stops applying, the ``status`` subresource; every list is atomic; ``managedFields`` is not rendered;
* delete: finalizers (also ``Foreground``/``Orphan``, which add theirs) hold the object with a
  ``deletionTimestamp`` until an update removes the last one; adding a finalizer then is 422; preconditions
  (409); the answer is a ``Status``, or the object when it is held (pods: always); a deleted namespace stays
  ``Terminating`` (no namespace controller, as on a bare control plane); delete-collection;
* list: label selectors, field selectors (``metadata.name``, ``metadata.namespace``, the resource's own field
  labels and a CRD's ``selectableFields``; 400 for others), pages with continue tokens read at the first page's
  revision (``remainingItemCount`` when unfiltered), ``resourceVersionMatch=Exact``, metadata-only lists;
* watch: from a resourceVersion, or with the current objects first (``resourceVersion`` unset or ``"0"``,
  ``sendInitialEvents`` with its ``initial-events-end`` bookmark), one namespace or all, selector transitions as
  ``ADDED``/``DELETED``, ``timeoutSeconds``, ``close()`` from another thread;
* history: :meth:`FakeAPIServer.compact` drops it as etcd compaction does on a server without the watch cache:
  older continue tokens, ``Exact`` lists and watches then answer 410 Gone (a cluster with the watch cache keeps
  serving recent history from memory for a while); :meth:`FakeAPIServer.restart` cuts every open watch as an
  API server restart does (a ``TransportError`` for the reader, who resumes from its last resourceVersion);
* thread-safety: requests from any number of threads are serialised by one lock; no update is lost.

Not modelled: defaulting and schema validation (built-ins are stored as sent; custom resources are not pruned),
admission, authentication and RBAC, controllers (no garbage collection of owned objects, no Deployment pods, no
namespace cleanup, no pod scheduling), graceful deletion of scheduled pods, periodic watch bookmarks,
``managedFields``, the merge keys of lists the strategic patch does not list, ``$setElementOrder`` and
``$retainKeys``, associative lists in server-side apply, subresources other than ``status``, conversion webhooks,
the shared storage of core and events.k8s.io events (the fake keeps them apart), protobuf, and waiting for a
future ``resourceVersion`` (a list at one is served at once, where the server answers 504 after retries). History
is kept until :meth:`FakeAPIServer.compact`, so memory grows with the number of writes.
"""

from __future__ import annotations

from dynaclient.testing.fake.client import FakeDynamicClient, FakeTransport
from dynaclient.testing.fake.registry import BUILTIN_TYPES, ResourceType
from dynaclient.testing.fake.server import FakeAPIServer

__all__ = ["BUILTIN_TYPES", "FakeAPIServer", "FakeDynamicClient", "FakeTransport", "ResourceType"]
