"""The in-cluster configuration: service environment, service-account token, CA and namespace files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dynaclient.auth import TokenFileAuth
from dynaclient.config import load_incluster_config
from dynaclient.exceptions import ConfigError, InClusterConfigError
from dynaclient.testing.certs import TinyCA

TOKEN = "service-account-s3cr3t"
CA = TinyCA("in-cluster-test-ca").cert_pem  # loaded when the configuration is built: a real certificate
ENV = {"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"}


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def account(tmp_path: Path) -> Path:
    (tmp_path / "token").write_text(TOKEN + "\n")
    (tmp_path / "ca.crt").write_bytes(CA)
    (tmp_path / "namespace").write_text("team-a\n")
    return tmp_path


def test_the_pod_environment_gives_server_ca_token_and_namespace(account: Path) -> None:
    config = load_incluster_config(ENV, account)

    assert config.server == "https://10.96.0.1:443"
    assert config.ca_data == CA
    assert config.namespace == "team-a"
    assert config.source == "in-cluster"
    assert isinstance(config.auth, TokenFileAuth)
    assert config.auth.headers() == {"Authorization": f"Bearer {TOKEN}"}


def test_an_ipv6_service_host_is_bracketed(account: Path) -> None:
    env = {"KUBERNETES_SERVICE_HOST": "fd00:10:96::1", "KUBERNETES_SERVICE_PORT": "6443"}

    assert load_incluster_config(env, account).server == "https://[fd00:10:96::1]:6443"


def test_pod_namespace_overrides_the_namespace_file(account: Path) -> None:
    assert load_incluster_config({**ENV, "POD_NAMESPACE": "from-env"}, account).namespace == "from-env"


def test_the_namespace_is_default_without_a_namespace_file(account: Path) -> None:
    (account / "namespace").unlink()

    assert load_incluster_config(ENV, account).namespace == "default"


def test_the_token_is_re_read_after_rotation(account: Path) -> None:
    clock = FakeClock()
    config = load_incluster_config(ENV, account, now=clock)
    assert config.auth.headers() == {"Authorization": f"Bearer {TOKEN}"}

    (account / "token").write_text("rotated-token-value")
    clock.now += 61

    assert config.auth.headers() == {"Authorization": "Bearer rotated-token-value"}


def test_os_environ_is_read_by_default(account: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)

    assert load_incluster_config(root=account).server == "https://10.96.0.1:443"


@pytest.mark.parametrize(
    ("env", "named"),
    [
        pytest.param({"KUBERNETES_SERVICE_PORT": "443"}, "KUBERNETES_SERVICE_HOST", id="no-host"),
        pytest.param({"KUBERNETES_SERVICE_HOST": "10.96.0.1"}, "KUBERNETES_SERVICE_PORT", id="no-port"),
        pytest.param({**ENV, "KUBERNETES_SERVICE_HOST": ""}, "KUBERNETES_SERVICE_HOST", id="empty-host"),
        pytest.param({**ENV, "KUBERNETES_SERVICE_PORT": "https"}, "KUBERNETES_SERVICE_PORT", id="port-not-a-number"),
        pytest.param({**ENV, "KUBERNETES_SERVICE_PORT": "70000"}, "KUBERNETES_SERVICE_PORT", id="port-out-of-range"),
        pytest.param({**ENV, "KUBERNETES_SERVICE_HOST": "a/b"}, "KUBERNETES_SERVICE_HOST", id="host-not-a-host"),
        pytest.param({**ENV, "KUBERNETES_SERVICE_HOST": "zz:zz"}, "KUBERNETES_SERVICE_HOST", id="host-bad-ipv6"),
    ],
)
def test_a_missing_or_invalid_variable_is_named(account: Path, env: dict[str, str], named: str) -> None:
    with pytest.raises(InClusterConfigError, match=named):
        load_incluster_config(env, account)


@pytest.mark.parametrize("name", ["token", "ca.crt"])
def test_a_missing_service_account_file_is_named(account: Path, name: str) -> None:
    (account / name).unlink()

    with pytest.raises(InClusterConfigError) as caught:
        load_incluster_config(ENV, account)

    assert os.path.join(account, name) in str(caught.value)
    assert isinstance(caught.value, ConfigError)


def test_an_empty_token_file_is_an_error_naming_it(account: Path) -> None:
    (account / "token").write_text("\n")

    with pytest.raises(InClusterConfigError, match="is empty"):
        load_incluster_config(ENV, account)


def test_the_config_repr_shows_no_token(account: Path) -> None:
    config = load_incluster_config(ENV, account)

    assert TOKEN not in repr(config)
    assert TOKEN not in repr(config.auth)
    assert "token" in repr(config.auth)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "is empty"),
        (b"\n  \n", "is empty"),
        (bytes([0x30, 0x82, 0x03, 0x0B, 0xFF]), "is not PEM"),
        (b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "not a usable PEM certificate"),
    ],
    ids=["empty", "blank", "der", "bad-pem"],
)
def test_an_empty_or_der_ca_file_is_an_error_naming_it_not_trust_in_the_system_roots(
    account: Path, content: bytes, reason: str
) -> None:
    (account / "ca.crt").write_bytes(content)

    with pytest.raises(InClusterConfigError, match=reason) as raised:
        load_incluster_config(ENV, account)

    assert str(account / "ca.crt") in str(raised.value)


def test_a_binary_namespace_file_is_an_error_naming_it(account: Path) -> None:
    (account / "namespace").write_bytes(b"\xff\xfe\x00team")

    with pytest.raises(InClusterConfigError, match="not UTF-8") as raised:
        load_incluster_config(ENV, account)

    assert str(account / "namespace") in str(raised.value)
