from __future__ import annotations

import base64
import ipaddress

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from dynaclient.testing.certs import TinyCA, service_account_key_pair
from dynaclient.testing.controlplane import build_kubeconfig


def test_serving_certificate_covers_loopback_names_and_chains_to_its_ca() -> None:
    ca = TinyCA("test-ca")
    pair = ca.issue("localhost", dns_names=["localhost"], ip_addresses=["127.0.0.1", "::1"], server=True)
    cert = x509.load_pem_x509_certificate(pair.cert_pem)
    cert.verify_directly_issued_by(x509.load_pem_x509_certificate(ca.cert_pem))
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["localhost"]
    assert names.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1")]
    usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [ExtendedKeyUsageOID.SERVER_AUTH]


def test_client_certificate_carries_user_as_common_name_and_groups_as_organizations() -> None:
    ca = TinyCA("client-ca")
    cert = x509.load_pem_x509_certificate(ca.issue("alice", organizations=["system:masters", "devs"]).cert_pem)
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "alice"
    groups = [a.value for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
    assert groups == ["system:masters", "devs"]
    usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(usage) == [ExtendedKeyUsageOID.CLIENT_AUTH]


def test_key_pairs_never_show_the_private_key_in_their_repr() -> None:
    pair = service_account_key_pair()
    assert b"PUBLIC KEY" in pair.cert_pem
    assert b"PRIVATE KEY" in pair.key_pem
    assert "PRIVATE" not in repr(pair)


def test_kubeconfig_has_a_certificate_context_and_a_token_context_for_one_cluster() -> None:
    ca = TinyCA("ca")
    admin = ca.issue("admin", organizations=["system:masters"])
    config = build_kubeconfig("https://127.0.0.1:6443", ca.cert_pem, admin, "s3cret")
    (cluster,) = config["clusters"]
    assert cluster["cluster"]["server"] == "https://127.0.0.1:6443"
    assert base64.b64decode(cluster["cluster"]["certificate-authority-data"]) == ca.cert_pem
    users = {u["name"]: u["user"] for u in config["users"]}
    assert base64.b64decode(users["admin"]["client-key-data"]) == admin.key_pem
    assert users["token-admin"] == {"token": "s3cret"}
    contexts = {c["name"]: c["context"]["user"] for c in config["contexts"]}
    assert contexts == {"dynaclient": "admin", "dynaclient-token": "token-admin"}
    assert config["current-context"] == "dynaclient"
