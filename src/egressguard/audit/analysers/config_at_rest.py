"""Magento AI credentials at rest (the `ai-credential-*` rule family).

    ai-credential-field-not-encrypted   etc/adminhtml/system.xml (and system/*.xml includes), and
                                        Magento 1 etc/system.xml: an AI credential field without
                                        the Encrypted backend model, so the admin saves it to
                                        core_config_data in plain text
    ai-credential-plaintext-in-dump     an SQL dump whose core_config_data rows hold an AI
                                        credential in plain text (not Magento's `0:3:…` form)

Ownership: this analyser owns `.sql` files entirely (the secret analyser does not read them),
so a plaintext key in a dump gives `ai-credential-plaintext-in-dump` once and never also
`ai-key-in-config-file`. Keys in app/etc/env.php / config.php stay the secret analyser's.

A field is a credential by its id or label (an API key, secret, token; the catalogue's
`credential_words`) or by an obscured input. It is an AI credential, with this confidence:

    high     the field, its section/groups (ids, labels, ACL resource) or the module's name
             (its folder, etc/module.xml, Magento 1 etc/config.xml, composer.json "name")
             mention AI or a provider: `openai/general/api_key`, `Tidycode_AIFraudDetection`
    medium   only the module's dependencies say AI: its composer.json requires a catalogue
             AI SDK or an AI-named package (`tidycode/ai-php-sdk`, `bydn/openai`), or its
             description mentions AI. The module may hold other services' keys too.

A module with no AI evidence is not reported: a plaintext key of a payment gateway or ERP is a
hardening issue outside EgressGuard's scope (AI egress), not a lower-confidence finding.

system.xml is parsed with the standard library's expat (line numbers, no network, no external
entities; entity declarations are refused outright, so no entity expansion bombs). Malformed
XML raises MalformedInput. Dumps are read with regexes over the text, linear in its size.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from egressguard.audit.analysers.base import Output, SourceFile
from egressguard.audit.analysers.credential_names import (
    mentions_ai,
    names_ai,
    names_credential,
    provider_named,
)
from egressguard.audit.analysers.secrets import find_keys_in
from egressguard.audit.analysers.sql_config_rows import ConfigRow, config_rows, is_encrypted
from egressguard.audit.analysers.system_xml import AdminField, credential_fields, names_ai_itself
from egressguard.catalog.secret_filters import is_placeholder, shannon_entropy
from egressguard.masking import fingerprint, mask
from egressguard.model import Confidence, Hit, Language

if TYPE_CHECKING:
    from egressguard.audit.project import Project
    from egressguard.catalog import Catalog

FIELD_RULE = "ai-credential-field-not-encrypted"
_MODULE_XML_NAME = re.compile(r"<module\s+name=\"([A-Za-z0-9_]+)\"")
_M1_MODULE_NAME = re.compile(r"<modules>\s*<([A-Za-z0-9_]+)>")
DUMP_RULE = "ai-credential-plaintext-in-dump"
_MIN_TOKEN = 8
_MIN_TOKEN_ENTROPY = 3.0  # bits/char; a random 16-char alphanumeric token has about 3.7


class ConfigAtRestAnalyser:
    name = "config-at-rest"
    tags = frozenset({"ai", "key", "sdk", "widget", "cred", "pkg"})
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
        fields = credential_fields(
            f.text,
            _module_of(f.rel),
            magento1=_is_m1_system_xml(f.rel),
            extra_words=catalog.credential_words,
        )
        module: ModuleEvidence | None = None
        for field in fields:
            if field.encrypted:
                continue
            if module is None:
                module = module_evidence(f, catalog)
            itself = names_ai_itself(field)
            if itself or module.confidence is not None:
                yield _field_hit(f, field, catalog, module, itself)


@dataclass(frozen=True, slots=True)
class ModuleEvidence:
    """What the module around a system.xml says about AI (its name, its dependencies)."""

    confidence: Confidence | None  # None: nothing says AI
    provider: str | None = None  # a catalogue provider one of its dependencies belongs to
    reason: str = ""  # "module Acme_AiChat", "requires tidycode/ai-php-sdk"


def module_evidence(f: SourceFile, catalog: Catalog) -> ModuleEvidence:
    """HIGH when the module's name says AI, MEDIUM when only its dependencies do."""
    project = f.project
    root = _module_root(f.rel)
    if project is None or root is None:
        return ModuleEvidence(None)
    names = [n for n in (_module_name(project, root), _composer_field(project, root, "name")) if n]
    provider = None
    dependency = None
    for package in _composer_requires(project, root):
        found = catalog.sdk_provider("composer", package)
        if found is not None or catalog.ai_package_word(package):
            dependency = dependency or package
            provider = provider or (found.id if found else None)
    named = next((n for n in names if names_ai(n)), None)
    if named is not None:
        return ModuleEvidence(Confidence.HIGH, provider, f"module {named}")
    if dependency is not None:
        return ModuleEvidence(Confidence.MEDIUM, provider, f"the module requires {dependency}")
    if mentions_ai(_composer_field(project, root, "description")):
        return ModuleEvidence(Confidence.MEDIUM, None, "the module's description mentions AI")
    return ModuleEvidence(None)


def _module_root(rel: str) -> str | None:
    """The folder that holds the `etc` of a system.xml ("" when the module is the scan root)."""
    parts = PurePosixPath(rel).parts
    if "etc" not in parts:
        return None
    etc = len(parts) - 1 - parts[::-1].index("etc")
    return "/".join(parts[:etc])


def _in(root: str, name: str) -> str:
    return f"{root}/{name}" if root else name


def _read_text(project: Project, rel: str) -> str:
    raw = project.read(rel)
    return raw.decode("utf-8", "replace") if raw is not None else ""


def _module_name(project: Project, root: str) -> str:
    """Magento 2 etc/module.xml `<module name>`, else Magento 1 etc/config.xml `<modules>`."""
    m = _MODULE_XML_NAME.search(_read_text(project, _in(root, "etc/module.xml")))
    if m is None:
        m = _M1_MODULE_NAME.search(_read_text(project, _in(root, "etc/config.xml")))
    return m.group(1) if m else ""


def _composer(project: Project, root: str) -> dict[str, object]:
    try:
        data = json.loads(_read_text(project, _in(root, "composer.json")) or "{}")
    except (ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def _composer_field(project: Project, root: str, key: str) -> str:
    value = _composer(project, root).get(key)
    return value if isinstance(value, str) else ""


def _composer_requires(project: Project, root: str) -> list[str]:
    require = _composer(project, root).get("require")
    return [str(k).lower() for k in require] if isinstance(require, dict) else []


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
    if _is_m1_system_xml(rel):
        return True
    if len(parts) < 3 or parts[-1][-4:].lower() != ".xml":
        return False
    if parts[-2:] == ("adminhtml", "system.xml"):
        return parts[-3] == "etc"
    return len(parts) >= 4 and parts[-4:-1] == ("etc", "adminhtml", "system")


def _is_m1_system_xml(rel: str) -> bool:
    """Magento 1 (OpenMage): `<Vendor>/<Module>/etc/system.xml`, e.g. under app/code/<pool>/."""
    parts = PurePosixPath(rel).parts
    return len(parts) >= 2 and parts[-2:] == ("etc", "system.xml")


def _module_of(rel: str) -> str:
    """`app/code/Acme/AiChat/etc/…` -> "Acme/AiChat"; vendor/acme/module-ai-chat -> that path."""
    parts = PurePosixPath(rel).parts
    if "etc" not in parts:
        return ""
    etc = len(parts) - 1 - parts[::-1].index("etc")
    return "/".join(parts[max(0, etc - 2) : etc])


def _field_hit(
    f: SourceFile, field: AdminField, catalog: Catalog, module: ModuleEvidence, itself: bool
) -> Hit:
    obscure = (
        'type="obscure" only hides it in the form'
        if field.obscure
        else 'it is not even type="obscure"'
    )
    what = "an AI credential" if itself else f"a credential of an AI module ({module.reason})"
    message = (
        f"Admin field {field.path} ({field.label or field.field_id}) holds {what} "
        f"without the Encrypted backend model: it is saved in plain text to "
        f"core_config_data ({obscure})"
    )
    named = provider_named(f"{field.path} {field.label} {field.context}", catalog)
    return Hit(
        rule=FIELD_RULE,
        line=field.line,
        message=message,
        evidence=f.line_text(field.line).strip()[:200],
        key=f"{FIELD_RULE}:{field.path}",
        provider=named or module.provider,
        confidence=Confidence.HIGH if itself else module.confidence,
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
