"""The compression policy: which encoding a client asks for, from the configuration, the server and the environment."""

from __future__ import annotations

import pytest

from dynaclient.config import ClientConfig
from dynaclient.connect import transport_options
from dynaclient.exceptions import ConfigError
from dynaclient.transport.compression import COMPRESSION_ENV, accept_encoding


@pytest.mark.parametrize(
    ("server", "expected"),
    [
        ("https://127.0.0.1:6443", "identity"),
        ("https://127.5.6.7:6443", "identity"),
        ("https://[::1]:6443", "identity"),
        ("https://localhost:6443", "identity"),
        ("https://10.96.0.1", "gzip"),
        ("https://[fd00::1]:443", "gzip"),
        ("https://kubernetes.default.svc", "gzip"),
    ],
)
def test_auto_asks_a_loopback_server_for_identity_and_any_other_for_gzip(server: str, expected: str) -> None:
    assert accept_encoding(server, "auto", env={}) == expected


def test_auto_through_a_proxy_asks_for_gzip() -> None:
    assert accept_encoding("https://127.0.0.1:6443", "auto", proxied=True, env={}) == "gzip"


@pytest.mark.parametrize("compression", ["gzip", "identity"])
def test_an_explicit_choice_wins_over_the_server_and_the_environment(compression: str) -> None:
    env = {COMPRESSION_ENV: "identity" if compression == "gzip" else "gzip"}
    for server in ("https://127.0.0.1:6443", "https://10.0.0.1"):
        assert accept_encoding(server, compression, env=env) == compression  # type: ignore[arg-type]


@pytest.mark.parametrize(("value", "expected"), [("gzip", "gzip"), (" Identity ", "identity"), ("auto", "identity")])
def test_the_environment_overrides_auto(value: str, expected: str) -> None:
    assert accept_encoding("https://127.0.0.1:6443", "auto", env={COMPRESSION_ENV: value}) == expected


def test_an_unknown_choice_is_a_config_error_naming_it() -> None:
    with pytest.raises(ConfigError, match="compression: 'brotli' is not one of auto, gzip, identity"):
        accept_encoding("https://10.0.0.1", "brotli", env={})  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=f"{COMPRESSION_ENV}: 'zstd' is not one of"):
        accept_encoding("https://10.0.0.1", "auto", env={COMPRESSION_ENV: "zstd"})


@pytest.mark.parametrize(
    ("server", "compression", "disable", "expected"),
    [
        ("https://127.0.0.1:6443", "auto", False, True),
        ("https://10.0.0.1", "auto", False, False),
        ("https://10.0.0.1", "identity", False, True),
        ("https://127.0.0.1:6443", "gzip", False, False),
        ("https://127.0.0.1:6443", "gzip", True, True),
    ],
)
def test_transport_options_resolve_the_policy(
    monkeypatch: pytest.MonkeyPatch, server: str, compression: str, disable: bool, expected: bool
) -> None:
    monkeypatch.delenv(COMPRESSION_ENV, raising=False)
    config = ClientConfig(server, compression=compression, disable_compression=disable)  # type: ignore[arg-type]
    assert transport_options(config)["disable_compression"] is expected
