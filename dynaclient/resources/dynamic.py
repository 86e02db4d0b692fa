"""DynamicClient: resolves a resource by name, kind or GVR and hands out its :class:`ResourceClient`.

Namespaces, as client-go's dynamic client treats them: ``resource.namespace("")`` (the default) means cluster
scope for a cluster-scoped resource and *all namespaces* for list, watch and delete-collection of a namespaced
one. The single-object verbs of a namespaced resource need a namespace: from :meth:`ResourceClient.namespace`, else
from the body's ``metadata.namespace`` (create, update, apply), else they raise
:class:`~dynaclient.exceptions.NamespaceScopeError` before any request is sent. The kubeconfig's default
namespace (:attr:`DynamicClient.default_namespace`) is never applied implicitly, so a missing namespace never silently
targets ``default``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Protocol, TypeVar, overload

from dynaclient._types import JSONObject
from dynaclient.client import APIClient
from dynaclient.config import SERVICE_ACCOUNT_ROOT, load_kubeconfig
from dynaclient.connect import KUBECTL_PROXY_URL, client_from_config, default_candidates, detect_api_client
from dynaclient.discovery.discovery import APIResource, Discovery
from dynaclient.discovery.restmapper import RESTMapper
from dynaclient.gvr import GroupVersionKind, GroupVersionResource
from dynaclient.request import JSON_CONTENT_TYPE
from dynaclient.resources.client import DEFAULT_TIMEOUT, ResourceClient

TypedObject = TypeVar("TypedObject", bound=Mapping[str, Any])
ResourceName = str | GroupVersionResource | GroupVersionKind | APIResource


class ResourceMapper(Protocol):
    """Resolves what a user names (``"deployments.apps"``, a kind, a GVR or GVK) to a served resource.

    :class:`dynaclient.discovery.restmapper.RESTMapper` implements it.
    """

    def resource_for(self, resource: str | GroupVersionResource | GroupVersionKind) -> APIResource:
        """Return the served resource.

        Raises:
            ResourceNotFoundError: nothing served matches.
            AmbiguousResourceError: several resources match.
        """
        ...


class DynamicClient:
    """The entry point: ``client.resource("deployments.apps").namespace("prod").get("web")``.

    Args:
        api_client: sends the requests.
        mapper: resolves resource names, kinds and GVRs through discovery.
        timeout: the default response timeout of every :class:`ResourceClient` (watches excepted).

    Thread-safety: thread-safe, if the mapper is.
    """

    def __init__(self, api_client: APIClient, mapper: ResourceMapper, *, timeout: float | None = DEFAULT_TIMEOUT):
        self.api_client = api_client
        self.mapper = mapper
        self.timeout = timeout

    @classmethod
    def from_api_client(cls, api_client: APIClient, *, timeout: float | None = DEFAULT_TIMEOUT) -> DynamicClient:
        """Build a client that resolves resources through discovery (with its default caches), fetched on first use.

        A name discovery does not know yet (a CRD created a moment ago) refreshes discovery at once (rate-limited:
        see :class:`~dynaclient.discovery.restmapper.RESTMapper`).
        """
        return cls(api_client, RESTMapper(Discovery(api_client)), timeout=timeout)

    @classmethod
    def from_kubeconfig(cls, path: str | os.PathLike[str] | None = None, context: str | None = None) -> DynamicClient:
        """Build a client for a kubeconfig context (default: ``KUBECONFIG`` or ``~/.kube/config``, current context).

        Raises:
            KubeconfigError: the kubeconfig is missing, malformed or inconsistent (the message names file and key).
        """
        return cls.from_api_client(client_from_config(load_kubeconfig(path, context)))

    def __repr__(self) -> str:
        return f"<DynamicClient {self.api_client!r}>"

    @property
    def default_namespace(self) -> str:
        """The namespace to use when none is given: the kubeconfig context's, or the pod's (in-cluster).

        ``default`` when the configuration names none. It is what kubectl and ``dynaclient`` (the command line) use
        without ``-n``; the library applies it only where a function says so (manifests without a namespace).
        """
        return self.api_client.namespace

    @property
    def namespace(self) -> str:
        """The same as :attr:`default_namespace` (the older name)."""
        return self.api_client.namespace

    @overload
    def resource(self, resource: ResourceName) -> ResourceClient: ...

    @overload
    def resource(self, resource: ResourceName, object_type: type[TypedObject]) -> ResourceClient[TypedObject]: ...

    def resource(self, resource: ResourceName, object_type: object = None) -> ResourceClient[Any]:
        """Return the verbs of ``resource``, without a namespace (see the module docstring).

        Args:
            resource: a resource name (``"deployments"``, ``"deployments.apps"``, ``"deployments.v1.apps"``), a
                kind or short name, a GroupVersionResource, a GroupVersionKind, or an already resolved APIResource.
            object_type: a generated ``TypedDict`` (``dynaclient.types.apps.v1.Deployment``): the client's objects
                are typed with it for the type checker (``ResourceClient[Deployment]``); they are the same plain
                dicts at run time, and the type is not checked against the resource.

        Raises:
            ResourceNotFoundError: the server serves nothing by that name.
            AmbiguousResourceError: several served resources match; qualify the name with its group.
        """
        api_resource = resource if isinstance(resource, APIResource) else self.mapper.resource_for(resource)
        return ResourceClient(self.api_client, api_resource, timeout=self.timeout)

    def request(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | tuple[tuple[str, str], ...] = (),
        body: object = None,
        content_type: str | None = None,
        accept: str = JSON_CONTENT_TYPE,
    ) -> JSONObject:
        """Send a raw request (see :meth:`APIClient.request`) and return the decoded JSON answer."""
        return self.api_client.request(
            method, path, query=query, body=body, content_type=content_type, accept=accept, timeout=self.timeout
        )

    def close(self) -> None:
        """Close the underlying API client and its transport."""
        self.api_client.close()

    def __enter__(self) -> DynamicClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def auto_detect_client(
    env: Mapping[str, str] | None = None,
    *,
    serviceaccount_root: str | os.PathLike[str] = SERVICE_ACCOUNT_ROOT,
    proxy_url: str = KUBECTL_PROXY_URL,
    kubectl: str | None = None,
) -> DynamicClient:
    """Return a client over the first way of reaching the cluster that answers ``GET /api``.

    Tried in order: the pod's service account (in-cluster), the kubeconfig, a running ``kubectl proxy``, and
    ``kubectl --raw`` as a subprocess (see :func:`dynaclient.connect.default_candidates` for the arguments).

    Raises:
        NoClientError: none works; the message lists every candidate with the reason it failed.
    """
    candidates = default_candidates(env, serviceaccount_root=serviceaccount_root, proxy_url=proxy_url, kubectl=kubectl)
    return DynamicClient.from_api_client(detect_api_client(candidates))


__all__ = ["DynamicClient", "ResourceMapper", "auto_detect_client"]
