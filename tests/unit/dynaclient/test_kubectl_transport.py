"""KubectlRawTransport against a fake kubectl: a Python script that records its argv and stdin and replays output.

The stderr samples are what kubectl v1.32 (dispatcher) and v1.33 printed against a real kube-apiserver 1.34.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dynaclient.exceptions import (
    ConnectError,
    ConnectionLostError,
    RequestCancelled,
    TLSError,
    TransportError,
    TransportTimeout,
    UnsupportedRequestError,
)
from dynaclient.request import Cancellation, Request, Response
from dynaclient.transport import _kubectl_commands
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
    """A kubectl stand-in in a temporary directory."""

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


def _process_is_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _status(response: Response) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(response.read())
    return body


# --- the command lines -------------------------------------------------------------------------------------------

CM_PATH = "/api/v1/namespaces/default/configmaps"


@pytest.mark.parametrize(
    ("request_", "argv", "stdin"),
    [
        (
            Request("GET", CM_PATH, query=(("limit", "5"), ("labelSelector", "a=b"))),
            ["get", f"--raw={CM_PATH}?limit=5&labelSelector=a%3Db"],
            "",
        ),
        (Request("POST", CM_PATH, body=b'{"a":1}'), ["create", f"--raw={CM_PATH}", "-f", "-"], '{"a":1}'),
        (
            Request("PUT", f"{CM_PATH}/x", query=(("dryRun", "All"),), body=b'{"b":2}'),
            ["replace", f"--raw={CM_PATH}/x?dryRun=All", "-f", "-"],
            '{"b":2}',
        ),
        (Request("DELETE", f"{CM_PATH}/x"), ["delete", f"--raw={CM_PATH}/x"], ""),
        (
            Request("DELETE", f"{CM_PATH}/x", body=b'{"kind":"DeleteOptions","propagationPolicy":"Foreground"}'),
            ["delete", f"--raw={CM_PATH}/x", "-f", "-"],
            '{"kind":"DeleteOptions","propagationPolicy":"Foreground"}',
        ),
        (
            Request("GET", "/version", accept="application/json, */*;q=0.8"),
            ["get", "--raw=/version"],
            "",
        ),
    ],
    ids=["get-with-query", "post", "put-dry-run", "delete", "delete-with-options", "get-accepting-anything"],
)
def test_each_verb_runs_the_matching_kubectl_raw_command(
    fake: FakeKubectl, request_: Request, argv: list[str], stdin: str
) -> None:
    fake.script(stdout='{"kind":"ConfigMap"}')

    response = fake.transport().send(request_)

    assert (response.status, response.read()) == (200, b'{"kind":"ConfigMap"}')
    call = fake.only_call()
    assert call["argv"] == ["-v=6", *argv]
    assert call["stdin"] == stdin


def test_kubeconfig_context_and_extra_args_come_before_the_verb(fake: FakeKubectl) -> None:
    transport = fake.transport(kubeconfig=Path("/k/config"), context="ctx", extra_args=["--as=alice", "-v=9"])

    transport.send(Request("GET", "/api")).read()

    assert fake.only_call()["argv"] == [
        "--kubeconfig=/k/config",
        "--context=ctx",
        "--as=alice",
        "-v=9",
        "-v=6",
        "get",
        "--raw=/api",
    ]


def test_the_executable_defaults_to_the_kubectl_environment_variable_then_path(
    fake: FakeKubectl, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBECTL", str(fake.path))
    assert KubectlRawTransport().kubectl == str(fake.path)
    monkeypatch.delenv("KUBECTL")
    assert KubectlRawTransport().kubectl == "kubectl"


def test_a_missing_kubectl_is_a_connect_error_naming_the_executable(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-kubectl"

    with pytest.raises(ConnectError, match=f"{missing}.*was not found"):
        KubectlRawTransport(str(missing)).send(Request("GET", "/api"))


def _patch(path: str, body: bytes, content_type: str, **kwargs: Any) -> Request:
    return Request("PATCH", path, body=body, content_type=content_type, **kwargs)


MERGE = "application/merge-patch+json"
STDIN = "--patch-file=/dev/stdin"
OUT = ["--show-managed-fields", "-o", "json", "--"]


@pytest.mark.parametrize(
    ("request_", "argv"),
    [
        (
            _patch(f"{CM_PATH}/x", b'{"data":{"a":"b"}}', MERGE),
            ["--type=merge", "--namespace=default", STDIN, *OUT, "configmaps.v1.", "x"],
        ),
        (
            _patch(
                "/api/v1/namespaces/team",
                b'[{"op":"add","path":"/metadata/labels/a","value":"b"}]',
                "application/json-patch+json",
            ),
            ["--type=json", STDIN, *OUT, "namespaces.v1.", "team"],
        ),
        (
            _patch(
                "/apis/apps/v1/namespaces/ns/deployments/web/status", b"{}", "application/strategic-merge-patch+json"
            ),
            ["--type=strategic", "--namespace=ns", STDIN, "--subresource=status", *OUT, "deployments.v1.apps", "web"],
        ),
        (
            _patch("/apis/apps/v1/namespaces/ns/deployments/web/scale", b"{}", f"{MERGE}; charset=utf-8"),
            ["--type=merge", "--namespace=ns", STDIN, "--subresource=scale", *OUT, "deployments.v1.apps", "web"],
        ),
        (
            _patch("/api/v1/namespaces/team/status", b"{}", MERGE),
            ["--type=merge", STDIN, "--subresource=status", *OUT, "namespaces.v1.", "team"],
        ),
        (
            _patch("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/foos.example.com", b"{}", MERGE),
            ["--type=merge", STDIN, *OUT, "customresourcedefinitions.v1.apiextensions.k8s.io", "foos.example.com"],
        ),
        (
            _patch(f"{CM_PATH}/x", b"{}", MERGE, query=(("dryRun", "All"), ("fieldManager", "me"))),
            [
                "--type=merge",
                "--namespace=default",
                STDIN,
                "--dry-run=server",
                "--field-manager=me",
                *OUT,
                "configmaps.v1.",
                "x",
            ],
        ),
    ],
    ids=[
        "merge-namespaced",
        "json-cluster-scoped",
        "strategic-status",
        "scale-with-charset",
        "namespace-status",
        "dotted-group",
        "dry-run-and-field-manager",
    ],
)
def test_patch_becomes_kubectl_patch_of_the_named_object_with_the_patch_on_stdin(
    fake: FakeKubectl, request_: Request, argv: list[str]
) -> None:
    fake.script(stdout='{"kind":"ConfigMap"}', stderr=V133_RESPONSE.format(verb="PATCH", status="200 OK"))

    response = fake.transport().send(request_)

    assert (response.status, response.read()) == (200, b'{"kind":"ConfigMap"}')
    call = fake.only_call()
    assert call["argv"] == ["-v=6", "patch", *argv]
    assert call["stdin"] == (request_.body or b"").decode()


def test_patch_falls_back_to_the_p_flag_without_dev_stdin_and_never_logs_it(
    fake: FakeKubectl, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(_kubectl_commands, "PATCH_FROM_STDIN", False)
    caplog.set_level(logging.DEBUG, logger="dynaclient")

    fake.transport().send(_patch(f"{CM_PATH}/x", b'{"data":{"password":"s3cr3t"}}', MERGE)).read()

    call = fake.only_call()
    assert '--patch={"data":{"password":"s3cr3t"}}' in call["argv"]
    assert call["stdin"] == ""
    assert "s3cr3t" not in caplog.text
    assert "'--patch=<hidden>'" in caplog.text


def test_debug_log_has_the_command_line_duration_and_exit_code_but_no_body(
    fake: FakeKubectl, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="dynaclient")
    transport = fake.transport()

    transport.send(Request("POST", CM_PATH, body=b'{"data":{"token":"s3cr3t"}}')).read()
    transport.send(_patch(f"{CM_PATH}/x", b'{"data":{"token":"s3cr3t"}}', MERGE)).read()

    assert "s3cr3t" not in caplog.text
    messages = [record.getMessage() for record in caplog.records]
    assert f"kubectl: {fake.path} -v=6 create --raw={CM_PATH} -f -" in messages
    assert any(m.startswith(f"kubectl: {fake.path} -v=6 patch --type=merge") for m in messages)
    assert sum(m.startswith("kubectl exited with code 0 after ") for m in messages) == 2


@pytest.mark.parametrize(
    ("request_", "match"),
    [
        (Request("HEAD", "/api"), "HEAD"),
        (Request("OPTIONS", "/api"), "OPTIONS"),
        (_patch(f"{CM_PATH}/x", b"data: {}", "application/apply-patch+yaml"), "application/apply-patch\\+yaml"),
        (Request("PATCH", f"{CM_PATH}/x", body=b"{}"), "type application/json"),
        (Request("GET", "/api", headers={"Authorization": "Bearer s3cr3t"}), "headers \\(Authorization\\)"),
        (
            Request("GET", CM_PATH, accept="application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"),
            "PartialObjectMetadata",
        ),
        (Request("GET", CM_PATH, accept="application/json;as=Table;v=v1;g=meta.k8s.io, application/json"), "Table"),
        (Request("GET", CM_PATH, accept="application/vnd.kubernetes.protobuf"), "protobuf"),
        (Request("POST", CM_PATH, body=b"a: b", content_type="application/yaml"), "application/yaml"),
        (Request("POST", CM_PATH, body=b"{}", expect="stream"), "stream only GET"),
        (_patch(f"{CM_PATH}/x", b"{}", MERGE, query=(("fieldValidation", "Strict"),)), "fieldValidation=Strict"),
        (_patch(f"{CM_PATH}/x", b"{}", MERGE, query=(("dryRun", "Bogus"),)), "dryRun=Bogus"),
        (_patch(CM_PATH, b"{}", MERGE), "one object"),
        (_patch("/apis/apps", b"{}", MERGE), "/api or /apis object path"),
        (_patch("/api/v1/namespaces/ns/pods/p/proxy/x", b"{}", MERGE), "one object"),
        (_patch(f"{CM_PATH}/x", b"{not json", MERGE), "not JSON"),
    ],
    ids=[
        "head",
        "options",
        "apply-patch",
        "untyped-patch",
        "header",
        "partial-object-metadata",
        "table-first",
        "protobuf",
        "yaml-body",
        "stream-post",
        "patch-field-validation",
        "patch-odd-dry-run",
        "patch-collection",
        "patch-group-path",
        "patch-too-deep",
        "patch-not-json",
    ],
)
def test_requests_kubectl_cannot_carry_are_refused_before_running_it(
    fake: FakeKubectl, request_: Request, match: str
) -> None:
    with pytest.raises(UnsupportedRequestError, match=match) as info:
        fake.transport().send(request_)

    assert "s3cr3t" not in str(info.value)
    assert fake.calls() == []


# --- results -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stderr", "status"),
    [
        (V133_NOISE + V133_RESPONSE.format(verb="POST", status="201 Created"), 201),
        (SKEW_WARNING + V132_RESPONSE.format(verb="DELETE", status="202 Accepted"), 202),
        (SKEW_WARNING + "Warning: v1 ComponentStatus is deprecated in v1.19+\n", 200),
        ("", 200),
    ],
    ids=["created-from-v133-log", "accepted-from-v132-log-despite-skew-warning", "warnings-only", "silent"],
)
def test_success_returns_stdout_with_the_logged_status_or_200(fake: FakeKubectl, stderr: str, status: int) -> None:
    fake.script(stdout='{"kind":"ConfigMap"}\n', stderr=stderr)

    response = fake.transport().send(Request("POST", CM_PATH, body=b"{}"))

    assert (response.status, response.headers, response.read()) == (
        status,
        {"content-type": "application/json"},
        b'{"kind":"ConfigMap"}\n',
    )


@pytest.mark.parametrize(
    ("reason", "code"),
    [
        ("BadRequest", 400),
        ("NotFound", 404),
        ("AlreadyExists", 409),
        ("Conflict", 409),
        ("Expired", 410),
        ("Gone", 410),
        ("Forbidden", 403),
        ("MethodNotAllowed", 405),
        ("UnsupportedMediaType", 415),
        ("Invalid", 422),
        ("TooManyRequests", 429),
        ("InternalError", 500),
        ("ServiceUnavailable", 503),
        ("Timeout", 504),
        ("SomethingNew", 500),
    ],
    ids=lambda value: str(value),
)
def test_without_a_logged_status_the_code_comes_from_the_reason(fake: FakeKubectl, reason: str, code: int) -> None:
    fake.script(stderr=f"Error from server ({reason}): it went wrong: really\n", exit_code=1)

    response = fake.transport().send(Request("GET", f"{CM_PATH}/nope"))

    status = _status(response)
    assert response.status == status["code"] == code
    assert (status["reason"], status["message"]) == (reason, "it went wrong: really")


def _logged(verb: str, status: str, version: str = "1.33") -> str:
    return (V133_RESPONSE if version == "1.33" else V132_RESPONSE).format(verb=verb, status=status)


PLAIN_500 = 'an error on the server ("oops") has prevented the request from succeeding'


@pytest.mark.parametrize(
    ("stderr", "code", "reason", "message"),
    [
        (V133_NOISE + _logged("GET", "404 Not Found") + NOT_FOUND_DUMP, 404, "NotFound", 'configmaps "nope" not found'),
        (
            SKEW_WARNING + _logged("PUT", "409 Conflict", "1.32") + CONFLICT_DUMP,
            409,
            "Conflict",
            MODIFIED,
        ),
        (_logged("GET", "401 Unauthorized", "1.32") + UNAUTHORIZED, 401, "Unauthorized", "Unauthorized"),
        (
            _logged("POST", "422 Unprocessable Entity") + INVALID_MESSAGE,
            422,
            "Invalid",
            INVALID_MESSAGE.removeprefix("The ").strip(),
        ),
        (f"Error from server (InternalError): {PLAIN_500}\n", 500, "InternalError", PLAIN_500),
        ("error: You must be logged in to the server (the token expired)\n", 401, "Unauthorized", "the token expired"),
        (
            "Updating components...\n" + 'Error from server (NotFound): cm "x" not found\n',
            404,
            "NotFound",
            'cm "x" not found',
        ),
        ("Updating components...\n" + INVALID_MESSAGE, 422, "Invalid", INVALID_MESSAGE.removeprefix("The ").strip()),
        (_logged("GET", "418 I'm a teapot") + "Error from server: short and stout\n", 418, "", "short and stout"),
        (_logged("GET", "405 Method Not Allowed") + "Error from server: nope\n", 405, "MethodNotAllowed", "nope"),
        (
            _logged("GET", "200 OK", "1.32") + _logged("PATCH", "400 Bad Request", "1.32") + "error: weird\n",
            400,
            "BadRequest",
            "error: weird",
        ),
    ],
    ids=[
        "v133-not-found-dump",
        "v132-conflict-dump-despite-skew-warning",
        "unauthorized-dump",
        "invalid-without-dump",
        "plain-text-500",
        "unauthorized-message-only",
        "after-a-stray-line",
        "invalid-after-a-stray-line",
        "code-from-log-without-reason",
        "reason-from-logged-code",
        "last-logged-response-wins",
    ],
)
def test_errors_become_responses_with_the_servers_status(
    fake: FakeKubectl, stderr: str, code: int, reason: str, message: str
) -> None:
    fake.script(stderr=stderr, exit_code=1)

    response = fake.transport().send(Request("GET", f"{CM_PATH}/nope"))

    status = _status(response)
    assert response.status == code
    assert response.headers == {"content-type": "application/json"}
    assert (status["kind"], status["apiVersion"], status["status"]) == ("Status", "v1", "Failure")
    assert (status["code"], status["reason"], status["message"]) == (code, reason, message)


def test_a_dumped_status_keeps_its_details(fake: FakeKubectl) -> None:
    fake.script(stderr=V133_RESPONSE.format(verb="GET", status="404 Not Found") + NOT_FOUND_DUMP, exit_code=1)

    status = _status(fake.transport().send(Request("GET", f"{CM_PATH}/nope")))

    assert status["details"] == {"name": "nope", "kind": "configmaps"}


def test_an_invalid_error_without_a_dump_rebuilds_kind_name_and_causes(fake: FakeKubectl) -> None:
    fake.script(
        stderr=V132_RESPONSE.format(verb="POST", status="422 Unprocessable Entity") + INVALID_TWO_CAUSES, exit_code=1
    )

    status = _status(fake.transport().send(Request("POST", "/api/v1/namespaces/d/pods", body=b"{}")))

    assert status["details"] == {
        "kind": "Pod",
        "name": "p",
        "causes": [
            {"field": "spec.containers", "message": "Required value"},
            {"field": "metadata.name", "message": 'Invalid value: "P"'},
        ],
    }


@pytest.mark.parametrize(
    ("stderr", "error", "match"),
    [
        (
            V133_RESPONSE.format(verb="GET", status="")
            + "The connection to the server 127.0.0.1:1 was refused - did you specify the right host or port?\n",
            ConnectError,
            "127.0.0.1:1 was refused",
        ),
        ("Unable to connect to the server: dial tcp: lookup x.invalid: no such host\n", ConnectError, "no such host"),
        (
            "Unable to connect to the server: tls: failed to verify certificate: x509: signed by unknown authority\n",
            TLSError,
            "unknown authority",
        ),
        ("Unable to connect to the server: context deadline exceeded\n", TransportTimeout, "deadline exceeded"),
        (SKEW_WARNING + "error: unknown flag: --subresource\n", TransportError, "code 1 .*unknown flag: --subresource"),
        ("", TransportError, "no message"),
    ],
    ids=["refused", "dns", "tls", "client-timeout", "kubectl-usage-error", "silent-failure"],
)
def test_failures_without_a_server_answer_raise_transport_errors(
    fake: FakeKubectl, stderr: str, error: type[TransportError], match: str
) -> None:
    fake.script(stderr=stderr, exit_code=1)

    with pytest.raises(error, match=match) as info:
        fake.transport().send(Request("GET", "/api"))

    assert type(info.value) is error


# --- timeouts and cancellation -----------------------------------------------------------------------------------


def test_a_request_that_outlives_its_timeout_kills_kubectl(fake: FakeKubectl) -> None:
    fake.script(hang=True)
    started = time.monotonic()

    with pytest.raises(TransportTimeout, match=r"within 0\.5s"):
        fake.transport().send(Request("GET", "/api", timeout=0.5))

    assert time.monotonic() - started < 10
    assert _process_is_gone(fake.only_call()["pid"])


def test_cancelling_a_running_request_kills_kubectl_and_raises(fake: FakeKubectl, tmp_path: Path) -> None:
    fifo = tmp_path / "started"
    os.mkfifo(fifo)
    fake.script(hang=True, fifo=fifo)
    cancellation = Cancellation()
    outcome: list[BaseException] = []

    def send() -> None:
        try:
            fake.transport().send(Request("GET", "/api", cancellation=cancellation))
        except BaseException as error:
            outcome.append(error)

    sender = threading.Thread(target=send)
    sender.start()
    with open(fifo) as started:  # opens once kubectl is running
        assert started.read() == "started"
    cancellation.cancel()
    sender.join(timeout=10)

    assert not sender.is_alive()
    assert [type(error) for error in outcome] == [RequestCancelled]
    assert _process_is_gone(fake.only_call()["pid"])


def test_an_already_cancelled_request_never_runs_kubectl(fake: FakeKubectl) -> None:
    cancellation = Cancellation()
    cancellation.cancel()

    with pytest.raises(RequestCancelled):
        fake.transport().send(Request("GET", "/api", cancellation=cancellation))

    assert fake.calls() == []


# --- streaming ---------------------------------------------------------------------------------------------------


def _watch(fake: FakeKubectl, **kwargs: Any) -> Response:
    request = Request("GET", CM_PATH, query=(("watch", "1"), ("timeoutSeconds", "5")), expect="stream", **kwargs)
    return fake.transport().send(request)


def _hanging_watch(fake: FakeKubectl, lines: int = 2) -> None:
    stderr = V133_NOISE + V133_RESPONSE.format(verb="GET", status="200 OK")
    fake.script(stderr=stderr, stdout_lines=[WATCH_EVENT] * lines, hang=True)


def test_a_watch_streams_lines_while_kubectl_still_runs(fake: FakeKubectl) -> None:
    _hanging_watch(fake)

    with _watch(fake) as response:
        lines = response.iter_lines()
        first, second = next(lines), next(lines)

    assert response.status == 200
    assert json.loads(first) == json.loads(second) == json.loads(WATCH_EVENT)
    call = fake.only_call()
    assert call["argv"] == ["-v=6", "get", f"--raw={CM_PATH}?watch=1&timeoutSeconds=5"]
    assert _process_is_gone(call["pid"])


def test_a_watch_that_the_server_ends_yields_every_line_and_stops(fake: FakeKubectl) -> None:
    fake.script(stderr=V132_RESPONSE.format(verb="GET", status="200 OK"), stdout_lines=[WATCH_EVENT] * 3)

    response = _watch(fake)

    assert list(response.iter_lines()) == [WATCH_EVENT.strip().encode()] * 3


def test_closing_a_watch_from_another_thread_ends_the_blocked_reader(fake: FakeKubectl) -> None:
    _hanging_watch(fake, lines=1)
    response = _watch(fake)
    got_first = threading.Event()
    read: list[bytes] = []

    def consume() -> None:
        for line in response.iter_lines():
            read.append(line)
            got_first.set()

    consumer = threading.Thread(target=consume)
    consumer.start()
    assert got_first.wait(timeout=10)
    response.close()
    consumer.join(timeout=10)

    assert not consumer.is_alive()
    assert read == [WATCH_EVENT.strip().encode()]
    assert _process_is_gone(fake.only_call()["pid"])


def test_closing_an_unread_watch_kills_kubectl(fake: FakeKubectl) -> None:
    _hanging_watch(fake)

    _watch(fake).close()

    assert _process_is_gone(fake.only_call()["pid"])


def test_cancelling_a_watch_kills_kubectl_and_the_reader_raises(fake: FakeKubectl) -> None:
    _hanging_watch(fake, lines=1)
    cancellation = Cancellation()
    lines: Iterator[bytes] = _watch(fake, cancellation=cancellation).iter_lines()
    next(lines)

    cancellation.cancel()

    with pytest.raises(RequestCancelled):
        next(lines)
    assert _process_is_gone(fake.only_call()["pid"])


def test_a_watch_silent_for_longer_than_the_timeout_raises(fake: FakeKubectl) -> None:
    _hanging_watch(fake, lines=1)
    lines = _watch(fake, timeout=0.5).iter_lines()
    next(lines)

    with pytest.raises(TransportTimeout):
        next(lines)
    assert _process_is_gone(fake.only_call()["pid"])


def test_a_watch_whose_status_never_comes_times_out(fake: FakeKubectl) -> None:
    fake.script(stderr=V133_NOISE, hang=True)

    with pytest.raises(TransportTimeout):
        _watch(fake, timeout=0.5)
    assert _process_is_gone(fake.only_call()["pid"])


def test_a_watch_refused_by_the_server_returns_its_status(fake: FakeKubectl) -> None:
    fake.script(stderr=V133_RESPONSE.format(verb="GET", status="404 Not Found") + NOT_FOUND_DUMP, exit_code=1)

    response = _watch(fake)

    assert (response.status, _status(response)["reason"]) == (404, "NotFound")


def test_a_watch_that_cannot_connect_raises_connect_error(fake: FakeKubectl) -> None:
    fake.script(stderr="The connection to the server 127.0.0.1:1 was refused\n", exit_code=1)

    with pytest.raises(ConnectError):
        _watch(fake)


def test_a_watch_broken_mid_stream_raises_connection_lost_so_that_a_watch_ends_quietly(fake: FakeKubectl) -> None:
    stderr = V133_RESPONSE.format(verb="GET", status="200 OK") + "error: unexpected EOF\n"
    fake.script(stderr=stderr, stdout_lines=[WATCH_EVENT], exit_code=1)
    lines = _watch(fake).iter_lines()

    assert next(lines) == WATCH_EVENT.strip().encode()
    with pytest.raises(ConnectionLostError, match="in the middle of the response: error: unexpected EOF"):
        next(lines)


def test_names_and_namespaces_that_look_like_flags_are_never_read_as_options(fake: FakeKubectl) -> None:
    # Before: ``patch configmaps.v1. --field-manager -n default ...``: kubectl patched another object.
    fake.script(stdout='{"kind":"ConfigMap"}', stderr=V133_RESPONSE.format(verb="PATCH", status="200 OK"))

    fake.transport().send(_patch("/api/v1/namespaces/-n/configmaps/--field-manager", b"{}", MERGE)).read()

    argv = fake.only_call()["argv"]
    assert argv[argv.index("--") :] == ["--", "configmaps.v1.", "--field-manager"]
    assert "--namespace=-n" in argv
    assert all(arg.startswith("-") for arg in argv[: argv.index("--")] if arg not in ("patch", "json"))


def test_an_escaped_name_reaches_kubectl_patch_as_the_name_itself(fake: FakeKubectl) -> None:
    fake.script(stdout='{"kind":"ConfigMap"}', stderr=V133_RESPONSE.format(verb="PATCH", status="200 OK"))

    fake.transport().send(_patch("/api/v1/namespaces/a%23b/configmaps/x%3Fy", b"{}", MERGE)).read()

    argv = fake.only_call()["argv"]
    assert argv[-1] == "x?y"
    assert "--namespace=a#b" in argv
