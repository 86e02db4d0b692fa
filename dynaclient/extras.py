"""Import an optional dependency, or fail with one line naming the extra that installs it.

Every optional feature imports its dependency through :func:`import_extra`, so a missing extra reads::

    dynaclient.exceptions.MissingExtraError: the local control plane needs the 'testing' extra (cryptography is not
    installed): pip install 'dynaclient[testing]'

instead of a bare ``ModuleNotFoundError`` deep in a traceback.
"""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from dynaclient.exceptions import MissingExtraError


def missing_extra_message(feature: str, extra: str, module: str) -> str:
    """The one-line message for ``feature`` used without ``extra``.

    >>> print(missing_extra_message("the local control plane", "testing", "cryptography"))
    ... # doctest: +NORMALIZE_WHITESPACE
    the local control plane needs the 'testing' extra (cryptography is not installed):
    pip install 'dynaclient[testing]'
    """
    return f"{feature} needs the {extra!r} extra ({module} is not installed): pip install 'dynaclient[{extra}]'"


def import_extra(module: str, *, extra: str, feature: str) -> ModuleType:
    """Import ``module``, which the ``extra`` extra installs for ``feature``.

    Args:
        module: the module to import, for example ``"cryptography.x509"``.
        extra: the extra that installs it, for example ``"testing"``.
        feature: what needs it, as the start of a sentence: ``"the local control plane"``.

    Returns:
        The imported module.

    Raises:
        MissingExtraError: the module's top-level package is not installed; the message names the extra.

    >>> import_extra("json", extra="fast", feature="decoding").__name__
    'json'
    >>> import_extra("no_such_module_xyz", extra="fast", feature="decoding")  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    dynaclient.exceptions.MissingExtraError: decoding needs the 'fast' extra (no_such_module_xyz is not installed):
    pip install 'dynaclient[fast]'
    """
    top = module.partition(".")[0]
    if importlib.util.find_spec(top) is None:
        raise MissingExtraError(missing_extra_message(feature, extra, top), extra=extra, module=top)
    return importlib.import_module(module)


def require_extra(module: str, *, extra: str, feature: str) -> None:
    """Check that ``module`` is installed before a ``from module import ...`` that needs it.

    Raises:
        MissingExtraError: as :func:`import_extra`.
    """
    import_extra(module.partition(".")[0], extra=extra, feature=feature)
