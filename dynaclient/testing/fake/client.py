"""FakeDynamicClient: a :class:`~dynaclient.DynamicClient` whose requests are answered by an in-memory server."""

from __future__ import annotations

from collections.abc import Iterable

from dynaclient._types import JSONObject
from dynaclient.client import APIClient
from dynaclient.discovery.discovery import Discovery
from dynaclient.discovery.restmapper import RESTMapper
from dynaclient.exceptions import RequestCancelled
from dynaclient.gvr import GroupVersionKind
from dynaclient.request import Request, Response
from dynaclient.resources.dynamic import DynamicClient
from dynaclient.testing.fake.server import FakeAPIServer
from dynaclient.transport.base import BaseTransport


class FakeTransport(BaseTransport):
    """Hands every request to a :class:`FakeAPIServer` in-process: no sockets, no threads of its own.

    Thread-safety: thread-safe (the server is).
    """

    name = "fake"

    def __init__(self, server: FakeAPIServer) -> None:
        self.server = server

    def send(self, request: Request) -> Response:
        """Answer ``request`` from the fake server."""
        if request.cancellation is not None and request.cancellation.cancelled:
            raise RequestCancelled("request cancelled")
        return self.server.handle(request)


class FakeDynamicClient(DynamicClient):
    """A :class:`~dynaclient.DynamicClient` over an in-memory :class:`FakeAPIServer`, for unit tests.

    It *is* a DynamicClient: the same :class:`~dynaclient.ResourceClient` builds the same requests, and the same
    lists, watches and typed errors come back, so code under test (and ``informers.SharedInformerFactory``)
    cannot tell it from the real one. See :mod:`dynaclient.testing.fake` for what the server models.

    Args:
        objects: objects to create first (namespaces before the objects in them), each a full manifest with
            ``apiVersion`` and ``kind``; CustomResourceDefinitions among them are served at once.
        server: the fake server to use; a new one by default. Several clients may share one.

    Attributes:
        server: the fake API server (for :meth:`FakeAPIServer.compact` and inspection).

    Thread-safety: thread-safe.

    Example:
        >>> client = FakeDynamicClient([{"apiVersion": "v1", "kind": "ConfigMap",
        ...                              "metadata": {"name": "a", "namespace": "default"}}])
        >>> [cm["metadata"]["name"] for cm in client.resource("configmaps").namespace("default").list()]
        ['a']
    """

    def __init__(self, objects: Iterable[JSONObject] = (), *, server: FakeAPIServer | None = None) -> None:
        self.server = server if server is not None else FakeAPIServer()
        api_client = APIClient(FakeTransport(self.server))
        # No disk cache, and a miss refreshes at once: discovery is an in-memory call here.
        super().__init__(api_client, RESTMapper(Discovery(api_client, cache_dir=False), min_refresh_interval=0))
        for obj in objects:
            self.create(obj)

    def __repr__(self) -> str:
        return f"<FakeDynamicClient {self.server!r}>"

    def create(self, obj: JSONObject) -> JSONObject:
        """Create ``obj`` by its ``apiVersion`` and ``kind`` (in its ``metadata.namespace``); return the stored object.

        A seeding helper of the fake; code under test uses :meth:`resource` as with the real client.

        Raises:
            ResourceNotFoundError: the fake serves no such kind (create its CRD first).
            APIError: the create was refused (it exists already, bad name, missing namespace).
        """
        group, _, version = str(obj.get("apiVersion", "")).rpartition("/")
        resource = self.resource(GroupVersionKind(group, version, str(obj.get("kind", ""))))
        return resource.create(obj)


__all__ = ["FakeDynamicClient", "FakeTransport"]
