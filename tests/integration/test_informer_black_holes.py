"""Black holes: an informer whose connections freeze for good (no byte passes either way, and no error comes) notices
within its stall timeout and recovers; and with the default stall timeout (65 s) a quiet live watch is not taken
for a dead one (issue 10, item 4).

``pytest -m slow -s`` runs the default-bound test and prints its figures.
"""

from __future__ import annotations

import threading
import time

import pytest

from dynaclient import ResourceClient
from dynaclient.testing import ControlPlane
from dynaclient.testing.pytest_plugin import ExistingCluster
from informers import Backoff
from informers.reflector.reflector import DEFAULT_STALL_TIMEOUT
from informers.testing import RecordingHandler
from tests.integration.chaos_rig import (
    DETECTION_SLACK,
    chaos_informer_of,
    noticed,
    proxied_informer,
    reflector_status,
    wait_for_health,
)
from tests.integration.loopback_proxy import LoopbackProxy


def test_a_black_holed_watch_is_noticed_within_the_stall_timeout_and_the_informer_recovers(
    request: pytest.FixtureRequest,
    flavour: str,
    restartable_plane: ControlPlane,
    proxy: LoopbackProxy,
    namespace: str,
) -> None:
    writer_configmaps: ResourceClient = request.getfixturevalue("writer_configmaps")
    reflector = {"stall_timeout": 2.0, "backoff": Backoff(cap=1.0)}
    handler = RecordingHandler()
    chaos = chaos_informer_of(request, flavour, restartable_plane, proxy, namespace, reflector=reflector)(handler)
    informer = chaos.informer
    try:
        writer_configmaps.create({"metadata": {"name": "before"}})
        handler.wait_for(1)
        before = reflector_status(informer.health())
        assert proxy.freeze() >= 1  # the watch's connection, and idle pooled ones
        took = wait_for_health(informer, lambda h: noticed(before, reflector_status(h)), 10.0)
        assert took < 2.0 + 3.0, "the frozen watch was not noticed within the stall timeout"
        writer_configmaps.create({"metadata": {"name": "after"}})
        assert [call[1] for call in handler.wait_for(2, timeout=30.0)][-1].endswith("/after")
        wait_for_health(informer, lambda h: h.current_error is None and h.watching, 10.0)
        assert informer.health().staleness is not None
    finally:
        assert chaos.shutdown(), "the informer did not stop"


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_with_the_default_stall_timeout_a_quiet_watch_stays_fresh_and_a_black_hole_is_replaced_within_65_s(
    proxy: LoopbackProxy,
    kube_apiserver: ControlPlane | ExistingCluster,
    namespace: str,
    writer_configmaps: ResourceClient,
) -> None:
    with proxied_informer(proxy, kube_apiserver, namespace, stall_timeout=DEFAULT_STALL_TIMEOUT) as (
        _,
        informer,
        handler,
    ):
        quiet_until, stalest = time.monotonic() + 150.0, 0.0
        while time.monotonic() < quiet_until:  # nothing changes: the server may send no bookmark at all
            health = informer.health()
            assert health.current_error is None, f"a live quiet watch was taken for a failure: {health}"
            stalest = max(stalest, health.staleness or 0.0)
            threading.Event().wait(0.5)  # sampling the health over time
        quiet = reflector_status(informer.health())
        # Bookmarks come only if the server's ConfigMap cache moved on; where they did not, renewals kept it fresh.
        assert quiet.bookmarks + quiet.renewals >= 2
        assert stalest < DEFAULT_STALL_TIMEOUT + DETECTION_SLACK
        proxy.freeze()
        took = wait_for_health(informer, lambda h: noticed(quiet, reflector_status(h)), DEFAULT_STALL_TIMEOUT + 30.0)
        writer_configmaps.create({"metadata": {"name": "after-the-black-hole"}})
        assert handler.wait_for(1, timeout=90.0)[-1][1].endswith("/after-the-black-hole")
        print(  # noqa: T201 - the figures, with -s
            f"\nquiet watch: {quiet.bookmarks} bookmarks, {quiet.renewals} renewals in 150 s, stalest {stalest:.1f} s;"
            f" black hole replaced in {took:.1f} s"
        )
        assert took <= DEFAULT_STALL_TIMEOUT + DETECTION_SLACK
