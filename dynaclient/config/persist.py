"""Write refreshed auth-provider tokens back into the kubeconfig file they came from, atomically."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Mapping
from typing import Any

import yaml

from dynaclient.exceptions import KubeconfigError


def write_atomically(path: str, text: str) -> None:
    """Replace the file at ``path`` (following symlinks) with ``text``, keeping its permission bits.

    The text goes to a temporary file in the same directory that is then renamed over the target, so a reader
    sees the old or the new file, never a partial one.

    Raises:
        OSError: the file or its directory is not writable.
    """
    target = os.path.realpath(path)
    mode = stat.S_IMODE(os.stat(target).st_mode)
    handle, temporary = tempfile.mkstemp(dir=os.path.dirname(target), prefix=f".{os.path.basename(target)}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


class AuthProviderPersister:
    """Stores an auth-provider ``config`` map into ``users[name].user.auth-provider.config`` of one file.

    This is what kubectl's persister does after an OIDC refresh (client-go tools/clientcmd/config.go
    ``PersistAuthProviderConfigForUser``). Comments and formatting of the file are not kept, as with kubectl.
    Concurrent writers in other processes are not coordinated: the last rename wins.

    Thread-safety: thread-safe (each call rewrites the file atomically).
    """

    def __init__(self, path: str, user_name: str) -> None:
        self.path = path
        self.user_name = user_name

    def __call__(self, config: Mapping[str, str]) -> None:
        """Write ``config`` into the file.

        Raises:
            KubeconfigError: the file no longer holds the user or is not valid YAML.
            OSError: the file cannot be read or written.
        """
        with open(self.path, encoding="utf-8") as file:
            try:
                document = yaml.safe_load(file)
            except (yaml.YAMLError, RecursionError):
                raise KubeconfigError("is no longer valid YAML", path=self.path) from None
        provider = self._provider(document)
        provider["config"] = dict(config)
        write_atomically(self.path, yaml.safe_dump(document, default_flow_style=False, sort_keys=False))

    def _provider(self, document: Any) -> dict[str, Any]:
        users = document.get("users") if isinstance(document, dict) else None
        for index, entry in enumerate(users if isinstance(users, list) else []):
            if isinstance(entry, dict) and entry.get("name") == self.user_name:
                user = entry.get("user")
                provider = user.get("auth-provider") if isinstance(user, dict) else None
                if isinstance(provider, dict):
                    return provider
                raise KubeconfigError("no longer has an auth-provider", path=self.path, key=f"users[{index}].user")
        raise KubeconfigError(f'user "{self.user_name}" is no longer in the file', path=self.path, key="users")

    def __repr__(self) -> str:
        return f"AuthProviderPersister(path={self.path!r}, user_name={self.user_name!r})"


__all__ = ["AuthProviderPersister", "write_atomically"]
