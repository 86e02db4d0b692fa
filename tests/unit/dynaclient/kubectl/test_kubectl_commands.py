"""KubectlRawTransport's command lines: each request as the kubectl command that carries it, or refused.

Run against the kubectl stand-in of :mod:`tests.unit.dynaclient.kubectl.fake_kubectl`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from dynaclient.exceptions import ConnectError, UnsupportedRequestError
from dynaclient.request import Request
from dynaclient.transport import _kubectl_commands
from dynaclient.transport.kubectl import KubectlRawTransport
from tests.unit.dynaclient.kubectl.fake_kubectl import CM_PATH, V133_RESPONSE, FakeKubectl


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
