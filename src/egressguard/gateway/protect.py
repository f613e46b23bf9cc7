"""`ShopProtector`: the proxy's `Protector` built from the detector, tokenizer, vault and sink.

Redaction runs the `Redactor` with the policy of the request's tenant and route; the tokens it
issues are written to the vault (per tenant and conversation, with the configured TTL) before
anything leaves, so a later turn that quotes them is restored too. When the vault refuses a
token because another request (another gateway process on the same vault) bound it to another
value a moment earlier (`TokenCollision`), the request is redacted again: minting now sees that
binding and lengthens the token, deterministically, so the value keeps its longer token on later
turns.

Minting is optimistic: the first redaction of a request checks a candidate token only against
this request's tokens and the tokens this process stored recently, not against the vault (one
read per new token was a fifth of a fresh request's cost). The vault's write is the authority
either way: it refuses a token bound to another value or conversation (`TokenCollision`), which
it must do anyway for racing processes, and the redaction that follows asks the vault for every
candidate. A token bound to the same value is refreshed by the write, as before. So nothing
leaves with a token the vault has not accepted for this value and conversation; a collision
costs one more redaction instead of every request costing one read per new token.

Restoration restores the tokens issued for this request and the tokens bound in the vault for
the *same tenant and the same conversation* (the earlier turns of a chat whose client resends
the model's answers with tokens in them, or a Responses API conversation); a token of another
tenant or another conversation is never restored, so a guessed or copied token cannot pull
another customer's value. The id of each Responses API answer is linked to its conversation
(per tenant) as it passes, so a next turn that names it in `previous_response_id` continues the
same conversation. Audit records become `AuditEvent`s for the injected sink.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from egressguard.errors import VaultError
from egressguard.gateway.actions import Api
from egressguard.gateway.audit_events import AuditEvent, AuditSink
from egressguard.gateway.exchange import ExchangeRecord, Lookup, Redaction, StreamRewriter
from egressguard.gateway.policy import Policy
from egressguard.gateway.problems import Rejected
from egressguard.gateway.restore import Restorer, StreamState, restore_sse_event
from egressguard.gateway.sse import SseEvent, SseParser, encode
from egressguard.gateway.tokens import Binding, Tokenizer
from egressguard.gateway.transform import (
    DetectorLike,
    RedactContext,
    RedactionMemo,
    Redactor,
    RedactResult,
)
from egressguard.gateway.vault import TokenCollision, Vault, VaultEntry

ROUTE_API = {
    "/v1/chat/completions": Api.CHAT,
    "/v1/completions": Api.COMPLETIONS,
    "/v1/embeddings": Api.EMBEDDINGS,
    "/v1/responses": Api.RESPONSES,
    "/v1/messages": Api.MESSAGES,
}
ERASURE_CHECK_S = 1.0  # how stale this process's memory of stored tokens may be after an erasure
MINT_ATTEMPTS = 5
"""Redactions per request: the optimistic one, then one per token that a racing request or the
vault's existing entries took (each lengthens one)."""


class ShopProtector:
    """Shared by all requests; per-request state lives in the returned lookups and rewriters."""

    def __init__(
        self,
        *,
        detector: DetectorLike,
        tokenizer: Tokenizer,
        policy: Policy,
        vault: Vault,
        sink: AuditSink,
        ttl_s: int | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._detector = detector
        self._tokenizer = tokenizer
        self._policy = policy
        self._vault = vault
        self._sink = sink
        self._ttl = ttl_s
        self._clock = clock
        self._refresh = min((ttl_s or 86_400) / 10, 300.0)  # rewrite a stored token this often
        # (tenant, token) -> (value, conversation, when it was last written): skips rewriting a
        # token on every turn and answers the tokenizer's collision check without a vault read.
        # Only minting uses it (the value being tokenised is in the request anyway); restoring a
        # token that is not in the request always asks the vault, so an erasure takes effect at
        # once. Plain tuples of strings and a float: the cyclic GC stops tracking them, so up to
        # 100,000 entries do not lengthen its full collections (with a `Binding` in each they
        # did: 2 tracked objects per entry, full collections of 100-160 ms).
        self._stored: dict[tuple[str, str], tuple[str, str | None, float]] = {}
        # An erasure (`vault forget`, usually another process) must not leave a value here: the
        # vault's erasure count is read at most once a second, and a change empties `_stored`
        # (else a value erased and sent again would keep its old token without being rewritten
        # to the vault, and a later turn quoting the token would not be restored).
        self._erasures = -1
        self._erasures_read_at = -1e18
        # What long texts became per route, tenant and conversation (tokens and offsets, no
        # text or value): resent chat history is not scanned or tokenised again. A remembered
        # token is used only while `_stored` (or the vault, on a retry) still binds it.
        self._memo = RedactionMemo()

    def _drop_after_erasure(self) -> None:
        now = self._clock()
        if now - self._erasures_read_at < ERASURE_CHECK_S:
            return
        self._erasures_read_at = now
        try:
            erasures = self._vault.erasures()
        except VaultError:
            erasures = -1  # unknown: forget what is remembered (the write reports the failure)
        if erasures != self._erasures or erasures < 0:
            self._erasures = erasures
            self._stored.clear()
            self._memo.clear()  # its tokens would no longer hold anyway

    def redact(
        self, route: str, body: dict[str, Any], *, tenant: str, conversation_header: str | None
    ) -> Redaction:
        self._check_audit()
        self._drop_after_erasure()
        api = ROUTE_API[route]
        policy = self._policy
        redactor = Redactor(
            self._detector,
            self._tokenizer,
            lambda cat: policy.action(tenant, route, cat),
            memo=self._memo,
            scope=route,
        )
        conversation = self._tokenizer.conversation_id(
            tenant,
            api,
            body,
            header=conversation_header,
            previous=lambda response_id: self._vault.response_conversation(tenant, response_id),
        )
        ctx = RedactContext(tenant, conversation, lambda token: self._bound(tenant, token))
        result = self._redact_and_store(redactor, api, body, ctx, self._optimistic(tenant))
        issued = {token: item.value for token, item in result.issued.items()}
        earlier = self._vault.tokens(tenant, conversation) if not result.blocked else []
        return Redaction(
            body=result.body,
            counts={str(c): n for c, n in result.counts.items()},
            actions={str(c): str(a) for c, a in result.actions.items()},
            blocked=tuple(str(c) for c in result.blocked),
            lookup=_lookup(issued, tenant, conversation, self._vault),
            known=frozenset(issued).union(earlier),
        )

    def _redact_and_store(
        self,
        redactor: Redactor,
        api: Api,
        body: dict[str, Any],
        ctx: RedactContext,
        optimistic: Callable[[str], Binding | None],
    ) -> RedactResult:
        """Redact (optimistically first), then bind the issued tokens; mint again, asking the
        vault, when the vault refused a token (bound to another value, or won by a racing
        request)."""
        for attempt in range(1, MINT_ATTEMPTS + 1):
            first = replace(ctx, bound=optimistic) if attempt == 1 else ctx
            result = redactor.redact_request(api, body, first)
            if result.blocked:
                return result
            try:
                self._store(ctx.tenant, ctx.conversation, result.issued)
            except TokenCollision as exc:
                self._stored.pop((ctx.tenant, exc.token), None)  # ask the vault next time
                if attempt == MINT_ATTEMPTS:
                    raise
                continue
            return result
        raise AssertionError("unreachable")  # the loop returns or raises

    def _check_audit(self) -> None:
        if getattr(self._sink, "error", None) is not None:
            raise Rejected(503, "audit_unavailable", "the audit trail cannot be written")

    def _optimistic(self, tenant: str) -> Callable[[str], Binding | None]:
        """The first redaction's collision check: what this process stored recently, no vault
        read (the vault's write refuses a collision, and the retry asks the vault)."""

        return lambda token: self._recent(tenant, token)

    def _recent(self, tenant: str, token: str) -> Binding | None:
        cached = self._stored.get((tenant, token))
        if cached is not None and self._clock() - cached[2] < self._refresh:
            return Binding(cached[0], cached[1])
        return None

    def _bound(self, tenant: str, token: str) -> Binding | None:
        """What `token` stands for in `tenant` (collision check while minting)."""
        recent = self._recent(tenant, token)
        return recent if recent is not None else self._vault.binding(tenant, token)

    def _store(self, tenant: str, conversation: str, issued: dict[str, Any]) -> None:
        now = self._clock()
        fresh = [
            VaultEntry(token, item.value, str(item.category), conversation)
            for token, item in issued.items()
            if now - self._stored.get((tenant, token), ("", None, -1e18))[2] >= self._refresh
        ]
        if not fresh:
            return
        self._vault.put_many(tenant, fresh, self._ttl)
        if len(self._stored) > 100_000:
            self._stored.clear()
        for entry in fresh:
            self._stored[(tenant, entry.token)] = (entry.value, conversation, now)

    def restore_json(self, route: str, body: Any, redaction: Redaction) -> Any:
        api = ROUTE_API[route]
        if api is Api.RESPONSES and isinstance(body, dict):
            self._link(redaction, body.get("id"))
        return _restorer(redaction).restore_json_body(api, body)

    def _link(self, redaction: Redaction, response_id: object) -> None:
        """Remember the conversation of a Responses API answer (for `previous_response_id`)."""
        lookup = redaction.lookup
        if not (isinstance(lookup, _ConversationLookup) and isinstance(response_id, str)):
            return
        if not response_id or len(response_id) > 256:
            return
        try:
            self._vault.link_response(lookup.tenant, response_id, lookup.conversation, self._ttl)
        except VaultError:  # the answer still goes out; a later turn just restores less
            return

    def restore_text(self, text: str, redaction: Redaction) -> str:
        return _restorer(redaction).restore_text(text)

    def stream_rewriter(self, route: str, redaction: Redaction) -> StreamRewriter:
        api = ROUTE_API[route]
        link = (lambda rid: self._link(redaction, rid)) if api is Api.RESPONSES else None
        return _SseRewriter(api, _restorer(redaction), link)

    def record(self, record: ExchangeRecord) -> None:
        self._sink.emit(
            AuditEvent(
                ts=datetime.fromtimestamp(record.ts, UTC),
                tenant=record.tenant,
                client=record.client,
                route=record.route,
                upstream=record.upstream or "",
                region=record.region or "",
                request_id=record.request_id,
                categories=dict(record.counts),
                actions=dict(record.actions),
                request_digest=record.request_sha256 or "",
                response_digest=record.response_sha256 or "",
                status=record.status,
                latency_ms=record.latency_ms,
                stream=record.stream,
                error="" if record.outcome == "ok" else record.outcome,
            )
        )

    def caches(self) -> dict[str, tuple[int, int, int, int]]:
        """The redaction memo's and (when the detector is a `ScanCache`) the scan cache's."""
        out: dict[str, tuple[int, int, int, int]] = {"redaction": self._memo.stats()}
        stats = getattr(self._detector, "stats", None)
        if callable(stats):
            out["scan"] = stats()
        return out

    def health(self) -> dict[str, str]:
        """The vault answers a read; the audit sink has not failed (it then refuses requests)."""
        try:
            self._vault.ping()
            vault = "ok"
        except VaultError:
            vault = "unavailable"
        audit = "unavailable" if getattr(self._sink, "error", None) is not None else "ok"
        return {"vault": vault, "audit": audit}


def _restorer(redaction: Redaction) -> Restorer:
    return Restorer(redaction.lookup, redaction.known)


def _lookup(issued: dict[str, str], tenant: str, conversation: str, vault: Vault) -> Lookup:
    return _ConversationLookup(issued, tenant, conversation, vault)


class _ConversationLookup:
    """token -> value: this request's tokens, else the vault's in this tenant and conversation."""

    def __init__(self, issued: dict[str, str], tenant: str, conversation: str, vault: Vault):
        self._issued = issued
        self.tenant = tenant
        self.conversation = conversation
        self._vault = vault

    def __call__(self, token: str) -> str | None:
        found = self._issued.get(token)
        if found is not None:
            return found
        return self._vault.get(self.tenant, token, conversation=self.conversation)


class _SseRewriter:
    """Parse SSE, restore per event with this stream's own state, re-encode each event."""

    def __init__(
        self, api: Api, restorer: Restorer, link: Callable[[object], None] | None = None
    ) -> None:
        self._api = api
        self._parser = SseParser()
        self._state = StreamState(restorer)
        self._link = link  # Responses: called with the answer's id, once

    def feed(self, chunk: bytes) -> list[bytes]:
        return [
            encode(out)
            for event in self._parser.feed(chunk)
            for out in restore_sse_event(self._api, self._noticed(event), self._state)
        ]

    def _noticed(self, event: SseEvent) -> SseEvent:
        if self._link is not None and '"response":' in event.data:
            try:
                response = json.loads(event.data).get("response")
            except (ValueError, AttributeError):
                return event
            if isinstance(response, dict) and response.get("id"):
                self._link(response["id"])
                self._link = None
        return event

    def close(self) -> list[bytes]:
        out = [
            encode(r)
            for event in self._parser.close()
            for r in restore_sse_event(self._api, event, self._state)
        ]
        return out + [encode(r) for r in self._state.close()]
