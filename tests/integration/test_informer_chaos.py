"""Chaos: an informer under apiserver restarts, etcd compactions, connection cuts and black holes, while a writer
keeps writing; and the bounds on dead, frozen and unanswered connections (issue 10, item 4).

The informer reaches the API server through a loopback TCP proxy (:class:`LoopbackProxy`) that resets connections
(cuts) or freezes them for good (black holes). A seeded schedule of disruptions runs against the session's control
plane while a writer thread, on a direct connection of its own, creates, updates and deletes ConfigMaps among a few
names. Every black hole must be noticed within the reflector's stall timeout. Once the writer stops and the cache
has caught up, the handler history must be consistent with the server, key by key: replaying it gives exactly the
server's objects (names, uids and resourceVersions), which is also what the cache holds. Nothing lost, nothing
phantom, and no object replaced by another of the same name without a delete in between.

``pytest -m slow -s`` runs 100 rounds (seed from ``DYNACLIENT_CHAOS_SEED``) and prints the figures.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import os
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest

import dynaclient.transport.http as http_transport
from dynaclient import (
    Cancellation,
    ConflictError,
    Discovery,
    DynamicClient,
    JSONObject,
    NotFoundError,
    RequestCancelled,
    ResourceClient,
    RESTMapper,
    ServerError,
    TooManyRequestsError,
    TransportError,
    TransportTimeout,
    client_from_config,
    get_resource_version,
    get_uid,
    load_kubeconfig,
)
from dynaclient.aio import AsyncDynamicClient
from dynaclient.testing import ControlPlane
from dynaclient.testing.pytest_plugin import ExistingCluster
from informers import (
    Backoff,
    DeletedFinalStateUnknown,
    InformerHealth,
    ListerWatcher,
    ListPage,
    Reflector,
    ReflectorStatus,
    SharedIndexInformer,
    SharedInformerFactory,
    WatchStream,
    client_lister_watcher_factory,
    meta_namespace_key,
)
from informers.aio import (
    AsyncEventStream,
    AsyncListerWatcher,
    AsyncReflector,
    AsyncResourceListWatch,
    AsyncSharedInformerFactory,
)
from informers.factory import Resource
from informers.reflector.reflector import DEFAULT_STALL_TIMEOUT
from informers.testing import HandlerCall, RecordingHandler
from tests.integration.flavours import LoopThread
from tests.integration.loopback_proxy import LoopbackProxy, client_through

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
rounds stay short. The rule and the code are the same (the slow default-bound test below covers 65 s)."""

DETECTION_SLACK = 3.0
"""Seconds a black hole may take to be noticed beyond the stall timeout: the guard's wake-up and a loaded machine."""

TOLERATED = (TransportError, ServerError, TooManyRequestsError, ConflictError, NotFoundError)
"""What the writer shrugs off: the apiserver restarting (no connection, 5xx, 429 while it shuts down), and the
races of blind writes (conflict, already exists, not found)."""

CONVERGENCE_TIMEOUT = 60.0
"""Seconds for the cache and the handler to reach the server's final state once the writer stops: more than the
reflector's backoff cap below, and a relist."""

Version = tuple[str, str]
"""``(uid, resourceVersion)``: one version of one object."""


@dataclass(frozen=True, slots=True)
class Replay:
    """The handler history replayed into a model of the server: key to the last version delivered.

    Attributes:
        model: each key the history leaves present, with the version last delivered for it.
        violations: every notification inconsistent with the ones before it, described.
        recreates: objects deleted and created again under one name that the handler saw only as a tombstone of
            the old object then an add of the new one (both missed by the watch, found by a relist).

    Thread-safety: immutable.
    """

    model: dict[str, Version]
    violations: tuple[str, ...]
    recreates: int


def replay(handler: RecordingHandler) -> Replay:
    """Replay ``handler``'s calls: add and update set a key, delete and tombstone remove it; check each step.

    See :func:`inconsistencies` for the checks.
    """
    model: dict[str, Version] = {}
    newest: dict[str, int] = {}
    violations: list[str] = []
    recreates = 0
    tombstoned: dict[str, str] = {}  # key -> the uid of the tombstone just delivered for it
    for index, (call, obj) in enumerate(zip(handler.calls, handler.objects, strict=True)):
        kind, key, version, extra = call
        uid = get_uid(obj.obj if isinstance(obj, DeletedFinalStateUnknown) else obj)
        new_version = str(extra) if kind == "update" else version
        last = model.get(key)
        found = inconsistencies(call, uid, last, newest.get(key))
        violations += [f"#{index} {call} uid={uid}: {what} (the handler had {last})" for what in found]
        recreates += kind == "add" and key in tombstoned and tombstoned[key] != uid
        tombstoned.pop(key, None)
        if kind == "delete" and extra is True:
            tombstoned[key] = uid
        newest[key] = max(newest.get(key, 0), int(new_version))
        if kind == "delete":
            model.pop(key, None)
        else:
            model[key] = (uid, new_version)
    return Replay(model, tuple(violations), recreates)


def inconsistencies(call: HandlerCall, uid: str, last: Version | None, newest: int | None) -> list[str]:
    """Return what is wrong with ``call`` after a history that left ``last`` and reached ``newest`` for its key.

    Per key, resourceVersions (etcd revisions) only grow: an add, an update and a watched delete each carry a newer
    one than any delivered before; a tombstone (a delete inferred from a relist) carries the last one delivered. An
    update's old object is the one last delivered, and differs from the new one (no resync is configured). A key
    is added only when absent, updated and deleted only when present.
    """
    kind, _, version, extra = call
    tombstone = kind == "delete" and extra is True
    old_version, version = version, str(extra) if kind == "update" else version
    found = []
    if kind == "add" and last is not None:
        found.append("add of a key the handler already has")
    if kind != "add" and last is None:
        found.append(f"{kind} of a key the handler does not have")
    if kind == "update" and last is not None and old_version != last[1]:
        found.append("the update's old object is not the last one delivered")
    if kind == "update" and old_version == version:
        found.append("an update without a new resourceVersion")
    if kind == "update" and last is not None and uid != last[0]:
        found.append("an update from one object to another of the same name (a delete and a create)")
    if tombstone and last is not None and (uid, version) != last:
        found.append("a tombstone that is not the last version delivered")
    if kind == "delete" and not tombstone and last is not None and uid != last[0]:
        found.append("a delete of another object than the one delivered")
    if not tombstone and newest is not None and int(version) <= newest:
        found.append(f"resourceVersion {version} is not newer than {newest}")
    return found


class WatchCounter:
    """Counts the watches a lister-watcher opened, so that a test can act when the next one opens.

    Thread-safety: thread-safe (counted on the informer's thread or loop, waited for from the test's thread).
    """

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._opened = 0

    @property
    def opened(self) -> int:
        """How many watches were opened so far."""
        with self._condition:
            return self._opened

    def wait_opened(self, count: int, timeout: float) -> bool:
        """Block until ``count`` watches were opened, or ``timeout`` seconds pass; return which."""
        with self._condition:
            return self._condition.wait_for(lambda: self._opened >= count, timeout)

    def _count(self) -> None:
        with self._condition:
            self._opened += 1
            self._condition.notify_all()


class CountingListWatch(WatchCounter):
    """A ListerWatcher that counts the watches it opened.

    Thread-safety: thread-safe.
    """

    def __init__(self, inner: ListerWatcher) -> None:
        super().__init__()
        self._inner = inner

    def list_page(
        self,
        *,
        limit: int | None,
        continue_token: str | None,
        resource_version: str | None,
        resource_version_match: str | None,
        cancellation: Cancellation | None = None,
    ) -> ListPage:
        """List through the inner lister-watcher."""
        return self._inner.list_page(
            limit=limit,
            continue_token=continue_token,
            resource_version=resource_version,
            resource_version_match=resource_version_match,
            cancellation=cancellation,
        )

    def watch(
        self,
        *,
        resource_version: str,
        allow_bookmarks: bool,
        timeout_seconds: int | None,
        send_initial_events: bool,
        resource_version_match: str | None,
        cancellation: Cancellation | None = None,
    ) -> WatchStream:
        """Open a watch through the inner lister-watcher and count it."""
        stream = self._inner.watch(
            resource_version=resource_version,
            allow_bookmarks=allow_bookmarks,
            timeout_seconds=timeout_seconds,
            send_initial_events=send_initial_events,
            resource_version_match=resource_version_match,
            cancellation=cancellation,
        )
        self._count()
        return stream


class AsyncCountingListWatch(WatchCounter):
    """An async lister-watcher that counts the watches it opened (on the loop; waited for from a thread).

    Thread-safety: thread-safe.
    """

    def __init__(self, inner: AsyncListerWatcher) -> None:
        super().__init__()
        self._inner = inner

    async def list_page(self, **options: Any) -> ListPage:
        """List through the inner lister-watcher."""
        return await self._inner.list_page(**options)

    async def watch(self, **options: Any) -> AsyncEventStream:
        """Open a watch through the inner lister-watcher and count it."""
        stream = await self._inner.watch(**options)
        self._count()
        return stream


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
    before = _status(informer.health())
    proxy.freeze()
    bound = CHAOS_STALL_TIMEOUT + DETECTION_SLACK
    took = wait_for_health(informer, lambda h: _noticed(before, _status(h)), 4 * bound)
    assert took <= bound, f"a black hole took {took:.1f} s to be noticed, more than {bound:.0f} s"
    return took


def _status(health: InformerHealth) -> ReflectorStatus:
    assert isinstance(health.reflector, ReflectorStatus)
    return health.reflector


def _noticed(before: ReflectorStatus, now: ReflectorStatus) -> bool:
    unanswered = now.errors > before.errors and "got no response" in (now.last_error or "")
    return now.renewals > before.renewals or unanswered


def versions(objects: list[JSONObject]) -> dict[str, Version]:
    """Return each object's version by ``namespace/name`` key."""
    return {meta_namespace_key(obj): (get_uid(obj), get_resource_version(obj)) for obj in objects}


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


def diff(name: str, got: dict[str, Version], server: dict[str, Version]) -> list[str]:
    """Describe every key where ``got`` differs from ``server``."""
    keys = sorted(set(got) | set(server))
    return [
        f"{name} {key}: {got.get(key)} != server {server.get(key)}" for key in keys if got.get(key) != server.get(key)
    ]


@pytest.fixture
def plane(kube_apiserver: ControlPlane | ExistingCluster) -> Iterator[ControlPlane]:
    """The session's control plane, running and ready again after the test."""
    assert isinstance(kube_apiserver, ControlPlane), "chaos restarts the apiserver: it needs the local control plane"
    yield kube_apiserver
    assert kube_apiserver.running, "the control plane is not running after the chaos test"


@pytest.fixture
def writer_client(plane: ControlPlane) -> Iterator[DynamicClient]:
    """A client of the writer's own: its connections break with the apiserver's, not the informer's."""
    with client_from_config(load_kubeconfig(plane.kubeconfig_path)) as api:
        yield DynamicClient(api, RESTMapper(Discovery(api, cache_dir=False)))


@pytest.fixture
def writer_configmaps(kube_apiserver: ControlPlane | ExistingCluster, namespace: str) -> Iterator[ResourceClient]:
    """The ConfigMaps of ``namespace`` through a direct client of their own."""
    with client_from_config(load_kubeconfig(kube_apiserver.kubeconfig_path)) as api:
        yield (
            DynamicClient(api, RESTMapper(Discovery(api, cache_dir=False))).resource("configmaps").namespace(namespace)
        )


@contextlib.contextmanager
def proxied_informer(
    proxy: LoopbackProxy, kube_apiserver: ControlPlane | ExistingCluster, namespace: str, stall_timeout: float
) -> Iterator[tuple[SharedInformerFactory, SharedIndexInformer, RecordingHandler]]:
    """A synced ConfigMap informer reading through ``proxy``, with a short stall timeout; shut down after."""
    client = client_through(proxy, kube_apiserver)
    reflector = functools.partial(Reflector, stall_timeout=stall_timeout, backoff=Backoff(cap=1.0))
    factory = SharedInformerFactory(client, namespace=namespace, reflector_factory=reflector)
    informer, handler = factory.for_resource("configmaps"), RecordingHandler()
    informer.add_event_handler(handler)
    try:
        factory.start()
        assert all(factory.wait_for_cache_sync(30).values())
        yield factory, informer, handler
    finally:
        assert factory.shutdown(timeout=5.0), "the informer did not stop within 5 s"
        client.api_client.close()


def wait_for_health(informer: SharedIndexInformer, done: Callable[[InformerHealth], bool], timeout: float) -> float:
    """Poll the informer's health until ``done`` holds; return the seconds it took, or fail after ``timeout``."""
    started = time.monotonic()
    while not done(informer.health()):
        assert time.monotonic() - started < timeout, f"not within {timeout} s: {informer.health()}"
        threading.Event().wait(0.05)  # polling a condition with a deadline
    return time.monotonic() - started


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


def test_a_black_holed_watch_is_noticed_within_the_stall_timeout_and_the_informer_recovers(
    request: pytest.FixtureRequest,
    flavour: str,
    plane: ControlPlane,
    proxy: LoopbackProxy,
    namespace: str,
) -> None:
    writer_configmaps: ResourceClient = request.getfixturevalue("writer_configmaps")
    reflector = {"stall_timeout": 2.0, "backoff": Backoff(cap=1.0)}
    handler = RecordingHandler()
    chaos = chaos_informer_of(request, flavour, plane, proxy, namespace, reflector=reflector)(handler)
    informer = chaos.informer
    try:
        writer_configmaps.create({"metadata": {"name": "before"}})
        handler.wait_for(1)
        before = _status(informer.health())
        assert proxy.freeze() >= 1  # the watch's connection, and idle pooled ones
        took = wait_for_health(informer, lambda h: _noticed(before, _status(h)), 10.0)
        assert took < 2.0 + 3.0, "the frozen watch was not noticed within the stall timeout"
        writer_configmaps.create({"metadata": {"name": "after"}})
        assert [call[1] for call in handler.wait_for(2, timeout=30.0)][-1].endswith("/after")
        wait_for_health(informer, lambda h: h.current_error is None and h.watching, 10.0)
        assert informer.health().staleness is not None
    finally:
        assert chaos.shutdown(), "the informer did not stop"


@dataclass
class ChaosInformer:
    """A started ConfigMap informer of either flavour reading through the proxy, driven from the test's thread.

    Attributes:
        informer: the informer (its health and store are read from any thread).
        watches: counts the watches it opened.
        shutdown: stops it and closes its client; returns whether it stopped within 30 s.

    Thread-safety: used from the test's thread; the informer's reads are thread-safe.
    """

    informer: SharedIndexInformer
    watches: WatchCounter
    shutdown: Callable[[], bool]


def chaos_reflector_options(seed: int) -> dict[str, Any]:
    """The reflector options of the chaos runs: a lower backoff cap than client-go's 30 s keeps the rounds short."""
    return {"backoff": Backoff(cap=2.0, rand=random.Random(seed).random), "stall_timeout": CHAOS_STALL_TIMEOUT}


def threaded_chaos_informer(
    plane: ControlPlane, proxy: LoopbackProxy, namespace: str, handler: RecordingHandler, *, reflector: dict[str, Any]
) -> ChaosInformer:
    """Start and sync a threaded informer through ``proxy`` with ``handler``."""
    informer_client = client_through(proxy, plane)
    counters: list[CountingListWatch] = []
    client_factory = client_lister_watcher_factory(informer_client)

    def counting_factory(resource: Resource, ns: str | None, labels: str | None, fields: str | None) -> ListerWatcher:
        counters.append(CountingListWatch(client_factory(resource, ns, labels, fields)))
        return counters[-1]

    factory = SharedInformerFactory(
        informer_client,
        namespace=namespace,
        lister_watcher_factory=counting_factory,
        reflector_factory=functools.partial(Reflector, **reflector),
    )
    informer = factory.for_resource("configmaps")
    informer.add_event_handler(handler)

    def shutdown() -> bool:
        try:
            return factory.shutdown(timeout=30.0)
        finally:
            informer_client.api_client.close()

    factory.start()
    chaos = ChaosInformer(informer, counters[0], shutdown)
    if not all(factory.wait_for_cache_sync(CONVERGENCE_TIMEOUT).values()):
        shutdown()
        raise AssertionError("the informer did not sync")
    return chaos


def async_chaos_informer(
    loop: LoopThread,
    plane: ControlPlane,
    proxy: LoopbackProxy,
    namespace: str,
    handler: RecordingHandler,
    *,
    reflector: dict[str, Any],
) -> ChaosInformer:
    """Start and sync an asyncio informer through ``proxy`` on ``loop`` with ``handler`` (called on the loop)."""
    config = load_kubeconfig(plane.kubeconfig_path)
    host = urlsplit(config.server).hostname
    client = AsyncDynamicClient.from_config(
        dataclasses.replace(config, server=proxy.url, tls_server_name=config.tls_server_name or host)
    )
    counters: list[AsyncCountingListWatch] = []

    async def start() -> AsyncSharedInformerFactory:
        configmaps = (await client.resource("configmaps")).namespace(namespace)

        def counting_factory(*_: object) -> AsyncListerWatcher:
            counters.append(AsyncCountingListWatch(AsyncResourceListWatch(configmaps)))
            return counters[-1]

        factory = AsyncSharedInformerFactory(
            client,
            namespace=namespace,
            lister_watcher_factory=counting_factory,
            reflector_factory=functools.partial(AsyncReflector, **reflector),
        )
        (await factory.for_resource("configmaps")).add_event_handler(handler)
        factory.start()
        return factory

    factory = loop.run(start())
    (informer,) = factory.informers().values()

    def shutdown() -> bool:
        try:
            loop.run(asyncio.wait_for(factory.shutdown(), 30.0))
        except TimeoutError:
            return False
        finally:
            loop.run(client.aclose())
        return True

    chaos = ChaosInformer(informer, counters[0], shutdown)
    if not all(loop.run(factory.wait_for_cache_sync(CONVERGENCE_TIMEOUT)).values()):
        shutdown()
        raise AssertionError("the informer did not sync")
    return chaos


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


def chaos_informer_of(
    request: pytest.FixtureRequest,
    flavour: str,
    plane: ControlPlane,
    proxy: LoopbackProxy,
    namespace: str,
    *,
    reflector: dict[str, Any],
) -> Callable[[RecordingHandler], ChaosInformer]:
    """Build the informer of the ``flavour`` under test (the async one on the session's event loop thread)."""
    if flavour == "sync":
        return lambda handler: threaded_chaos_informer(plane, proxy, namespace, handler, reflector=reflector)
    loop: LoopThread = request.getfixturevalue("event_loop_thread")
    return lambda handler: async_chaos_informer(loop, plane, proxy, namespace, handler, reflector=reflector)


@pytest.mark.timeout(240)
def test_chaos_small_leaves_every_keys_handler_history_consistent_with_the_server(
    request: pytest.FixtureRequest, flavour: str, plane: ControlPlane, proxy: LoopbackProxy, namespace: str
) -> None:
    seed = 20240605
    informer = chaos_informer_of(request, flavour, plane, proxy, namespace, reflector=chaos_reflector_options(seed))
    run_chaos(informer, plane, proxy, request.getfixturevalue("writer_client"), namespace, rounds=7, seed=seed)


@pytest.mark.slow
@pytest.mark.timeout(2400)
def test_chaos_100_rounds_leave_every_keys_handler_history_consistent_with_the_server(
    request: pytest.FixtureRequest, flavour: str, plane: ControlPlane, proxy: LoopbackProxy, namespace: str
) -> None:
    seed = int(os.environ.get("DYNACLIENT_CHAOS_SEED", "1700"))
    informer = chaos_informer_of(request, flavour, plane, proxy, namespace, reflector=chaos_reflector_options(seed))
    run_chaos(informer, plane, proxy, request.getfixturevalue("writer_client"), namespace, rounds=100, seed=seed)


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
        quiet = _status(informer.health())
        # Bookmarks come only if the server's ConfigMap cache moved on; where they did not, renewals kept it fresh.
        assert quiet.bookmarks + quiet.renewals >= 2
        assert stalest < DEFAULT_STALL_TIMEOUT + DETECTION_SLACK
        proxy.freeze()
        took = wait_for_health(informer, lambda h: _noticed(quiet, _status(h)), DEFAULT_STALL_TIMEOUT + 30.0)
        writer_configmaps.create({"metadata": {"name": "after-the-black-hole"}})
        assert handler.wait_for(1, timeout=90.0)[-1][1].endswith("/after-the-black-hole")
        print(  # noqa: T201 - the figures, with -s
            f"\nquiet watch: {quiet.bookmarks} bookmarks, {quiet.renewals} renewals in 150 s, stalest {stalest:.1f} s;"
            f" black hole replaced in {took:.1f} s"
        )
        assert took <= DEFAULT_STALL_TIMEOUT + DETECTION_SLACK
