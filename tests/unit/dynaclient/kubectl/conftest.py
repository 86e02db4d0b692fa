"""The ``fake`` kubectl stand-in fixture for the KubectlRawTransport tests."""

from tests.unit.dynaclient.kubectl.fake_kubectl import fake

__all__ = ["fake"]
