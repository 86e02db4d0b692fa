"""A corpus of malformed and inconsistent kubeconfigs: each raises KubeconfigError naming the file and the key."""

from __future__ import annotations

import base64
import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from dynaclient.config import load_kubeconfig
from dynaclient.exceptions import ConfigError, KubeconfigError

TOKEN = "s3cr3t-token-value"
PASSWORD = "s3cr3t-password"
KEY_DATA = base64.b64encode(b"-----BEGIN PRIVATE KEY-----\ns3cr3t\n-----END PRIVATE KEY-----\n").decode()
CERT_DATA = base64.b64encode(b"-----BEGIN CERTIFICATE-----\nC\n-----END CERTIFICATE-----\n").decode()
SECRETS = (TOKEN, PASSWORD, KEY_DATA, "s3cr3t")
DELETE = object()

BASE: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Config",
    "current-context": "dev",
    "clusters": [{"name": "dev", "cluster": {"server": "https://dev.example:6443"}}],
    "users": [{"name": "alice", "user": {"token": TOKEN}}],
    "contexts": [{"name": "dev", "context": {"cluster": "dev", "user": "alice"}}],
}
EXEC_V1 = {"command": "plugin", "apiVersion": "client.authentication.k8s.io/v1", "interactiveMode": "Never"}
OIDC = {"name": "oidc", "config": {"idp-issuer-url": "https://issuer.example", "id-token": TOKEN}}


def edited(edits: dict[str, Any]) -> dict[str, Any]:
    """Copy BASE and set (or delete) values at dotted paths such as ``users.0.user``."""
    document = copy.deepcopy(BASE)
    for dotted, value in edits.items():
        *parents, last = dotted.split(".")
        target: Any = document
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        index: Any = int(last) if isinstance(target, list) else last
        if value is DELETE:
            del target[index]
        elif isinstance(target, list) and index == len(target):
            target.append(value)
        else:
            target[index] = value
    return document


def case(case_id: str, edits: dict[str, Any] | str, key: str | None, fragment: str) -> Any:
    return pytest.param(edits, key, fragment, id=case_id)


CORPUS = [
    # The document itself.
    case("not-a-mapping", "- just\n- a list\n", None, "expected a mapping, got a list"),
    case("yaml-syntax-error", "clusters:\n  - name: [unclosed\n", None, "invalid YAML at line 3"),
    case("yaml-duplicate-key", f"users:\n- name: a\n  user: {{token: {TOKEN}}}\n  name: b\n", None, "line 4"),
    case("wrong-kind", {"kind": "Pod"}, "kind", 'expected "Config", got "Pod"'),
    case("wrong-api-version", {"apiVersion": "v2"}, "apiVersion", 'expected "v1"'),
    case("clusters-not-a-list", {"clusters": {"dev": {}}}, "clusters", "expected a list, got a mapping"),
    case("contexts-not-a-list", {"contexts": "dev"}, "contexts", "expected a list, got a string"),
    # Clusters.
    case("cluster-not-a-mapping", {"clusters.0": "dev"}, "clusters[0]", "expected a mapping, got a string"),
    case("cluster-missing-name", {"clusters.0.name": DELETE}, "clusters[0].name", "missing"),
    case("cluster-duplicate-name", {"clusters.1": BASE["clusters"][0]}, "clusters[1].name", 'duplicate name "dev"'),
    case("cluster-body-not-a-mapping", {"clusters.0.cluster": ["x"]}, "clusters[0].cluster", "expected a mapping"),
    case("cluster-missing-server", {"clusters.0.cluster.server": DELETE}, "clusters[0].cluster.server", "missing"),
    case("server-ftp-scheme", {"clusters.0.cluster.server": "ftp://dev"}, "clusters[0].cluster.server", '"ftp"'),
    case("server-no-host", {"clusters.0.cluster.server": "https://:6443"}, "clusters[0].cluster.server", "no host"),
    case("server-bad-port", {"clusters.0.cluster.server": "https://dev:http"}, "clusters[0].cluster.server", "port"),
    case(
        "server-ipv6-unbracketed",
        {"clusters.0.cluster.server": "https://fd00::1"},
        "clusters[0].cluster.server",
        "brackets",
    ),
    case(
        "server-with-credentials",
        {"clusters.0.cluster.server": f"https://admin:{PASSWORD}@dev"},
        "clusters[0].cluster.server",
        "must not contain credentials",
    ),
    case(
        "server-not-a-string",
        {"clusters.0.cluster.server": ["https://dev"]},
        "clusters[0].cluster.server",
        "expected a string",
    ),
    case(
        "ca-data-bad-base64",
        {"clusters.0.cluster.certificate-authority-data": "not base64!"},
        "clusters[0].cluster.certificate-authority-data",
        "not valid base64",
    ),
    case(
        "ca-file-missing",
        {"clusters.0.cluster.certificate-authority": "missing-ca.crt"},
        "clusters[0].cluster.certificate-authority",
        "missing-ca.crt: No such file",
    ),
    case(
        "ca-file-and-ca-data",
        {
            "clusters.0.cluster.certificate-authority": "ca.crt",
            "clusters.0.cluster.certificate-authority-data": CERT_DATA,
        },
        "clusters[0].cluster.certificate-authority",
        "certificate-authority-data is set too",
    ),
    case(
        "insecure-with-ca",
        {
            "clusters.0.cluster.insecure-skip-tls-verify": True,
            "clusters.0.cluster.certificate-authority-data": CERT_DATA,
        },
        "clusters[0].cluster.insecure-skip-tls-verify",
        "cannot be combined",
    ),
    case(
        "insecure-not-a-boolean",
        {"clusters.0.cluster.insecure-skip-tls-verify": "yes please"},
        "clusters[0].cluster.insecure-skip-tls-verify",
        "expected true or false, got a string",
    ),
    case(
        "proxy-url-bad-scheme", {"clusters.0.cluster.proxy-url": "ftp://p"}, "clusters[0].cluster.proxy-url", "socks5"
    ),
    # Users.
    case("user-missing-name", {"users.0.name": DELETE}, "users[0].name", "missing"),
    case(
        "client-key-data-bad-base64",
        {"users.0.user": {"client-certificate-data": CERT_DATA, "client-key-data": "%%%"}},
        "users[0].user.client-key-data",
        "not valid base64",
    ),
    case(
        "unselected-user-bad-base64",
        {"users.1": {"name": "bob", "user": {"client-certificate-data": "??"}}},
        "users[1].user.client-certificate-data",
        "not valid base64",
    ),
    case(
        "client-certificate-without-key",
        {"users.0.user": {"client-certificate-data": CERT_DATA}},
        "users[0].user.client-key",
        "must be set with client-certificate",
    ),
    case(
        "client-key-without-certificate",
        {"users.0.user": {"client-key-data": KEY_DATA}},
        "users[0].user.client-certificate",
        "must be set with a key",
    ),
    case(
        "client-key-file-missing",
        {"users.0.user": {"client-certificate-data": CERT_DATA, "client-key": "nope.key"}},
        "users[0].user.client-key",
        "nope.key",
    ),
    case("token-not-a-string", {"users.0.user.token": [TOKEN]}, "users[0].user.token", "expected a string, got a list"),
    case("token-file-missing", {"users.0.user": {"tokenFile": "no-token"}}, "users[0].user.tokenFile", "no-token"),
    case(
        "token-and-basic-auth",
        {"users.0.user.username": "admin", "users.0.user.password": PASSWORD},
        "users[0].user.username",
        "more than one authentication method: token and basic auth",
    ),
    case("impersonation", {"users.0.user.as": "root"}, "users[0].user.as", "impersonation is not supported"),
    case(
        "unknown-auth-provider",
        {"users.0.user": {"auth-provider": {"name": "gcp", "config": {"access-token": TOKEN}}}},
        "users[0].user.auth-provider.name",
        'auth-provider "gcp" is not supported',
    ),
    case(
        "oidc-missing-client-id",
        {"users.0.user": {"auth-provider": OIDC}},
        "users[0].user.auth-provider.config.client-id",
        "missing",
    ),
    case(
        "exec-missing-command",
        {"users.0.user": {"exec": {**EXEC_V1, "command": ""}}},
        "users[0].user.exec.command",
        "missing",
    ),
    case(
        "exec-bad-api-version",
        {"users.0.user": {"exec": {**EXEC_V1, "apiVersion": "client.authentication.k8s.io/v1alpha1"}}},
        "users[0].user.exec.apiVersion",
        '"client.authentication.k8s.io/v1alpha1" is not supported',
    ),
    case(
        "exec-v1-without-interactive-mode",
        {"users.0.user": {"exec": {"command": "plugin", "apiVersion": "client.authentication.k8s.io/v1"}}},
        "users[0].user.exec.interactiveMode",
        "missing",
    ),
    case(
        "exec-bad-interactive-mode",
        {"users.0.user": {"exec": {**EXEC_V1, "interactiveMode": "Sometimes"}}},
        "users[0].user.exec.interactiveMode",
        '"Sometimes" is not one of',
    ),
    case(
        "exec-arg-not-a-string",
        {"users.0.user": {"exec": {**EXEC_V1, "args": ["a", {"b": 1}]}}},
        "users[0].user.exec.args[1]",
        "expected a string",
    ),
    case(
        "exec-env-without-name",
        {"users.0.user": {"exec": {**EXEC_V1, "env": [{"value": TOKEN}]}}},
        "users[0].user.exec.env[0].name",
        "missing",
    ),
    case(
        "exec-with-auth-provider",
        {"users.0.user": {"exec": EXEC_V1, "auth-provider": {"name": "oidc"}}},
        "users[0].user.auth-provider",
        "cannot be combined with an exec plugin",
    ),
    # Contexts.
    case(
        "context-names-missing-user",
        {"contexts.0.context.user": "bob"},
        "contexts[0].context.user",
        'user "bob" not found',
    ),
    case(
        "context-names-missing-cluster",
        {"contexts.0.context.cluster": "prod"},
        "contexts[0].context.cluster",
        'cluster "prod" not found',
    ),
    case("context-without-cluster", {"contexts.0.context.cluster": DELETE}, "contexts[0].context.cluster", "missing"),
    case("current-context-missing", {"current-context": "nope"}, "current-context", 'context "nope" not found'),
    case("current-context-unset", {"current-context": DELETE}, "current-context", "not set"),
]


@pytest.mark.parametrize(("edits", "key", "fragment"), CORPUS)
def test_a_malformed_kubeconfig_raises_an_error_naming_the_file_and_the_key(
    tmp_path: Path, edits: dict[str, Any] | str, key: str | None, fragment: str
) -> None:
    path = tmp_path / "config"
    path.write_text(edits if isinstance(edits, str) else yaml.safe_dump(edited(edits)))

    with pytest.raises(KubeconfigError) as caught:
        load_kubeconfig(path)

    error = caught.value
    assert isinstance(error, ConfigError)
    assert (error.path, error.key) == (str(path), key)
    expected_prefix = f"{path}: {key}: " if key else f"{path}: "
    assert str(error).startswith(expected_prefix)
    assert fragment in str(error)
    assert not any(secret in str(error) for secret in SECRETS)


def test_the_corpus_has_at_least_twenty_cases() -> None:
    assert len(CORPUS) >= 20


def test_a_context_given_by_name_that_does_not_exist_names_the_contexts_key(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text(yaml.safe_dump(BASE))

    with pytest.raises(KubeconfigError, match='contexts: context "prod" not found') as caught:
        load_kubeconfig(path, context="prod")

    assert caught.value.path == str(path)


def test_an_error_in_a_merged_file_names_that_file(tmp_path: Path) -> None:
    good, bad = tmp_path / "good", tmp_path / "bad"
    good.write_text(yaml.safe_dump(BASE))
    bad.write_text(yaml.safe_dump(edited({"users.0.user.client-key-data": "!!"})))

    with pytest.raises(KubeconfigError) as caught:
        load_kubeconfig(env={"KUBECONFIG": f"{good}:{bad}"})

    assert (caught.value.path, caught.value.key) == (str(bad), "users[0].user.client-key-data")


def test_an_unreadable_file_is_an_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_bytes(b"\xc3\x28 not utf-8")  # (\xff\xfe would be a UTF-16 byte-order mark)

    with pytest.raises(KubeconfigError, match="not UTF-8") as caught:
        load_kubeconfig(path)

    assert caught.value.path == str(path)


def test_a_deeply_nested_kubeconfig_is_an_error_naming_the_file(tmp_path: Path) -> None:
    # Before: PyYAML's RecursionError escaped bare.
    path = tmp_path / "config"
    path.write_text("[" * 20000 + "]" * 20000)

    with pytest.raises(KubeconfigError, match="nested too deeply") as caught:
        load_kubeconfig(path)

    assert caught.value.path == str(path)
