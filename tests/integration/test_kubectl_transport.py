"""KubectlRawTransport against a real kube-apiserver, with kubectl from PATH and the newest versioned kubectl beside it.

The two may log responses in different formats (client-go 1.32 and 1.33), and the PATH one may be a dispatcher that
warns about version skew on stderr; every test runs with each.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml

from dynaclient.exceptions import ConnectionLostError
from dynaclient.request import Request, Response
from dynaclient.testing.pytest_plugin import ExistingCluster
from dynaclient.transport.kubectl import KubectlRawTransport
from tests.integration.loopback_proxy import LoopbackProxy


def _kubectl_executables() -> list[str]:
    on_path = shutil.which("kubectl")
    if on_path is None:
        return ["kubectl"]  # the tests then fail with ConnectError naming it
    versioned = Path(os.path.realpath(on_path)).parent.glob("kubectl.1.*")
    numbered = sorted((int(m.group(1)), str(p)) for p in versioned if (m := re.fullmatch(r"kubectl\.1\.(\d+)", p.name)))
    return [on_path, *([numbered[-1][1]] if numbered else [])]


@pytest.fixture(params=_kubectl_executables(), ids=lambda path: Path(path).name)
def transport(request: pytest.FixtureRequest, kube_apiserver: Any) -> KubectlRawTransport:
    cluster: ExistingCluster = kube_apiserver
    return KubectlRawTransport(request.param, kubeconfig=cluster.kubeconfig_path)


def _json(response: Response) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(response.read())
    return body


def _config_map(name: str, **data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


def _create(transport: KubectlRawTransport, namespace: str, name: str, **data: str) -> dict[str, Any]:
    response = transport.send(Request.with_json("POST", _collection(namespace), _config_map(name, **data)))
    assert response.status == 201
    return _json(response)


def _collection(namespace: str) -> str:
    return f"/api/v1/namespaces/{namespace}/configmaps"


def _get(transport: KubectlRawTransport, namespace: str, name: str) -> Response:
    return transport.send(Request("GET", f"{_collection(namespace)}/{name}"))


def test_get_reads_an_object(transport: KubectlRawTransport, namespace: str) -> None:
    response = transport.send(Request("GET", f"/api/v1/namespaces/{namespace}"))

    assert response.status == 200
    assert _json(response)["metadata"]["name"] == namespace


def test_post_creates_and_put_replaces_and_a_stale_put_conflicts(
    transport: KubectlRawTransport, namespace: str
) -> None:
    created = _create(transport, namespace, "settings", a="1")
    replacement = {**created, "data": {"a": "2"}}

    replaced = transport.send(Request.with_json("PUT", f"{_collection(namespace)}/settings", replacement))
    stale = transport.send(Request.with_json("PUT", f"{_collection(namespace)}/settings", replacement))

    assert (replaced.status, _json(replaced)["data"]) == (200, {"a": "2"})
    status = _json(stale)
    assert (stale.status, status["kind"], status["reason"], status["code"]) == (409, "Status", "Conflict", 409)
    assert "the object has been modified" in status["message"]


@pytest.mark.parametrize(
    ("content_type", "patch"),
    [
        ("application/merge-patch+json", {"data": {"b": "patched"}}),
        ("application/json-patch+json", [{"op": "add", "path": "/data/b", "value": "patched"}]),
        ("application/strategic-merge-patch+json", {"data": {"b": "patched"}}),
    ],
    ids=["merge", "json", "strategic"],
)
def test_patch_changes_the_object(
    transport: KubectlRawTransport, namespace: str, content_type: str, patch: object
) -> None:
    _create(transport, namespace, "patched", a="1")
    path = f"{_collection(namespace)}/patched"

    response = transport.send(Request.with_json("PATCH", path, patch, content_type=content_type))

    assert (response.status, _json(response)["data"]) == (200, {"a": "1", "b": "patched"})
    assert _json(_get(transport, namespace, "patched"))["data"] == {"a": "1", "b": "patched"}


def test_a_dry_run_patch_with_a_field_manager_answers_without_persisting(
    transport: KubectlRawTransport, namespace: str
) -> None:
    _create(transport, namespace, "dry", a="1")
    query = (("dryRun", "All"), ("fieldManager", "dynaclient-test"))
    request = Request.with_json(
        "PATCH",
        f"{_collection(namespace)}/dry",
        {"data": {"a": "2"}},
        content_type="application/merge-patch+json",
        query=query,
    )

    answer = _json(transport.send(request))

    assert answer["data"] == {"a": "2"}
    assert "dynaclient-test" in [entry["manager"] for entry in answer["metadata"]["managedFields"]]
    assert _json(_get(transport, namespace, "dry"))["data"] == {"a": "1"}


def test_patch_reaches_a_cluster_scoped_status_subresource(transport: KubectlRawTransport, namespace: str) -> None:
    request = Request.with_json(
        "PATCH", f"/api/v1/namespaces/{namespace}/status", {"status": {}}, content_type="application/merge-patch+json"
    )

    response = transport.send(request)

    answer = _json(response)
    assert (response.status, answer["kind"], answer["metadata"]["name"]) == (200, "Namespace", namespace)


def test_patch_of_a_missing_object_is_not_found(transport: KubectlRawTransport, namespace: str) -> None:
    request = Request.with_json(
        "PATCH", f"{_collection(namespace)}/absent", {"data": {}}, content_type="application/merge-patch+json"
    )

    response = transport.send(request)

    assert (response.status, _json(response)["reason"]) == (404, "NotFound")


def test_delete_removes_the_object_and_a_later_get_is_not_found(transport: KubectlRawTransport, namespace: str) -> None:
    _create(transport, namespace, "doomed")
    dry_run = Request.with_json(
        "DELETE", f"{_collection(namespace)}/doomed", {"kind": "DeleteOptions", "apiVersion": "v1", "dryRun": ["All"]}
    )

    assert transport.send(dry_run).status == 200
    assert _get(transport, namespace, "doomed").status == 200
    deleted = transport.send(Request("DELETE", f"{_collection(namespace)}/doomed"))
    missing = _get(transport, namespace, "doomed")

    assert (deleted.status, _json(deleted)["status"]) == (200, "Success")
    status = _json(missing)
    assert (missing.status, status["reason"], status["code"]) == (404, "NotFound", 404)
    assert status["details"] == {"name": "doomed", "kind": "configmaps"}


def test_an_invalid_object_is_unprocessable(transport: KubectlRawTransport, namespace: str) -> None:
    response = transport.send(Request.with_json("POST", _collection(namespace), _config_map("Not_Valid")))

    status = _json(response)
    assert (response.status, status["reason"], status["details"]["name"]) == (422, "Invalid", "Not_Valid")
    assert [cause["field"] for cause in status["details"]["causes"]] == ["metadata.name"]


def test_a_watch_streams_the_event_for_an_object_created_after_it_started(
    transport: KubectlRawTransport, namespace: str
) -> None:
    listed = _json(transport.send(Request("GET", _collection(namespace))))
    name = f"watched-{uuid.uuid4().hex[:6]}"
    query = (("watch", "1"), ("timeoutSeconds", "5"), ("resourceVersion", listed["metadata"]["resourceVersion"]))

    with transport.send(Request("GET", _collection(namespace), query=query, expect="stream", timeout=30)) as stream:
        assert stream.status == 200
        _create(transport, namespace, name)
        first = json.loads(next(stream.iter_lines()))

    assert (first["type"], first["object"]["metadata"]["name"]) == ("ADDED", name)


def test_a_watch_whose_connection_is_cut_mid_stream_raises_connection_lost(
    request: pytest.FixtureRequest, transport: KubectlRawTransport, namespace: str, proxy: LoopbackProxy, tmp_path: Path
) -> None:
    _create(transport, namespace, "watched")
    kubeconfig = yaml.safe_load(Path(request.getfixturevalue("kube_apiserver").kubeconfig_path).read_text())
    for cluster in kubeconfig["clusters"]:
        cluster["cluster"]["server"] = proxy.url
    proxied = tmp_path / "kubeconfig"
    proxied.write_text(yaml.safe_dump(kubeconfig))
    watching = KubectlRawTransport(transport.kubectl, kubeconfig=proxied)
    response = watching.send(Request("GET", _collection(namespace), query=(("watch", "true"),), expect="stream"))
    lines = response.iter_lines()
    assert json.loads(next(lines))["object"]["metadata"]["name"] == "watched"

    assert proxy.cut() >= 1
    with pytest.raises(ConnectionLostError, match="in the middle of the response"):
        next(lines)
    response.close()
