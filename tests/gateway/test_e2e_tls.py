"""The TLS listener: TLS 1.3 is accepted, TLS 1.2 is refused (throwaway self-signed cert)."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn

from tests.gateway.harness import KEY_A, Gateway, chat, gateway_config, running_gateway
from tests.gateway.upstream_server import ServerThread, TestUpstream
from tests.tls_certs import self_signed


@pytest.fixture(scope="module")
def tls_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Gateway, Path]]:
    tmp = tmp_path_factory.mktemp("tls")
    cert, key = self_signed(tmp)
    up = TestUpstream()
    with ServerThread(up.app()) as server:
        extra = f'\n[tls]\ncert = "{cert.name}"\nkey = "{key.name}"\n'
        config = gateway_config(
            tmp, eu=server.url, us=server.url, anthropic=server.url, extra=extra
        )
        with running_gateway(config) as gw:
            yield gw, cert
        up.stopping = True


def _context(cert: Path, version: ssl.TLSVersion) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(cert))
    context.minimum_version = version
    context.maximum_version = version
    return context


def test_tls13_is_accepted(tls_gateway: tuple[Gateway, Path]) -> None:
    gw, cert = tls_gateway
    assert gw.url.startswith("https://")
    with httpx.Client(verify=_context(cert, ssl.TLSVersion.TLSv1_3), trust_env=False) as c:
        r = c.post(
            f"{gw.url}/v1/chat/completions",
            json=chat("hello jan@example.pl"),
            headers={"authorization": f"Bearer {KEY_A}"},
        )
    assert r.status_code == 200
    assert "jan@example.pl" in r.text


def test_tls12_is_refused(tls_gateway: tuple[Gateway, Path]) -> None:
    gw, cert = tls_gateway
    with (
        httpx.Client(verify=_context(cert, ssl.TLSVersion.TLSv1_2), trust_env=False) as c,
        pytest.raises(httpx.ConnectError),
    ):
        c.get(f"{gw.url}/healthz")


def test_plain_http_gets_nothing(tls_gateway: tuple[Gateway, Path]) -> None:
    gw, _ = tls_gateway
    with pytest.raises(httpx.TransportError):
        httpx.get(gw.url.replace("https://", "http://") + "/healthz", trust_env=False)


def test_upstream_tls_is_verified_with_the_configured_ca_bundle(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    up = TestUpstream()
    server = ServerThread(
        config=uvicorn.Config(
            up.app(),
            host="127.0.0.1",
            port=0,
            log_level="warning",
            ssl_certfile=str(cert),
            ssl_keyfile=str(key),
        )
    )
    with server:
        https = f"https://127.0.0.1:{server.port}"
        trusted = gateway_config(tmp_path, eu=https, us=https, anthropic=https)
        text = trusted.read_text().replace(
            'api_key_env = "EG_UPSTREAM_KEY"',
            f'api_key_env = "EG_UPSTREAM_KEY"\nca_bundle = "{cert}"',
        )
        trusted.write_text(text)
        with running_gateway(trusted) as gw, httpx.Client(trust_env=False) as c:
            r = c.post(
                f"{gw.url}/v1/chat/completions",
                json=chat("hi"),
                headers={"authorization": f"Bearer {KEY_A}"},
            )
            assert r.status_code == 200
        untrusted = tmp_path / "untrusted"
        untrusted.mkdir()
        plain = gateway_config(untrusted, eu=https, us=https, anthropic=https)
        with running_gateway(plain) as gw, httpx.Client(trust_env=False) as c:
            r = c.post(
                f"{gw.url}/v1/chat/completions",
                json=chat("hi"),
                headers={"authorization": f"Bearer {KEY_A}"},
            )
            assert r.status_code == 502  # unknown CA: the certificate is not accepted
        assert len(up.received) == 1
        up.stopping = True
