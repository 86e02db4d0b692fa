"""The documentation site's code runs (issue 19): pages marked ``<!-- snippets: server -->`` run here against
the session's control plane, found through ``KUBECONFIG`` as a reader's own cluster would be."""

from __future__ import annotations

from pathlib import Path

import pytest

from dynaclient.testing import ControlPlane
from dynaclient.testing.pytest_plugin import ExistingCluster
from tests.docs.snippets import needs_server, page_id, pages, run_page

SERVER_PAGES = [page for page in pages() if needs_server(page)]


@pytest.mark.parametrize("page", SERVER_PAGES, ids=page_id)
def test_the_page_runs_against_the_server(
    page: Path, kube_apiserver: ControlPlane | ExistingCluster, namespace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(kube_apiserver.kubeconfig_path))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)  # auto-detection must pick the kubeconfig
    run_page(page, {"kube_apiserver": kube_apiserver, "namespace": namespace})  # the plugin's fixtures
