"""Loading kubeconfigs: KUBECONFIG merging, relative paths, context choice, namespaces and servers.

Credentials and TLS material are tested in test_kubeconfig_credentials.py.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from dynaclient.auth import NoAuth, StaticTokenAuth, TokenFileAuth
from dynaclient.config import ClientConfig, kubeconfig_paths, load_kubeconfig, parse_kubeconfig
from dynaclient.exceptions import ConfigError, KubeconfigError
from tests.unit.dynaclient.kubeconfig_documents import CA, CERT, KEY, b64, kubeconfig, simple, write


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    return home


def test_a_single_file_resolves_server_ca_token_context_and_namespace(tmp_path: Path) -> None:
    path = write(tmp_path / "config", simple(namespace="team"))

    config = load_kubeconfig(path)

    assert config.server == "https://dev.example:6443"
    assert config.ca_data == CA
    assert isinstance(config.auth, StaticTokenAuth)
    assert config.auth.headers() == {"Authorization": "Bearer alice-token"}
    assert (config.context, config.namespace, config.source) == ("dev", "team", str(path))


def test_the_namespace_defaults_to_default_when_the_context_has_none(tmp_path: Path) -> None:
    assert load_kubeconfig(write(tmp_path / "config", simple())).namespace == "default"


def test_a_context_is_chosen_by_name_over_current_context(tmp_path: Path) -> None:
    document = simple()
    document["contexts"].append({"name": "prod", "context": {"cluster": "dev", "namespace": "prod-ns"}})
    path = write(tmp_path / "config", document)

    config = load_kubeconfig(str(path), context="prod")

    assert (config.context, config.namespace) == ("prod", "prod-ns")
    assert isinstance(config.auth, NoAuth)


@pytest.mark.parametrize(
    ("server", "expected"),
    [
        pytest.param("https://[::1]:6443", "https://[::1]:6443", id="ipv6-loopback"),
        pytest.param("https://[fd00:10:96::1]/", "https://[fd00:10:96::1]", id="ipv6-trailing-slash"),
        pytest.param("https://10.0.0.1:6443", "https://10.0.0.1:6443", id="ipv4"),
        pytest.param("kube.example:6443", "http://kube.example:6443", id="no-scheme-is-http-even-with-a-ca"),
        pytest.param("https://rancher.example/k8s/clusters/c-1", "https://rancher.example/k8s/clusters/c-1", id="path"),
        pytest.param("http://127.0.0.1:8001", "http://127.0.0.1:8001", id="plain-http"),
    ],
)
def test_servers_with_hostnames_and_ip_addresses_are_accepted(tmp_path: Path, server: str, expected: str) -> None:
    assert load_kubeconfig(write(tmp_path / "config", simple(server=server))).server == expected


def test_a_server_without_scheme_or_tls_settings_gets_http_as_in_client_go(tmp_path: Path) -> None:
    document = simple(server="localhost:8080")
    del document["clusters"][0]["cluster"]["certificate-authority-data"]

    assert load_kubeconfig(write(tmp_path / "config", document)).server == "http://localhost:8080"


@pytest.mark.parametrize("server", ["http://dev.example:6443", "dev.example:6443", "10.0.0.1:6443"])
@pytest.mark.parametrize(
    "user",
    [
        {"token": "alice-token"},
        {"username": "alice", "password": "pw"},
        {"client-certificate-data": b64(CERT), "client-key-data": b64(KEY)},
        {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": "/no/such/plugin"}},
    ],
    ids=["token", "basic", "client-certificate", "exec"],
)
def test_over_plain_http_no_credential_and_no_tls_setting_is_used_as_in_clientcmd(
    tmp_path: Path, server: str, user: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    # clientcmd reads the auth info only when rest.IsConfigTransportTLS; a server without a scheme is http then.
    document = simple(server=server)
    document["users"][0]["user"] = user

    config = load_kubeconfig(write(tmp_path / "config", document))

    assert config.server.startswith("http://")
    assert isinstance(config.auth, NoAuth)
    assert config.auth.headers() == {}
    assert (config.client_certificate, config.ca_data) == (None, None)
    assert "credentials of user 'alice' are not sent" in caplog.text


def test_a_client_config_refuses_credentials_for_a_plain_http_server() -> None:
    with pytest.raises(ConfigError, match="never sent over plain HTTP"):
        ClientConfig("http://dev.example", auth=StaticTokenAuth("t"))
    with pytest.raises(ConfigError, match="never sent over plain HTTP"):
        ClientConfig("http://dev.example", client_certificate_data=CERT, client_key_data=KEY)
    assert ClientConfig("http://127.0.0.1:8001").server == "http://127.0.0.1:8001"


def test_cluster_tls_and_proxy_settings_are_carried_over(tmp_path: Path) -> None:
    document = simple()
    document["clusters"][0]["cluster"] = {
        "server": "https://[::1]:6443",
        "insecure-skip-tls-verify": True,
        "tls-server-name": "kubernetes.default",
        "proxy-url": "socks5://proxy.example:1080",
        "disable-compression": True,
    }

    config = load_kubeconfig(write(tmp_path / "config", document))

    assert config.ca_data is None
    assert config.insecure_skip_tls_verify is True
    assert config.tls_server_name == "kubernetes.default"
    assert config.proxy_url == "socks5://proxy.example:1080"
    assert config.disable_compression is True


def test_kubeconfig_merging_lets_the_first_file_to_define_a_name_win(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = write(
        tmp_path / "a" / "config",
        kubeconfig(
            clusters={"shared": {"server": "https://first.example"}},
            users={"alice": {"token": "first-token"}},
        ),
    )
    second = write(
        tmp_path / "b" / "config",
        kubeconfig(
            clusters={"shared": {"server": "https://second.example"}, "own": {"server": "https://own.example"}},
            users={"alice": {"token": "second-token"}},
            contexts={"dev": {"cluster": "shared", "user": "alice", "namespace": "from-second"}},
            current="dev",
        ),
    )
    monkeypatch.setenv("KUBECONFIG", os.pathsep.join([str(first), str(second)]))

    config = load_kubeconfig()

    assert config.server == "https://first.example"
    assert config.auth.headers() == {"Authorization": "Bearer first-token"}
    assert config.namespace == "from-second"
    assert config.source == os.pathsep.join([str(first), str(second)])


def test_current_context_comes_from_the_first_file_that_sets_one(tmp_path: Path) -> None:
    clusters = {"c": {"server": "https://c.example"}}
    files = [
        write(tmp_path / "1", kubeconfig(clusters=clusters)),
        write(tmp_path / "2", kubeconfig(contexts={"two": {"cluster": "c"}}, current="two")),
        write(tmp_path / "3", kubeconfig(contexts={"three": {"cluster": "c"}}, current="three")),
    ]

    config = load_kubeconfig(env={"KUBECONFIG": os.pathsep.join(map(str, files))})

    assert config.context == "two"


def test_missing_files_in_the_kubeconfig_list_are_skipped(tmp_path: Path) -> None:
    present = write(tmp_path / "present", simple())
    listed = os.pathsep.join([str(tmp_path / "missing"), str(present), ""])

    assert load_kubeconfig(env={"KUBECONFIG": listed}).server == "https://dev.example:6443"


def test_a_kubeconfig_list_where_no_file_exists_is_an_error(tmp_path: Path) -> None:
    listed = os.pathsep.join([str(tmp_path / "a"), str(tmp_path / "b")])

    with pytest.raises(KubeconfigError, match="none of the files listed in KUBECONFIG exists") as caught:
        load_kubeconfig(env={"KUBECONFIG": listed})

    assert caught.value.path == listed


def test_an_explicit_path_that_does_not_exist_is_an_error_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "nope"

    with pytest.raises(KubeconfigError, match="file does not exist") as caught:
        load_kubeconfig(missing)

    assert caught.value.path == str(missing)


def test_the_default_file_is_home_kube_config(clean_env: Path) -> None:
    write(clean_env / ".kube" / "config", simple(namespace="home-ns"))

    assert load_kubeconfig().namespace == "home-ns"


def test_a_missing_default_file_is_an_error_naming_it(clean_env: Path) -> None:
    with pytest.raises(KubeconfigError) as caught:
        load_kubeconfig()

    assert caught.value.path == str(clean_env / ".kube" / "config")


def test_kubeconfig_paths_deduplicates_the_list_in_order(tmp_path: Path) -> None:
    a, b = str(tmp_path / "a"), str(tmp_path / "b")

    assert kubeconfig_paths({"KUBECONFIG": os.pathsep.join([a, b, a])}) == [a, b]


def test_an_empty_file_counts_as_an_empty_kubeconfig_in_a_merge(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_text("")
    full = write(tmp_path / "full", simple())

    config = load_kubeconfig(env={"KUBECONFIG": os.pathsep.join([str(empty), str(full)])})

    assert config.context == "dev"


def test_relative_paths_are_resolved_against_the_file_that_names_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = tmp_path / "kube"
    (directory / "certs").mkdir(parents=True)
    (directory / "certs" / "ca.crt").write_bytes(CA)
    (directory / "certs" / "client.crt").write_bytes(CERT)
    (directory / "certs" / "client.key").write_bytes(KEY)
    document = kubeconfig(
        clusters={"dev": {"server": "https://dev.example", "certificate-authority": "certs/ca.crt"}},
        users={"alice": {"client-certificate": "certs/client.crt", "client-key": "certs/client.key"}},
        contexts={"dev": {"cluster": "dev", "user": "alice"}},
        current="dev",
    )
    path = write(directory / "config", document)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)

    config = load_kubeconfig(path)

    assert (config.ca_data, config.client_certificate) == (CA, (CERT, KEY))


def test_a_relative_token_file_is_resolved_and_read(tmp_path: Path) -> None:
    (tmp_path / "kube").mkdir()
    (tmp_path / "kube" / "token").write_text("file-token\n")
    document = simple()
    document["users"][0]["user"] = {"tokenFile": "token"}

    config = load_kubeconfig(write(tmp_path / "kube" / "config", document))

    assert isinstance(config.auth, TokenFileAuth)
    assert config.auth.path == str(tmp_path / "kube" / "token")
    assert config.auth.headers() == {"Authorization": "Bearer file-token"}


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        pytest.param("bin/plugin", "{dir}/bin/plugin", id="relative-with-separator-is-resolved"),
        pytest.param("kubelogin", "kubelogin", id="bare-name-is-looked-up-on-path"),
        pytest.param("/usr/bin/plugin", "/usr/bin/plugin", id="absolute-is-kept"),
    ],
)
def test_an_exec_command_is_resolved_only_when_it_contains_a_path_separator(
    tmp_path: Path, command: str, expected: str
) -> None:
    text = yaml.safe_dump(
        kubeconfig(users={"u": {"exec": {"command": command, "apiVersion": "client.authentication.k8s.io/v1"}}})
    )

    parsed = parse_kubeconfig(text, str(tmp_path / "config"))

    exec_spec = parsed.users["u"].exec
    assert exec_spec is not None
    assert exec_spec.command == expected.format(dir=tmp_path)


def test_string_fields_accept_numbers_and_booleans_as_kubectl_does(tmp_path: Path) -> None:
    path = tmp_path / "config"
    path.write_text(
        "clusters: [{name: 1234, cluster: {server: 'https://x.example'}}]\n"
        "contexts: [{name: ctx, context: {cluster: 1234, namespace: 42}}]\n"
        "current-context: ctx\n"
    )

    config = load_kubeconfig(path)

    assert (config.server, config.namespace) == ("https://x.example", "42")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-8-sig"])
def test_a_kubeconfig_with_a_byte_order_mark_is_read_as_kubectl_reads_it(tmp_path: Path, encoding: str) -> None:
    # kubectl (sigs.k8s.io/yaml via golang.org/x/text BOMOverride) reads UTF-16 and UTF-8 files with a BOM.
    text = yaml.safe_dump(simple(namespace="ñandú"))
    data = text.encode(encoding)
    if encoding in ("utf-16-le", "utf-16-be"):
        data = "\ufeff".encode(encoding) + data
    path = tmp_path / "config"
    path.write_bytes(data)

    config = load_kubeconfig(path)

    assert (config.server, config.namespace) == ("https://dev.example:6443", "ñandú")
