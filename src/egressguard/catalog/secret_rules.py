"""[[secrets]] tables -> SecretRule values (gitleaks-style hard-coded key rules)."""

from __future__ import annotations

import re

from egressguard.catalog.fields import Fields
from egressguard.catalog.schema import SecretRule, TextSamples

_REQUIRED = ("id", "provider", "description", "regex", "secret_group", "min_entropy")
_OPTIONAL = (
    "hs_regex",
    "keywords",
    "needs_context",
    "context_lines",
    "context_keywords",
    "samples",
)
_NAMED_GROUP = re.compile(r"\(\?P<[A-Za-z_][A-Za-z0-9_]*>")
MAX_CONTEXT_LINES = 20


def parse_secret_rule(entry: Fields) -> SecretRule:
    entry.only(_REQUIRED, _OPTIONAL)
    pattern = entry.text("regex")
    regex = entry.regex("regex", pattern)
    hs_source = entry.text("hs_regex", "") if "hs_regex" in entry.table else to_hyperscan(pattern)
    needs_context = entry.texts("needs_context")
    for i, context in enumerate(needs_context):
        entry.regex(f"needs_context[{i}]", context)
    rule = SecretRule(
        id=entry.text("id"),
        provider=entry.text("provider", empty=True),
        description=entry.text("description"),
        regex=regex,
        hs_pattern=hs_source.encode("utf-8"),
        secret_group=_secret_group(entry, regex),
        min_entropy=entry.number("min_entropy"),
        keywords=entry.texts("keywords"),
        needs_context=needs_context,
        context_lines=entry.integer("context_lines", 0, high=MAX_CONTEXT_LINES),
        context_keywords=entry.texts("context_keywords", lower=True),
        samples=_samples(entry.sub("samples")),
    )
    if bool(rule.needs_context) != (rule.context_lines > 0):
        raise entry.error("'needs_context' and 'context_lines' > 0 go together")
    return rule


def to_hyperscan(pattern: str) -> str:
    """The pattern as Hyperscan accepts it: named groups become plain groups."""
    return _NAMED_GROUP.sub("(", pattern)


def _secret_group(entry: Fields, regex: re.Pattern[str]) -> int:
    raw = entry.table.get("secret_group")
    if isinstance(raw, str):
        if raw not in regex.groupindex:
            raise entry.error(f"'secret_group' {raw!r} is not a named group of 'regex'")
        return regex.groupindex[raw]
    group = entry.integer("secret_group")
    if group > regex.groups:
        raise entry.error(f"'secret_group' {group} but 'regex' has {regex.groups} group(s)")
    return group


def _samples(entry: Fields) -> TextSamples:
    entry.only((), ("match", "no_match"))
    return TextSamples(match=entry.texts("match"), no_match=entry.texts("no_match"))
