"""Credential sources: token files, exec plugins (real subprocesses), OIDC refresh and persistence, redaction."""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import stat
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from dynaclient.auth import (
    AuthProvider,
    BasicAuth,
    ClusterInfo,
    CredentialCache,
    ExecAuth,
    ExecSpec,
    NoAuth,
    OIDCAuth,
    OIDCRefreshRequest,
    OIDCTokens,
    StaticTokenAuth,
    TokenFileAuth,
    refresh_oidc_tokens,
)
from dynaclient.auth.exec import parse_exec_credential
from dynaclient.config import load_kubeconfig
from dynaclient.exceptions import AuthError, KubeconfigError

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
    from datetime import UTC, datetime

    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- static providers ---------------------------------------------------------------------------------------


def test_static_providers_send_their_header_and_never_ask_for_a_retry() -> None:
    assert NoAuth().headers() == {}
    assert StaticTokenAuth(SECRET).headers() == {"Authorization": f"Bearer {SECRET}"}
    assert BasicAuth("admin", SECRET).headers()["Authorization"].startswith("Basic ")
    for provider in (NoAuth(), StaticTokenAuth(SECRET), BasicAuth("admin", SECRET)):
        assert provider.on_unauthorized() is False
        assert provider.client_certificate() is None


# --- token files --------------------------------------------------------------------------------------------


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    path = tmp_path / "token"
    path.write_text("first-token\n")
    return path


def test_a_token_file_change_is_noticed_on_the_next_request(token_file: Path) -> None:
    auth = TokenFileAuth(token_file, now=FakeClock())
    assert auth.headers() == {"Authorization": "Bearer first-token"}

    token_file.write_text("second-token-longer\n")

    assert auth.headers() == {"Authorization": "Bearer second-token-longer"}


def test_a_token_file_is_re_read_after_the_interval_even_if_it_looks_unchanged(token_file: Path) -> None:
    clock = FakeClock()
    auth = TokenFileAuth(token_file, now=clock, refresh_interval=60)
    auth.headers()
    before = os.stat(token_file)
    token_file.write_text("other-token\n")  # same size as "first-token"
    os.utime(token_file, ns=(before.st_atime_ns, before.st_mtime_ns))

    clock.now += 59
    assert auth.headers() == {"Authorization": "Bearer first-token"}
    clock.now += 1
    assert auth.headers() == {"Authorization": "Bearer other-token"}


def test_an_unreadable_token_file_raises_an_auth_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "missing-token"

    with pytest.raises(AuthError, match=f"cannot read token file {missing}"):
        TokenFileAuth(missing).headers()


def test_a_failed_re_read_keeps_the_previous_token_and_logs_no_secret(
    token_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    auth = TokenFileAuth(token_file, now=clock)
    auth.headers()
    token_file.unlink()
    clock.now += 61

    with caplog.at_level(logging.WARNING):
        assert auth.headers() == {"Authorization": "Bearer first-token"}

    assert str(token_file) in caplog.text
    assert "first-token" not in caplog.text


def test_on_unauthorized_re_reads_the_token_file_and_says_whether_it_changed(token_file: Path) -> None:
    auth = TokenFileAuth(token_file, now=FakeClock())
    auth.headers()

    assert auth.on_unauthorized() is False
    token_file.write_text("rotated\n")
    assert auth.on_unauthorized() is True
    token_file.unlink()
    assert auth.on_unauthorized() is False


# --- exec plugins -------------------------------------------------------------------------------------------

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


def test_an_exec_plugin_may_return_a_client_certificate(plugin: Plugin) -> None:
    plugin.returns({"clientCertificateData": "CERT PEM", "clientKeyData": "KEY PEM"})
    auth = ExecAuth(plugin.spec(), environ=ENVIRON)

    assert auth.client_certificate() == (b"CERT PEM", b"KEY PEM")
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
        pytest.param(f"token={SECRET}", "did not print valid JSON", id="not-json"),
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


# --- OIDC ---------------------------------------------------------------------------------------------------


def jwt(exp: float, marker: str = "") -> str:
    claims = base64.urlsafe_b64encode(json.dumps({"exp": exp, "sub": marker}).encode()).decode().rstrip("=")
    return f"eyJhbGciOiJSUzI1NiJ9.{claims}.c2lnbmF0dXJl"


class FakeIssuer:
    def __init__(self, *tokens: OIDCTokens) -> None:
        self.tokens = list(tokens)
        self.requests: list[OIDCRefreshRequest] = []

    def __call__(self, request: OIDCRefreshRequest) -> OIDCTokens:
        self.requests.append(request)
        return self.tokens.pop(0)


OIDC_CONFIG = {
    "idp-issuer-url": "https://issuer.example",
    "client-id": "kubernetes",
    "client-secret": "client-s3cr3t",
    "refresh-token": "refresh-s3cr3t-1",
}


def test_a_valid_id_token_is_used_without_refreshing() -> None:
    issuer = FakeIssuer()
    token = jwt(T0 + 60)
    auth = OIDCAuth({**OIDC_CONFIG, "id-token": token}, refresh=issuer, now=FakeClock())

    assert auth.headers() == {"Authorization": f"Bearer {token}"}
    assert issuer.requests == []


def test_an_expired_id_token_is_refreshed_and_persisted() -> None:
    clock = FakeClock()
    fresh = jwt(T0 + 3600, "fresh")
    issuer = FakeIssuer(OIDCTokens(fresh, "refresh-s3cr3t-2"))
    persisted: list[Mapping[str, str]] = []
    auth = OIDCAuth({**OIDC_CONFIG, "id-token": jwt(T0 - 1)}, persisted.append, refresh=issuer, now=clock)

    assert auth.headers() == {"Authorization": f"Bearer {fresh}"}
    assert auth.headers() == {"Authorization": f"Bearer {fresh}"}

    (request,) = issuer.requests
    assert (request.issuer_url, request.client_id) == ("https://issuer.example", "kubernetes")
    assert (request.client_secret, request.refresh_token) == ("client-s3cr3t", "refresh-s3cr3t-1")
    assert persisted == [{**OIDC_CONFIG, "id-token": fresh, "refresh-token": "refresh-s3cr3t-2"}]


def test_the_old_refresh_token_is_kept_when_the_issuer_returns_none() -> None:
    issuer = FakeIssuer(OIDCTokens(jwt(T0 + 60)))
    auth = OIDCAuth(OIDC_CONFIG, refresh=issuer, now=FakeClock())

    auth.headers()

    assert auth.config["refresh-token"] == "refresh-s3cr3t-1"


def test_on_unauthorized_forces_an_oidc_refresh_when_there_is_a_refresh_token() -> None:
    issuer = FakeIssuer(OIDCTokens(jwt(T0 + 60, "second")))
    first = jwt(T0 + 60, "first")
    auth = OIDCAuth({**OIDC_CONFIG, "id-token": first}, refresh=issuer, now=FakeClock())
    assert auth.headers() == {"Authorization": f"Bearer {first}"}

    assert auth.on_unauthorized() is True
    assert auth.headers() == {"Authorization": f"Bearer {jwt(T0 + 60, 'second')}"}
    without_refresh = {k: v for k, v in OIDC_CONFIG.items() if k != "refresh-token"}
    assert OIDCAuth({**without_refresh, "id-token": first}, now=FakeClock()).on_unauthorized() is False


@pytest.mark.parametrize(
    ("config", "message"),
    [
        pytest.param({"id-token": jwt(T0 - 1)}, "no refresh-token", id="expired-without-refresh-token"),
        pytest.param({"id-token": f"{SECRET}"}, "not a JWT", id="not-a-jwt"),
        pytest.param({"id-token": f"a.{SECRET}!.c"}, "not base64url-encoded JSON", id="bad-payload"),
    ],
)
def test_an_unusable_id_token_is_an_auth_error_without_the_token(config: dict[str, str], message: str) -> None:
    base = {k: v for k, v in OIDC_CONFIG.items() if k != "refresh-token"}

    with pytest.raises(AuthError, match=message) as caught:
        OIDCAuth({**base, **config}, now=FakeClock()).headers()

    assert SECRET not in str(caught.value)


def test_oidc_needs_client_id_and_issuer() -> None:
    with pytest.raises(AuthError, match="needs client-id and idp-issuer-url"):
        OIDCAuth({})


def test_a_failure_to_persist_is_logged_and_the_new_token_still_used(caplog: pytest.LogCaptureFixture) -> None:
    def fail(config: Mapping[str, str]) -> None:
        raise OSError(30, "Read-only file system")

    fresh = jwt(T0 + 60)
    auth = OIDCAuth(OIDC_CONFIG, fail, refresh=FakeIssuer(OIDCTokens(fresh, SECRET)), now=FakeClock())

    with caplog.at_level(logging.WARNING):
        assert auth.headers() == {"Authorization": f"Bearer {fresh}"}

    assert "Read-only file system" in caplog.text
    assert SECRET not in caplog.text


def oidc_kubeconfig(path: Path, id_token: str, *, with_context: bool = True) -> Path:
    user = {"auth-provider": {"name": "oidc", "config": {**OIDC_CONFIG, "id-token": id_token}}}
    document: dict[str, Any] = {
        "users": [{"name": "other", "user": {"token": "x"}}, {"name": "oidc-user", "user": user}]
    }
    if with_context:
        document["clusters"] = [{"name": "c", "cluster": {"server": "https://c.example"}}]
        document["contexts"] = [{"name": "c", "context": {"cluster": "c", "user": "oidc-user"}}]
        document["current-context"] = "c"
    path.write_text(yaml.safe_dump(document))
    path.chmod(0o600)
    return path


def test_a_refreshed_oidc_token_is_written_back_to_the_file_the_user_came_from(tmp_path: Path) -> None:
    contexts = tmp_path / "contexts.yaml"
    contexts.write_text(
        yaml.safe_dump(
            {
                "clusters": [{"name": "c", "cluster": {"server": "https://c.example"}}],
                "contexts": [{"name": "c", "context": {"cluster": "c", "user": "oidc-user"}}],
                "current-context": "c",
            }
        )
    )
    contexts_before = contexts.read_text()
    users = oidc_kubeconfig(tmp_path / "users.yaml", jwt(T0 - 10), with_context=False)
    fresh = jwt(T0 + 3600)
    issuer = FakeIssuer(OIDCTokens(fresh, "refresh-s3cr3t-2"))
    config = load_kubeconfig(env={"KUBECONFIG": f"{contexts}{os.pathsep}{users}"}, now=FakeClock(), oidc_refresh=issuer)

    assert config.auth.headers() == {"Authorization": f"Bearer {fresh}"}

    written = yaml.safe_load(users.read_text())
    assert written["users"][0] == {"name": "other", "user": {"token": "x"}}
    assert written["users"][1]["user"]["auth-provider"]["config"] == {
        **OIDC_CONFIG,
        "id-token": fresh,
        "refresh-token": "refresh-s3cr3t-2",
    }
    assert stat.S_IMODE(users.stat().st_mode) == 0o600
    assert contexts.read_text() == contexts_before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_persisting_to_a_file_that_lost_the_user_is_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = oidc_kubeconfig(tmp_path / "config", jwt(T0 - 10))
    config = load_kubeconfig(path, now=FakeClock(), oidc_refresh=FakeIssuer(OIDCTokens(jwt(T0 + 60))))
    path.write_text(yaml.safe_dump({"users": []}))

    with caplog.at_level(logging.WARNING):
        config.auth.headers()

    assert 'user "oidc-user" is no longer in the file' in caplog.text


class FakeResponse:
    def __init__(self, status_code: int, body: Any) -> None:
        self.status_code = status_code
        self.body = body

    def json(self) -> Any:
        if self.body is None:
            raise ValueError("no JSON")
        return self.body


class FakeSession:
    def __init__(self, *posts: FakeResponse, discovery: Any = None) -> None:
        self.posts = list(posts)
        self.discovery = discovery or {"token_endpoint": "https://issuer.example/token"}
        self.calls: list[tuple[str, str, dict[str, Any]]] = []

    def get(self, url: str, **kwargs: Any) -> FakeResponse:
        self.calls.append(("GET", url, kwargs))
        if isinstance(self.discovery, Exception):
            raise self.discovery
        return FakeResponse(200, self.discovery)

    def post(self, url: str, **kwargs: Any) -> FakeResponse:
        self.calls.append(("POST", url, kwargs))
        return self.posts.pop(0)


REQUEST = OIDCRefreshRequest("https://issuer.example/", "kubernetes", "client-s3cr3t", "refresh-s3cr3t")


def test_the_default_refresh_uses_discovery_then_the_token_endpoint_with_basic_auth() -> None:
    session = FakeSession(FakeResponse(200, {"id_token": "new-id", "refresh_token": "new-refresh"}))

    tokens = refresh_oidc_tokens(REQUEST, session=session)  # type: ignore[arg-type]

    assert (tokens.id_token, tokens.refresh_token) == ("new-id", "new-refresh")
    (get, post) = session.calls
    assert get[:2] == ("GET", "https://issuer.example/.well-known/openid-configuration")
    assert post[:2] == ("POST", "https://issuer.example/token")
    assert post[2]["data"] == {"grant_type": "refresh_token", "refresh_token": "refresh-s3cr3t"}
    assert post[2]["headers"]["Authorization"].startswith("Basic ")


def test_the_default_refresh_falls_back_to_credentials_in_the_form() -> None:
    session = FakeSession(FakeResponse(401, {"error": "invalid_client"}), FakeResponse(200, {"id_token": "new-id"}))

    tokens = refresh_oidc_tokens(REQUEST, session=session)  # type: ignore[arg-type]

    assert tokens == OIDCTokens("new-id", None)
    assert session.calls[2][2]["data"]["client_id"] == "kubernetes"
    assert session.calls[2][2]["data"]["client_secret"] == "client-s3cr3t"


def test_the_default_refresh_writes_ca_data_to_a_temporary_bundle_and_removes_it() -> None:
    session = FakeSession(FakeResponse(200, {"id_token": "new-id"}))
    request = OIDCRefreshRequest("https://issuer.example", "k8s", None, "r", certificate_authority_data=b"CA")

    refresh_oidc_tokens(request, session=session)  # type: ignore[arg-type]

    bundle = session.calls[0][2]["verify"]
    assert isinstance(bundle, str)
    assert not os.path.exists(bundle)
    assert "headers" not in session.calls[1][2]


@pytest.mark.parametrize(
    ("session", "message"),
    [
        pytest.param(
            FakeSession(FakeResponse(400, {"error": "invalid_grant"})), "HTTP 400 (invalid_grant)", id="rejected"
        ),
        pytest.param(
            FakeSession(FakeResponse(200, {"access_token": "a"})), "did not contain an id_token", id="no-id-token"
        ),
        pytest.param(FakeSession(FakeResponse(200, None)), "answered HTTP 200", id="not-json"),
        pytest.param(FakeSession(discovery={"issuer": "x"}), "has no token_endpoint", id="no-token-endpoint"),
        pytest.param(
            FakeSession(discovery=requests.ConnectionError("refused")), "failed: ConnectionError", id="unreachable"
        ),
    ],
)
def test_a_failed_default_refresh_is_an_auth_error_without_secrets(session: FakeSession, message: str) -> None:
    request = OIDCRefreshRequest("https://issuer.example", "k8s", None, "refresh-s3cr3t")

    with pytest.raises(AuthError, match=re.escape(message)) as caught:
        refresh_oidc_tokens(request, session=session)  # type: ignore[arg-type]

    assert "s3cr3t" not in str(caught.value)


# --- no secret anywhere -------------------------------------------------------------------------------------


def test_no_secret_appears_in_any_repr_or_str(tmp_path: Path) -> None:
    key = f"-----BEGIN PRIVATE KEY-----\n{SECRET}\n-----END PRIVATE KEY-----\n".encode()
    document = {
        "clusters": [
            {"name": "c", "cluster": {"server": "https://c.example", "proxy-url": f"http://u:{SECRET}@p:3128"}}
        ],
        "users": [
            {
                "name": "cert",
                "user": {
                    "client-certificate-data": "Q0VSVA==",
                    "client-key-data": base64.b64encode(key).decode(),
                    "token": SECRET,
                },
            },
            {"name": "basic", "user": {"username": "admin", "password": SECRET}},
            {
                "name": "exec",
                "user": {
                    "exec": {
                        "command": "p",
                        "apiVersion": V1,
                        "interactiveMode": "Never",
                        "args": [f"--token={SECRET}"],
                        "env": [{"name": "PASS", "value": SECRET}],
                    }
                },
            },
            {
                "name": "oidc",
                "user": {
                    "auth-provider": {
                        "name": "oidc",
                        "config": {**OIDC_CONFIG, "id-token": SECRET, "client-secret": SECRET},
                    }
                },
            },
        ],
        "contexts": [{"name": n, "context": {"cluster": "c", "user": n}} for n in ("cert", "basic", "exec", "oidc")],
    }
    path = tmp_path / "config"
    path.write_text(yaml.safe_dump(document))
    from dynaclient.config import read_kubeconfigs

    raw = read_kubeconfigs(path)
    objects: list[object] = [raw, *raw.users.values(), *raw.clusters.values()]
    for name in ("cert", "basic", "exec", "oidc"):
        config = load_kubeconfig(path, context=name)
        objects += [config, config.auth]
    objects += [
        StaticTokenAuth(SECRET),
        BasicAuth("admin", SECRET),
        TokenFileAuth(tmp_path / "t"),
        OIDCRefreshRequest("https://i", "c", SECRET, SECRET),
        OIDCTokens(SECRET, SECRET),
        ClusterInfo("https://c", proxy_url=f"http://u:{SECRET}@p"),
        parse_exec_credential(
            json.dumps({"kind": "ExecCredential", "apiVersion": V1, "status": {"token": SECRET}}).encode(),
            api_version=V1,
            command="p",
        ),
    ]

    for thing in objects:
        assert SECRET not in repr(thing), type(thing).__name__
        assert SECRET not in str(thing), type(thing).__name__
    assert "http://***@p:3128" in repr(load_kubeconfig(path, context="cert"))


def test_every_provider_is_an_auth_provider() -> None:
    spec = ExecSpec(command="p", api_version=V1)
    providers = [
        NoAuth(),
        StaticTokenAuth("t"),
        BasicAuth("u", "p"),
        TokenFileAuth("/x"),
        ExecAuth(spec),
        OIDCAuth(OIDC_CONFIG),
    ]

    assert all(isinstance(provider, AuthProvider) for provider in providers)
    assert [repr(p).split("(")[0] for p in providers] == [
        "NoAuth",
        "StaticTokenAuth",
        "BasicAuth",
        "TokenFileAuth",
        "ExecAuth",
        "OIDCAuth",
    ]


def test_a_kubeconfig_oidc_user_with_bad_ca_data_names_the_key(tmp_path: Path) -> None:
    path = oidc_kubeconfig(tmp_path / "config", jwt(T0 + 60))
    document = yaml.safe_load(path.read_text())
    document["users"][1]["user"]["auth-provider"]["config"]["idp-certificate-authority-data"] = "%%"
    path.write_text(yaml.safe_dump(document))

    with pytest.raises(KubeconfigError) as caught:
        load_kubeconfig(path)

    assert caught.value.key == "users[1].user.auth-provider.config.idp-certificate-authority-data"
