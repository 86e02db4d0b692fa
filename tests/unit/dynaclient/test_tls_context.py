from __future__ import annotations

import ssl

import pytest

from dynaclient.exceptions import ConfigError
from dynaclient.testing.certs import TinyCA
from dynaclient.transport.tls import build_ssl_context


def test_with_ca_data_only_that_authority_is_trusted() -> None:
    authority = TinyCA("cluster-ca")

    context = build_ssl_context(ca_data=authority.cert_pem)

    trusted = context.get_ca_certs()
    assert len(trusted) == 1
    assert (("commonName", "cluster-ca"),) in trusted[0]["subject"]
    assert context.verify_mode == ssl.CERT_REQUIRED


def test_ca_data_that_is_not_a_certificate_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="certificate authority data is not a usable PEM certificate"):
        build_ssl_context(ca_data=b"-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")


def test_without_ca_data_the_system_roots_are_trusted() -> None:
    context = build_ssl_context()

    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.cert_store_stats()["x509_ca"] > 0 or ssl.get_default_verify_paths().capath is not None


def test_without_ca_data_nor_a_system_store_the_certifi_bundle_is_trusted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ssl.SSLContext, "load_default_certs", lambda self, purpose=None: None)
    no_store = ssl.DefaultVerifyPaths(None, None, "", "", "", "")  # type: ignore[arg-type]
    monkeypatch.setattr(ssl, "get_default_verify_paths", lambda: no_store)

    context = build_ssl_context()

    assert context.cert_store_stats()["x509_ca"] > 50
