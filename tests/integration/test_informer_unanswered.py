"""Requests that never get a response: the bounds on a watch or list waiting for its headers, and an informer
whose reconnections go nowhere (issue 10, item 4).

The requests go through a loopback proxy that swallows them: the connection opens, but no byte ever comes back.
"""

from __future__ import annotations

import threading
import time

import pytest

import dynaclient.transport.http as http_transport
from dynaclient import Cancellation, RequestCancelled, TransportTimeout
from dynaclient.testing import ControlPlane
from dynaclient.testing.pytest_plugin import ExistingCluster
from tests.integration.chaos_rig import proxied_informer, wait_for_health
from tests.integration.loopback_proxy import LoopbackProxy, client_through


def test_a_watch_whose_response_headers_never_come_times_out(
    proxy: LoopbackProxy,
    kube_apiserver: ControlPlane | ExistingCluster,
    namespace: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(http_transport, "STREAM_HEADER_TIMEOUT", 1.0)
    client = client_through(proxy, kube_apiserver)
    configmaps = client.resource("configmaps").namespace(namespace)  # discovery before the proxy swallows
    proxy.swallowing = True
    proxy.cut()  # and the pooled connection goes
    started = time.monotonic()
    with pytest.raises(TransportTimeout, match=r"timed out after 1\.0s"):
        configmaps.watch()
    assert time.monotonic() - started < 10.0
    client.api_client.close()


def test_a_cancelled_list_or_watch_returns_while_it_waits_for_response_headers(
    proxy: LoopbackProxy, kube_apiserver: ControlPlane | ExistingCluster, namespace: str
) -> None:
    client = client_through(proxy, kube_apiserver)
    configmaps = client.resource("configmaps").namespace(namespace)
    proxy.swallowing = True
    proxy.cut()
    for call in (lambda c: configmaps.list_page(cancellation=c), lambda c: configmaps.watch(cancellation=c)):
        cancellation = Cancellation()
        threading.Timer(0.5, cancellation.cancel).start()
        started = time.monotonic()
        with pytest.raises(RequestCancelled):
            call(cancellation)
        assert time.monotonic() - started < 5.0
    client.api_client.close()


def test_an_informer_whose_watch_request_gets_no_response_says_so_and_still_shuts_down_at_once(
    proxy: LoopbackProxy, kube_apiserver: ControlPlane | ExistingCluster, namespace: str
) -> None:
    with proxied_informer(proxy, kube_apiserver, namespace, stall_timeout=2.0) as (factory, informer, _):
        proxy.swallowing = True
        proxy.cut()  # the watch breaks; every reconnection goes nowhere
        took = wait_for_health(informer, lambda h: "got no response for 2 s" in (h.current_error or ""), 10.0)
        assert took < 2.0 + 3.0
        started = time.monotonic()
        assert factory.shutdown(timeout=2.0)  # a request is waiting for its response right now
        assert time.monotonic() - started < 2.0
