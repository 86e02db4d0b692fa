"""The compression policy: which encoding a client asks for, from the configuration and the environment."""

from __future__ import annotations

import pytest

from dynaclient.config import ClientConfig
from dynaclient.connect import transport_options
from dynaclient.exceptions import ConfigError
from dynaclient.transport.compression import COMPRESSION_ENV, accept_encoding


def test_auto_asks_for_gzip() -> None:
    assert accept_encoding("auto", env={}) == "gzip"


@pytest.mark.parametrize("compression", ["gzip", "identity"])
def test_an_explicit_choice_wins_over_the_environment(compression: str) -> None:
    env = {COMPRESSION_ENV: "identity" if compression == "gzip" else "gzip"}
    assert accept_encoding(compression, env=env) == compression  # type: ignore[arg-type]


@pytest.mark.parametrize(("value", "expected"), [("gzip", "gzip"), (" Identity ", "identity"), ("auto", "gzip")])
def test_the_environment_overrides_auto(value: str, expected: str) -> None:
    assert accept_encoding("auto", env={COMPRESSION_ENV: value}) == expected


@pytest.mark.parametrize("compression", ["auto", "gzip", "identity"])
def test_disable_compression_means_identity_whatever_else_is_said(compression: str) -> None:
    assert accept_encoding(compression, disabled=True, env={COMPRESSION_ENV: "gzip"}) == "identity"  # type: ignore[arg-type]


def test_an_unknown_choice_is_a_config_error_naming_it() -> None:
    with pytest.raises(ConfigError, match="compression: 'brotli' is not one of auto, gzip, identity"):
        accept_encoding("brotli", env={})  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=f"{COMPRESSION_ENV}: 'zstd' is not one of"):
        accept_encoding("auto", env={COMPRESSION_ENV: "zstd"})


@pytest.mark.parametrize(
    ("server", "compression", "disable", "expected"),
    [
        ("https://127.0.0.1:6443", "auto", False, False),
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
