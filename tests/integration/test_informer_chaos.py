"""Chaos: an informer under apiserver restarts, etcd compactions, connection cuts and black holes, while a writer
keeps writing (issue 10, item 4).

The informer reaches the API server through a loopback TCP proxy (:class:`LoopbackProxy`, set up by
tests/integration/chaos_rig.py) that resets connections (cuts) or freezes them for good (black holes). A seeded
schedule of disruptions runs against the session's control plane while a writer thread, on a direct connection of
its own, creates, updates and deletes ConfigMaps among a few names. Every black hole must be noticed within the
reflector's stall timeout. Once the writer stops and the cache has caught up, the handler history must be consistent
with the server, key by key: replaying it gives exactly the server's objects (names, uids and resourceVersions),
which is also what the cache holds. Nothing lost, nothing phantom, and no object replaced by another of the same
name without a delete in between.

The bounds on one failure at a time have modules of their own: frozen connections in test_informer_black_holes.py,
requests that get no response in test_informer_unanswered.py.

``pytest -m slow -s`` runs 100 rounds (seed from ``DYNACLIENT_CHAOS_SEED``) and prints the figures.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from dynaclient import (
    ConflictError,
    DynamicClient,
    NotFoundError,
    ResourceClient,
    ServerError,
    TooManyRequestsError,
    TransportError,
)
from dynaclient.testing import ControlPlane
from informers import Backoff, DeletedFinalStateUnknown, SharedIndexInformer
from informers.testing import RecordingHandler
from tests.integration.chaos_history import Replay, Version, diff, replay, versions
from tests.integration.chaos_rig import (
    CONVERGENCE_TIMEOUT,
    DETECTION_SLACK,
    ChaosInformer,
    WatchCounter,
    chaos_informer_of,
    noticed,
    reflector_status,
    wait_for_health,
)
from tests.integration.loopback_proxy import LoopbackProxy

NAMES = tuple(f"cm-{index:02d}" for index in range(30))
"""The writer's key space: small, so that keys are created, updated and deleted many times over."""

DISRUPTIONS = ("cut", "cut+cut", "black-hole", "restart", "compact", "compact+restart", "compact+cut")
"""What a round does: ``cut`` resets every connection of the informer at the proxy; ``cut+cut`` also cuts the next
watch as soon as it opens (a very short watch); ``black-hole`` freezes every connection of the informer for good
(the watch's among them: no byte passes either way, and no error comes) and waits until the informer notices;
``restart`` restarts kube-apiserver; ``compact`` compacts etcd up to its current revision, which the watch cache
hides until ``compact+restart``: then the watch's resourceVersion has expired (the new watch cache starts at the
compacted revision), hence a relist."""

WEIGHTS = (2.0, 1.5, 1.5, 1.5, 1.0, 1.5, 1.0)
"""Restarts in about 25 % of the rounds: each takes about 3 s."""

CHAOS_STALL_TIMEOUT = 5.0
"""The informer's stall timeout in the chaos runs. The default (65 s) waits out the server's minute bookmarks on a
quiet watch; here the writer makes many events a second, so a watch silent for 5 s is as surely dead, and the
rounds stay short. The rule and the code are the same (the slow default-bound test of test_informer_black_holes.py
covers 65 s)."""

TOLERATED = (TransportError, ServerError, TooManyRequestsError, ConflictError, NotFoundError)
"""What the writer shrugs off: the apiserver restarting (no connection, 5xx, 429 while it shuts down), and the
races of blind writes (conflict, already exists, not found)."""


class Writer:
    """Creates, updates and deletes ConfigMaps named from :data:`NAMES` at random until stopped.

    Every write stores a new sequence number in ``data.seq``, so each version is distinct. Errors in
    :data:`TOLERATED` are counted and skipped; any other error stops the writer and is raised by :meth:`stop`.

    Thread-safety: :meth:`start` and :meth:`stop` from the test's thread; the counters are read after :meth:`stop`.
    """

    def __init__(self, configmaps: ResourceClient, rng: random.Random) -> None:
        self._configmaps = configmaps
        self._rng = rng
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="chaos-writer", daemon=True)
        self._error: BaseException | None = None
        self._sequence = 0
        self.accepted = 0
        self.rejected: Counter[str] = Counter()

    def start(self) -> None:
        """Start writing."""
        self._thread.start()

    def stop(self) -> None:
        """Stop writing and wait for the write in flight; idempotent.

        Raises:
            BaseException: the writer's unexpected error (once).
        """
        self._stop.set()
        self._thread.join(30.0)
        assert not self._thread.is_alive(), "the writer did not stop within 30 s"
        error, self._error = self._error, None
        if error is not None:
            raise error

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                self._write_once()
                self._stop.wait(self._rng.uniform(0.0, 0.02))  # pacing, not synchronisation
        except BaseException as error:  # raised again by stop(), in the test's thread
            self._error = error

    def _write_once(self) -> None:
        name = self._rng.choice(NAMES)
        operation = self._rng.choices(("create", "update", "patch", "delete"), weights=(4, 3, 3, 2))[0]
        self._sequence += 1
        data = {"seq": str(self._sequence)}
        try:
            if operation == "create":
                self._configmaps.create({"metadata": {"name": name}, "data": data})
            elif operation == "update":
                current = self._configmaps.get(name)
                self._configmaps.update({**current, "data": data})
            elif operation == "patch":
                self._configmaps.patch(name, {"data": data})
            else:
                self._configmaps.delete(name)
        except TOLERATED as error:
            self.rejected[type(error).__name__] += 1
            if isinstance(error, TransportError | ServerError | TooManyRequestsError):
                self._stop.wait(0.05)  # the apiserver is restarting: do not spin
        else:
            self.accepted += 1


@dataclass
class Figures:
    """What a chaos run did and found, for the report and the assertion messages.

    Thread-safety: confined to the test's thread.
    """

    seed: int
    rounds: int = 0
    disruptions: Counter[str] = field(default_factory=Counter)
    writes: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    events: int = 0
    lost: int = 0
    phantom: int = 0
    violations: int = 0
    recreates: int = 0
    black_holes: int = 0
    detections: list[float] = field(default_factory=list)
    tombstones: int = 0
    cuts: int = 0
    relists: int = 0
    watch_restarts: int = 0
    seconds: float = 0.0

    @property
    def slowest_detection(self) -> float:
        """The longest a black hole took to be noticed, in seconds; ``0`` without any."""
        return max(self.detections, default=0.0)

    def __str__(self) -> str:
        return (
            f"seed={self.seed} rounds={self.rounds} events={self.events} lost={self.lost} phantom={self.phantom}"
            f" violations={self.violations} relists={self.relists} watch_restarts={self.watch_restarts}"
            f" cuts={self.cuts} black_holes={self.black_holes} noticed_within_s={self.slowest_detection:.1f}"
            f" (stall timeout {CHAOS_STALL_TIMEOUT:.0f} s) tombstones={self.tombstones}"
            f" recreates_as_tombstone_then_add={self.recreates}"
            f" writes={self.writes} rejected={dict(self.rejected)} disruptions={dict(self.disruptions)}"
            f" seconds={self.seconds:.0f}"
        )


def schedule(rng: random.Random, rounds: int) -> list[str]:
    """Return the disruption of each round: every kind once first (in a random order), then weighted draws."""
    first = rng.sample(DISRUPTIONS, len(DISRUPTIONS))
    return (first + rng.choices(DISRUPTIONS, weights=WEIGHTS, k=max(0, rounds - len(first))))[:rounds]


def disrupt(
    plane: ControlPlane,
    proxy: LoopbackProxy,
    watches: WatchCounter,
    informer: SharedIndexInformer,
    disruption: str,
) -> float | None:
    """Perform one round's disruption; for a black hole, return the seconds it took the informer to notice it."""
    if disruption.startswith("compact"):
        plane.compact_etcd()
    if disruption.endswith("restart"):
        plane.restart_apiserver()
    if disruption.endswith("cut"):
        opened = watches.opened
        proxy.cut()
        if disruption == "cut+cut":
            watches.wait_opened(opened + 1, timeout=10.0)
            proxy.cut()
    if disruption == "black-hole":
        return black_hole(proxy, informer)
    return None


def black_hole(proxy: LoopbackProxy, informer: SharedIndexInformer) -> float:
    """Freeze the informer's connections while it watches; return the seconds until it noticed and renewed the
    watch (or, when the renewal met a frozen pooled connection too, until it said so)."""
    wait_for_health(informer, lambda h: h.watching and h.current_error is None, CONVERGENCE_TIMEOUT)
    before = reflector_status(informer.health())
    proxy.freeze()
    bound = CHAOS_STALL_TIMEOUT + DETECTION_SLACK
    took = wait_for_health(informer, lambda h: noticed(before, reflector_status(h)), 4 * bound)
    assert took <= bound, f"a black hole took {took:.1f} s to be noticed, more than {bound:.0f} s"
    return took


def converge(
    informer: SharedIndexInformer, configmaps: ResourceClient, handler: RecordingHandler
) -> tuple[dict[str, Version], dict[str, Version], Replay]:
    """Wait until the cache and the replayed history equal the server, or the deadline; return all three."""
    deadline = time.monotonic() + CONVERGENCE_TIMEOUT
    while True:
        server = versions(list(configmaps.list(limit=0)))
        cache, history = versions(informer.store.list()), replay(handler)
        if (server == cache == history.model) or time.monotonic() > deadline:
            return server, cache, history
        threading.Event().wait(0.2)  # polling a condition with a deadline


def chaos_reflector_options(seed: int) -> dict[str, Any]:
    """The reflector options of the chaos runs: a lower backoff cap than client-go's 30 s keeps the rounds short."""
    return {"backoff": Backoff(cap=2.0, rand=random.Random(seed).random), "stall_timeout": CHAOS_STALL_TIMEOUT}


def run_chaos(
    chaos_informer: Callable[[RecordingHandler], ChaosInformer],
    plane: ControlPlane,
    proxy: LoopbackProxy,
    writer_client: DynamicClient,
    namespace: str,
    *,
    rounds: int,
    seed: int,
) -> Figures:
    """Run ``rounds`` seeded disruptions under a writer, then check the handler history against the server."""
    rng, figures, started = random.Random(seed), Figures(seed), time.monotonic()
    handler = RecordingHandler()
    writer = Writer(writer_client.resource("configmaps").namespace(namespace), random.Random(seed + 1))
    configmaps = writer_client.resource("configmaps").namespace(namespace)
    writer.start()
    chaos: ChaosInformer | None = None
    try:
        chaos = chaos_informer(handler)
        informer = chaos.informer
        for disruption in schedule(rng, rounds):
            detection = disrupt(plane, proxy, chaos.watches, informer, disruption)
            if detection is not None:
                figures.detections.append(detection)
            figures.rounds += 1
            figures.disruptions[disruption] += 1
            threading.Event().wait(rng.uniform(0.2, 1.2))  # pacing the schedule, not synchronisation
        writer.stop()
        server, cache, history = converge(informer, configmaps, handler)
    except BaseException as error:
        error.add_note(f"chaos seed {seed}")
        raise
    finally:
        writer.stop()
        stopped = chaos is not None and chaos.shutdown()
    health = informer.health()
    figures.writes, figures.rejected = writer.accepted, writer.rejected
    figures.events, figures.violations = len(handler.calls), len(history.violations)
    figures.recreates = history.recreates
    figures.lost = sum(history.model.get(key) != version for key, version in server.items())
    figures.phantom = sum(key not in server for key in history.model)
    figures.relists, figures.watch_restarts = health.lists - 1, health.watch_restarts
    figures.tombstones = sum(isinstance(obj, DeletedFinalStateUnknown) for obj in handler.objects)
    figures.cuts, figures.black_holes = proxy.cuts, proxy.freezes
    figures.seconds = time.monotonic() - started
    print(f"\nchaos: {figures}")  # noqa: T201 - the figures, with -s
    problems = [*history.violations, *diff("handler", history.model, server), *diff("cache", cache, server)]
    assert not problems, f"chaos: {figures}\n" + "\n".join(problems[:50])
    assert stopped, f"informer threads still running after shutdown; chaos: {figures}"
    assert health.watch_restarts > 0, f"no watch was ever reopened: the chaos did nothing; {figures}"
    assert figures.detections, f"no black hole in the schedule; chaos: {figures}"
    return figures


@pytest.mark.timeout(240)
def test_chaos_small_leaves_every_keys_handler_history_consistent_with_the_server(
    request: pytest.FixtureRequest, flavour: str, restartable_plane: ControlPlane, proxy: LoopbackProxy, namespace: str
) -> None:
    seed = 20240605
    informer = chaos_informer_of(
        request, flavour, restartable_plane, proxy, namespace, reflector=chaos_reflector_options(seed)
    )
    run_chaos(
        informer, restartable_plane, proxy, request.getfixturevalue("writer_client"), namespace, rounds=7, seed=seed
    )


@pytest.mark.slow
@pytest.mark.timeout(2400)
def test_chaos_100_rounds_leave_every_keys_handler_history_consistent_with_the_server(
    request: pytest.FixtureRequest, flavour: str, restartable_plane: ControlPlane, proxy: LoopbackProxy, namespace: str
) -> None:
    seed = int(os.environ.get("DYNACLIENT_CHAOS_SEED", "1700"))
    informer = chaos_informer_of(
        request, flavour, restartable_plane, proxy, namespace, reflector=chaos_reflector_options(seed)
    )
    run_chaos(
        informer, restartable_plane, proxy, request.getfixturevalue("writer_client"), namespace, rounds=100, seed=seed
    )
