"""Fixtures shared by the integration modules: the loopback proxy in front of the session's API server."""

from tests.integration.loopback_proxy import proxy

__all__ = ["proxy"]
