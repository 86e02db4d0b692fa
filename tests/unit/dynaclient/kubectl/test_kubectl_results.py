"""KubectlRawTransport's results: kubectl's stdout, stderr and exit code as the server's status, body and errors.

The stderr samples are what kubectl v1.32 (dispatcher) and v1.33 printed against a real kube-apiserver 1.34.
"""

from __future__ import annotations

import pytest

from dynaclient.exceptions import ConnectError, TLSError, TransportError, TransportTimeout
from dynaclient.request import Request
from tests.unit.dynaclient.kubectl.fake_kubectl import (
    CM_PATH,
    CONFLICT_DUMP,
    INVALID_MESSAGE,
    INVALID_TWO_CAUSES,
    MODIFIED,
    NOT_FOUND_DUMP,
    SKEW_WARNING,
    UNAUTHORIZED,
    V132_RESPONSE,
    V133_NOISE,
    V133_RESPONSE,
    FakeKubectl,
    status_of,
)


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

    status = status_of(response)
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

    status = status_of(response)
    assert response.status == code
    assert response.headers == {"content-type": "application/json"}
    assert (status["kind"], status["apiVersion"], status["status"]) == ("Status", "v1", "Failure")
    assert (status["code"], status["reason"], status["message"]) == (code, reason, message)


def test_a_dumped_status_keeps_its_details(fake: FakeKubectl) -> None:
    fake.script(stderr=V133_RESPONSE.format(verb="GET", status="404 Not Found") + NOT_FOUND_DUMP, exit_code=1)

    status = status_of(fake.transport().send(Request("GET", f"{CM_PATH}/nope")))

    assert status["details"] == {"name": "nope", "kind": "configmaps"}


def test_an_invalid_error_without_a_dump_rebuilds_kind_name_and_causes(fake: FakeKubectl) -> None:
    fake.script(
        stderr=V132_RESPONSE.format(verb="POST", status="422 Unprocessable Entity") + INVALID_TWO_CAUSES, exit_code=1
    )

    status = status_of(fake.transport().send(Request("POST", "/api/v1/namespaces/d/pods", body=b"{}")))

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
