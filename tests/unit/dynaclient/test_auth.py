"""Credential sources: static tokens, basic auth, token files, and no secret in any repr across providers."""

from __future__ import annotations

import base64
import json
import logging
import os
from pathlib import Path

import pytest
import yaml

from dynaclient.auth import (
    AuthProvider,
    BasicAuth,
    ClusterInfo,
    ExecAuth,
    ExecSpec,
    NoAuth,
    OIDCAuth,
    OIDCRefreshRequest,
    OIDCTokens,
    StaticTokenAuth,
    TokenFileAuth,
)
from dynaclient.auth.exec import parse_exec_credential
from dynaclient.config import load_kubeconfig
from dynaclient.exceptions import AuthError
from dynaclient.testing.certs import TinyCA

V1 = "client.authentication.k8s.io/v1"
SECRET = "s3cr3t-credential"
T0 = 1_700_000_000.0
OIDC_USER_CONFIG = {
    "idp-issuer-url": "https://issuer.example",
    "client-id": "kubernetes",
    "client-secret": SECRET,
    "refresh-token": "refresh-s3cr3t-1",
    "id-token": SECRET,
}


class FakeClock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


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


# --- no secret anywhere -------------------------------------------------------------------------------------


def test_no_secret_appears_in_any_repr_or_str(tmp_path: Path) -> None:
    pair = TinyCA("secret-test-ca").issue("cert")  # loaded when the kubeconfig is resolved: a real pair
    key_material = pair.key_pem.decode().splitlines()[1]
    document = {
        "clusters": [
            {"name": "c", "cluster": {"server": "https://c.example", "proxy-url": f"http://u:{SECRET}@p:3128"}}
        ],
        "users": [
            {
                "name": "cert",
                "user": {
                    "client-certificate-data": base64.b64encode(pair.cert_pem).decode(),
                    "client-key-data": base64.b64encode(pair.key_pem).decode(),
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
                        "config": OIDC_USER_CONFIG,
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
        assert key_material not in repr(thing) + str(thing), type(thing).__name__
    assert "http://***@p:3128" in repr(load_kubeconfig(path, context="cert"))


def test_every_provider_is_an_auth_provider() -> None:
    spec = ExecSpec(command="p", api_version=V1)
    providers = [
        NoAuth(),
        StaticTokenAuth("t"),
        BasicAuth("u", "p"),
        TokenFileAuth("/x"),
        ExecAuth(spec),
        OIDCAuth(OIDC_USER_CONFIG),
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
