"""Credentials in kubeconfigs: client certificates, basic auth, tokens and token files, exec plugins, and
unusable TLS material named by key and file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dynaclient.auth import BasicAuth, ExecAuth
from dynaclient.config import load_kubeconfig
from dynaclient.exceptions import KubeconfigError
from tests.unit.dynaclient.kubeconfig_documents import AUTHORITY, CA, CERT, KEY, b64, simple, write


def test_client_certificate_data_and_basic_auth_are_read(tmp_path: Path) -> None:
    document = simple()
    document["users"].append(
        {"name": "cert", "user": {"client-certificate-data": b64(CERT), "client-key-data": b64(KEY)}}
    )
    document["users"].append({"name": "basic", "user": {"username": "admin", "password": "hunter2"}})
    document["contexts"] += [
        {"name": "cert", "context": {"cluster": "dev", "user": "cert"}},
        {"name": "basic", "context": {"cluster": "dev", "user": "basic"}},
    ]
    path = write(tmp_path / "config", document)

    assert load_kubeconfig(path, context="cert").client_certificate == (CERT, KEY)
    assert isinstance(load_kubeconfig(path, context="basic").auth, BasicAuth)


def test_with_token_and_token_file_the_files_token_goes_on_the_wire_as_in_client_go(tmp_path: Path) -> None:
    # client-go NewBearerAuthWithRefreshRoundTripper: the file's token, the static one only while it is unreadable.
    token_file = tmp_path / "token"
    token_file.write_text("from-file\n")
    document = simple()
    document["users"][0]["user"] = {"token": "static", "tokenFile": str(token_file)}
    path = write(tmp_path / "config", document)

    assert load_kubeconfig(path).auth.headers() == {"Authorization": "Bearer from-file"}
    token_file.unlink()
    assert load_kubeconfig(path).auth.headers() == {"Authorization": "Bearer static"}


EXEC_PLUGIN = {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": "/no/such/plugin"}


@pytest.mark.parametrize(
    ("user", "authorization"),
    [
        ({"token": "t"}, "Bearer t"),
        ({"username": "u", "password": "p"}, "Basic dTpw"),
        ({"client-certificate-data": b64(CERT), "client-key-data": b64(KEY)}, None),
    ],
    ids=["token", "basic", "client-certificate"],
)
def test_a_credential_next_to_exec_is_used_and_the_plugin_never_runs(
    tmp_path: Path, user: dict[str, Any], authorization: str | None
) -> None:
    # client-go exec.go UpdateTransportConfig, TestAuthorizationHeaderPresentCancelsExecAction.
    document = simple()
    document["users"][0]["user"] = {**user, "exec": EXEC_PLUGIN}

    config = load_kubeconfig(write(tmp_path / "config", document))

    assert not isinstance(config.auth, ExecAuth)
    assert config.auth.headers().get("Authorization") == authorization  # the missing plugin would raise
    assert config.auth.client_certificate() is None


def test_a_v1beta1_exec_plugin_without_interactive_mode_defaults_to_if_available(tmp_path: Path) -> None:
    document = simple()
    document["clusters"][0]["cluster"]["extensions"] = [
        {"name": "client.authentication.k8s.io/exec", "extension": {"audience": "k8s"}}
    ]
    document["users"][0]["user"] = {
        "exec": {"command": "plugin", "apiVersion": "client.authentication.k8s.io/v1beta1", "provideClusterInfo": True}
    }

    config = load_kubeconfig(write(tmp_path / "config", document))

    assert isinstance(config.auth, ExecAuth)
    assert config.auth.spec.interactive_mode == "IfAvailable"
    cluster = config.auth.exec_info()["spec"]["cluster"]
    assert cluster == {
        "server": "https://dev.example:6443",
        "certificate-authority-data": b64(CA),
        "config": {"audience": "k8s"},
    }


@pytest.mark.parametrize(
    ("cluster", "key", "reason"),
    [
        ({"certificate-authority-data": b64(bytes([0x30, 0x82, 0x01, 0x0A, 0xFF]))}, "certificate-authority-data",
         "is not PEM"),
        ({"certificate-authority-data": b64(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")},
         "certificate-authority-data", "not a usable PEM certificate"),
        ({"certificate-authority": "empty.crt"}, "certificate-authority", "empty.crt is empty"),
        ({"certificate-authority": "der.crt"}, "certificate-authority", "der.crt"),
    ],
    ids=["der-data", "bad-pem-data", "empty-file", "der-file"],
)  # fmt: skip
def test_an_unusable_certificate_authority_is_an_error_naming_the_key_and_file(
    tmp_path: Path, cluster: dict[str, Any], key: str, reason: str
) -> None:
    # Before: DER data raised a bare TypeError; an empty file silently trusted the system roots.
    (tmp_path / "empty.crt").write_bytes(b"")
    (tmp_path / "der.crt").write_bytes(bytes([0x30, 0x82, 0x01, 0x0A, 0xFF]))
    document = simple()
    document["clusters"][0]["cluster"] = {"server": "https://dev.example", **cluster}
    path = write(tmp_path / "config", document)

    with pytest.raises(KubeconfigError, match=reason) as raised:
        load_kubeconfig(path)

    assert (raised.value.path, raised.value.key) == (str(path), f"clusters[0].cluster.{key}")


def test_an_unusable_client_key_file_is_an_error_naming_the_key_and_files(tmp_path: Path) -> None:
    (tmp_path / "alice.crt").write_bytes(CERT)
    (tmp_path / "alice.key").write_bytes(AUTHORITY.issue("bob").key_pem)  # not alice's key
    document = simple()
    document["users"][0]["user"] = {"client-certificate": "alice.crt", "client-key": "alice.key"}
    path = write(tmp_path / "config", document)

    with pytest.raises(KubeconfigError, match=r"alice\.crt, .*alice\.key") as raised:
        load_kubeconfig(path)

    assert raised.value.key == "users[0].user.client-certificate"


def test_exec_plugins_get_the_server_exactly_as_written(tmp_path: Path) -> None:
    # client-go passes rest.Config.Host, the kubeconfig's server unchanged, as spec.cluster.server.
    document = simple(server="https://Dev.Example:6443/")
    document["users"][0]["user"] = {"exec": {**EXEC_PLUGIN, "provideClusterInfo": True}}

    config = load_kubeconfig(write(tmp_path / "config", document))

    assert isinstance(config.auth, ExecAuth)
    assert config.auth.exec_info()["spec"]["cluster"]["server"] == "https://Dev.Example:6443/"
    assert config.server == "https://Dev.Example:6443"
