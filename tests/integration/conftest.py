"""Fixtures shared by the integration modules: the loopback proxy in front of the session's API server, and the
informer chaos rig's (tests/integration/chaos_rig.py)."""

from tests.integration.chaos_rig import restartable_plane, writer_client, writer_configmaps
from tests.integration.loopback_proxy import proxy

__all__ = ["proxy", "restartable_plane", "writer_client", "writer_configmaps"]
