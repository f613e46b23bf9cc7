"""Logging around AI calls: too little (no audit trail) and too much (prompts in the logs).

Runs after the endpoint analyser, on files with AI sites (`f.sites`).

  ai-call-without-audit-log  a server-side AI call whose method (the outermost function around
                             it, found by brace matching on the string-free view) writes no log
                             line, directly or through a helper of the same class/module that
                             does (`$this->logExchange(...)`). Sites in config files (XML, .env,
                             JSON, SQL) are not calls; browser-side calls are left to the
                             secrets/residency rules.
  ai-prompt-logged           a log statement whose arguments carry the exchange itself: a
                             variable named like a prompt/messages/payload/body/response/
                             completion…, `->getBody()`, or an interpolation of one. Metadata
                             (`$response->getStatusCode()`, `strlen($prompt)`, `usage.total_tokens`,
                             `$requestId`) is not the exchange.

Decision: `console.log/info/warn/error` in server-side JS counts as logging for the first rule
(Node hosts collect stdout/stderr), and like any log call it can trip the second rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

from egressguard.audit.analysers.evidence import masked_line
from egressguard.audit.analysers.lexical import (
    CODE_LANGUAGES,
    Block,
    Blocks,
    CodeView,
    function_name,
)
from egressguard.model import Hit, IntegrationSite, RunsIn

if TYPE_CHECKING:
    from egressguard.audit.analysers.base import SourceFile
    from egressguard.catalog import Catalog

RULE_NO_LOG = "ai-call-without-audit-log"
RULE_PROMPT_LOGGED = "ai-prompt-logged"

_LEVELS = r"(?:info|notice|debug|warning|warn|error|critical|alert|emergency|log|trace|fatal)"
# Every statement that writes a log line (PHP PSR-3/Monolog/Magento, Laravel, plain PHP, Node).
LOG_CALLS: tuple[str, ...] = (
    rf"\$(?:this->)?\w*(?:[Ll]ogger|[Ll]og)\s*->\s*(?:{_LEVELS}|addRecord|add[A-Z]\w*)\s*\(",
    r"\$(?:this->)?_?\w*[Aa]udit\w*\s*->\s*\w+\s*\(",
    r"\b(?:error_log|syslog)\s*\(",
    rf"\bLog::{_LEVELS}\s*\(",
    r"\bfile_put_contents\s*\((?=[^;]{0,300}?(?:var/log|\.log\b))",
    rf"(?<![\w$])(?:console|logger|log|winston|pino|this\.logger|this\.log|\w+\.log)\.{_LEVELS}\s*\(",
)
_LOG_CALL = re.compile("|".join(f"(?:{rx})" for rx in LOG_CALLS))

# Names of the exchange itself (matched inside identifiers, lower-cased).
PAYLOAD_WORDS: tuple[str, ...] = (
    "prompt", "message", "payload", "request", "body", "response", "completion", "result",
    "content", "input", "output", "chat", "answer", "reply", "question", "conversation",
)  # fmt: skip
# ...unless the identifier names something about it: requestId, promptTokens, responseTime.
METADATA_SUFFIXES: tuple[str, ...] = (
    "id", "ids", "count", "status", "code", "time", "ms", "length", "len", "size", "tokens",
    "model", "url", "uri", "type", "hash", "at", "usage", "level",
)  # fmt: skip
_PAYLOAD = re.compile("|".join(PAYLOAD_WORDS))
_METADATA_NAME = re.compile(
    r"(?:^|_)(?i:" + "|".join(METADATA_SUFFIXES) + r")$"  # request_id, REQUEST_ID
    r"|(?<=[a-z0-9])(?:"  # requestId, responseTime, promptTokens, requestID
     + "|".join(f"{s.capitalize()}|{s.upper()}" for s in METADATA_SUFFIXES) + r")$"
)
_METADATA_AFTER = re.compile(
    r"""\s*(?:->|\?->|\.|\?\.)\s*(?:getStatusCode|getReasonPhrase|getHeaders?|getHeaderLine"""
    r"""|getSize|status|statusCode|statusText|ok|length|usage|model|id|headers|count)\b"""
    # token counts: OpenAI usage.total_tokens, Ollama eval_count / prompt_eval_count
    r"""|\s*\[\s*['"](?:usage|model|id|status|created|object|total_tokens|prompt_tokens"""
    r"""|completion_tokens|eval_count|prompt_eval_count|eval_duration|total_duration)['"]"""
    r"""|\s*:(?!:)"""  # a JS object key, not its value
)
_METADATA_BEFORE = re.compile(
    r"(?:(?:strlen|mb_strlen|count|sizeof|md5|sha1|crc32|hash|isset|empty|is_array|is_string"
    r"|gettype|get_class)\s*\(\s*(?:['\"]\w*['\"]\s*,\s*)?"
    # an exception's message: $e->getMessage(), err.message
    r"|(?<![\w$])\$?(?:e|ex|exc|exception|err|error|throwable|t)\s*(?:->|\?->|\.)\s*)$"
)
_IDENTIFIER = re.compile(r"(?<![\w$])\$?[A-Za-z_][\w]*")
_PHP_VAR = re.compile(r"\$[A-Za-z_]\w*")
_TEMPLATE_EXPR = re.compile(r"\$\{([^}]*)\}")
_ARGS_MAX = 2000
_WHITESPACE = re.compile(r"\s+")


class LoggingAnalyser:
    """ai-call-without-audit-log and ai-prompt-logged."""

    name = "logging"
    tags = frozenset({"ai", "sdk"})
    after_sites = True

    def wants(self, f: SourceFile) -> bool:
        return bool(f.sites) and f.language in CODE_LANGUAGES

    def analyse(self, f: SourceFile, catalog: Catalog) -> Iterator[Hit]:
        view = f.view
        blocks = f.blocks
        logs = [m.start() for m in _LOG_CALL.finditer(view.code)]
        yield from _unlogged_calls(f, catalog, view, blocks, logs)
        yield from _logged_prompts(f, catalog, view)


def _unlogged_calls(
    f: SourceFile, catalog: Catalog, view: CodeView, blocks: Blocks, logs: list[int]
) -> Iterator[Hit]:
    scoped = [
        (site, blocks.function(_line_offset(f, site.line)))
        for site in f.sites
        if site.runs_in is RunsIn.SERVER
    ]
    # A URL constant or module-level client is reported only when no method uses it.
    in_methods = {(s.provider, s.host) for s, scope in scoped if scope is not None}
    seen: set[int] = set()
    for site, scope in scoped:
        if site.line in seen or (scope is None and (site.provider, site.host) in in_methods):
            continue
        seen.add(site.line)
        if not _is_logged(view, blocks, scope, logs, _line_offset(f, site.line)):
            yield _no_log_hit(f, catalog, site, scope)


def call_is_logged(f: SourceFile, line: int) -> bool:
    """Whether the AI call on `line` is audit-logged, as ai-call-without-audit-log decides it
    (a log line in its method, or in a helper of the class that the method calls)."""
    view = f.view
    blocks = f.blocks
    logs = [m.start() for m in _LOG_CALL.finditer(view.code)]
    offset = _line_offset(f, line)
    return _is_logged(view, blocks, blocks.function(offset), logs, offset)


def _line_offset(f: SourceFile, line: int) -> int:
    """Offset of the first non-blank character of a line (inside the statement, not before)."""
    start = f.line_starts[line - 1]
    text = f.line_text(line)
    return start + len(text) - len(text.lstrip())


def _is_logged(
    view: CodeView, blocks: Blocks, scope: Block | None, logs: list[int], offset: int
) -> bool:
    if scope is None:
        # Outside any function: a class constant (the class's logging) or a script (the file's).
        klass = blocks.klass(offset)
        return any(klass is None or klass.start < pos < klass.end for pos in logs)
    if any(scope.start < pos < scope.end for pos in logs):
        return True
    container = blocks.klass(scope.start) or Block(-1, len(view.bare), "")
    helpers = [
        function_name(b)
        for b in blocks.functions_in(container)
        if b is not scope and any(b.start < pos < b.end for pos in logs)
    ]
    if not helpers:
        return False
    calls = re.compile(r"(?<![\w$])(?:" + "|".join(map(re.escape, helpers)) + r")\s*\(")
    return calls.search(view.code, scope.start, scope.end) is not None


def _no_log_hit(f: SourceFile, catalog: Catalog, site: IntegrationSite, scope: Block | None) -> Hit:
    where = f"{function_name(scope)}()" if scope is not None else "the top-level script"
    evidence = masked_line(f, site.line, catalog)
    return Hit(
        rule=RULE_NO_LOG,
        line=site.line,
        message=(
            f"{catalog.provider(site.provider).name} call ({site.host}) in {where} writes no "
            "audit log of the AI "
            "exchange (who, when, which provider/model, outcome)"
        ),
        evidence=evidence,
        key=f"{RULE_NO_LOG}:{site.provider}:{site.host}:{where}:{_normalise(evidence)}",
        provider=site.provider,
        host=site.host,
    )


def _logged_prompts(f: SourceFile, catalog: Catalog, view: CodeView) -> Iterator[Hit]:
    providers = ", ".join(sorted({catalog.provider(s.provider).name for s in f.sites}))
    seen: set[int] = set()
    for m in _LOG_CALL.finditer(view.code):
        line = f.line_of(m.start())
        if line in seen:
            continue
        open_paren = m.end() - 1
        close = _matching_paren(view.bare, open_paren)
        what = payload_in(view.code[open_paren + 1 : close], view.bare[open_paren + 1 : close])
        if what is None:
            continue
        seen.add(line)
        evidence = masked_line(f, line, catalog)
        yield Hit(
            rule=RULE_PROMPT_LOGGED,
            line=line,
            message=(
                f"log statement writes the AI exchange ({what}) in full; this file calls "
                f"{providers}: prompts and answers carry shop and customer data"
            ),
            evidence=evidence,
            key=f"{RULE_PROMPT_LOGGED}:{_normalise(evidence)}",
        )


def _matching_paren(bare: str, open_paren: int) -> int:
    """Offset of the `)` closing `bare[open_paren]`, or the scan limit when unbalanced."""
    depth = 0
    limit = min(len(bare), open_paren + _ARGS_MAX)
    for pos in range(open_paren, limit):
        ch = bare[pos]
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return pos
    return limit


def payload_in(args_code: str, args_bare: str) -> str | None:
    """The first identifier in log arguments that names the AI exchange, or None.

    `args_code` and `args_bare` are the same span (bare has string contents blanked).
    """
    spans = [(m.start(), m.group()) for m in _IDENTIFIER.finditer(args_bare)]
    spans += [(m.start(), m.group()) for m in _PHP_VAR.finditer(args_code)]
    for t in _TEMPLATE_EXPR.finditer(args_code):
        base = t.start(1)
        spans += [(base + m.start(), m.group()) for m in _IDENTIFIER.finditer(t.group(1))]
    for start, ident in sorted(spans):
        if _names_payload(ident) and not _is_metadata(args_code, start, start + len(ident)):
            return ident
    return None


def _names_payload(ident: str) -> bool:
    name = ident.lstrip("$")
    return _PAYLOAD.search(name.lower()) is not None and _METADATA_NAME.search(name) is None


def _is_metadata(code: str, start: int, end: int) -> bool:
    if _METADATA_AFTER.match(code, end):
        return True
    return _METADATA_BEFORE.search(code, max(0, start - 40), start) is not None


def _normalise(text: str) -> str:
    return _WHITESPACE.sub(" ", text).strip()
