"""Magento AI credentials at rest (the `ai-credential-*` rule family).

    ai-credential-field-not-encrypted   etc/adminhtml/system.xml (and system/*.xml includes): an
                                        AI credential field without the Encrypted backend model,
                                        so the admin saves it to core_config_data in plain text
    ai-credential-plaintext-in-dump     an SQL dump whose core_config_data rows hold an AI
                                        credential in plain text (not Magento's `0:3:…` form)

Ownership: this analyser owns `.sql` files entirely (the secret analyser does not read them),
so a plaintext key in a dump gives `ai-credential-plaintext-in-dump` once and never also
`ai-key-in-config-file`. Keys in app/etc/env.php / config.php stay the secret analyser's.

system.xml is parsed with the standard library's expat (line numbers, no network, no external
entities; entity declarations are refused outright, so no entity expansion bombs). Malformed
XML raises MalformedInput. Dumps are read with regexes over the text, linear in its size.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from egressguard.audit.analysers.base import Output, SourceFile
from egressguard.audit.analysers.credential_names import names_ai, names_credential, provider_named
from egressguard.audit.analysers.secrets import find_keys_in
from egressguard.audit.analysers.sql_config_rows import ConfigRow, config_rows, is_encrypted
from egressguard.audit.analysers.system_xml import AdminField, credential_fields
from egressguard.catalog.secret_filters import is_placeholder, shannon_entropy
from egressguard.masking import fingerprint, mask
from egressguard.model import Confidence, Hit, Language

if TYPE_CHECKING:
    from egressguard.catalog import Catalog

FIELD_RULE = "ai-credential-field-not-encrypted"
DUMP_RULE = "ai-credential-plaintext-in-dump"
_MIN_TOKEN = 8
_MIN_TOKEN_ENTROPY = 3.0  # bits/char; a random 16-char alphanumeric token has about 3.7


class ConfigAtRestAnalyser:
    name = "config-at-rest"
    tags = frozenset({"ai", "key", "sdk", "widget", "cred"})
    after_sites = False

    def wants(self, f: SourceFile) -> bool:
        return f.language is Language.SQL or _is_system_xml(f.rel)

    def analyse(self, f: SourceFile, catalog: Catalog) -> Iterator[Output]:
        if f.language is Language.SQL:
            for row in config_rows(f.text):
                verdict = judge_row(row, catalog)
                if verdict is not None:
                    yield _dump_hit(f, row, verdict)
            return
        for field in credential_fields(f.text, _module_of(f.rel)):
            if not field.encrypted:
                yield _field_hit(f, field, catalog)


@dataclass(frozen=True, slots=True)
class Verdict:
    """Why a dump row is a plaintext AI credential."""

    provider: str | None
    confidence: Confidence


def judge_row(row: ConfigRow, catalog: Catalog) -> Verdict | None:
    """A live catalogue key (any path), or any plaintext value under an AI credential path."""
    value = row.value.strip()
    if not value or is_encrypted(value):
        return None
    # The path is the value's context (an Azure key needs "azure" near it): search both.
    text = f"{row.path}\n{value}"
    for key in find_keys_in(text, catalog):
        if key.offset > len(row.path):
            provider = key.rule.provider or provider_named(row.path, catalog)
            return Verdict(provider, Confidence.HIGH)
    leaf = row.path.rsplit("/", 1)[-1]
    if names_credential(leaf) and names_ai(row.path) and _looks_secret(value):
        return Verdict(provider_named(row.path, catalog), Confidence.MEDIUM)
    return None


def _looks_secret(value: str) -> bool:
    """A token-like value: no spaces, letters and digits, random enough, not a placeholder.

    Keys without a prefix (Mistral, Cohere, Azure) are random alphanumerics; words such as
    "your-anthropic-api-key" or "disabled" have no digits.
    """
    if len(value) < _MIN_TOKEN or any(c.isspace() for c in value):
        return False
    if not (any(c.isdigit() for c in value) and any(c.isalpha() for c in value)):
        return False
    return shannon_entropy(value) >= _MIN_TOKEN_ENTROPY and not is_placeholder(value)


def _is_system_xml(rel: str) -> bool:
    parts = PurePosixPath(rel).parts
    if len(parts) < 3 or parts[-1][-4:].lower() != ".xml":
        return False
    if parts[-2:] == ("adminhtml", "system.xml"):
        return parts[-3] == "etc"
    return len(parts) >= 4 and parts[-4:-1] == ("etc", "adminhtml", "system")


def _module_of(rel: str) -> str:
    """`app/code/Acme/AiChat/etc/…` -> "Acme/AiChat"; vendor/acme/module-ai-chat -> that path."""
    parts = PurePosixPath(rel).parts
    if "etc" not in parts:
        return ""
    etc = len(parts) - 1 - parts[::-1].index("etc")
    return "/".join(parts[max(0, etc - 2) : etc])


def _field_hit(f: SourceFile, field: AdminField, catalog: Catalog) -> Hit:
    obscure = (
        'type="obscure" only hides it in the form'
        if field.obscure
        else 'it is not even type="obscure"'
    )
    message = (
        f"Admin field {field.path} ({field.label or field.field_id}) holds an AI credential "
        f"without the Encrypted backend model: it is saved in plain text to "
        f"core_config_data ({obscure})"
    )
    return Hit(
        rule=FIELD_RULE,
        line=field.line,
        message=message,
        evidence=f.line_text(field.line).strip()[:200],
        key=f"{FIELD_RULE}:{field.path}",
        provider=provider_named(f"{field.path} {field.label} {field.context}", catalog),
        confidence=Confidence.HIGH,
    )


def _dump_hit(f: SourceFile, row: ConfigRow, verdict: Verdict) -> Hit:
    shown = f"{row.path} = {mask(row.value)}"
    return Hit(
        rule=DUMP_RULE,
        line=f.line_of(row.offset),
        message=f"SQL dump stores AI credential {row.path} in plain text (scope {row.scope})",
        evidence=shown,
        key=f"{DUMP_RULE}:{row.path}:{row.scope}:{fingerprint(row.value)}",
        provider=verdict.provider,
        confidence=verdict.confidence,
    )
