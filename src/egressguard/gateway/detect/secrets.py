"""API keys pasted into prompts, with the catalogue's own secret rules (`catalog/secrets.toml`).

Each rule is gated by its literal keywords (case-sensitive) or, for keys without a prefix, by
its context keywords (caseless) and the presence of a 32+ character token. The keywords and the
long-token test go into one Hyperscan pass (`presence`), so a prompt without any of them costs
one native scan; the context keywords are looked up in the lower-cased text only when a long
token is there.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from egressguard.catalog import load_catalog
from egressguard.catalog.schema import SecretRule
from egressguard.catalog.secret_match import find_secrets
from egressguard.gateway.detect.model import PiiCategory, Span
from egressguard.gateway.detect.presence import Presence, literal

# A run of 32 key characters after a non-key character (or at the start): rules without a
# literal prefix match only such tokens. (Over UTF-8 bytes: a non-ASCII character is non-key
# bytes, as it is a non-key character.)
_LONG_TOKEN = rb"(?:^|[^A-Za-z0-9_-])[A-Za-z0-9_-]{32}"


class SecretFinder:
    def __init__(self, rules: Sequence[SecretRule] | None = None) -> None:
        self._rules = tuple(load_catalog().secrets if rules is None else rules)
        self._keywords = sorted({k for r in self._rules for k in r.keywords})
        self._context = sorted(
            {k for r in self._rules if not r.keywords for k in r.context_keywords}
        )
        self._gate = Presence([*(literal(k) for k in self._keywords), _LONG_TOKEN])
        self._context_gate = Presence([literal(k) for k in self._context])

    def find(self, text: str, lower: str) -> Iterator[Span]:
        hits = self._gate.found(text)
        long_token = len(self._keywords) in hits
        keywords = {self._keywords[i] for i in hits if i < len(self._keywords)}
        context = (
            {self._context[i] for i in self._context_gate.found(lower)} if long_token else set()
        )
        for rule in self._rules:
            if not _gate(rule, keywords, context, long_token):
                continue
            for start, secret in find_secrets(rule, text):
                yield Span(start, start + len(secret), PiiCategory.SECRET, secret, rule.id)


def _gate(rule: SecretRule, keywords: set[str], context: set[str], long_token: bool) -> bool:
    if rule.keywords:
        return not keywords.isdisjoint(rule.keywords)
    if not long_token:
        return False
    return not rule.context_keywords or not context.isdisjoint(rule.context_keywords)
