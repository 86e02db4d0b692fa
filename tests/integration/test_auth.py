"""Authentication against the real control plane: every user form of a kubeconfig, and in-cluster config."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
import yaml

from dynaclient import APIClient, ForbiddenError, UnauthorizedError, load_incluster_config, load_kubeconfig
from dynaclient.aio import AsyncAPIClient, AsyncDynamicClient
from dynaclient.auth.exec import ExecAuth, ExecCredential
from dynaclient.connect import client_from_config, default_candidates, detect_api_client
from dynaclient.testing import ControlPlane


def _whoami(client: APIClient) -> str:
    review = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
    answer = client.request("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", body=review)
    return str(answer["status"]["userInfo"]["username"])


def _kubeconfig(plane: ControlPlane, tmp_path: Path, user: dict[str, Any]) -> Path:
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": "c", "cluster": {"server": plane.server_url, "certificate-authority": str(plane.ca_path)}}
        ],
        "users": [{"name": "u", "user": user}],
        "contexts": [{"name": "ctx", "context": {"cluster": "c", "user": "u", "namespace": "demo"}}],
        "current-context": "ctx",
    }
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(config))
    return path


def _client(path: Path) -> APIClient:
    return client_from_config(load_kubeconfig(path))


def test_the_planes_own_kubeconfig_works_for_both_contexts(kube_apiserver: ControlPlane) -> None:
    assert _whoami(_client(kube_apiserver.kubeconfig_path)) == "admin"
    token = client_from_config(load_kubeconfig(kube_apiserver.kubeconfig_path, "dynaclient-token"))
    assert _whoami(token) == "token-admin"


def test_client_certificate_files_resolved_relative_to_the_kubeconfig(
    kube_apiserver: ControlPlane, tmp_path: Path
) -> None:
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "me.crt").write_bytes(kube_apiserver.client_cert_path.read_bytes())
    (tmp_path / "certs" / "me.key").write_bytes(kube_apiserver.client_key_path.read_bytes())
    path = _kubeconfig(kube_apiserver, tmp_path, {"client-certificate": "certs/me.crt", "client-key": "certs/me.key"})
    client = _client(path)
    assert client.namespace == "demo"
    assert _whoami(client) == "admin"


def test_token_file_rotation_is_seen_by_the_next_request(kube_apiserver: ControlPlane, tmp_path: Path) -> None:
    token_file = tmp_path / "token"
    token_file.write_text(kube_apiserver.token)
    client = _client(_kubeconfig(kube_apiserver, tmp_path, {"tokenFile": str(token_file)}))
    assert _whoami(client) == "token-admin"
    token_file.write_text("revoked-token")
    with pytest.raises(UnauthorizedError):
        _whoami(client)
    token_file.write_text(kube_apiserver.token + "\n")
    assert _whoami(client) == "token-admin"


EXEC_PLUGIN = """
import json, pathlib, sys
state = pathlib.Path(sys.argv[1])
calls = int(state.read_text()) if state.exists() else 0
state.write_text(str(calls + 1))
plan = json.loads(pathlib.Path(sys.argv[2]).read_text())
status = plan[min(calls, len(plan) - 1)]
print(json.dumps({"apiVersion": "client.authentication.k8s.io/v1", "kind": "ExecCredential", "status": status}))
"""


def _exec_user(tmp_path: Path, plan: list[dict[str, Any]]) -> tuple[dict[str, Any], Path]:
    script, state, plan_file = tmp_path / "plugin.py", tmp_path / "calls", tmp_path / "plan.json"
    script.write_text(EXEC_PLUGIN)
    plan_file.write_text(json.dumps(plan))
    user = {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1",
            "command": sys.executable,
            "args": [str(script), str(state), str(plan_file)],
            "interactiveMode": "Never",
        }
    }
    return user, state


def test_exec_plugin_token_is_cached_until_expiry_and_refreshed_once_after_a_401(
    kube_apiserver: ControlPlane, tmp_path: Path
) -> None:
    now = [1_000_000.0]
    plan = [
        {"token": kube_apiserver.token, "expirationTimestamp": "1970-01-12T13:50:00Z"},  # 1_000_200
        {"token": "stale-token", "expirationTimestamp": "2100-01-01T00:00:00Z"},
        {"token": kube_apiserver.token, "expirationTimestamp": "2100-01-01T00:00:00Z"},
    ]
    user, calls = _exec_user(tmp_path, plan)
    client = client_from_config(load_kubeconfig(_kubeconfig(kube_apiserver, tmp_path, user), now=lambda: now[0]))
    assert _whoami(client) == "token-admin"
    assert _whoami(client) == "token-admin"
    assert calls.read_text() == "1", "a valid credential is reused"
    now[0] = 1_000_300.0  # past the first credential's expiry
    assert _whoami(client) == "token-admin"  # the second credential is rejected: 401, re-run once, third works
    assert calls.read_text() == "3"


def test_exec_plugin_client_certificate_output(kube_apiserver: ControlPlane, tmp_path: Path) -> None:
    pair = kube_apiserver.issue_client_certificate("exec-user", ["system:masters"])
    status = {"clientCertificateData": pair.cert_pem.decode(), "clientKeyData": pair.key_pem.decode()}
    user, calls = _exec_user(tmp_path, [status])
    client = _client(_kubeconfig(kube_apiserver, tmp_path, user))
    assert _whoami(client) == "exec-user"
    assert calls.read_text() == "1"


def test_an_exec_plugins_client_certificate_is_rotated_when_it_expires(
    flavour: str, kube_apiserver: ControlPlane, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A TLS connection keeps the identity of the certificate it was opened with: only new connections under the
    # new certificate make the server see the second user.
    now = [1_000_000.0]
    plan = []
    for username, expires in (("exec-user-1", "1970-01-12T13:50:00Z"), ("exec-user-2", "2100-01-01T00:00:00Z")):
        pair = kube_apiserver.issue_client_certificate(username, ["system:masters"])
        plan.append(
            {
                "clientCertificateData": pair.cert_pem.decode(),
                "clientKeyData": pair.key_pem.decode(),
                "expirationTimestamp": expires,  # the first: 1_000_200
            }
        )
    user, calls = _exec_user(tmp_path, plan)
    plugin_threads: list[str] = []
    run_plugin = ExecAuth._run

    def recorded(auth: ExecAuth) -> ExecCredential:
        plugin_threads.append(threading.current_thread().name)
        return run_plugin(auth)

    monkeypatch.setattr(ExecAuth, "_run", recorded)
    config = load_kubeconfig(_kubeconfig(kube_apiserver, tmp_path, user), now=lambda: now[0])
    seen: list[str] = []
    if flavour == "sync":
        client = client_from_config(config)
        seen += [_whoami(client), _whoami(client)]
        now[0] = 1_000_300.0  # past the first certificate's expiry
        seen.append(_whoami(client))
    else:

        async def whoami(client: AsyncAPIClient) -> str:
            review = {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
            answer = await client.request("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews", body=review)
            return str(answer["status"]["userInfo"]["username"])

        async def scenario() -> None:
            async with AsyncDynamicClient.from_config(config) as client:
                seen.extend([await whoami(client.api_client), await whoami(client.api_client)])
                now[0] = 1_000_300.0
                seen.append(await whoami(client.api_client))

        asyncio.run(scenario())
    assert seen == ["exec-user-1", "exec-user-1", "exec-user-2"]
    assert calls.read_text() == "2", "the plugin ran once per certificate"
    assert len(plugin_threads) == 2
    if flavour == "async":
        assert "MainThread" not in plugin_threads, "an exec plugin ran on the event loop's thread"


@pytest.fixture
def service_account_token(kube_apiserver: ControlPlane, namespace: str) -> str:
    admin = client_from_config(load_kubeconfig(kube_apiserver.kubeconfig_path))
    admin.request("POST", f"/api/v1/namespaces/{namespace}/serviceaccounts", body={"metadata": {"name": "robot"}})
    # A Role of our own: the built-in "view" ClusterRole is filled by controller-manager's aggregation
    # controller, which a bare control plane does not run.
    role = {
        "metadata": {"name": "configmap-reader"},
        "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch"]}],
    }
    admin.request("POST", f"/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}/roles", body=role)
    binding = {
        "metadata": {"name": "robot-reads-configmaps"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "configmap-reader"},
        "subjects": [{"kind": "ServiceAccount", "name": "robot", "namespace": namespace}],
    }
    admin.request("POST", f"/apis/rbac.authorization.k8s.io/v1/namespaces/{namespace}/rolebindings", body=binding)
    request = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {"expirationSeconds": 3600}}
    issued = admin.request("POST", f"/api/v1/namespaces/{namespace}/serviceaccounts/robot/token", body=request)
    return str(issued["status"]["token"])


@pytest.fixture
def pod_environment(
    kube_apiserver: ControlPlane, namespace: str, service_account_token: str, tmp_path: Path
) -> tuple[dict[str, str], Path]:
    """What a pod sees: the service environment variables and the projected service-account files."""
    root = tmp_path / "serviceaccount"
    root.mkdir()
    (root / "token").write_text(service_account_token)
    (root / "ca.crt").write_bytes(kube_apiserver.ca_path.read_bytes())
    (root / "namespace").write_text(namespace)
    port = kube_apiserver.server_url.rsplit(":", 1)[1]
    return {"HOME": str(tmp_path), "KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": port}, root


def test_in_cluster_configuration_with_a_real_bound_token(
    namespace: str, pod_environment: tuple[dict[str, str], Path]
) -> None:
    env, root = pod_environment
    client = client_from_config(load_incluster_config(env, root), name="in-cluster")
    assert client.namespace == namespace
    assert _whoami(client) == f"system:serviceaccount:{namespace}:robot"
    assert client.request("GET", f"/api/v1/namespaces/{namespace}/configmaps")["items"] == []
    with pytest.raises(ForbiddenError):
        client.request("GET", "/api/v1/namespaces/default/secrets")


def test_auto_detection_inside_a_pod_picks_in_cluster_even_with_a_kubeconfig(
    kube_apiserver: ControlPlane, namespace: str, pod_environment: tuple[dict[str, str], Path]
) -> None:
    env, root = pod_environment
    env = {**env, "KUBECONFIG": str(kube_apiserver.kubeconfig_path)}
    client = detect_api_client(default_candidates(env, serviceaccount_root=root))
    assert client.transport.name == "in-cluster"
    assert _whoami(client) == f"system:serviceaccount:{namespace}:robot"


def test_debug_logs_of_authenticated_traffic_hold_no_secret(
    kube_apiserver: ControlPlane, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    pair = kube_apiserver.issue_client_certificate("logger", ["system:masters"])
    token_file = tmp_path / "token"
    token_file.write_text(kube_apiserver.token)
    secrets = [kube_apiserver.token, base64.b64encode(kube_apiserver.token.encode()).decode()]
    secrets += [line for line in pair.key_pem.decode().splitlines() if "PRIVATE" not in line][:2]
    with caplog.at_level(logging.DEBUG):
        for client in (
            _client(kube_apiserver.kubeconfig_path),
            client_from_config(load_kubeconfig(kube_apiserver.kubeconfig_path, "dynaclient-token")),
            _client(_kubeconfig(kube_apiserver, tmp_path, {"tokenFile": str(token_file)})),
            _client(_kubeconfig(kube_apiserver, tmp_path, _exec_user(tmp_path, [{"token": kube_apiserver.token}])[0])),
        ):
            _whoami(client)
            client.request("GET", "/api/v1/namespaces/default/secrets")
            logging.getLogger("dynaclient").debug(
                "client %r transport %r auth %r", client, client.transport, client.auth
            )
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "GET /api" in text or "POST /apis" in text, "DEBUG request logs were captured"
    for secret in secrets:
        assert secret not in text
