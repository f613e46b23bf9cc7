"""Run the real gateway (uvicorn on 127.0.0.1, port 0) against real test upstreams.

`gateway_config` writes a gateway.toml pointing at the test upstreams; `running_gateway`
composes the app exactly as `egressguard gateway` does (vault, tokenizer, detector, audit
sink) and serves it in a thread. Nothing here reaches beyond loopback.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from egressguard.cli.gateway_cmd import Composed, compose
from egressguard.gateway.settings import GatewaySettings, load_gateway_settings
from tests.gateway.upstream_server import ServerThread

KEY_A = "key-tenant-a-0123456789abcdef"
KEY_B = "key-tenant-b-0123456789abcdef"
KEY_LIMITED = "key-limited-0123456789abcdef"
ENV = {
    "EG_KEY_A": KEY_A,
    "EG_KEY_B": KEY_B,
    "EG_KEY_LIMITED": KEY_LIMITED,
    "EG_UPSTREAM_KEY": "sk-upstream-secret",
    "EG_ANTHROPIC_KEY": "sk-ant-upstream",
}


def gateway_config(
    tmp: Path,
    *,
    eu: str,
    us: str,
    anthropic: str,
    dead: str = "http://127.0.0.1:9",
    extra: str = "",
    timeout_s: float = 1.0,
) -> Path:
    """A gateway.toml with tenants shop1 (A), shop2 (B), a rate-limited client and a shop
    dictionary of proprietary terms (supplier, codename, cost price column)."""
    (tmp / "suppliers.csv").write_text(
        "supplier,codename,cost\nNordlicht Textil GmbH,Project Falcon,12.40 EUR\n",
        encoding="utf-8",
    )
    text = f"""
    listen = "127.0.0.1:0"
    state_dir = "./state"

    [[clients]]
    id = "magento"
    tenant = "shop1"
    key_env = "EG_KEY_A"

    [[clients]]
    id = "shopify"
    tenant = "shop2"
    key_env = "EG_KEY_B"

    [[clients]]
    id = "limited"
    tenant = "shop3"
    key_env = "EG_KEY_LIMITED"
    rate_per_minute = 2

    [[upstreams]]
    id = "eu-llm"
    base_url = "{eu}/v1"
    region = "eu"
    api_key_env = "EG_UPSTREAM_KEY"
    timeout_s = {timeout_s}
    retries = 1

    [[upstreams]]
    id = "us-llm"
    base_url = "{us}/v1"
    region = "us"
    timeout_s = {timeout_s}
    fallback = ["eu-llm"]

    [[upstreams]]
    id = "dead-eu"
    base_url = "{dead}/v1"
    region = "eu"
    connect_timeout_s = 0.5
    retries = 1
    fallback = ["eu-llm"]

    [[upstreams]]
    id = "claude-eu"
    kind = "anthropic"
    base_url = "{anthropic}/v1"
    region = "eu"
    api_key_env = "EG_ANTHROPIC_KEY"
    timeout_s = {timeout_s}

    [[dictionaries]]
    path = "suppliers.csv"
    category = "proprietary"
    columns = ["supplier", "codename"]

    [policy]
    default_upstream = "eu-llm"
    allowed_regions = ["local", "eu", "us"]
    default_action = "tokenize"

    [policy.regions]
    "*" = ["local", "eu"]

    [policy.actions]
    card = "block"
    secret = "block"

    [policy.routes."/v1/completions"]
    upstream = "us-llm"

    [policy.routes."/v1/responses"]
    upstream = "dead-eu"

    [policy.tenants.shop3]
    routes = ["/v1/chat/completions", "/v1/models"]

    [policy.tenants.shop2]
    models = ["llama3", "mistral-small", "gpt-4o-mini"]

    [limits]
    max_body_bytes = 65536
    rate_per_minute = 100000
    """
    path = tmp / "gateway.toml"
    path.write_text(textwrap.dedent(text) + textwrap.dedent(extra), encoding="utf-8")
    return path


@dataclass
class Gateway:
    settings: GatewaySettings
    composed: Composed
    server: ServerThread

    @property
    def url(self) -> str:
        scheme = "https" if self.settings.tls else "http"
        return f"{scheme}://127.0.0.1:{self.server.port}"

    def flush_audit(self) -> None:
        self.composed.sink.flush()

    def records(self, tenant: str | None = None) -> list[dict[str, Any]]:
        from egressguard.store.sqlite import SqliteChain

        self.flush_audit()
        chain = SqliteChain(self.settings.audit.path)
        try:
            return [r.payload() for r in chain.records(tenant=tenant)]
        finally:
            chain.close()


@contextmanager
def running_gateway(config: Path, environ: Mapping[str, str] = ENV) -> Iterator[Gateway]:
    settings = load_gateway_settings(config, environ)
    composed = compose(settings)
    from egressguard.gateway.server import uvicorn_config

    server = ServerThread(config=uvicorn_config(settings, composed.app, port=0))
    try:
        with server:
            yield Gateway(settings, composed, server)
    finally:
        composed.close()


def client(
    gw: Gateway, key: str | None = KEY_A, headers: dict[str, str] | None = None, **kw: Any
) -> httpx.Client:
    sent = {"authorization": f"Bearer {key}"} if key else {}
    sent.update(headers or {})
    return httpx.Client(base_url=gw.url, headers=sent, trust_env=False, timeout=10, **kw)


def chat(text: str, *, stream: bool = False, model: str = "llama3") -> dict[str, Any]:
    return {"model": model, "stream": stream, "messages": [{"role": "user", "content": text}]}
