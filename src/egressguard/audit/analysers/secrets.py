"""Hard-coded AI keys (the `ai-key-*` rule family).

A live key (a catalogue secret rule matches, the secret is no placeholder and has the rule's
entropy, and the rule's context is near when it needs one) is reported by who can read it:

    ai-key-browser-exposed     served to shoppers (storefront JS, .phtml outside PHP or echoed,
                               Liquid/theme files, storefront layout XML, public env vars
                               such as VITE_*, Shopify theme settings)
    ai-key-hardcoded           server code (PHP, Node, a .phtml PHP block that is not echoed),
                               Magento admin files (view/adminhtml: admin browsers, not shoppers)
    ai-key-in-config-file      stored config (app/etc/env.php, .env, config.xml, TOML/YAML/JSON)

and, with no literal key at all, `ai-key-rendered-to-browser` for templates that print a
secret-looking config value into the page (see rendered_secrets.py).

SQL dumps belong to the config-at-rest analyser (`ai-credential-plaintext-in-dump`), which
owns `.sql` files entirely: this analyser does not want them, so a key in a dump is reported
once. Hits never carry a secret: `key` holds its fingerprint, `evidence` its masked form.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from egressguard.audit.analysers import rendered_secrets
from egressguard.audit.analysers.base import Output, SourceFile
from egressguard.audit.analysers.credential_names import provider_named
from egressguard.audit.analysers.secret_placement import PlacementFinder
from egressguard.catalog.secret_match import find_secrets, is_live
from egressguard.masking import fingerprint, redact
from egressguard.model import Confidence, Exposure, Hit, Language

if TYPE_CHECKING:
    from egressguard.catalog import Catalog
    from egressguard.catalog.schema import SecretRule

RULE_BY_EXPOSURE = {
    Exposure.BROWSER: "ai-key-browser-exposed",
    Exposure.SERVER: "ai-key-hardcoded",
    Exposure.CONFIG: "ai-key-in-config-file",
}
# A rule description's label ends before "(sk-proj-...)", " near …", ";" or ",".
_LABEL_END = re.compile(r"\s\(|\snear\s|[;,]")
_EVIDENCE_CONTEXT = 80  # characters kept either side of the secret on long (minified) lines


@dataclass(frozen=True, slots=True)
class Found:
    """A live key in a file."""

    rule: SecretRule
    secret: str
    offset: int


def is_live_secret(secret: str, rule: SecretRule) -> bool:
    """The placeholder and entropy filters, exactly as the analyser applies them."""
    return is_live(rule, secret)


_RENDER_TAGS = frozenset({"ai", "cred"})


class SecretAnalyser:
    name = "secrets"
    # "key": a secret rule's keyword hit; "ai": AI words, for templates that render a secret.
    tags = frozenset({"key", "ai", "cred"})
    after_sites = False

    def wants(self, f: SourceFile) -> bool:
        if f.language is Language.SQL:  # owned by ConfigAtRestAnalyser
            return False
        return "key" in f.tags or (bool(f.tags & _RENDER_TAGS) and rendered_secrets.handles(f))

    def analyse(self, f: SourceFile, catalog: Catalog) -> Iterator[Output]:
        found = list(find_keys(f, catalog))
        secrets = tuple(k.secret for k in found)
        placement = PlacementFinder(f)
        for k in found:
            yield _key_hit(f, k, placement, secrets, catalog)
        if rendered_secrets.handles(f):
            for r in rendered_secrets.renderings(f):
                yield _rendering_hit(f, r, secrets, catalog)


def find_keys(f: SourceFile, catalog: Catalog) -> Iterator[Found]:
    """Live keys in `f`, each secret span reported once (the first catalogue rule wins)."""
    return find_keys_in(f.text, catalog)


def find_keys_in(text: str, catalog: Catalog) -> Iterator[Found]:
    """Live keys in `text` (catalogue semantics: regex, placeholder, entropy, context window)."""
    lower: str | None = None
    claimed: list[tuple[int, int]] = []
    for rule in catalog.secrets:
        if rule.context_keywords:  # cheap skip: the context cannot be anywhere in the text
            lower = text.lower() if lower is None else lower
            if not any(k in lower for k in rule.context_keywords):
                continue
        for offset, secret in find_secrets(rule, text):
            span = (offset, offset + len(secret))
            if not _overlaps(claimed, span):
                claimed.append(span)
                yield Found(rule, secret, offset)


def _overlaps(claimed: list[tuple[int, int]], span: tuple[int, int]) -> bool:
    return any(s < span[1] and span[0] < e for s, e in claimed)


def _key_hit(
    f: SourceFile, k: Found, placement: PlacementFinder, secrets: tuple[str, ...], catalog: Catalog
) -> Hit:
    where = placement.at(k.offset)
    rule_id = RULE_BY_EXPOSURE[where.exposure]
    line = f.line_of(k.offset)
    return Hit(
        rule=rule_id,
        line=line,
        message=f"{_key_label(k.rule, catalog)} {where.where}",
        evidence=evidence(f, line, k.offset, secrets),
        key=f"{rule_id}:{fingerprint(k.secret)}",
        provider=k.rule.provider or None,
        confidence=Confidence.MEDIUM if k.rule.needs_context else Confidence.HIGH,
    )


def _rendering_hit(
    f: SourceFile, r: rendered_secrets.Rendering, secrets: tuple[str, ...], catalog: Catalog
) -> Hit:
    line = f.line_of(r.offset)
    return Hit(
        rule=rendered_secrets.RULE,
        line=line,
        message=r.message,
        evidence=evidence(f, line, r.offset, secrets),
        key=f"{rendered_secrets.RULE}:{r.subject}",
        provider=provider_named(r.subject, catalog),
        confidence=Confidence.MEDIUM if r.subject.startswith("setting:") else Confidence.HIGH,
    )


def _key_label(rule: SecretRule, catalog: Catalog) -> str:
    """'OpenAI project API key' from the rule's description, else '<Provider> API key'."""
    label = _LABEL_END.split(rule.description, maxsplit=1)[0].strip()
    if label:
        return label
    if rule.provider:
        return f"{catalog.provider(rule.provider).name} API key"
    return "AI API key"


def evidence(f: SourceFile, line: int, offset: int, secrets: tuple[str, ...]) -> str:
    """The line around `offset` with every live secret of the file masked."""
    text = f.line_text(line)
    col = offset - f.line_starts[line - 1]
    if len(text) > 2 * _EVIDENCE_CONTEXT + 100:
        # Mask before cutting, so a cut can never leave part of a secret in plain text.
        marked = text[:col] + "\0" + text[col:]
        for s in secrets:
            marked = redact(marked, s)
        col = marked.find("\0")
        text = marked.replace("\0", "")
        text = text[max(0, col - _EVIDENCE_CONTEXT) : col + _EVIDENCE_CONTEXT * 2]
        return text.strip()
    for s in secrets:
        text = redact(text, s)
    return text.strip()
