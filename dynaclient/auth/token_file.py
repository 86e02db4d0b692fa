"""Bearer tokens read from a file that is re-read as it rotates (``tokenFile``, service-account tokens)."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable

from dynaclient.auth.base import AuthProvider
from dynaclient.exceptions import AuthError

logger = logging.getLogger(__name__)

#: Re-read the file at least this often even when its modification time and size look unchanged. Bound
#: service-account tokens rotate (the kubelet refreshes them at 80% of their lifetime); client-go's
#: transport/token_source.go caches a file token for one minute, and kube-rs TokenFile uses 60 s too.
DEFAULT_REFRESH_INTERVAL = 60.0


def read_token_file(path: str) -> str:
    """Return the token stored in ``path``, without surrounding whitespace.

    Raises:
        AuthError: the file cannot be read, or it holds no token. The message names the file.
    """
    try:
        with open(path, encoding="utf-8") as file:
            token = file.read().strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
        raise AuthError(f"cannot read token file {path}: {reason}") from exc
    if not token:
        raise AuthError(f"token file {path} is empty")
    return token


def _file_stamp(path: str) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_mtime_ns, stat.st_size


class TokenFileAuth(AuthProvider):
    """Sends the bearer token held in a file, re-reading it when it changes and at least every minute.

    A change is noticed from the file's modification time and size, checked on every request. When a re-read
    fails but a token was read before, the previous token is kept (as client-go's cachingTokenSource does)
    and the read is retried after ``refresh_interval`` or when the file changes.

    Thread-safety: thread-safe; the file is read under an internal lock.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        now: Callable[[], float] = time.time,
        refresh_interval: float = DEFAULT_REFRESH_INTERVAL,
        fallback: str | None = None,
    ) -> None:
        """Read tokens from ``path``.

        ``fallback`` (a kubeconfig ``token`` next to ``tokenFile``) is sent while the file has never been readable,
        as client-go's ``NewBearerAuthWithRefreshRoundTripper`` does.
        """
        self._path = os.fspath(path)
        self._now = now
        self._refresh_interval = refresh_interval
        self._lock = threading.Lock()
        self._token: str | None = None
        self._fallback = fallback
        self._stamp: tuple[int, int] | None = None
        self._read_at = 0.0

    @property
    def path(self) -> str:
        """The token file."""
        return self._path

    def headers(self) -> dict[str, str]:
        """Return the ``Authorization: Bearer`` header with the file's current token.

        Raises:
            AuthError: the file has never been readable.
        """
        with self._lock:
            if self._token is None or self._is_stale_locked():
                self._read_locked()
            token = self._token
        return {"Authorization": f"Bearer {token}"}

    def cached_headers(self) -> dict[str, str] | None:
        """Return the header of the token read less than ``refresh_interval`` ago, without touching the file.

        ``None`` when the token must be read again (the asyncio client then reads it in a worker thread); a
        rotated file is picked up at the next interval, or at once after a 401 (:meth:`on_unauthorized`).
        """
        with self._lock:
            token = self._token
            fresh = token is not None and self._now() - self._read_at < self._refresh_interval
        return {"Authorization": f"Bearer {token}"} if fresh else None

    def on_unauthorized(self) -> bool:
        """Re-read the file now; return whether the token changed, so a retry may succeed."""
        with self._lock:
            previous = self._token
            try:
                self._read_locked()
            except AuthError:
                return False
            return self._token != previous

    def _is_stale_locked(self) -> bool:
        """Whether the token must be re-read; the caller holds ``_lock``."""
        if self._now() - self._read_at >= self._refresh_interval:
            return True
        return _file_stamp(self._path) != self._stamp

    def _read_locked(self) -> None:
        """Read the file into ``_token``; the caller holds ``_lock``."""
        stamp = _file_stamp(self._path)
        self._read_at = self._now()
        try:
            token = read_token_file(self._path)
        except AuthError as exc:
            if self._token is None and self._fallback is None:
                raise
            if self._token is None:
                self._stamp = stamp
                logger.warning("%s; sending the kubeconfig's token instead", exc)
                self._token = self._fallback
                return
            self._stamp = stamp
            logger.warning("%s; keeping the token read before", exc)
            return
        self._token, self._stamp = token, stamp

    def __repr__(self) -> str:
        return f"TokenFileAuth(path={self._path!r})"


__all__ = ["DEFAULT_REFRESH_INTERVAL", "TokenFileAuth", "read_token_file"]
