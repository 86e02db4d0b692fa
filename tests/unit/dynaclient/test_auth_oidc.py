"""OIDC: id-token use and refresh, persistence to the kubeconfig file, and the default token-endpoint refresh."""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

from dynaclient.auth import OIDCAuth, OIDCRefreshRequest, OIDCTokens, refresh_oidc_tokens
from dynaclient.config import load_kubeconfig
from dynaclient.exceptions import AuthError, KubeconfigError

SECRET = "s3cr3t-credential"
T0 = 1_700_000_000.0


def frozen_clock() -> float:
    return T0


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
    auth = OIDCAuth({**OIDC_CONFIG, "id-token": token}, refresh=issuer, now=frozen_clock)

    assert auth.headers() == {"Authorization": f"Bearer {token}"}
    assert issuer.requests == []


def test_an_expired_id_token_is_refreshed_and_persisted() -> None:
    fresh = jwt(T0 + 3600, "fresh")
    issuer = FakeIssuer(OIDCTokens(fresh, "refresh-s3cr3t-2"))
    persisted: list[Mapping[str, str]] = []
    auth = OIDCAuth({**OIDC_CONFIG, "id-token": jwt(T0 - 1)}, persisted.append, refresh=issuer, now=frozen_clock)

    assert auth.headers() == {"Authorization": f"Bearer {fresh}"}
    assert auth.headers() == {"Authorization": f"Bearer {fresh}"}

    (request,) = issuer.requests
    assert (request.issuer_url, request.client_id) == ("https://issuer.example", "kubernetes")
    assert (request.client_secret, request.refresh_token) == ("client-s3cr3t", "refresh-s3cr3t-1")
    assert persisted == [{**OIDC_CONFIG, "id-token": fresh, "refresh-token": "refresh-s3cr3t-2"}]


def test_the_old_refresh_token_is_kept_when_the_issuer_returns_none() -> None:
    issuer = FakeIssuer(OIDCTokens(jwt(T0 + 60)))
    auth = OIDCAuth(OIDC_CONFIG, refresh=issuer, now=frozen_clock)

    auth.headers()

    assert auth.config["refresh-token"] == "refresh-s3cr3t-1"


def test_on_unauthorized_forces_an_oidc_refresh_when_there_is_a_refresh_token() -> None:
    issuer = FakeIssuer(OIDCTokens(jwt(T0 + 60, "second")))
    first = jwt(T0 + 60, "first")
    auth = OIDCAuth({**OIDC_CONFIG, "id-token": first}, refresh=issuer, now=frozen_clock)
    assert auth.headers() == {"Authorization": f"Bearer {first}"}

    assert auth.on_unauthorized() is True
    assert auth.headers() == {"Authorization": f"Bearer {jwt(T0 + 60, 'second')}"}
    without_refresh = {k: v for k, v in OIDC_CONFIG.items() if k != "refresh-token"}
    assert OIDCAuth({**without_refresh, "id-token": first}, now=frozen_clock).on_unauthorized() is False


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
        OIDCAuth({**base, **config}, now=frozen_clock).headers()

    assert SECRET not in str(caught.value)


def test_oidc_needs_client_id_and_issuer() -> None:
    with pytest.raises(AuthError, match="needs client-id and idp-issuer-url"):
        OIDCAuth({})


def test_a_failure_to_persist_is_logged_and_the_new_token_still_used(caplog: pytest.LogCaptureFixture) -> None:
    def fail(config: Mapping[str, str]) -> None:
        raise OSError(30, "Read-only file system")

    fresh = jwt(T0 + 60)
    auth = OIDCAuth(OIDC_CONFIG, fail, refresh=FakeIssuer(OIDCTokens(fresh, SECRET)), now=frozen_clock)

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
    config = load_kubeconfig(
        env={"KUBECONFIG": f"{contexts}{os.pathsep}{users}"}, now=frozen_clock, oidc_refresh=issuer
    )

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
    config = load_kubeconfig(path, now=frozen_clock, oidc_refresh=FakeIssuer(OIDCTokens(jwt(T0 + 60))))
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


def test_a_kubeconfig_oidc_user_with_bad_ca_data_names_the_key(tmp_path: Path) -> None:
    path = oidc_kubeconfig(tmp_path / "config", jwt(T0 + 60))
    document = yaml.safe_load(path.read_text())
    document["users"][1]["user"]["auth-provider"]["config"]["idp-certificate-authority-data"] = "%%"
    path.write_text(yaml.safe_dump(document))

    with pytest.raises(KubeconfigError) as caught:
        load_kubeconfig(path)

    assert caught.value.key == "users[1].user.auth-provider.config.idp-certificate-authority-data"
