"""Credential sources the client applies to each request: tokens, token files, exec plugins, OIDC, basic auth.

Every provider implements :class:`AuthProvider`; none ever shows a credential in a repr, a log line or an error.
"""

from __future__ import annotations

from dynaclient.auth.base import AuthProvider, BasicAuth, CredentialCache, NoAuth, StaticTokenAuth
from dynaclient.auth.exec import EXEC_API_VERSIONS, ClusterInfo, ExecAuth, ExecCredential, ExecSpec
from dynaclient.auth.oidc import OIDCAuth, OIDCRefreshRequest, OIDCTokens, refresh_oidc_tokens
from dynaclient.auth.token_file import TokenFileAuth, read_token_file

__all__ = [
    "EXEC_API_VERSIONS",
    "AuthProvider",
    "BasicAuth",
    "ClusterInfo",
    "CredentialCache",
    "ExecAuth",
    "ExecCredential",
    "ExecSpec",
    "NoAuth",
    "OIDCAuth",
    "OIDCRefreshRequest",
    "OIDCTokens",
    "StaticTokenAuth",
    "TokenFileAuth",
    "read_token_file",
    "refresh_oidc_tokens",
]
