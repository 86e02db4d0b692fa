"""The Sawtooth operator example as a user's unit test: the whole controller on the fake client, no server."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dynaclient import NotFoundError
from dynaclient.testing import FakeDynamicClient

sys.path.insert(0, str(Path(__file__).parents[4] / "examples"))
from sawtooth_operator import CRD, FINALIZER, GROUP, ExternalRecords, SawtoothOperator


@pytest.fixture
def operator(tmp_path: Path) -> Iterator[SawtoothOperator]:
    client = FakeDynamicClient([CRD])
    operator = SawtoothOperator(client, ExternalRecords(tmp_path), namespace="default", workers=2)
    operator.controller.start(sync_timeout=10)
    yield operator
    assert operator.controller.stop(10)


def _until(operator: SawtoothOperator, check: Callable[[], bool]) -> None:
    """Wait (on the queue's condition, no sleep) until ``check`` holds: the fake's events arrive on threads."""

    def holds(_: object) -> bool:
        try:
            return check()
        except NotFoundError:
            return False

    assert operator.controller.queue.wait_until(holds, timeout=10)


def test_create_scale_break_and_delete_on_the_fake_client(operator: SawtoothOperator) -> None:
    sawtooths = operator.sawtooths.namespace("default")
    configmaps = operator.configmaps.namespace("default")
    sawtooths.create({"apiVersion": f"{GROUP}/v1", "kind": "Sawtooth", "metadata": {"name": "a"}, "spec": {"size": 2}})
    _until(operator, lambda: sawtooths.get("a").get("status") == {"observedSize": 2})
    assert configmaps.get("a")["data"] == {"size": "2"}
    assert sawtooths.get("a")["metadata"]["finalizers"] == [FINALIZER]
    sawtooths.patch("a", {"spec": {"size": 5}})
    _until(operator, lambda: sawtooths.get("a")["status"] == {"observedSize": 5})
    _until(operator, lambda: configmaps.get("a")["data"] == {"size": "5"})
    uid = configmaps.get("a")["metadata"]["uid"]
    configmaps.delete("a")
    _until(operator, lambda: configmaps.get("a")["metadata"]["uid"] != uid)
    assert configmaps.get("a")["data"] == {"size": "5"}
    assert operator.records.all() == {"default/a": 5}
    sawtooths.delete("a")
    _until(operator, lambda: not list(sawtooths.list()))
    assert operator.records.all() == {}
    assert operator.controller.stats().reconciles["error"] == 0
