from __future__ import annotations

import sys
from pathlib import Path

import pytest

from dynaclient import APIClient, BaseTransport, ConnectError, NoClientError, Request, Response
from dynaclient.connect import default_candidates, detect_api_client


class Scripted(BaseTransport):
    def __init__(self, name: str, status: int = 200) -> None:
        self.name = name
        self.status = status
        self.sent: list[str] = []
        self.closed = False

    def send(self, request: Request) -> Response:
        self.sent.append(request.url_path)
        if self.status == 0:
            raise ConnectError("connection refused")
        return Response.from_bytes(self.status, b'{"kind":"APIVersions","versions":["v1"]}')

    def close(self) -> None:
        self.closed = True


def test_detection_returns_the_first_candidate_that_answers_get_api() -> None:
    refused, working, later = Scripted("a", status=0), Scripted("b"), Scripted("c")
    client = detect_api_client(
        [("a", lambda: APIClient(refused)), ("b", lambda: APIClient(working)), ("c", lambda: APIClient(later))]
    )
    assert client.transport is working
    assert working.sent == ["/api"]
    assert later.sent == []
    assert refused.closed


def test_when_no_candidate_works_one_error_lists_every_reason() -> None:
    def broken() -> APIClient:
        raise NoClientError({"inner": "x"})

    candidates = [
        ("refused", lambda: APIClient(Scripted("r", status=0))),
        ("forbidden", lambda: APIClient(Scripted("f", status=403))),
        ("broken", broken),
    ]
    with pytest.raises(NoClientError) as error:
        detect_api_client(candidates)
    assert list(error.value.reasons) == ["refused", "forbidden", "broken"]
    assert "ConnectError" in error.value.reasons["refused"]
    assert "ForbiddenError" in error.value.reasons["forbidden"]
    assert str(error.value).startswith("failed to load any Kubernetes client:\n- refused: ConnectError")


def test_default_candidates_are_tried_in_cluster_first_then_kubeconfig_proxy_and_kubectl(tmp_path: Path) -> None:
    names = [name for name, _ in default_candidates({"HOME": str(tmp_path)})]
    assert names == ["in-cluster", "kubeconfig", "kubectl-proxy", "kubectl-raw"]


def test_outside_a_pod_without_kubeconfig_the_first_two_candidates_say_why(tmp_path: Path) -> None:
    candidates = default_candidates({"HOME": str(tmp_path)}, serviceaccount_root=tmp_path)[:2]
    with pytest.raises(NoClientError) as error:
        detect_api_client(candidates)
    assert "KUBERNETES_SERVICE_HOST" in error.value.reasons["in-cluster"]
    assert str(tmp_path / ".kube" / "config") in error.value.reasons["kubeconfig"]


def test_a_kubectl_that_fails_without_a_server_answer_runs_once_not_eleven_times(tmp_path: Path) -> None:
    # Before: auto-detection retried the failure 10 times, a second apart (11 kubectl runs, 11.6 s).
    runs = tmp_path / "runs"
    kubectl = tmp_path / "kubectl"
    kubectl.write_text(
        f"#!{sys.executable}\nimport sys\nopen({str(runs)!r}, 'a').write('run\\n')\n"
        "sys.stderr.write('error: no context is set\\n')\nsys.exit(1)\n"
    )
    kubectl.chmod(0o755)
    candidates = default_candidates(
        {"HOME": str(tmp_path)}, serviceaccount_root=tmp_path, proxy_url="http://127.0.0.1:1", kubectl=str(kubectl)
    )

    with pytest.raises(NoClientError) as raised:
        detect_api_client(candidates)

    assert "no context is set" in raised.value.reasons["kubectl-raw"]
    assert runs.read_text().count("run") == 1
