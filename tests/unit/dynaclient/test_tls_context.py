from __future__ import annotations

import ssl

import pytest

from dynaclient.exceptions import ConfigError
from dynaclient.testing.certs import TinyCA
from dynaclient.transport.http import build_ssl_context


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
