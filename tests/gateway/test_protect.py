"""`ShopProtector` minting against a real SQLite vault: optimistic first, the vault decides."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from egressguard.gateway.actions import Api
from egressguard.gateway.audit_events import AuditEvent
from egressguard.gateway.detect import Detector, build_detector
from egressguard.gateway.policy import Policy
from egressguard.gateway.protect import ShopProtector
from egressguard.gateway.settings import PolicySettings
from egressguard.gateway.tokens import TOKEN_PATTERN, Binding, Tokenizer
from egressguard.gateway.vault import SqliteVault, VaultEntry
from egressguard.gateway.vault_keys import Keyring, new_key

SECRET = b"0123456789abcdef0123456789abcdef"
ROUTE = "/v1/chat/completions"
EMAIL = "jan.kowalski@example.com"
OTHER = "marie.dupont@example.fr"


class _Sink:
    error = None

    def emit(self, event: AuditEvent) -> None:
        return None


class _CountingVault(SqliteVault):
    """Counts the minting look-ups (`binding`)."""

    reads = 0

    def binding(self, tenant: str, token: str) -> Binding | None:
        self.reads += 1
        return super().binding(tenant, token)


@pytest.fixture(scope="module")
def detector() -> Detector:
    return build_detector([])


@pytest.fixture
def vault(tmp_path: Path) -> Iterator[_CountingVault]:
    with _CountingVault(tmp_path / "vault.sqlite3", Keyring(new_key(), ())) as opened:
        yield opened


def _protector(detector: Detector, vault: SqliteVault) -> ShopProtector:
    policy = Policy(PolicySettings(default_upstream="eu", allowed_regions=frozenset({"eu"})))
    return ShopProtector(
        detector=detector,
        tokenizer=Tokenizer(SECRET),
        policy=policy,
        vault=vault,
        sink=_Sink(),
        ttl_s=3600,
    )


def _body(text: str) -> dict[str, Any]:
    return {"model": "m", "messages": [{"role": "user", "content": text}]}


def _sent_tokens(body: dict[str, Any]) -> list[str]:
    return TOKEN_PATTERN.findall(body["messages"][0]["content"])


def _conversation(body: dict[str, Any]) -> str:
    return Tokenizer(SECRET).conversation_id("shop1", Api.CHAT, body, header="c1")


def test_new_tokens_are_minted_without_vault_reads_and_stored(
    detector: Detector, vault: _CountingVault
) -> None:
    body = _body(f"Write to {EMAIL} and {OTHER}")
    redaction = _protector(detector, vault).redact(
        ROUTE, body, tenant="shop1", conversation_header="c1"
    )
    tokens = _sent_tokens(redaction.body)
    assert len(tokens) == 2 and vault.reads == 0
    conversation = _conversation(body)
    assert {vault.get("shop1", t, conversation=conversation) for t in tokens} == {EMAIL, OTHER}


def test_a_token_the_vault_holds_for_another_value_is_lengthened(
    detector: Detector, vault: _CountingVault
) -> None:
    body = _body(f"Write to {EMAIL}")
    conversation = _conversation(body)
    short = Tokenizer(SECRET).token("shop1", conversation, "email", EMAIL)
    # another process bound the short token to another value (this process never saw it)
    vault.put_many("shop1", [VaultEntry(short, OTHER, "email", conversation)], 3600)
    protector = _protector(detector, vault)
    redaction = protector.redact(ROUTE, body, tenant="shop1", conversation_header="c1")
    (token,) = _sent_tokens(redaction.body)
    assert token != short and token[:-1].startswith(short[:-1]) and len(token) == len(short) + 2
    assert vault.get("shop1", token, conversation=conversation) == EMAIL
    assert vault.get("shop1", short, conversation=conversation) == OTHER  # left as it was
    assert redaction.lookup(token) == EMAIL
    # the next turn gets the same longer token, from the process's own record of it
    again = protector.redact(ROUTE, body, tenant="shop1", conversation_header="c1")
    assert _sent_tokens(again.body) == [token]


def test_a_token_the_vault_holds_for_the_same_value_is_reused(
    detector: Detector, vault: _CountingVault
) -> None:
    body = _body(f"Write to {EMAIL}")
    first = _protector(detector, vault).redact(
        ROUTE, body, tenant="shop1", conversation_header="c1"
    )
    # another process (a protector with an empty cache) sees the stored binding and reuses it
    second = _protector(detector, vault).redact(
        ROUTE, body, tenant="shop1", conversation_header="c1"
    )
    assert _sent_tokens(first.body) == _sent_tokens(second.body)
    assert vault.reads == 0 and vault.count("shop1") == 1


def test_the_stored_token_record_leaves_the_cyclic_gcs_view(
    detector: Detector, vault: _CountingVault
) -> None:
    """Up to 100,000 entries: full collections need not walk them."""
    protector = _protector(detector, vault)
    protector.redact(ROUTE, _body(f"Write to {EMAIL}"), tenant="shop1", conversation_header="c1")
    gc.collect()
    records = list(protector._stored.items())
    assert records and not any(gc.is_tracked(k) or gc.is_tracked(v) for k, v in records)


def test_health_reports_a_vault_that_cannot_be_read_and_a_failed_audit_sink(
    detector: Detector, tmp_path: Path
) -> None:
    vault = SqliteVault(tmp_path / "v.sqlite3", Keyring(new_key(), ()))
    protector = _protector(detector, vault)
    assert protector.health() == {"vault": "ok", "audit": "ok"}
    _Sink.error = RuntimeError("disk full")  # what ChainSink records when a write failed
    try:
        assert protector.health() == {"vault": "ok", "audit": "unavailable"}
    finally:
        _Sink.error = None
    vault.close()  # the database is gone from under the gateway
    assert protector.health() == {"vault": "unavailable", "audit": "ok"}


def test_a_value_erased_by_another_process_is_written_to_the_vault_again(
    detector: Detector, tmp_path: Path
) -> None:
    """`vault forget` runs in another process; this one remembers what it stored. Within a
    second it notices the erasure, so the value sent again is stored again under its token
    (else a later turn quoting the token could not be restored)."""
    path, keyring, now = tmp_path / "v.sqlite3", Keyring(new_key(), ()), [1000.0]
    with SqliteVault(path, keyring) as vault, SqliteVault(path, keyring) as cli:
        policy = Policy(PolicySettings(default_upstream="eu", allowed_regions=frozenset({"eu"})))
        protector = ShopProtector(
            detector=detector,
            tokenizer=Tokenizer(SECRET),
            policy=policy,
            vault=vault,
            sink=_Sink(),
            ttl_s=3600,  # remembered stored tokens are trusted for 360 s
            clock=lambda: now[0],
        )
        body = _body(f"Write to {EMAIL}")
        conversation = _conversation(body)
        first = protector.redact(ROUTE, body, tenant="shop1", conversation_header="c1")
        (token,) = _sent_tokens(first.body)
        assert cli.forget("shop1", EMAIL) == 1
        assert vault.get("shop1", token, conversation=conversation) is None
        now[0] += 2
        again = protector.redact(ROUTE, body, tenant="shop1", conversation_header="c1")
        assert _sent_tokens(again.body) == [token]
        assert vault.get("shop1", token, conversation=conversation) == EMAIL
