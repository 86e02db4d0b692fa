"""dynaclient: a dynamic Kubernetes client that returns plain dicts.

The public surface is what this module exports (and :mod:`dynaclient.testing` for the local control plane).
"""

from __future__ import annotations

from dynaclient._types import JSONObject
from dynaclient.exceptions import (
    AlreadyExistsError,
    AmbiguousResourceError,
    APIError,
    AuthError,
    BadRequestError,
    ConfigError,
    ConflictError,
    ConnectError,
    DecodeError,
    DiscoveryError,
    DynaclientError,
    FieldTypeError,
    ForbiddenError,
    GoneError,
    InClusterConfigError,
    InvalidError,
    KubeconfigError,
    MethodNotAllowedError,
    NotFoundError,
    RequestCancelled,
    ResourceNotFoundError,
    ServerError,
    TLSError,
    TooManyRequestsError,
    TransportError,
    TransportTimeout,
    UnauthorizedError,
    UnsupportedMediaTypeError,
    UnsupportedRequestError,
)
from dynaclient.request import Cancellation, Request, Response
from dynaclient.transport import BaseTransport

__version__ = "0.1.0.dev0"

__all__ = [
    "APIError",
    "AlreadyExistsError",
    "AmbiguousResourceError",
    "AuthError",
    "BadRequestError",
    "BaseTransport",
    "Cancellation",
    "ConfigError",
    "ConflictError",
    "ConnectError",
    "DecodeError",
    "DiscoveryError",
    "DynaclientError",
    "FieldTypeError",
    "ForbiddenError",
    "GoneError",
    "InClusterConfigError",
    "InvalidError",
    "JSONObject",
    "KubeconfigError",
    "MethodNotAllowedError",
    "NotFoundError",
    "Request",
    "RequestCancelled",
    "ResourceNotFoundError",
    "Response",
    "ServerError",
    "TLSError",
    "TooManyRequestsError",
    "TransportError",
    "TransportTimeout",
    "UnauthorizedError",
    "UnsupportedMediaTypeError",
    "UnsupportedRequestError",
    "__version__",
]
