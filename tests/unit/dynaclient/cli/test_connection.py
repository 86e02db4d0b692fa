"""The default namespace: from the kubeconfig context, the pod, or -n; and how the command line connects."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from dynaclient import DynamicClient, client_from_config, load_incluster_config
from dynaclient.cli import build_parser
from dynaclient.cli.connection import connect
from dynaclient.testing.certs import TinyCA

KUBECONFIG = {
    "apiVersion": "v1",
    "kind": "Config",
    "clusters": [{"name": "c", "cluster": {"server": "http://127.0.0.1:1"}}],
    "users": [{"name": "u", "user": {"token": "t"}}],
    "contexts": [
        {"name": "team", "context": {"cluster": "c", "user": "u", "namespace": "team-a"}},
        {"name": "bare", "context": {"cluster": "c", "user": "u"}},
    ],
    "current-context": "team",
}


@pytest.fixture
def kubeconfig(tmp_path: Path) -> Path:
    path = tmp_path / "config"
    path.write_text(yaml.safe_dump(KUBECONFIG))
    return path


def test_default_namespace_comes_from_the_context(kubeconfig: Path) -> None:
    assert DynamicClient.from_kubeconfig(kubeconfig).default_namespace == "team-a"
    assert DynamicClient.from_kubeconfig(kubeconfig, context="bare").default_namespace == "default"


def test_default_namespace_in_cluster_is_the_pods(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("t")
    (tmp_path / "ca.crt").write_bytes(TinyCA("test").cert_pem)
    (tmp_path / "namespace").write_text("pod-ns")
    env = {"KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": "1"}
    config = load_incluster_config(env, tmp_path)
    assert DynamicClient.from_api_client(client_from_config(config)).default_namespace == "pod-ns"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["get", "pods"], "team-a"),
        (["-n", "x", "get", "pods"], "x"),
        (["get", "pods", "-n", "y"], "y"),
        (["--context", "bare", "get", "pods"], "default"),
        (["get", "pods", "--transport", "proxy"], "team-a"),  # the proxy carries no namespace: the context's
    ],
)
def test_the_command_line_namespace(
    kubeconfig: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], expected: str
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    parsed = build_parser().parse_args([*args, "--kubeconfig", str(kubeconfig)])
    with connect(parsed) as client:
        assert client.default_namespace == expected
