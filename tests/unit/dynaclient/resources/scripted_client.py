"""A DynamicClient over a scripted transport: each request checked against the script and answered from it."""

from __future__ import annotations

import json

from dynaclient.client import APIClient
from dynaclient.discovery.discovery import APIResource
from dynaclient.exceptions import ResourceNotFoundError
from dynaclient.gvr import GroupVersionKind, GroupVersionResource
from dynaclient.request import Request, Response
from dynaclient.resources.dynamic import DynamicClient
from dynaclient.transport.base import BaseTransport

PODS = APIResource("", "v1", "pods", "Pod", namespaced=True)
NAMESPACES = APIResource("", "v1", "namespaces", "Namespace", namespaced=False)
DEPLOYMENTS = APIResource("apps", "v1", "deployments", "Deployment", namespaced=True)


class Scripted(BaseTransport):
    """Answers each request with the next scripted response, after checking its method and URL.

    Thread-safety: confined to the test's thread.
    """

    name = "scripted"

    def __init__(self, *steps: tuple[str, str, Response]) -> None:
        self.steps = list(steps)
        self.sent: list[Request] = []
        self.closed = False

    def send(self, request: Request) -> Response:
        number = len(self.sent) + 1
        self.sent.append(request)
        assert self.steps, f"unexpected request {number}: {request.method} {request.url_path}"
        method, url_path, response = self.steps.pop(0)
        assert (request.method, request.url_path) == (method, url_path), f"request {number}"
        return response

    def close(self) -> None:
        self.closed = True


class Mapper:
    """Resolves resource names from a fixed set, recording what was asked.

    Thread-safety: confined to the test's thread.
    """

    def __init__(self, *resources: APIResource) -> None:
        self.resources = {resource.resource: resource for resource in resources}
        self.asked: list[object] = []

    def resource_for(self, resource: str | GroupVersionResource | GroupVersionKind) -> APIResource:
        self.asked.append(resource)
        name = resource if isinstance(resource, str) else str(resource).split(".")[0].lower() + "s"
        if name not in self.resources:
            raise ResourceNotFoundError(f"the server doesn't have a resource type {name!r}")
        return self.resources[name]


def answer(body: object, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response.from_bytes(status, json.dumps(body).encode(), headers)


def page(names: list[str], rv: str = "10", token: str = "", kind: str = "PodList") -> Response:
    metadata = {"resourceVersion": rv, **({"continue": token} if token else {})}
    items = [{"metadata": {"name": name}} for name in names]
    return answer({"kind": kind, "apiVersion": "v1", "metadata": metadata, "items": items})


def expired() -> Response:
    status = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Expired", "code": 410}
    return answer(status, 410)


def client(*steps: tuple[str, str, Response], sleeps: list[float] | None = None) -> tuple[DynamicClient, Scripted]:
    transport = Scripted(*steps)

    def wait(_: object, seconds: float) -> bool:
        if sleeps is not None:
            sleeps.append(seconds)
        return False

    api = APIClient(transport, wait=wait, clock=lambda: 100.0)  # a frozen clock: deadlines never pass
    return DynamicClient(api, Mapper(PODS, NAMESPACES, DEPLOYMENTS)), transport


__all__ = ["DEPLOYMENTS", "NAMESPACES", "PODS", "Mapper", "Scripted", "answer", "client", "expired", "page"]
