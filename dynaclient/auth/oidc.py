"""The ``oidc`` auth-provider: an OpenID Connect id-token, refreshed with the refresh-token when it expires.

Follows client-go plugin/pkg/client/auth/oidc/oidc.go: the id-token is used until its JWT ``exp`` has passed; then
the refresh-token is exchanged at the issuer's token endpoint (found through
``<idp-issuer-url>/.well-known/openid-configuration``) and the new tokens are persisted, as kubectl does, into the
kubeconfig the user came from.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus

import requests

from dynaclient.auth.base import AuthProvider, CredentialCache
from dynaclient.exceptions import AuthError, DynaclientError

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, repr=False)
class OIDCRefreshRequest:
    """What a refresh function needs to exchange a refresh-token for new tokens.

    Attributes:
        issuer_url: the ``idp-issuer-url``.
        client_id: the ``client-id``.
        client_secret: the ``client-secret``, or ``None`` for a public client.
        refresh_token: the ``refresh-token``.
        certificate_authority_file: the ``idp-certificate-authority`` file, or ``None``.
        certificate_authority_data: the decoded ``idp-certificate-authority-data``, or ``None``.

    Thread-safety: immutable.
    """

    issuer_url: str
    client_id: str
    client_secret: str | None
    refresh_token: str
    certificate_authority_file: str | None = None
    certificate_authority_data: bytes | None = None

    def __repr__(self) -> str:
        return f"OIDCRefreshRequest(issuer_url={self.issuer_url!r}, client_id={self.client_id!r})"


@dataclass(frozen=True, slots=True, repr=False)
class OIDCTokens:
    """The tokens an issuer returned from a refresh.

    Attributes:
        id_token: the new id-token.
        refresh_token: the new refresh-token, or ``None`` when the issuer keeps the old one valid.

    Thread-safety: immutable.
    """

    id_token: str
    refresh_token: str | None = None

    def __repr__(self) -> str:
        return "OIDCTokens(<redacted>)"


RefreshFunction = Callable[[OIDCRefreshRequest], OIDCTokens]
PersistFunction = Callable[[Mapping[str, str]], None]


class OIDCAuth(AuthProvider):
    """Sends the OIDC id-token, refreshing it through ``refresh`` when its ``exp`` has passed.

    After a refresh the whole auth-provider ``config`` map, with the new ``id-token`` and ``refresh-token``, is
    handed to ``persist``. A failure to persist is logged and does not fail the request (client-go fails it;
    the new token is valid either way). One thread at a time refreshes, with no lock held.

    Thread-safety: thread-safe.
    """

    REQUIRED_KEYS = ("client-id", "idp-issuer-url")

    def __init__(
        self,
        config: Mapping[str, str],
        persist: PersistFunction | None = None,
        *,
        refresh: RefreshFunction | None = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        missing = [key for key in self.REQUIRED_KEYS if not config.get(key)]
        if missing:
            raise AuthError(f"the oidc auth-provider config needs {' and '.join(missing)}")
        self._config = dict(config)
        self._config_lock = threading.Lock()
        self._persist = persist
        self._refresh_function = refresh or refresh_oidc_tokens
        self._now = now
        self._cache = CredentialCache(self._refresh, self._is_valid, initial=config.get("id-token") or None)

    def headers(self) -> dict[str, str]:
        """Return the ``Authorization: Bearer`` header with a current id-token.

        Raises:
            AuthError: the id-token is not a JWT, or it expired and could not be refreshed.
        """
        return {"Authorization": f"Bearer {self._cache.get()}"}

    def cached_headers(self) -> dict[str, str] | None:
        """Return the header of the cached id-token while it is valid; ``None`` when a refresh is due."""
        token = self._cache.peek()
        return None if token is None else {"Authorization": f"Bearer {token}"}

    def on_unauthorized(self) -> bool:
        """Force a refresh on the next request when there is a refresh-token; return whether there is one."""
        if not self.config.get("refresh-token"):
            return False
        self._cache.invalidate()
        return True

    @property
    def config(self) -> dict[str, str]:
        """A copy of the current auth-provider config map (it holds secrets: do not log it)."""
        with self._config_lock:
            return dict(self._config)

    def _is_valid(self, id_token: str) -> bool:
        expiry = id_token_expiry(id_token)
        return expiry is not None and self._now() <= expiry

    def _refresh(self) -> str:
        config = self.config
        refresh_token = config.get("refresh-token")
        if not refresh_token:
            raise AuthError("the oidc id-token is missing or expired, and there is no refresh-token to renew it")
        ca_data = config.get("idp-certificate-authority-data")
        request = OIDCRefreshRequest(
            issuer_url=config["idp-issuer-url"],
            client_id=config["client-id"],
            client_secret=config.get("client-secret") or None,
            refresh_token=refresh_token,
            certificate_authority_file=config.get("idp-certificate-authority") or None,
            certificate_authority_data=base64.b64decode(ca_data) if ca_data else None,
        )
        tokens = self._refresh_function(request)
        if not tokens.id_token:
            raise AuthError(f"the token response of {request.issuer_url} did not contain an id_token")
        config["id-token"] = tokens.id_token
        if tokens.refresh_token:
            config["refresh-token"] = tokens.refresh_token
        with self._config_lock:
            self._config = dict(config)
        self._save(config)
        return tokens.id_token

    def _save(self, config: Mapping[str, str]) -> None:
        if self._persist is None:
            return
        try:
            self._persist(config)
        except (OSError, DynaclientError) as exc:
            logger.warning("could not persist the refreshed oidc tokens: %s", exc)

    def __repr__(self) -> str:
        return f"OIDCAuth(issuer={self._config['idp-issuer-url']!r}, client_id={self._config['client-id']!r})"


def id_token_expiry(id_token: str) -> float | None:
    """Return the ``exp`` claim of a JWT in epoch seconds, or ``None`` when it has none.

    >>> payload = base64.urlsafe_b64encode(b'{"exp": 1700000000}').decode().rstrip("=")
    >>> id_token_expiry(f"e30.{payload}.sig")
    1700000000.0

    Raises:
        AuthError: the token is not a JWT (the message never quotes it).
    """
    parts = id_token.split(".")
    if len(parts) != 3:  # header.payload.signature
        raise AuthError("the oidc id-token is not a JWT")
    encoded = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(encoded))
    except (ValueError, binascii.Error, RecursionError):
        raise AuthError("the oidc id-token payload is not base64url-encoded JSON") from None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    return float(exp) if isinstance(exp, int | float) and not isinstance(exp, bool) else None


def refresh_oidc_tokens(
    request: OIDCRefreshRequest, *, session: requests.Session | None = None, timeout: float = 30.0
) -> OIDCTokens:
    """Exchange a refresh-token at the issuer's token endpoint (the default refresh function of :class:`OIDCAuth`).

    Client credentials go in an HTTP basic header first and, if the endpoint rejects that, in the form body, as
    golang.org/x/oauth2's ``AuthStyleAutoDetect`` does for client-go.

    Raises:
        AuthError: discovery or the token request failed; the message names the issuer, never a token.
    """
    http = session or requests.Session()
    try:
        with _verify_argument(request) as verify:
            discovery = _json(http.get(_discovery_url(request.issuer_url), timeout=timeout, verify=verify), request)
            endpoint = discovery.get("token_endpoint")
            if not isinstance(endpoint, str) or not endpoint:
                raise AuthError(f"the discovery document of {request.issuer_url} has no token_endpoint")
            form = {"grant_type": "refresh_token", "refresh_token": request.refresh_token}
            response = None
            if request.client_secret:
                basic = f"{quote_plus(request.client_id)}:{quote_plus(request.client_secret)}".encode()
                header = {"Authorization": f"Basic {base64.b64encode(basic).decode('ascii')}"}
                response = http.post(endpoint, data=form, headers=header, timeout=timeout, verify=verify)
            if response is None or response.status_code in (400, 401):
                body = {**form, "client_id": request.client_id}
                if request.client_secret:
                    body["client_secret"] = request.client_secret
                response = http.post(endpoint, data=body, timeout=timeout, verify=verify)
            answer = _json(response, request)
    except (requests.RequestException, OSError) as exc:
        raise AuthError(f"oidc token refresh at {request.issuer_url} failed: {type(exc).__name__}") from exc
    id_token, refresh_token = answer.get("id_token"), answer.get("refresh_token")
    if not isinstance(id_token, str) or not id_token:
        raise AuthError(f"the token response of {request.issuer_url} did not contain an id_token")
    return OIDCTokens(id_token, refresh_token if isinstance(refresh_token, str) and refresh_token else None)


def _discovery_url(issuer_url: str) -> str:
    """Return the OpenID discovery document URL of an issuer.

    >>> _discovery_url("https://issuer.example/realms/k8s/")
    'https://issuer.example/realms/k8s/.well-known/openid-configuration'
    """
    return issuer_url.rstrip("/") + "/.well-known/openid-configuration"


def _json(response: requests.Response, request: OIDCRefreshRequest) -> dict[str, Any]:
    try:
        body = response.json()
    except (ValueError, RecursionError):
        body = None
    if response.status_code != 200 or not isinstance(body, dict):
        error = body.get("error") if isinstance(body, dict) else None
        detail = f" ({error})" if isinstance(error, str) else ""
        raise AuthError(f"oidc issuer {request.issuer_url} answered HTTP {response.status_code}{detail}")
    return body


@contextlib.contextmanager
def _verify_argument(request: OIDCRefreshRequest) -> Iterator[bool | str]:
    """Yield the ``verify`` argument for requests: a CA bundle file (written from the data if needed) or True."""
    if request.certificate_authority_data:
        handle, name = tempfile.mkstemp(prefix="dynaclient-oidc-ca-", suffix=".pem")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(request.certificate_authority_data)
            yield name
        finally:
            os.unlink(name)
    else:
        yield request.certificate_authority_file or True


__all__ = ["OIDCAuth", "OIDCRefreshRequest", "OIDCTokens", "id_token_expiry", "refresh_oidc_tokens"]
