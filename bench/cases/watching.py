"""P3: how soon an informer's handler sees each write, under a paced writer in the same process.

Writer threads patch ``data.seq`` of the fixture objects in turn, ``rate`` times a second for ``seconds``. For
each sequence number the writer records, on ``time.perf_counter``, when its request was sent and when its response
arrived; the informer's ``on_update`` records when it saw that number. Latency is handler time minus write
completion (it can be slightly negative: the watch event may overtake the response); the same from the send time
is reported too. A write that completed and was never seen after ``drain_seconds`` is a lost event. Values carry
a per-run nonce (``<nonce>:<seq>``), so that a later run never writes a value an object already holds (a no-op
patch has no event).
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import uuid

import requests

from bench.cases.informing import _client, _synced_factory
from bench.measure import Metrics, case_main, percentile
from bench.target import RESOURCE, BenchTarget, object_name
from dynaclient import JSONObject

PATCH_HEADERS = {"Content-Type": "application/merge-patch+json"}


class Recorder:
    """Times of each sequence number: sent, written (response received) and seen by the handler.

    Thread-safety: thread-safe (dict writes of distinct keys under the GIL; readers wait for the writers to end).
    """

    def __init__(self) -> None:
        self.nonce = uuid.uuid4().hex[:8]
        self.sent: dict[int, float] = {}
        self.written: dict[int, float] = {}
        self.seen: dict[int, float] = {}
        self.failed = 0

    def value(self, seq: int) -> str:
        """Return the ``data.seq`` value written for ``seq`` in this run."""
        return f"{self.nonce}:{seq}"

    def on_update(self, _old: JSONObject, new: JSONObject) -> None:
        """Record when the handler saw the object's sequence number (values of other runs are ignored)."""
        now = time.perf_counter()
        nonce, _, seq = str((new.get("data") or {}).get("seq", "")).partition(":")
        if nonce == self.nonce:
            self.seen.setdefault(int(seq), now)

    def wait_seen(self, timeout: float) -> None:
        """Poll until every completed write was seen, or ``timeout`` seconds have passed."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.written.keys() <= self.seen.keys():
            time.sleep(0.01)  # a benchmark waiting for stragglers; not test synchronisation


class PacedWriter:
    """Hands out sequence numbers on a fixed schedule; each writer thread patches the object its number names.

    Thread-safety: thread-safe (numbers are taken under a lock; each thread has its own HTTP session).
    """

    def __init__(self, target: BenchTarget, recorder: Recorder, start: float) -> None:
        self.target = target
        self.recorder = recorder
        self.start = start
        self.end = start + target.watch.seconds
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()

    def run(self) -> None:
        """Write until the schedule ends (the body of one writer thread)."""
        target, recorder = self.target, self.recorder
        session = requests.Session()
        session.cert = (target.cert_path, target.key_path)
        base = f"{target.server}/api/v1/namespaces/{target.namespace}/{RESOURCE}/"
        interval = 1.0 / target.watch.rate
        while True:
            with self._lock:
                seq = next(self._numbers)
            due = self.start + (seq - 1) * interval
            if due >= self.end:
                return
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)  # pacing the writer, not synchronising a test
            body = json.dumps({"data": {"seq": recorder.value(seq)}})
            recorder.sent[seq] = time.perf_counter()
            # verify per request: REQUESTS_CA_BUNDLE in the environment overrides a session-level verify.
            url = base + object_name((seq - 1) % target.objects)
            response = session.patch(url, data=body, headers=PATCH_HEADERS, verify=target.ca_path, timeout=30)
            if response.ok:
                recorder.written[seq] = time.perf_counter()
            else:
                recorder.failed += 1


def informer_latency(target: BenchTarget) -> Metrics:
    client = _client(target)
    recorder = Recorder()
    factory, informer, _, _ = _synced_factory(target, client)
    informer.add_event_handler(on_update=recorder.on_update)
    paced = PacedWriter(target, recorder, start=time.perf_counter() + 0.2)
    start = paced.start
    writers = [threading.Thread(target=paced.run, name=f"bench-writer-{i}") for i in range(target.watch.writers)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    finished = time.perf_counter()
    recorder.wait_seen(target.watch.drain_seconds)
    factory.shutdown(30)
    written = recorder.written
    after_write = [(recorder.seen[s] - t) * 1000 for s, t in written.items() if s in recorder.seen]
    after_send = [(recorder.seen[s] - recorder.sent[s]) * 1000 for s in written if s in recorder.seen]
    return {
        "writes": float(len(written)),
        "write_failures": float(recorder.failed),
        "write_rate": len(written) / (finished - start),
        "target_rate": target.watch.rate,
        "lost_events": float(sum(1 for s in written if s not in recorder.seen)),
        "latency_p50_ms": percentile(after_write, 0.50),
        "latency_p99_ms": percentile(after_write, 0.99),
        "latency_max_ms": max(after_write, default=float("nan")),
        "from_send_p50_ms": percentile(after_send, 0.50),
        "from_send_p99_ms": percentile(after_send, 0.99),
    }


CASES = {"p3-dynaclient-informer": informer_latency}

if __name__ == "__main__":
    raise SystemExit(case_main(CASES))
