"""Host names: normalisation, host-rule ordering and the fast lookup behind classify_host.

Matching is an anchored full-host match, so `api.openai.com.evil.example` and
`x.api.openai.com.attacker.tld` never match `api\\.openai\\.com`. Literal hosts are looked up in
a dict; pattern rules are tried most specific first: port rules, then rules with more literal
characters, then the catch-all rules of providers that need an LLM-looking URL path.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from egressguard.catalog.schema import HostRule

T = TypeVar("T")

MAX_HOST_LENGTH = 253
_CACHE_LIMIT = 8192
_PLAIN_HOST = re.compile(r"[a-z0-9](?:[a-z0-9.-]{0,251}[a-z0-9])?")
_PORT = re.compile(r"(.*?)(?::(\d{1,5}))?")
_UNESCAPE = re.compile(r"\\([.\-])")
_LITERAL_HOST_PATTERN = re.compile(r"(?:[a-z0-9:\-]|\\[.\-])+")
_LITERAL_RUN = re.compile(r"(?:[a-z0-9]|\\[.\-]|-)+")


def split_host(value: str) -> tuple[str, int | None] | None:
    """("host", port) from "host", "host:port", "[v6]:port" or even a URL; None if not a host."""
    if _PLAIN_HOST.fullmatch(value):
        return value, None
    text = value.strip().lower()
    if "://" in text:
        text = text.split("://", 1)[1]
    text = re.split(r"[/?#\s]", text, maxsplit=1)[0].rsplit("@", 1)[-1]
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") and rest[1:].isdigit() else ""
    else:
        m = _PORT.fullmatch(text)
        host, port_text = (m.group(1), m.group(2) or "") if m else (text, "")
    host = host.rstrip(".")
    if not host or len(host) > MAX_HOST_LENGTH:
        return None
    port = int(port_text) if port_text and int(port_text) <= 65535 else None
    return host, port


def literal_of(pattern: str) -> str | None:
    """The host a pattern matches when it is a plain escaped literal, else None."""
    if _LITERAL_HOST_PATTERN.fullmatch(pattern):
        return _UNESCAPE.sub(r"\1", pattern)
    return None


def literal_runs(pattern: str) -> list[str]:
    """Literal host fragments of a pattern outside any group, class or alternation.

    Only runs at nesting depth 0 are certain to occur in every matching host; a run directly
    followed by a quantifier loses its last character. Used for ordering and the prefilter.
    """
    if "|" in _top_level(pattern):
        return []
    runs: list[str] = []
    for m in _LITERAL_RUN.finditer(_top_level(pattern)):
        run = _UNESCAPE.sub(r"\1", m.group())
        if pattern_next(_top_level(pattern), m.end()) in ("?", "*", "{"):
            run = run[:-1]
        if run:
            runs.append(run)
    return runs


def pattern_next(text: str, index: int) -> str:
    return text[index] if index < len(text) else ""


def _top_level(pattern: str) -> str:
    """The pattern with groups and character classes replaced by a non-literal placeholder."""
    out: list[str] = []
    depth, in_class, in_count, escaped = 0, False, False, False
    for ch in pattern:
        if escaped:
            if depth == 0 and not in_class:
                out.append("\\" + ch if ch in ".-" else "~")
            escaped = False
        elif ch == "\\":
            escaped = True
        elif in_class:
            in_class = ch != "]"
        elif in_count:
            in_count = ch != "}"
        elif ch == "{":
            in_count = True
            out.append("{~" if depth == 0 else "")
        elif ch == "[":
            in_class = True
            out.append("~" if depth == 0 else "")
        elif ch == "(":
            depth += 1
            out.append("~" if depth == 1 else "")
        elif ch == ")":
            depth = max(0, depth - 1)
        elif depth == 0:
            out.append(ch)
    return "".join(out)


def specificity(pattern: str) -> int:
    """How many literal characters every matching host must contain."""
    return sum(len(run) for run in literal_runs(pattern))


@dataclass(frozen=True, slots=True)
class _Candidate(Generic[T]):
    owner: T
    rule: HostRule
    catch_all: bool
    order: int

    def key(self) -> tuple[bool, bool, int, int]:
        return (self.catch_all, self.rule.port is None, -specificity(self.rule.pattern), self.order)


class HostIndex(Generic[T]):
    """Classifies a host name to (owner, rule); owners are providers or widgets.

    Literal hosts are one dict lookup. Pattern rules are tried in priority order, each only
    when the host contains the rule's longest required literal (a cheap substring test), so a
    typical miss costs a few microseconds instead of one regex run per rule.
    """

    def __init__(self, entries: Sequence[tuple[T, HostRule, bool]]) -> None:
        self._literal: dict[tuple[str, int | None], tuple[T, HostRule]] = {}
        candidates: list[_Candidate[T]] = []
        for order, (owner, rule, catch_all) in enumerate(entries):
            host = literal_of(rule.pattern)
            if host is not None and not catch_all:
                self._literal.setdefault((host, rule.port), (owner, rule))
            else:
                candidates.append(_Candidate(owner, rule, catch_all, order))
        candidates.sort(key=_Candidate.key)
        self._rules = tuple((_required(c.rule.pattern), c.owner, c.rule) for c in candidates)
        anchors = [host for host, _ in self._literal]
        anchors += [f":{r.port}" if r.port else req for req, _, r in self._rules]
        self._anchors = tuple(sorted(set(anchors), key=len))
        self._cache: dict[tuple[str, int | None], tuple[T, HostRule] | None] = {}

    def may_occur_in(self, lower_text: str) -> bool:
        """False when no host of this index can occur in the (lower-cased) text."""
        return any(anchor in lower_text for anchor in self._anchors)

    def classify(self, host: str, port: int | None) -> tuple[T, HostRule] | None:
        """The most specific rule matching the whole host (and port, for port rules)."""
        key = (host, port)
        try:
            return self._cache[key]
        except KeyError:
            pass
        found = self._lookup(host, port)
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()
        self._cache[key] = found
        return found

    def _lookup(self, host: str, port: int | None) -> tuple[T, HostRule] | None:
        if port is not None and (hit := self._literal.get((host, port))) is not None:
            return hit
        if (hit := self._literal.get((host, None))) is not None:
            return hit
        for required, owner, rule in self._rules:
            if (
                required in host
                and (rule.port is None or rule.port == port)
                and rule.compiled.fullmatch(host)
            ):
                return owner, rule
        return None


def _required(pattern: str) -> str:
    """The longest literal every host matching `pattern` contains ("" when there is none)."""
    return max(literal_runs(pattern), key=len, default="")
