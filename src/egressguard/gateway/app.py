"""The ASGI application: Starlette routing around pure-ASGI proxy endpoints.

`build_app` composes the parts; it is given the audit sink, vault, detector and tokenizer
(the CLI builds them), so the proxy never imports a store.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from egressguard.errors import UpstreamError
from egressguard.gateway.auth import Authenticator, RateLimiter
from egressguard.gateway.exchange import Protector
from egressguard.gateway.metrics import GatewayMetrics
from egressguard.gateway.policy import Policy
from egressguard.gateway.problems import Rejected, error_body
from egressguard.gateway.proxy import GatewayContext, ProxyEndpoint, check_client
from egressguard.gateway.routing import Router
from egressguard.gateway.settings import GatewaySettings, UpstreamSettings
from egressguard.gateway.upstream import UpstreamClient

POST_ROUTES = (
    "/v1/chat/completions",
    "/v1/completions",
    "/v1/embeddings",
    "/v1/responses",
    "/v1/messages",
)
MODELS_LIMIT = 1 << 20  # bytes of an upstream's /models answer
HEALTH_TIMEOUT_S = 2.0  # a store that takes longer is reported as not ready


def build_app(
    settings: GatewaySettings,
    *,
    sink: Any,
    vault: Any,
    detector: Any,
    tokenizer: Any,
    on_shutdown: Callable[[], None] | None = None,
) -> Starlette:
    """The gateway app with the shop-data protector built from the injected parts.

    `on_shutdown` runs in the lifespan's shutdown, after in-flight requests finished (the
    composer closes its stores there: the audit sink drains before the process exits).
    """
    from egressguard.gateway.protect import ShopProtector
    from egressguard.gateway.scan_cache import ScanCache

    policy = Policy(settings.policy)
    protector = ShopProtector(
        detector=ScanCache(detector),  # resent chat history is scanned once, not every turn
        tokenizer=tokenizer,
        policy=policy,
        vault=vault,
        sink=sink,
        ttl_s=settings.vault.ttl_s,
    )
    return build_app_with(settings, protector, policy=policy, on_shutdown=on_shutdown)


def build_app_with(
    settings: GatewaySettings,
    protector: Protector,
    *,
    policy: Policy | None = None,
    clock: Callable[[], float] = time.perf_counter,
    backoff_s: float = 0.05,
    on_shutdown: Callable[[], None] | None = None,
) -> Starlette:
    """The app around any `Protector` (the seam the raw-ASGI tests use)."""
    policy = policy or Policy(settings.policy)
    upstreams = UpstreamClient(settings.upstreams, backoff_s=backoff_s)
    ctx = GatewayContext(
        settings=settings,
        policy=policy,
        auth=Authenticator(settings.clients),
        limiter=RateLimiter(
            settings.limits.rate_per_minute,
            {c.id: c.rate_per_minute for c in settings.clients if c.rate_per_minute},
        ),
        router=Router(settings, policy),
        upstreams=upstreams,
        protector=protector,
        metrics=GatewayMetrics(),
        clock=clock,
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await upstreams.aclose()
        if on_shutdown is not None:
            on_shutdown()

    routes = [Route(path, ProxyEndpoint(ctx, path), methods=["POST"]) for path in POST_ROUTES]
    routes += [
        Route("/v1/models", _models_endpoint(ctx), methods=["GET"]),
        Route("/healthz", _healthz_endpoint(ctx), methods=["GET"]),
        Route("/livez", _livez, methods=["GET"]),
        Route("/metrics", _metrics_endpoint(ctx), methods=["GET"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.gateway = ctx
    return app


async def _livez(request: Request) -> Response:
    """Liveness: the process serves (no store is asked: a database outage must not restart it)."""
    return JSONResponse({"status": "ok"})


def _healthz_endpoint(ctx: GatewayContext) -> Callable[[Request], Any]:
    """Readiness: 200 when the vault answers a read and the audit sink has not failed, else 503
    naming the store (no detail: a database error can carry a host or a user name)."""

    async def healthz(request: Request) -> Response:
        try:
            checks = await asyncio.wait_for(
                asyncio.to_thread(ctx.protector.health), HEALTH_TIMEOUT_S
            )
        except TimeoutError:
            checks = {"stores": "timeout"}
        ok = all(state == "ok" for state in checks.values())
        body = {"status": "ok" if ok else "unavailable", **checks}
        return JSONResponse(body, status_code=200 if ok else 503)

    return healthz


def _metrics_endpoint(ctx: GatewayContext) -> Callable[[Request], Any]:
    async def metrics(request: Request) -> Response:
        return PlainTextResponse(
            ctx.metrics.render(ctx.protector.caches()),
            media_type="text/plain; version=0.0.4; charset=utf-8",
        )

    return metrics


def _models_endpoint(ctx: GatewayContext) -> Callable[[Request], Any]:
    async def models(request: Request) -> Response:
        try:
            client = check_client(ctx, request.scope["headers"], "/v1/models")
        except Rejected as exc:
            p = exc.problem
            headers = {"retry-after": str(p.retry_after)} if p.retry_after is not None else None
            return Response(error_body(p, anthropic=False), p.status, headers, "application/json")
        data: list[dict[str, Any]] = []
        for up in ctx.router.models_upstreams(client.tenant):
            data.extend(
                {"id": model_id, "object": "model", "created": 0, "owned_by": up.id}
                for model_id in await _upstream_models(ctx, up)
                if ctx.policy.model_allowed(client.tenant, model_id)
            )
        ctx.metrics.requests.inc("/v1/models", "-", "200")
        return JSONResponse({"object": "list", "data": data})

    return models


async def _upstream_models(ctx: GatewayContext, up: UpstreamSettings) -> list[str]:
    """The upstream's declared `models`, else what its own `/models` lists (errors: none)."""
    if up.models:
        return list(up.models)
    try:
        opened = await ctx.upstreams.open(up, "GET", "/v1/models", None, {})
    except UpstreamError:
        return []
    try:
        if opened.status != 200:
            return []
        doc = json.loads(await opened.read(MODELS_LIMIT))
    except (UpstreamError, ValueError):
        return []
    finally:
        await opened.aclose()
    items = doc.get("data", []) if isinstance(doc, dict) else []
    return [str(m["id"]) for m in items if isinstance(m, dict) and isinstance(m.get("id"), str)]
