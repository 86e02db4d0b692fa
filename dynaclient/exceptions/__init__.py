"""Every error dynaclient raises, and the mapping from a Kubernetes ``Status`` to its error class.

The tree::

    DynaclientError(Exception)
    ├── ConfigError                                   kubeconfig / in-cluster settings are unusable
    │   ├── KubeconfigError                           names the file and the key (``users[0].user.token``)
    │   └── InClusterConfigError                      names the environment variable or file
    │   └── NoClientError                             auto-detection found no usable client; ``reasons`` says why
    ├── AuthError                                     credentials could not be obtained (exec plugin, token file)
    ├── TransportError                                no HTTP response was obtained
    │   ├── ConnectError                              connection refused, DNS, proxy, subprocess could not start
    │   ├── ConnectionLostError                       the connection broke before the response was complete
    │   ├── TLSError                                  certificate verification or handshake failed
    │   ├── TransportTimeout(TransportError, TimeoutError)
    │   ├── RequestCancelled                          the request was cancelled from another thread
    │   └── UnsupportedRequestError(TransportError, ValueError)   the transport cannot carry this request
    ├── APIError                                      the server answered with an error Status
    │   ├── BadRequestError            400
    │   ├── UnauthorizedError          401
    │   ├── ForbiddenError             403
    │   │   └── KubectlProxyRefusedError   ``kubectl proxy`` refuses exec and attach unless told otherwise
    │   ├── NotFoundError              404  (also a LookupError)
    │   ├── MethodNotAllowedError      405
    │   ├── ConflictError              409
    │   │   └── AlreadyExistsError     409, reason AlreadyExists
    │   ├── GoneError                  410, or reason Expired / Gone (drives a relist)
    │   ├── UnsupportedMediaTypeError  415
    │   ├── InvalidError               422, with ``causes``
    │   ├── TooManyRequestsError       429, with ``retry_after``
    │   └── ServerError                5xx
    ├── StreamError                                   a pod stream (logs, exec, attach, port-forward) failed
    │   ├── StreamClosedError                         the stream was closed, or the server dropped it
    │   ├── ExecError                                 the command could not be run; ``status`` says why
    │   ├── PortForwardError                          the pod could not connect to, or lost, the forwarded port
    │   └── PodNotRunningError                        the pod has no running container to stream from yet
    ├── DecodeError(DynaclientError, ValueError)      a body or watch frame that is not the JSON expected
    │   ├── ContinueTokenLoopError                    a list whose continue tokens go round in a loop
    │   └── WatchFrameTooLargeError                   a watch frame longer than the 16 MiB cap
    ├── GroupVersionError(DynaclientError, ValueError)   a group/version or resource string that does not parse
    ├── SelectorError(DynaclientError, ValueError)    a label or field selector (or a key or value) is invalid
    ├── ResourceRequestError(DynaclientError, ValueError)   a request cannot be built (bad name, options)
    │   └── NamespaceScopeError                       namespace given for a cluster-scoped resource, or missing
    ├── FieldTypeError(DynaclientError, TypeError)    a typed nested accessor met the wrong JSON type
    ├── MissingExtraError(DynaclientError, ImportError)   an optional feature's extra is not installed
    ├── DiscoveryError                                discovery failed or a resource cannot be resolved
    │   └── ResourceNotFoundError(DiscoveryError, LookupError)
    │       └── AmbiguousResourceError                several resources match; ``candidates`` lists them
    ├── WaitTimeoutError(DynaclientError, TimeoutError)   a wait ended before its condition held; ``last`` state
    ├── ObjectFailedError                             kstatus says an awaited object failed (it will not get ready)
    └── ManifestError(DynaclientError, ValueError)    a manifest cannot be loaded, resolved or applied; names the
                                                      file and the document

Messages start in lower case, state facts, and never contain a credential.

The classes are defined by kind in private modules (``_base``, ``_client``, ``_api``, ``_values``) and all
imported from here: import them from ``dynaclient.exceptions`` (or the package root).
"""

from __future__ import annotations

from dynaclient.exceptions._api import (
    AlreadyExistsError,
    APIError,
    BadRequestError,
    ConflictError,
    ForbiddenError,
    GoneError,
    InvalidError,
    KubectlProxyRefusedError,
    MethodNotAllowedError,
    NotFoundError,
    ServerError,
    TooManyRequestsError,
    UnauthorizedError,
    UnsupportedMediaTypeError,
    api_error_from_status,
    error_class_for,
)
from dynaclient.exceptions._base import (
    DynaclientError,
)
from dynaclient.exceptions._base import (
    escape_terminal as escape_terminal,
)
from dynaclient.exceptions._client import (
    AuthError,
    ConfigError,
    ConnectError,
    ConnectionLostError,
    ExecError,
    InClusterConfigError,
    KubeconfigError,
    NoClientError,
    PodNotRunningError,
    PortForwardError,
    RequestCancelled,
    StreamClosedError,
    StreamError,
    TLSError,
    TransportError,
    TransportTimeout,
    UnsupportedRequestError,
)
from dynaclient.exceptions._values import (
    AlreadyOwnedError,
    AmbiguousResourceError,
    ContinueTokenLoopError,
    DecodeError,
    DiscoveryError,
    FieldTypeError,
    GroupVersionError,
    ManifestError,
    MissingExtraError,
    NamespaceScopeError,
    ObjectFailedError,
    OwnerReferenceError,
    ResourceNotFoundError,
    ResourceRequestError,
    SelectorError,
    WaitTimeoutError,
    WatchFrameTooLargeError,
)

__all__ = [
    "APIError",
    "AlreadyExistsError",
    "AlreadyOwnedError",
    "AmbiguousResourceError",
    "AuthError",
    "BadRequestError",
    "ConfigError",
    "ConflictError",
    "ConnectError",
    "ConnectionLostError",
    "ContinueTokenLoopError",
    "DecodeError",
    "DiscoveryError",
    "DynaclientError",
    "ExecError",
    "FieldTypeError",
    "ForbiddenError",
    "GoneError",
    "GroupVersionError",
    "InClusterConfigError",
    "InvalidError",
    "KubeconfigError",
    "KubectlProxyRefusedError",
    "ManifestError",
    "MethodNotAllowedError",
    "MissingExtraError",
    "NamespaceScopeError",
    "NoClientError",
    "NotFoundError",
    "ObjectFailedError",
    "OwnerReferenceError",
    "PodNotRunningError",
    "PortForwardError",
    "RequestCancelled",
    "ResourceNotFoundError",
    "ResourceRequestError",
    "SelectorError",
    "ServerError",
    "StreamClosedError",
    "StreamError",
    "TLSError",
    "TooManyRequestsError",
    "TransportError",
    "TransportTimeout",
    "UnauthorizedError",
    "UnsupportedMediaTypeError",
    "UnsupportedRequestError",
    "WaitTimeoutError",
    "WatchFrameTooLargeError",
    "api_error_from_status",
    "error_class_for",
]


def _present_here() -> None:
    # Tracebacks, reprs and pickles name each error where users import it from (dynaclient.exceptions.NotFoundError),
    # not the private module that defines it.
    for name in __all__:
        value = globals()[name]
        if isinstance(value, type):
            value.__module__ = __name__


_present_here()
