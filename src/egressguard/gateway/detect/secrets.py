"""API keys pasted into prompts, with the catalogue's own secret rules (`catalog/secrets.toml`).

Each rule is gated by its literal keywords (case-sensitive) or, for keys without a prefix, by
its context keywords (caseless) and the presence of a 32+ character token. All keywords go into
one Aho-Corasick automaton, so a prompt without any of them costs one pass.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

import ahocorasick

from egressguard.catalog import load_catalog
from egressguard.catalog.schema import SecretRule
from egressguard.catalog.secret_match import find_secrets
from egressguard.gateway.detect.model import PiiCategory, Span

# A run of 32 key characters after a non-key character (or at the start): rules without a
# literal prefix match only such tokens. Linear: each attempt starts at a run's first character.
_LONG_TOKEN = re.compile(r"(?:^|[^A-Za-z0-9_-])[A-Za-z0-9_-]{32}")


def _automaton(words: set[str]) -> ahocorasick.Automaton | None:
    if not words:
        return None
    automaton = ahocorasick.Automaton()
    for word in words:
        automaton.add_word(word, word)
    automaton.make_automaton()
    return automaton


def _present(automaton: ahocorasick.Automaton | None, text: str) -> set[str]:
    if automaton is None:
        return set()
    return {word for _, word in automaton.iter(text)}


class SecretFinder:
    def __init__(self, rules: Sequence[SecretRule] | None = None) -> None:
        self._rules = tuple(load_catalog().secrets if rules is None else rules)
        self._keywords = _automaton({k for r in self._rules for k in r.keywords})
        self._context = _automaton(
            {k for r in self._rules if not r.keywords for k in r.context_keywords}
        )

    def find(self, text: str, lower: str) -> Iterator[Span]:
        keywords = _present(self._keywords, text)
        long_token = _LONG_TOKEN.search(text) is not None
        context = _present(self._context, lower) if long_token else set()
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
