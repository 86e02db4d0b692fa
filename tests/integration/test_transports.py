"""The same requests through every transport give the same results and the same typed errors."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest

from dynaclient import (
    AlreadyExistsError,
    APIClient,
    ConflictError,
    NotFoundError,
    Request,
    load_kubeconfig,
)
from dynaclient.connect import client_from_config, kubectl_proxy_client, kubectl_raw_client
from dynaclient.testing import ControlPlane

TRANSPORTS = ["kubeconfig-certificate", "kubeconfig-token", "kubectl-proxy", "kubectl-raw"]


@pytest.fixture(scope="module")
def proxy_url(kube_apiserver: ControlPlane) -> Iterator[str]:
    command = ["kubectl", f"--kubeconfig={kube_apiserver.kubeconfig_path}", "proxy", "--port=0"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as proxy:
        assert proxy.stdout is not None
        match = re.search(r"127\.0\.0\.1:(\d+)", proxy.stdout.readline())
        assert match
        try:
            yield f"http://127.0.0.1:{match.group(1)}"
        finally:
            proxy.terminate()


@pytest.fixture(params=TRANSPORTS)
def client(request: pytest.FixtureRequest, kube_apiserver: ControlPlane, proxy_url: str) -> Iterator[APIClient]:
    kubeconfig = kube_apiserver.kubeconfig_path
    builders = {
        "kubeconfig-certificate": lambda: client_from_config(load_kubeconfig(kubeconfig)),
        "kubeconfig-token": lambda: client_from_config(load_kubeconfig(kubeconfig, "dynaclient-token")),
        "kubectl-proxy": lambda: kubectl_proxy_client(proxy_url),
        "kubectl-raw": lambda: kubectl_raw_client(kubeconfig),
    }
    with builders[request.param]() as built:
        yield built


def _outcome(call: Any) -> Any:
    try:
        return call()
    except (NotFoundError, ConflictError) as exc:
        return type(exc).__name__


def test_crud_and_errors_are_the_same_through_every_transport(client: APIClient, namespace: str) -> None:
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    created = client.request("POST", path, body={"metadata": {"name": "a"}, "data": {"k": "1"}})
    stale = dict(created)
    got = client.request("GET", f"{path}/a")
    assert (got["data"], got["metadata"]["uid"]) == ({"k": "1"}, created["metadata"]["uid"])

    replaced = client.request("PUT", f"{path}/a", body={**got, "data": {"k": "2"}})
    merged = client.request(
        "PATCH", f"{path}/a", body={"data": {"m": "merge"}}, content_type="application/merge-patch+json"
    )
    patched = client.request(
        "PATCH",
        f"{path}/a",
        body=[{"op": "add", "path": "/data/j", "value": "json"}],
        content_type="application/json-patch+json",
    )
    strategic = client.request(
        "PATCH", f"{path}/a", body={"data": {"s": "sm"}}, content_type="application/strategic-merge-patch+json"
    )
    assert replaced["data"] == {"k": "2"}
    assert merged["data"] == {"k": "2", "m": "merge"}
    assert patched["data"] == {"k": "2", "m": "merge", "j": "json"}
    assert strategic["data"] == {"k": "2", "m": "merge", "j": "json", "s": "sm"}

    errors = [
        _outcome(lambda: client.request("PUT", f"{path}/a", body=stale)),
        _outcome(lambda: client.request("POST", path, body={"metadata": {"name": "a"}})),
        _outcome(lambda: client.request("GET", f"{path}/missing")),
        _outcome(lambda: client.request("DELETE", f"{path}/missing")),
    ]
    assert errors == ["ConflictError", "AlreadyExistsError", "NotFoundError", "NotFoundError"]
    assert issubclass(AlreadyExistsError, ConflictError)

    client.request("DELETE", f"{path}/a")
    assert _outcome(lambda: client.request("GET", f"{path}/a")) == "NotFoundError"


def test_a_streaming_watch_delivers_events_through_every_transport(client: APIClient, namespace: str) -> None:
    path = f"/api/v1/namespaces/{namespace}/configmaps"
    since = client.request("GET", path)["metadata"]["resourceVersion"]
    query = (("watch", "1"), ("resourceVersion", since), ("timeoutSeconds", "10"))
    with client.send(Request("GET", path, query=query, expect="stream", timeout=30)) as stream:
        client.request("POST", path, body={"metadata": {"name": "watched"}})
        client.request("DELETE", f"{path}/watched")
        lines = stream.iter_lines()
        events = [json.loads(next(lines)) for _ in range(2)]
    assert [(e["type"], e["object"]["metadata"]["name"]) for e in events] == [
        ("ADDED", "watched"),
        ("DELETED", "watched"),
    ]
