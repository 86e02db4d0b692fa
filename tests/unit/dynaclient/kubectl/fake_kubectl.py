"""A kubectl stand-in for the KubectlRawTransport tests, and kubectl's stderr as it prints it.

The stand-in is a Python script that records its argv and stdin and replays a scripted output. The stderr samples
are what kubectl v1.32 (dispatcher) and v1.33 printed against a real kube-apiserver 1.34.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from dynaclient.request import Response
from dynaclient.transport.kubectl import KubectlRawTransport

_FAKE_KUBECTL = """\
#!{python}
import json, os, sys, time
here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "scenario.json")) as f:
    scenario = json.load(f)
stdin = sys.stdin.buffer.read().decode()
with open(os.path.join(here, "calls.jsonl"), "a") as f:
    f.write(json.dumps({{"argv": sys.argv[1:], "stdin": stdin, "pid": os.getpid()}}) + "\\n")
sys.stderr.write(scenario["stderr"])
sys.stderr.flush()
for line in scenario["stdout_lines"]:
    sys.stdout.write(line)
    sys.stdout.flush()
if scenario["fifo"]:
    with open(scenario["fifo"], "w") as fifo:
        fifo.write("started")
if scenario["hang"]:
    time.sleep(3600)
sys.exit(scenario["exit"])
"""

V133_RESPONSE = 'I1121 04:41:47.873532   17338 round_trippers.go:632] "Response" verb="{verb}" url="https://127.0.0.1:55057/api" status="{status}" milliseconds=5\n'  # noqa: E501
V132_RESPONSE = "I1121 04:41:47.735658   17329 round_trippers.go:560] {verb} https://127.0.0.1:55057/api {status} in 2 milliseconds\n"  # noqa: E501
V133_NOISE = (
    "I1121 04:41:47.868075   17338 loader.go:402] Config loaded from file:  /tmp/kubeconfig\n"
    'I1121 04:41:47.868416   17338 envvar.go:172] "Feature gate default state" feature="InOrderInformers" enabled=1\n'
)
SKEW_WARNING = (
    "WARNING: version difference between client (1.32) and server (1.34) exceeds the supported minor version skew "
    "of +/-1\n"
)


def _dump(reason: str, message: str, code: int, printed: str, **details: str) -> str:
    """Kubectl's -v=6 stderr for an error Status: the indented Status dump, then its own message line."""
    status: dict[str, Any] = {"metadata": {}, "status": "Failure", "message": message, "reason": reason}
    status |= {"details": details, "code": code} if details else {"code": code}
    dumped = json.dumps(status, indent=2)
    return f"I1121 04:41:47.874015   17338 helpers.go:246] server response object: %s[{dumped}]\n{printed}\n"


NOT_FOUND_DUMP = _dump(
    "NotFound",
    'configmaps "nope" not found',
    404,
    'Error from server (NotFound): configmaps "nope" not found',
    name="nope",
    kind="configmaps",
)
MODIFIED = 'Operation cannot be fulfilled on configmaps "x3": the object has been modified'
CONFLICT_DUMP = _dump(
    "Conflict", MODIFIED, 409, f"Error from server (Conflict): {MODIFIED}", name="x3", kind="configmaps"
)
INVALID_MESSAGE = (
    'The ConfigMap "BAD_" is invalid: metadata.name: Invalid value: "BAD_": a lowercase RFC 1123 subdomain must '
    "consist of lower case alphanumeric characters\n"
)
INVALID_TWO_CAUSES = (
    'The Pod "p" is invalid: \n* spec.containers: Required value\n* metadata.name: Invalid value: "P"\n'
)
UNAUTHORIZED = _dump("Unauthorized", "Unauthorized", 401, "error: You must be logged in to the server (Unauthorized)")
WATCH_EVENT = '{"type":"ADDED","object":{"kind":"ConfigMap","metadata":{"name":"a"}}}\n'


class FakeKubectl:
    """A kubectl stand-in in a temporary directory.

    Thread-safety: confined to the test's thread (the transport runs the script, which only reads the scenario).
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / "kubectl"
        self.path.write_text(_FAKE_KUBECTL.format(python=sys.executable))
        self.path.chmod(0o755)
        self.script()

    def script(
        self,
        *,
        stdout: str = "",
        stderr: str = "",
        exit_code: int = 0,
        hang: bool = False,
        fifo: Path | None = None,
        stdout_lines: list[str] | None = None,
    ) -> None:
        scenario = {
            "stdout_lines": stdout_lines if stdout_lines is not None else [stdout],
            "stderr": stderr,
            "exit": exit_code,
            "hang": hang,
            "fifo": str(fifo) if fifo else None,
        }
        (self.directory / "scenario.json").write_text(json.dumps(scenario))

    def calls(self) -> list[dict[str, Any]]:
        log = self.directory / "calls.jsonl"
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []

    def only_call(self) -> dict[str, Any]:
        calls = self.calls()
        assert len(calls) == 1
        return calls[0]

    def transport(self, **kwargs: Any) -> KubectlRawTransport:
        return KubectlRawTransport(str(self.path), **kwargs)


@pytest.fixture
def fake(tmp_path: Path) -> FakeKubectl:
    return FakeKubectl(tmp_path)


def process_is_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def status_of(response: Response) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(response.read())
    return body


CM_PATH = "/api/v1/namespaces/default/configmaps"


__all__ = [
    "CM_PATH",
    "CONFLICT_DUMP",
    "INVALID_MESSAGE",
    "INVALID_TWO_CAUSES",
    "MODIFIED",
    "NOT_FOUND_DUMP",
    "SKEW_WARNING",
    "UNAUTHORIZED",
    "V132_RESPONSE",
    "V133_NOISE",
    "V133_RESPONSE",
    "WATCH_EVENT",
    "FakeKubectl",
    "fake",
    "process_is_gone",
    "status_of",
]
