"""Shared test configuration: everything under tests/integration is marked ``integration``.

The ``api_client`` and ``dynamic_client`` fixtures serve the integration tests and the real-server runs of the
conformance suite (tests/conformance).
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from dynaclient import APIClient, Discovery, DynamicClient, RESTMapper, client_from_config, load_kubeconfig
from dynaclient.testing import ControlPlane
from dynaclient.testing.pytest_plugin import ExistingCluster
from tests.integration.flavours import BlockingClient, LoopThread, blocking_client

_INTEGRATION = Path(__file__).parent / "integration"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _INTEGRATION in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def api_client(kube_apiserver: ControlPlane | ExistingCluster) -> Iterator[APIClient]:
    """An APIClient for the session's cluster, from its kubeconfig's current context."""
    with client_from_config(load_kubeconfig(kube_apiserver.kubeconfig_path)) as client:
        yield client


@pytest.fixture(scope="session")
def dynamic_client(api_client: APIClient) -> DynamicClient:
    """A DynamicClient over ``api_client``; discovery uncached on disk and refreshed at once on a miss."""
    return DynamicClient(api_client, RESTMapper(Discovery(api_client, cache_dir=False), min_refresh_interval=0))


@pytest.fixture(scope="session")
def event_loop_thread() -> Iterator[LoopThread]:
    """An event loop running in a background thread, for the ``async`` flavour of the shared scenarios."""
    loop = LoopThread()
    yield loop
    loop.close()


@pytest.fixture(scope="session")
def async_client(
    kube_apiserver: ControlPlane | ExistingCluster, event_loop_thread: LoopThread
) -> Iterator[BlockingClient]:
    """The asyncio client, seen from the test's thread (see tests/integration/flavours.py)."""
    client = blocking_client(event_loop_thread, str(kube_apiserver.kubeconfig_path))
    yield client
    event_loop_thread.run(client.client.aclose())


@pytest.fixture(params=["sync", "async"])
def flavour(request: pytest.FixtureRequest) -> str:
    """Which client a shared scenario runs against: the threaded one or the asyncio one."""
    return str(request.param)


@pytest.fixture
def kubectl_proxy(kube_apiserver: ControlPlane) -> Iterator[str]:
    """Run ``kubectl proxy --port=0`` against the plane; yield its URL."""
    command = ["kubectl", f"--kubeconfig={kube_apiserver.kubeconfig_path}", "proxy", "--port=0"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as proxy:
        assert proxy.stdout is not None
        line = proxy.stdout.readline()
        match = re.search(r"Starting to serve on 127\.0\.0\.1:(\d+)", line)
        assert match, f"unexpected kubectl proxy output: {line!r}"
        try:
            yield f"http://127.0.0.1:{match.group(1)}"
        finally:
            proxy.terminate()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Under ``DYNACLIENT_FAIL_ON_SKIP=1`` (set by scripts/check) a skipped test fails the run."""
    if not os.environ.get("DYNACLIENT_FAIL_ON_SKIP"):
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter is not None else 0
    if skipped and exitstatus == 0:
        print(f"\n{skipped} test(s) skipped: DYNACLIENT_FAIL_ON_SKIP turns that into a failure")  # noqa: T201
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
