"""Typed access checked by mypy: generated types catch misspelled keys and wrong values; untyped use is unchanged."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Any

import pytest
from mypy import api as mypy_api

from dynaclient.codegen import type_mismatches
from dynaclient.types.apiextensions.v1 import JSONSchemaProps
from dynaclient.types.apps.v1 import Deployment
from dynaclient.types.core.v1 import Container, Pod

REPO = Path(__file__).parents[3]

SAMPLE = """
from sawtooth_types.sawtooth_hyperledger_org.v1alpha1 import Sawtooth

from dynaclient import DynamicClient, ResourceClient
from dynaclient.types.core.v1 import Pod
from informers import Lister


def image(pod: Pod) -> str:
    return pod["spec"]["containers"][0]["image"]


def size(sawtooth: Sawtooth) -> int:
    return sawtooth["spec"]["size"]


def typed(client: DynamicClient, lister: Lister) -> None:
    pods = client.resource("pods", Pod).namespace("default")
    for pod in pods.list():
        print(image(pod))
    print(image(pods.get("web")))
    for event in pods.watch():
        print(image(event.object))
    print(image(pods.create({"metadata": {"name": "x"}, "spec": {"containers": [{"name": "c", "image": "i"}]}})))
    print(image(pods.apply({"metadata": {"name": "x"}}, field_manager="me")))
    print(image(lister.typed(Pod).get("web", "default")))
    sawtooths = client.resource("sawtooths.sawtooth.hyperledger.org", Sawtooth)
    print([size(s) for s in sawtooths.list()])


def untyped(client: DynamicClient) -> None:
    configmaps: ResourceClient = client.resource("configmaps").namespace("default")
    data: dict[str, str] = configmaps.get("settings")["data"]
    configmaps.create({"metadata": {"name": "x"}, "data": data})
"""

MISTAKES = """
from sawtooth_types.sawtooth_hyperledger_org.v1alpha1 import Sawtooth

from dynaclient import DynamicClient
from dynaclient.types.core.v1 import Pod


def image(pod: Pod) -> str:
    return pod["spec"]["containers"][0]["imagee"]


def size(sawtooth: Sawtooth) -> str:
    return sawtooth["spec"]["size"]


def wrong_values(client: DynamicClient) -> None:
    pods = client.resource("pods", Pod).namespace("default")
    pods.create({"metadata": {"name": "x"}, "spec": {"containers": [{"name": "c", "image": 3}]}})
    pods.create({"spec": {"containers": [{"image": "i"}]}})
    pods.get("web")["status"]["phase"] = "Runing"
    sawtooth: Sawtooth = {"spec": {"size": "3"}}
"""


def run_mypy(tmp_path: Path, name: str, text: str) -> list[str]:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    # The repository's configuration (strict; examples/ on the path for sawtooth_types) and its cache, which
    # scripts/check's mypy step has just filled, so this checks two small files.
    args = ["--config-file", str(REPO / "pyproject.toml"), "--cache-dir", str(REPO / ".mypy_cache"), str(path)]
    stdout, stderr, _ = mypy_api.run(args)
    assert stderr == ""
    return [re.sub(r"^.*?:(\d+): ", r"\1: ", line) for line in stdout.splitlines() if ": error:" in line]


@pytest.fixture(scope="module")
def mistakes(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    return run_mypy(tmp_path_factory.mktemp("mypy"), "mistakes.py", MISTAKES)


def test_a_typed_program_passes_mypy_strict(tmp_path: Path) -> None:
    assert run_mypy(tmp_path, "sample.py", SAMPLE) == []


def test_mypy_rejects_a_misspelled_field(mistakes: list[str]) -> None:
    assert any(line.startswith('9: error: TypedDict "Container" has no key "imagee"') for line in mistakes)


def test_mypy_rejects_wrong_value_types(mistakes: list[str]) -> None:
    expected = [
        '13: error: Incompatible return value type (got "int", expected "str")',
        '18: error: Incompatible types (expression has type "int", TypedDict item "image" has type "str")',
        '19: error: Missing key "name" for TypedDict "Container"',
        '20: error: Value of "phase" has incompatible type "Literal',
        '21: error: Incompatible types (expression has type "str", TypedDict item "size" has type "int")',
    ]
    for start in expected:
        assert any(line.startswith(start) for line in mistakes), (start, mistakes)


def test_type_mismatches_reports_paths_keys_and_values() -> None:
    pod: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "web", "labels": {"app": 1}},
        "spec": {"containers": [{"name": "c", "image": "i", "ports": [{"containerPort": "80"}]}], "bogus": True},
        "status": {"phase": "Runing", "conditions": [{"type": "Ready", "status": "True", "lastProbeTime": None}]},
    }
    assert [str(m) for m in type_mismatches(pod, Pod)] == [
        ".metadata.labels['app']: expected str, got int",
        ".spec.containers[0].ports[0].containerPort: expected int, got str",
        ".spec.bogus: not a key of PodSpec",
        ".status.phase: expected one of Failed, Pending, Running, Succeeded, Unknown, got Runing",
    ]
    assert [str(m) for m in type_mismatches({"spec": {"template": {}}}, Deployment)] == [
        ".spec: required key selector is missing"
    ]
    assert (
        type_mismatches({"status": {"conditions": [{"type": "Ready", "status": "True", "lastProbeTime": None}]}}, Pod)
        == []
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, "expected int, got bool"), (1.5, "expected int, got float"), (None, "expected int, got None")],
)
def test_an_int_is_not_a_bool_or_a_float(value: object, expected: str) -> None:
    container = {"name": "c", "ports": [{"containerPort": value}]}
    assert [m.problem for m in type_mismatches(container, Container)] == [expected]


def test_a_float_takes_an_int_as_mypy_does() -> None:
    assert type_mismatches({"type": "integer", "minimum": 1, "maximum": 2.5}, JSONSchemaProps) == []
    assert [str(m) for m in type_mismatches({"minimum": True}, JSONSchemaProps)] == [
        ".minimum: expected float, got bool"
    ]


def test_a_typed_client_returns_the_same_plain_dicts_as_an_untyped_one() -> None:
    from dynaclient.testing.fake import FakeDynamicClient
    from dynaclient.types.core.v1 import ConfigMap

    client = FakeDynamicClient()
    typed = client.resource("configmaps", ConfigMap).namespace("default")
    untyped = client.resource("configmaps").namespace("default")
    created = typed.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a"}, "data": {"k": "v"}})
    assert type(created) is dict
    assert typed.get("a") == untyped.get("a") == created
    assert [cm["data"] for cm in typed.list()] == [{"k": "v"}]
    assert type(typed).__name__ == type(untyped).__name__ == "ResourceClient"
    assert type_mismatches(created, ConfigMap) == []
