"""The authentication contract every credential source implements, and the static credential sources."""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

_T = TypeVar("_T")


class AuthProvider:
    """Supplies the credentials of each request: an ``Authorization`` header, a client certificate, or both.

    The client calls :meth:`headers` before every request and, when the server answers 401, calls
    :meth:`on_unauthorized` once; the request is retried (once) only if that returns ``True``. Transports call
    :meth:`client_certificate` when they set up TLS. The base class supplies no credential at all.

    No implementation shows a credential in its ``repr``, its ``str`` or the message of an error it raises.

    Thread-safety: thread-safe; every implementation must be.
    """

    def headers(self) -> dict[str, str]:
        """Return the headers to add to a request, normally just ``Authorization``; empty when there are none.

        Raises:
            AuthError: the credential could not be obtained.
        """
        return {}

    def cached_headers(self) -> dict[str, str] | None:
        """Return :meth:`headers` when they are at hand without I/O (no plugin to run, no file to read), else ``None``.

        The asyncio client calls this on the event loop and runs :meth:`headers` in a worker thread only when it
        returns ``None``, so exec plugins and token files never block the loop. Static providers answer at once.
        """
        return self.headers()

    def client_certificate(self) -> tuple[bytes, bytes] | None:
        """Return the PEM client certificate and key this provider supplies, or ``None``.

        Raises:
            AuthError: the credential could not be obtained.
        """
        return None

    def client_certificate_ready(self) -> bool:
        """Tell whether :meth:`client_certificate` answers now without I/O (no exec plugin to run).

        The asyncio transport asks before each request and runs :meth:`client_certificate` in a worker thread when
        it is not ready. Static providers are always ready.
        """
        return True

    def on_unauthorized(self) -> bool:
        """Forget any cached credential after a 401; return whether retrying the request may help."""
        return False

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class NoAuth(AuthProvider):
    """Sends requests without credentials (``kubectl proxy``, anonymous access).

    Thread-safety: immutable.
    """


class StaticTokenAuth(AuthProvider):
    """Sends a fixed bearer token (the kubeconfig ``token`` key).

    Thread-safety: immutable.
    """

    def __init__(self, token: str) -> None:
        self._token = token

    def headers(self) -> dict[str, str]:
        """Return the ``Authorization: Bearer`` header."""
        return {"Authorization": f"Bearer {self._token}"}


class BasicAuth(AuthProvider):
    """Sends HTTP basic credentials (the kubeconfig ``username`` and ``password`` keys).

    Thread-safety: immutable.
    """

    def __init__(self, username: str, password: str) -> None:
        self._username = username
        self._password = password

    def headers(self) -> dict[str, str]:
        """Return the ``Authorization: Basic`` header.

        >>> BasicAuth("admin", "secret").headers()
        {'Authorization': 'Basic YWRtaW46c2VjcmV0'}
        """
        pair = f"{self._username}:{self._password}".encode()
        return {"Authorization": f"Basic {base64.b64encode(pair).decode('ascii')}"}

    def __repr__(self) -> str:
        return f"BasicAuth(username={self._username!r})"


class CredentialCache(Generic[_T]):
    """Caches one credential and lets a single thread at a time obtain a new one (single flight).

    ``obtain`` runs without any lock held; threads that need the credential meanwhile wait for that one call
    instead of starting their own, so an exec plugin or a token refresh is not run once per waiting thread.
    If it fails, each waiting thread in turn tries again.

    Thread-safety: thread-safe. ``is_valid`` runs under the internal lock and must be fast and pure.
    """

    def __init__(self, obtain: Callable[[], _T], is_valid: Callable[[_T], bool], *, initial: _T | None = None) -> None:
        self._obtain = obtain
        self._is_valid = is_valid
        self._value = initial
        self._busy = False
        self._changed = threading.Condition(threading.Lock())

    def get(self) -> _T:
        """Return the cached credential, obtaining a new one first when there is none or it is no longer valid."""
        with self._changed:
            while True:
                if self._value is not None and self._is_valid(self._value):
                    return self._value
                if not self._busy:
                    self._busy = True
                    break
                self._changed.wait()
        value: _T | None = None
        try:
            value = self._obtain()
            return value
        finally:
            with self._changed:
                if value is not None:
                    self._value = value
                self._busy = False
                self._changed.notify_all()

    def peek(self) -> _T | None:
        """Return the cached credential if it is still valid, without obtaining one; else ``None``."""
        with self._changed:
            value = self._value
            return value if value is not None and self._is_valid(value) else None

    def invalidate(self) -> None:
        """Forget the cached credential so the next :meth:`get` obtains a new one."""
        with self._changed:
            self._value = None


__all__ = ["AuthProvider", "BasicAuth", "CredentialCache", "NoAuth", "StaticTokenAuth"]
