"""Templates that print a secret-looking value into the storefront (`ai-key-rendered-to-browser`).

No literal key is needed: the pattern is the finding. Recognised:

- `.phtml`: `<?= … ?>` and `<?php echo|print … ?>` whose expression names a credential
  (`$block->getApiKey()`, `$escaper->escapeJs($block->getConfig('acme/openai/api_key'))`,
  `$viewModel->getOpenAiKey()`, `$scopeConfig->getValue('…/api_key')`), or that fills a
  credential-named JSON property / attribute (`"apiKey": "<?= … ?>"` in x-magento-init or
  data-mage-init, `data-api-key="<?= … ?>"`).
- `.liquid`: `{{ … }}` / `{% echo … %}` of a credential-named object
  (`settings.openai_api_key`, `shop.metafields.acme.openai_api_key`).
- Shopify theme settings (`config/settings_schema.json`, `{% schema %}` in sections/blocks):
  a setting whose id names an AI credential, since theme settings are world-readable.

Admin templates (view/adminhtml) are not checked: they reach admin users, not shoppers.
A name counts only in an AI context: the expression or the file mentions AI or a provider, so
`<?= $block->getApiKey() ?>` for a Maps widget in a non-AI template is not reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from egressguard.audit.analysers.base import SourceFile
from egressguard.audit.analysers.credential_names import mentions_ai, names_ai, names_credential
from egressguard.model import Language

RULE = "ai-key-rendered-to-browser"

_PHP_BLOCK = re.compile(r"<\?(=|php\b)(.*?)(?:\?>|\Z)", re.S | re.I)
_ECHO_STATEMENT = re.compile(r"\b(?:echo|print)\b([^;]*)", re.I)
_LIQUID_OUTPUT = re.compile(r"\{\{-?(.*?)-?\}\}|\{%-?\s*echo\b(.*?)-?%\}", re.S)
_LIQUID_SCHEMA = re.compile(r"\{%-?\s*schema\s*-?%\}(.*?)\{%-?\s*endschema\s*-?%\}", re.S)
_SETTING_ID = re.compile(r'"id"\s*:\s*"([^"\n]{1,120})"')
# The property or attribute an echo fills: `"apiKey": "<?=`, `data-api-key="<?=`.
_NAME_BEFORE = re.compile(r"""["']?([A-Za-z_][\w-]*)["']?\s*[:=]\s*["']?\s*\Z""")
# Wrappers that do not change what is printed.
_NOISE = re.compile(r"/\*.*?\*/|(?:\$\w+->)?escape\w*\(|json_encode\(|\(string\)", re.S | re.I)
_ADMINHTML = re.compile(r"(?:^|/)view/adminhtml/", re.I)
_SETTINGS_FILE = re.compile(r"(?:^|/)config/settings_schema\.json$", re.I)


@dataclass(frozen=True, slots=True)
class Rendering:
    offset: int
    subject: str  # what is printed or declared, whitespace collapsed
    message: str


def renderings(f: SourceFile) -> Iterator[Rendering]:
    """Every place in `f` that prints (or declares as theme setting) an AI credential."""
    candidates = _candidates(f)
    first = next(candidates, None)
    if first is None:
        return
    file_is_ai = mentions_ai(f.text)
    for r in (first, *candidates):
        if file_is_ai or names_ai(r.subject):
            yield r


def handles(f: SourceFile) -> bool:
    """Cheap check: can `f` contain a rendering at all? (Admin templates reach no shopper.)"""
    if _ADMINHTML.search(f.rel):
        return False
    return f.language in (Language.PHTML, Language.LIQUID) or bool(_SETTINGS_FILE.search(f.rel))


def _candidates(f: SourceFile) -> Iterator[Rendering]:
    if f.language is Language.PHTML:
        yield from _phtml(f.text)
    elif f.language is Language.LIQUID:
        yield from _liquid(f.text)
        for m in _LIQUID_SCHEMA.finditer(f.text):
            yield from _settings(f.text, m.start(1), m.end(1))
    elif _SETTINGS_FILE.search(f.rel):
        yield from _settings(f.text, 0, len(f.text))


def _phtml(text: str) -> Iterator[Rendering]:
    for block in _PHP_BLOCK.finditer(text):
        if block.group(1) == "=":
            yield from _printed(text, block.start(), block.start(2), block.end(2))
            continue
        for stmt in _ECHO_STATEMENT.finditer(text, block.start(2), block.end(2)):
            yield from _printed(text, block.start(), stmt.start(1), stmt.end(1))


def _printed(text: str, tag_start: int, start: int, end: int) -> Iterator[Rendering]:
    expr = text[start:end]
    if "__(" in expr:  # a translated label, not a value
        return
    name = _name_before(text, tag_start)
    if names_credential(_NOISE.sub(" ", expr)) or (name and names_credential(name)):
        subject = " ".join(expr.split())
        where = f" as {name}" if name else ""
        msg = f"Template prints {_short(subject)}{where} into the page: the secret reaches shoppers"
        yield Rendering(tag_start, subject, msg)


def _liquid(text: str) -> Iterator[Rendering]:
    for m in _LIQUID_OUTPUT.finditer(text):
        group = 1 if m.group(1) is not None else 2
        expr = m.group(group).split("|", 1)[0].strip()
        if not expr or expr[0] in "'\"":
            continue
        name = _name_before(text, m.start())
        if names_credential(expr) or (name and names_credential(name)):
            subject = " ".join(expr.split())
            msg = f"Liquid template outputs {_short(subject)} into the page: it reaches shoppers"
            yield Rendering(m.start(), subject, msg)


def _settings(text: str, start: int, end: int) -> Iterator[Rendering]:
    for m in _SETTING_ID.finditer(text, start, end):
        setting = m.group(1)
        if names_credential(setting):
            msg = (
                f"Shopify theme setting '{setting}' holds a secret: theme settings are readable "
                "by the storefront and anyone with theme access"
            )
            yield Rendering(m.start(), f"setting:{setting}", msg)


def _name_before(text: str, pos: int) -> str:
    m = _NAME_BEFORE.search(text[max(0, pos - 80) : pos])
    return m.group(1) if m else ""


def _short(expr: str) -> str:
    return f"`{expr}`" if len(expr) <= 80 else f"`{expr[:77]}…`"
