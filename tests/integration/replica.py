"""One replica process for the leader election and shard tests (run by them, not collected by pytest).

    python replica.py lead  --kubeconfig K --namespace N --identity I --log L
    python replica.py shard --kubeconfig K --namespace N --identity I --log L --records DIR

``lead``: a candidate of the Lease ``candidates``; it logs ``leading`` when it starts to lead. ``shard``: a replica
of the Sawtooth operator in the ring ``sawtooth``; it logs ``begin``/``end`` around each reconcile. Log lines are
JSON, appended whole with one ``write`` (O_APPEND), so lines of several processes never interleave. SIGTERM stops
the replica gracefully.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parents[2] / "examples"))
from sawtooth_operator import ExternalRecords, SawtoothOperator

from dynaclient import DynamicClient
from informers import LeaderElection, Request, Shards


class Log:
    """An append-only JSON-lines file shared by processes.

    Thread-safety: thread-safe (one ``os.write`` per line on an O_APPEND descriptor).
    """

    def __init__(self, path: Path, identity: str) -> None:
        self._fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        self._identity = identity

    def write(self, event: str, **fields: Any) -> None:
        line = json.dumps({"replica": self._identity, "event": event, "t": time.time(), **fields}) + "\n"
        os.write(self._fd, line.encode())


class LoggedOperator(SawtoothOperator):
    """The Sawtooth operator, logging each reconcile's start and end (and stretching it by ``delay``)."""

    def __init__(self, client: DynamicClient, records: ExternalRecords, log: Log, delay: float, **options: Any):
        self.log = log
        self.delay = delay
        super().__init__(client, records, **options)

    def reconcile(self, request: Request) -> None:
        self.log.write("begin", key=str(request))
        try:
            time.sleep(self.delay)  # a longer reconcile makes an overlap, if there were one, likelier to show
            super().reconcile(request)
        finally:
            self.log.write("end", key=str(request))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["lead", "shard"])
    parser.add_argument("--kubeconfig", type=Path, required=True)
    parser.add_argument("--namespace", required=True)
    parser.add_argument("--identity", required=True)
    parser.add_argument("--log", type=Path, required=True)
    parser.add_argument("--records", type=Path)
    parser.add_argument("--lease-duration", type=float, default=4)
    parser.add_argument("--renew-deadline", type=float, default=3)
    parser.add_argument("--retry-period", type=float, default=0.5)
    parser.add_argument("--delay", type=float, default=0.02)
    arguments = parser.parse_args()
    timing = {
        "lease_duration": arguments.lease_duration,
        "renew_deadline": arguments.renew_deadline,
        "retry_period": arguments.retry_period,
    }
    log = Log(arguments.log, arguments.identity)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with DynamicClient.from_kubeconfig(arguments.kubeconfig) as client:
        if arguments.mode == "lead":
            election = LeaderElection(
                client,
                "candidates",
                namespace=arguments.namespace,
                identity=arguments.identity,
                release_on_cancel=True,
                on_started_leading=lambda leading: log.write("leading"),
                on_stopped_leading=lambda: log.write("stopped"),
                **timing,
            )
            log.write("candidate")
            election.run(stop=stop)
            return
        operator = LoggedOperator(
            client, ExternalRecords(arguments.records), log, arguments.delay, namespace=arguments.namespace
        )
        shards = Shards(client, "sawtooth", namespace=arguments.namespace, identity=arguments.identity, **timing)
        log.write("joining")
        operator.controller.run(shards=shards, stop=stop)
        log.write("stopped")


if __name__ == "__main__":
    main()
