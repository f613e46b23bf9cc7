"""AI credentials put into a URL's query string (`ai-key-in-url`).

Code that builds an AI endpoint URL with the API key as a query parameter:

    PHP   $url = 'https://generativelanguage.googleapis.com/v1beta/models/' . $model
                 . ':generateContent?key=' . $apiKey;                        concatenation
          $url = "{$base}?key={$this->apiKey}";                              interpolation
          $url = sprintf('%s?api_key=%s', $endpoint, $this->getApiKey());    sprintf
    JS    fetch(`https://generativelanguage.googleapis.com/...?key=${apiKey}`)
          const url = base + '&access_token=' + token;

Lexical, one statement at a time: a string piece that ends in `?<param>=` or `&<param>=`, where
the parameter names a credential (`key`, `api_key`, `access_token` …), followed (concatenated,
interpolated or as a later sprintf argument) by an expression whose name denotes a credential
(`$apiKey`, `getApiKey()`, `token`). A key in a URL ends up in proxy, CDN and web-server
access logs, in exception messages that print the URL, and in HTTP client debug logs.

It must be an AI endpoint:

    high     the statement holds a catalogue AI host (generativelanguage.googleapis.com)
    high     no host in the statement, but the next AI call site of the same function (the
             inventory's, e.g. `$this->curl->post($requestUrl, …)`) is a known host
    medium   that call site's provider is itself inferred (a config URL in a `case 'gemini':`
             branch), or there is no call site but the statement or the few lines above it
             mention AI or a provider (`case 'gemini':`, `$geminiUrl`)

The analyser runs after the call sites are known (`after_sites`), to name the provider.

Other URLs with a key (maps, payment and shipping APIs) are not reported. A literal key in the
URL is the secret analyser's (`ai-key-hardcoded`); this rule never reads the key's value.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from egressguard.audit.analysers.base import Output, SourceFile
from egressguard.audit.analysers.credential_names import ai_word, names_credential
from egressguard.audit.analysers.evidence import masked_line
from egressguard.model import Confidence, Hit, IntegrationSite, Language

if TYPE_CHECKING:
    from egressguard.catalog import Catalog

RULE = "ai-key-in-url"
_LANGUAGES = frozenset({Language.PHP, Language.PHTML, Language.JAVASCRIPT, Language.TYPESCRIPT})
_CONTEXT_LINES = 6  # lines above the statement searched for AI words (medium confidence)
_MAX_STATEMENT = 600  # characters of a statement looked at either side of the parameter
# Query parameters that carry a credential (besides any name names_credential accepts).
_KEY_PARAMS = frozenset({"key", "apikey", "api_key", "api-key", "token", "access_token", "auth"})
# `?key=` / `&api_key=` at the end of a string piece, then the end of that piece:
#   '...?key=' .      "...?key=" +      "...?key={$x}"  "...?key=$x"  `...?key=${x}`  '...=%s'
_PARAM = re.compile(
    r"[?&](?P<param>[A-Za-z][\w.-]{0,40})="
    r"(?:(?P<close>['\"])|(?P<interp>\{\$|\$\{|\$(?=[A-Za-z_]))|(?P<fmt>%s))"
)
_CONCAT = re.compile(r"\s*(?:\.|\+)\s*")
# The expression appended after the closing quote: a variable, property chain or call.
_EXPR = re.compile(r"[\w$]+(?:(?:->|\?->|::|\.)[\w$]+|\([^()\n]{0,120}\)|\[[^\]\n]{0,60}\])*")
_INTERP_EXPR = re.compile(r"[\w$>\-\[\]'\"().]+")
_SPRINTF = re.compile(r"\b(?:v?sprintf|String\.format|util\.format)\s*\(")


class KeyInUrlAnalyser:
    name = "key-in-url"
    tags = frozenset({"ai", "cred", "pkg", "key"})
    after_sites = True  # the file's AI call sites name the provider of a config URL

    def wants(self, f: SourceFile) -> bool:
        return f.language in _LANGUAGES and "=" in f.text

    def analyse(self, f: SourceFile, catalog: Catalog) -> Iterator[Output]:
        # Cheap gate on the raw text before the (costly) comment-blanked view: blanking only
        # turns comment characters into spaces, so a credential parameter the code view holds
        # is in the raw text too.
        if not any(_credential_param(m.group("param")) for m in _PARAM.finditer(f.text)):
            return
        code = f.view.code  # comments blanked, strings kept
        seen: set[int] = set()
        for m in _PARAM.finditer(code):
            param = m.group("param")
            if not _credential_param(param):
                continue
            expr = _appended(code, m)
            if expr is None or not names_credential(expr):
                continue
            line = f.line_of(m.start())
            if line in seen:
                continue
            verdict = _ai_endpoint(f, code, m.start(), catalog)
            if verdict is None:
                continue
            seen.add(line)
            yield _hit(f, line, m.start(), param, verdict, catalog)


def _credential_param(param: str) -> bool:
    lower = param.lower()
    return lower in _KEY_PARAMS or names_credential(param)


def _appended(code: str, m: re.Match[str]) -> str | None:
    """The expression that fills the parameter's value, or None when it is a literal."""
    end = m.end()
    if m.group("interp"):
        start = end - (1 if m.group("interp") == "$" else 0)
        found = _INTERP_EXPR.match(code, start)
        return found.group() if found else None
    if m.group("fmt"):
        return _sprintf_args(code, m.start())
    concat = _CONCAT.match(code, end)
    if concat is None:
        return None  # '...?key=abc' (literal) or the string goes on
    found = _EXPR.match(code, concat.end())
    return found.group() if found else None


def _sprintf_args(code: str, at: int) -> str | None:
    """The first credential-named argument after the format string of the enclosing sprintf."""
    window = code[max(0, at - _MAX_STATEMENT) : at]
    if _SPRINTF.search(window) is None:
        return None
    end = code.find(";", at, at + _MAX_STATEMENT)
    rest = code[at : end if end != -1 else at + _MAX_STATEMENT]
    quote = re.search(r"['\"`]\s*,", rest)
    if quote is None:
        return None
    args = (a.strip() for a in rest[quote.end() :].split(","))
    return next((a for a in args if names_credential(a)), None)


def _statement(code: str, at: int) -> tuple[int, int]:
    """Start and end offsets of the statement around `at` (bounded, `;`/`{`/`}` delimited)."""
    lo = max(0, at - _MAX_STATEMENT)
    start = max(code.rfind(";", lo, at), code.rfind("{\n", lo, at), code.rfind("}\n", lo, at))
    start = lo if start == -1 else start + 1
    end = code.find(";", at, at + _MAX_STATEMENT)
    return start, (end if end != -1 else min(len(code), at + _MAX_STATEMENT))


def _ai_endpoint(
    f: SourceFile, code: str, at: int, catalog: Catalog
) -> tuple[Confidence, str | None, str] | None:
    """(confidence, provider, why) when the URL is an AI endpoint's, else None."""
    start, end = _statement(code, at)
    statement = code[start:end]
    for _, host in catalog.find_hosts(statement):
        found = catalog.classify_host(host)
        if found is not None:
            return Confidence.HIGH, found.provider.id, f"AI endpoint {host}"
    site = _next_site(f, at)
    if site is not None:
        how = "" if site.confidence is Confidence.HIGH else ", provider inferred"
        why = f"the AI call on line {site.line} ({site.host}{how})"
        return site.confidence, site.provider, why
    first = max(1, f.line_of(start) - _CONTEXT_LINES)
    window = code[f.line_starts[first - 1] : end]
    word = ai_word(window)
    if word is not None:
        return Confidence.MEDIUM, None, f"an AI endpoint (no host; {word!r} in the code around it)"
    return None


def _next_site(f: SourceFile, at: int) -> IntegrationSite | None:
    """The first AI call site at or after `at` in the same function (none: top level)."""
    block = f.blocks.function(at)
    if block is None:
        return None
    lo, hi = f.line_of(at), f.line_of(block.end)
    return next((s for s in f.sites if lo <= s.line <= hi), None)


def _hit(
    f: SourceFile,
    line: int,
    offset: int,
    param: str,
    verdict: tuple[Confidence, str | None, str],
    catalog: Catalog,
) -> Hit:
    confidence, provider, why = verdict
    message = (
        f"API key appended to the query string ('{param}=') of {why}: URLs with keys end up "
        f"in proxy and access logs, exception messages and HTTP debug logs; send it in a "
        f"header instead"
    )
    column = offset - f.line_starts[line - 1]
    return Hit(
        rule=RULE,
        line=line,
        message=message,
        evidence=masked_line(f, line, catalog, column),
        key=f"{RULE}:{param.lower()}:{provider or ''}",
        provider=provider,
        confidence=confidence,
    )
