"""gateway.toml validation, policy precedence, routing by region, auth and the rate limiter."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from egressguard.errors import GatewayConfigError
from egressguard.gateway.auth import Authenticator, RateLimiter, presented_key
from egressguard.gateway.metrics import GatewayMetrics
from egressguard.gateway.policy import Action, Policy
from egressguard.gateway.problems import Rejected
from egressguard.gateway.routing import Router
from egressguard.gateway.settings import GatewaySettings, key_digest, load_gateway_settings

MINIMAL = """\
listen = "127.0.0.1:8787"
state_dir = "./.egressguard"

[[clients]]
id = "magento"
tenant = "shop1"
key_env = "EG_KEY_MAGENTO"

[[upstreams]]
id = "local-llm"
base_url = "http://127.0.0.1:11434/v1"
region = "local"

[policy]
default_upstream = "local-llm"
allowed_regions = ["local", "eu"]
default_action = "tokenize"
"""
ENV = {"EG_KEY_MAGENTO": "mk-0123456789abcdef0123", "EG_OTHER": "ok-0123456789abcdef0123"}


def load(tmp_path: Path, text: str, env: dict[str, str] = ENV) -> GatewaySettings:
    path = tmp_path / "gateway.toml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return load_gateway_settings(path, env)


def test_minimal_config(tmp_path: Path) -> None:
    s = load(tmp_path, MINIMAL)
    assert (s.host, s.port) == ("127.0.0.1", 8787)
    assert s.state_dir == tmp_path.resolve() / ".egressguard"  # relative to the config file
    assert s.clients[0].key_sha256 == key_digest(ENV["EG_KEY_MAGENTO"])
    assert "mk-0123" not in repr(s)  # no key in reprs or logs
    assert s.upstreams[0].kind == "openai" and s.upstreams[0].retries == 1
    assert s.policy.default_action == "tokenize"
    assert s.vault.path == s.state_dir / "vault.sqlite3"
    assert s.audit.path == s.state_dir / "audit.sqlite3"
    assert s.tls is None and s.base_url == "http://127.0.0.1:8787"


FULL = (
    MINIMAL
    + """
[policy.actions]
email = "mask"
card = "block"

[policy.regions]
"*" = ["local", "eu"]
iban = ["local"]

[policy.routes."/v1/embeddings"]
default_action = "allow"
upstream = "eu-llm"

[policy.tenants.shop1]
actions = { email = "allow" }
routes = ["/v1/chat/completions"]
models = ["llama3"]

[[upstreams]]
id = "eu-llm"
kind = "anthropic"
base_url = "https://llm.example.eu/v1"
region = "eu"
api_key_env = "EG_OTHER"
timeout_s = 30
retries = 2
fallback = ["local-llm"]

[vault]
key_env = "EG_OTHER"
ttl_s = 3600

[audit]
syslog = "tls://siem.example:6514"

[limits]
max_body_bytes = 1000
rate_per_minute = 30

[ner]
model = "de_core_news_sm"
"""
)


def test_every_key(tmp_path: Path) -> None:
    s = load(tmp_path, FULL)
    eu = s.upstream("eu-llm")
    assert (eu.kind, eu.api_key, eu.timeout_s, eu.retries, eu.fallback) == (
        "anthropic",
        ENV["EG_OTHER"],
        30.0,
        2,
        ("local-llm",),
    )
    assert s.vault.key == ENV["EG_OTHER"].encode() and s.vault.ttl_s == 3600
    assert s.audit.syslog == "tls://siem.example:6514"
    assert (s.limits.max_body_bytes, s.limits.rate_per_minute) == (1000, 30.0)
    assert s.ner_model == "de_core_news_sm"
    p = Policy(s.policy)
    assert p.action("shop1", "/v1/chat/completions", "email") is Action.ALLOW  # tenant wins
    assert p.action("shop2", "/v1/chat/completions", "email") is Action.MASK
    assert p.action("shop2", "/v1/embeddings", "phone") is Action.ALLOW  # route default
    assert p.action("shop2", "/v1/embeddings", "card") is Action.BLOCK  # [policy.actions]
    assert p.action("shop2", "/v1/chat/completions", "phone") is Action.TOKENIZE
    assert p.allowed_regions("shop1", []) == {"local", "eu"}
    assert p.allowed_regions("shop1", ["email"]) == {"local", "eu"}
    assert p.allowed_regions("shop1", ["email", "iban"]) == {"local"}
    assert p.route_allowed("shop1", "/v1/chat/completions")
    assert not p.route_allowed("shop1", "/v1/embeddings")
    assert p.route_allowed("shop2", "/v1/embeddings")
    assert p.model_allowed("shop1", "llama3") and not p.model_allowed("shop1", "gpt-5")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('listen = "127.0.0.1:8787"', 'listen = "8787"'), "listen: '8787' is not HOST:PORT"),
        (('default_action = "tokenize"', 'default_action = "hide"'), "policy.default_action:"),
        (('default_upstream = "local-llm"', 'default_upstream = "x"'), "policy.default_upstream"),
        (('region = "local"', 'region = "local"\nkind = "gemini"'), "upstreams[0].kind"),
        (('region = "local"', 'region = "local"\nfallback = ["nope"]'), "local-llm.fallback"),
        (
            ('base_url = "http://127.0.0.1:11434/v1"', 'base_url = "ftp://x"'),
            "upstreams[0].base_url",
        ),
        (('key_env = "EG_KEY_MAGENTO"', 'key_env = "EG_UNSET"'), "EG_UNSET is not set"),
        (
            ('tenant = "shop1"', 'tenant = "shop1"\ncolour = "red"'),
            "clients[0].colour: unknown key",
        ),
        (("[policy]", '[policy.actions]\nemial = "mask"\n\n[policy]'), "unknown data category"),
        (('tenant = "shop1"\n', ""), "clients[0].tenant: required key is missing"),
    ],
)
def test_errors_name_the_key(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    text = MINIMAL.replace(*change)
    assert text != MINIMAL
    with pytest.raises(GatewayConfigError, match=None) as info:
        load(tmp_path, text)
    assert message in str(info.value)


def test_short_client_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(GatewayConfigError, match="at least 16 characters"):
        load(tmp_path, MINIMAL, {"EG_KEY_MAGENTO": "short"})


def test_router_never_picks_a_region_the_policy_forbids(tmp_path: Path) -> None:
    s = load(tmp_path, FULL.replace('region = "eu"\napi_key_env', 'region = "us"\napi_key_env'))
    router = Router(s, Policy(s.policy))
    assert [u.id for u in router.candidates("shop2", "/v1/chat/completions", [])] == ["local-llm"]
    # /v1/messages needs an Anthropic upstream: eu-llm is the only one, and it is now in "us"
    with pytest.raises(Rejected) as info:
        router.candidates("shop2", "/v1/messages", ["email"])
    assert info.value.problem.status == 403
    assert "email" in info.value.problem.message
    assert "(eu, local)" in info.value.problem.message


def test_authenticator_and_headers() -> None:
    from egressguard.gateway.settings import ClientSettings

    auth = Authenticator([ClientSettings("a", "t1", key_digest("k" * 20))])
    assert auth.identify([(b"authorization", b"Bearer " + b"k" * 20)]).tenant == "t1"
    assert auth.identify([(b"x-api-key", b"k" * 20)]).id == "a"
    assert presented_key([(b"authorization", b"Basic abc")]) is None
    for headers in ([], [(b"authorization", b"Bearer wrong")]):
        with pytest.raises(Rejected) as info:
            auth.identify(headers)
        assert info.value.problem.status == 401


def test_rate_limiter_refills() -> None:
    now = [0.0]
    limiter = RateLimiter(60.0, {"slow": 2.0}, clock=lambda: now[0])
    limiter.take("slow")
    limiter.take("slow")
    with pytest.raises(Rejected) as info:
        limiter.take("slow")
    assert info.value.problem.status == 429 and info.value.problem.retry_after == 30
    now[0] = 30.0
    limiter.take("slow")  # one token back after 30 s at 2/min
    for _ in range(60):
        limiter.take("fast")


def test_metrics_exposition() -> None:
    m = GatewayMetrics()
    m.requests.inc("/v1/chat/completions", "eu", "200")
    m.duration.observe(0.0031, "/v1/chat/completions")
    text = m.render()
    assert (
        'egressguard_requests_total{route="/v1/chat/completions",upstream="eu",status="200"} 1'
        in text
    )
    assert (
        'egressguard_request_duration_seconds_bucket{route="/v1/chat/completions",le="0.005"} 1'
        in text
    )
    assert (
        'egressguard_request_duration_seconds_bucket{route="/v1/chat/completions",le="0.002"} 0'
        in text
    )
    assert 'egressguard_request_duration_seconds_count{route="/v1/chat/completions"} 1' in text
