"""Serve the gateway with uvicorn; TLS 1.3 minimum when a certificate is configured.

uvicorn is the ASGI reference server: httptools (C) for HTTP/1.1 parsing, uvloop when
installed, graceful shutdown on SIGINT/SIGTERM that lets streamed answers finish (bounded by
`GRACEFUL_SHUTDOWN_S`), and a `ssl_context_factory` hook, so the listener uses an
`ssl.SSLContext` built here with `minimum_version = TLSv1_3` instead of uvicorn's defaults
(which accept TLS 1.2).
"""

from __future__ import annotations

import importlib.util
import ssl
from collections.abc import Callable
from typing import Any

import uvicorn

from egressguard.gateway.settings import GatewaySettings, TlsSettings

GRACEFUL_SHUTDOWN_S = 30


def tls_context(tls: TlsSettings) -> ssl.SSLContext:
    """A server context that refuses anything below TLS 1.3."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.load_cert_chain(str(tls.cert), str(tls.key))
    context.set_alpn_protocols(["http/1.1"])
    return context


def uvicorn_config(
    settings: GatewaySettings, app: Any, *, port: int | None = None
) -> uvicorn.Config:
    """The server configuration for `app` (`port` overrides `listen`, e.g. 0 in tests)."""
    factory: Callable[[uvicorn.Config, Callable[[], ssl.SSLContext]], ssl.SSLContext] | None = None
    if settings.tls is not None:
        tls = settings.tls

        def factory(
            config: uvicorn.Config, default: Callable[[], ssl.SSLContext]
        ) -> ssl.SSLContext:
            return tls_context(tls)

    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port if port is None else port,
        http="httptools" if importlib.util.find_spec("httptools") else "h11",
        loop="uvloop" if importlib.util.find_spec("uvloop") else "asyncio",
        lifespan="on",
        log_level="warning",
        access_log=False,  # the audit trail records every exchange, as metadata only
        server_header=False,
        proxy_headers=False,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        ssl_context_factory=factory,
    )


def serve(settings: GatewaySettings, app: Any) -> None:
    """Run until SIGINT/SIGTERM."""
    uvicorn.Server(uvicorn_config(settings, app)).run()
