"""Transports: the only layer that does I/O. Each turns a :class:`~dynaclient.request.Request` into a Response."""

from __future__ import annotations

from dynaclient.transport.base import BaseTransport
from dynaclient.transport.http import HTTPTransport
from dynaclient.transport.kubectl import KubectlRawTransport

__all__ = ["BaseTransport", "HTTPTransport", "KubectlRawTransport"]
