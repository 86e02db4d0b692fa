from __future__ import annotations

import datetime
from pathlib import Path

import pytest

from dynaclient.testing import kwok


def test_container_log_lines_are_in_the_cri_format(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    kwok.write_container_log(log, ["one", "two"], stream="stderr")
    lines = log.read_text().splitlines()
    assert [line.split(" ", 1)[1] for line in lines] == ["stderr F one", "stderr F two"]
    stamp = lines[0].split(" ", 1)[0]
    assert datetime.datetime.fromisoformat(stamp[:26] + "+00:00").tzinfo is not None


def test_a_log_line_with_a_newline_or_an_unknown_stream_is_refused() -> None:
    with pytest.raises(ValueError, match="newline"):
        kwok.cri_log_line("a\nb")
    with pytest.raises(ValueError, match="stream must be"):
        kwok.cri_log_line("a", stream="stdin")


def test_every_kind_kwok_reads_through_the_api_has_a_definition() -> None:
    crds = kwok.custom_resource_definitions()
    kinds = {crd["spec"]["names"]["kind"] for crd in crds}
    assert kinds == set(kwok.kwok_configuration(port=1, cert_file=Path(), key_file=Path())["options"]["enableCRDs"])
    namespaced = {c["spec"]["names"]["kind"] for c in crds if c["spec"]["scope"] == "Namespaced"}
    assert namespaced == {"Logs", "Exec", "Attach", "PortForward"}


def test_pod_objects_are_named_after_their_pod() -> None:
    forward = kwok.pod_port_forward("ns", "web", {80: 4000}, commands={81: ["cat"]})
    assert forward["metadata"] == {"name": "web", "namespace": "ns"}
    assert forward["spec"]["forwards"][1] == {"ports": [81], "command": ["cat"]}
    logs = kwok.pod_logs("ns", "web", Path("/l"), containers=["main"], previous_logs_file=Path("/p"))
    assert logs["spec"]["logs"] == [{"containers": ["main"], "logsFile": "/l", "previousLogsFile": "/p"}]
    assert kwok.resource_path("Logs", "ns") == "/apis/kwok.x-k8s.io/v1alpha1/namespaces/ns/logs"
