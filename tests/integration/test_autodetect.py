"""auto-detection against the real control plane: each environment picks its transport; none lists four reasons."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from dynaclient import NoClientError, auto_detect_client
from dynaclient.connect import default_candidates, detect_api_client
from dynaclient.testing import ControlPlane
from dynaclient.testing.process import free_port


def _closed_url() -> str:
    return f"http://127.0.0.1:{free_port()}"


def test_a_kubeconfig_in_the_environment_is_picked_when_not_in_a_pod(
    kube_apiserver: ControlPlane, namespace: str, tmp_path: Path
) -> None:
    env = {"HOME": str(tmp_path), "KUBECONFIG": str(kube_apiserver.kubeconfig_path)}
    client = auto_detect_client(env, serviceaccount_root=tmp_path, proxy_url=_closed_url())
    assert client.api_client.transport.name == "kubeconfig"
    assert list(client.resource("pods").namespace(namespace).list()) == []


def test_a_running_kubectl_proxy_is_picked_when_there_is_no_kubeconfig(kubectl_proxy: str, tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path)}
    client = detect_api_client(default_candidates(env, serviceaccount_root=tmp_path, proxy_url=kubectl_proxy))
    assert client.transport.name == "kubectl-proxy"
    assert client.request("GET", "/api/v1/namespaces/default")["metadata"]["name"] == "default"


def test_kubectl_raw_is_the_last_resort(kube_apiserver: ControlPlane, tmp_path: Path) -> None:
    # A kubeconfig dynaclient refuses (impersonation is not supported) but kubectl accepts.
    config = yaml.safe_load(kube_apiserver.kubeconfig_path.read_text())
    for user in config["users"]:
        user["user"].update({"as": "admin", "as-groups": ["system:masters"]})
    path = tmp_path / "impersonating-kubeconfig"
    path.write_text(yaml.safe_dump(config))
    env = {"HOME": str(tmp_path), "KUBECONFIG": str(path)}
    client = detect_api_client(default_candidates(env, serviceaccount_root=tmp_path, proxy_url=_closed_url()))
    assert client.transport.name == "kubectl-raw"
    assert client.request("GET", "/api/v1/namespaces/default")["metadata"]["name"] == "default"


def test_with_all_four_unusable_one_error_lists_four_reasons(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path)}
    candidates = default_candidates(
        env, serviceaccount_root=tmp_path, proxy_url=_closed_url(), kubectl=str(tmp_path / "no-kubectl")
    )
    with pytest.raises(NoClientError) as error:
        detect_api_client(candidates)
    reasons = error.value.reasons
    assert list(reasons) == ["in-cluster", "kubeconfig", "kubectl-proxy", "kubectl-raw"]
    assert "KUBERNETES_SERVICE_HOST" in reasons["in-cluster"]
    assert "ConnectError" in reasons["kubectl-proxy"]
    assert "no-kubectl" in reasons["kubectl-raw"]
    assert str(error.value).count("\n- ") == 4


def test_auto_detection_landing_on_kubectl_raw_serves_a_split_kubeconfig_and_discovery(
    kube_apiserver: ControlPlane, namespace: str, tmp_path: Path
) -> None:
    # Only kubectl works: no pod, no proxy, and a kubeconfig dynaclient refuses (impersonation), split in two files
    # that only the KUBECONFIG list joins. The env has no PATH: kubectl is found on this process's.
    # Before: the candidate dropped a multi-file KUBECONFIG, and discovery asked kubectl for aggregated documents.
    config = yaml.safe_load(kube_apiserver.kubeconfig_path.read_text())
    for user in config["users"]:
        user["user"].update({"as": "admin", "as-groups": ["system:masters"]})
    contexts = {"current-context": config.pop("current-context"), "contexts": config.pop("contexts")}
    (tmp_path / "credentials").write_text(yaml.safe_dump(config))
    (tmp_path / "contexts").write_text(yaml.safe_dump(contexts))
    env = {"HOME": str(tmp_path), "KUBECONFIG": f"{tmp_path / 'contexts'}:{tmp_path / 'credentials'}"}

    client = auto_detect_client(env, serviceaccount_root=tmp_path, proxy_url=_closed_url())

    assert client.api_client.transport.name == "kubectl-raw"
    configmaps = client.resource("cm").namespace(namespace)  # a short name: discovery over kubectl
    configmaps.create({"metadata": {"name": "found"}, "data": {"a": "b"}})
    assert [cm["metadata"]["name"] for cm in configmaps.list()] == ["found"]
