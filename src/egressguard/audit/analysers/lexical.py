"""Cheap lexical views of source text for the regex analysers (no parser: issue 3 brings one).

`code_view(text, language)` gives two copies of the text with the same length and the same
newlines, so every offset and line number still holds:

    code   comments blanked (a URL in `// see https://…` is not a call site)
    bare   comments AND the insides of string literals blanked (for brace matching and for
           finding identifiers without tripping over `'{'` or `'// not a comment'`)

Strings and comments are found by ONE `finditer` per file with a pattern per language family.
Every alternative always matches once started (an unterminated string ends at the line end,
an unterminated block comment at the end of the text), so the scan is linear.

`Blocks` pairs braces in the bare view with a stack (linear, unbalanced input is tolerated)
and answers "which function / class encloses this offset".
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from egressguard.model import Language

# Quoted strings, one line at most (a stray apostrophe in markup cannot swallow the file).
_SQ = r"'[^'\\\n]*(?:\\.[^'\\\n]*)*'?"
_DQ = r'"[^"\\\n]*(?:\\.[^"\\\n]*)*"?'
_BQ = r"`[^`\\]*(?:\\[\s\S][^`\\]*)*`?"  # JS template literal: may span lines
_BLOCK = r"/\*[\s\S]*?(?:\*/|\Z)"
_LINE = r"//(?:[^\n?]|\?(?!>))*"  # `?>` ends a PHP line comment
_HASH_PHP = r"\#(?!\[)[^\n]*"  # `#[Attr]` is a PHP 8 attribute, not a comment
_HASH_CONF = r"(?:(?<=\s)|^)\#[^\n]*"
_HTML = r"<!--[\s\S]*?(?:-->|\Z)"
_LIQUID = (
    r"\{%-?\s*comment\s*-?%\}[\s\S]*?(?:\{%-?\s*endcomment\s*-?%\}|\Z)"
    r"|\{%-?\s*\#[^%]*-?%\}"
)


def _family(strings: str, comments: str) -> re.Pattern[str]:
    alts = [f"(?P<s>{strings})"] if strings else []
    alts.append(f"(?P<c>{comments})")
    return re.compile("|".join(alts), re.MULTILINE)


_PHP = _family(f"{_SQ}|{_DQ}", f"{_BLOCK}|{_LINE}|{_HASH_PHP}")
_JS = _family(f"{_SQ}|{_DQ}|{_BQ}", f"{_BLOCK}|{_LINE}")
_MARKUP = _family(f"{_SQ}|{_DQ}", f"{_HTML}|{_LIQUID}|{_BLOCK}|{_LINE}")
_XML = _family("", _HTML)
_CONF = _family(f"{_SQ}|{_DQ}", _HASH_CONF)

_PATTERNS: dict[Language, re.Pattern[str]] = {
    Language.PHP: _PHP,
    Language.JAVASCRIPT: _JS,
    Language.TYPESCRIPT: _JS,
    Language.PHTML: _MARKUP,
    Language.LIQUID: _MARKUP,
    Language.HTML: _MARKUP,
    Language.XML: _XML,
    Language.ENV: _CONF,
    Language.YAML: _CONF,
    Language.TOML: _CONF,
}

_BRACE = re.compile(r"[{}]")
_FUNCTION_HEADER = re.compile(
    r"\bfunction\b[^{]*$"  # PHP/JS functions, methods and closures
    r"|=>\s*$"  # JS arrow function body
    r"|(?<![\w$.])(?!(?:if|for|foreach|while|switch|catch|with|elseif|else)\b)"
    r"[A-Za-z_$][\w$]*\s*\([^()]*\)\s*(?::[^{;]*)?$"  # JS/TS method shorthand
)
_FUNCTION_NAME = re.compile(r"\bfunction\s*&?\s*([A-Za-z_]\w*)|([A-Za-z_$][\w$]*)\s*\([^()]*\)")
_CLASS_HEADER = re.compile(r"\b(?:class|trait|interface|enum)\s+[A-Za-z_]\w*")
_HEADER_MAX = 400


# Languages whose code (not markup or data) the lexical analysers read.
CODE_LANGUAGES = frozenset({Language.PHP, Language.PHTML, Language.JAVASCRIPT, Language.TYPESCRIPT})


@dataclass(frozen=True, slots=True)
class CodeView:
    code: str
    bare: str


def _blank(s: str) -> str:
    if "\n" not in s:
        return " " * len(s)
    return "\n".join(" " * len(part) for part in s.split("\n"))


def _blank_inside(s: str) -> str:
    """Keep a string's quotes, blank its contents."""
    if len(s) < 2:
        return s
    return s[0] + _blank(s[1:-1]) + s[-1]


def code_view(text: str, language: Language) -> CodeView:
    """Comment-free and string-free copies of `text` (same length, same lines)."""
    pattern = _PATTERNS.get(language)
    if pattern is None:
        return CodeView(text, text)
    code: list[str] = []
    bare: list[str] = []
    pos = 0
    for m in pattern.finditer(text):
        start, end = m.span()
        if start == end:
            continue
        gap = text[pos:start]
        code.append(gap)
        bare.append(gap)
        piece = m.group()
        if m.lastgroup == "c":
            blank = _blank(piece)
            code.append(blank)
            bare.append(blank)
        else:
            code.append(piece)
            bare.append(_blank_inside(piece))
        pos = end
    code.append(text[pos:])
    bare.append(text[pos:])
    return CodeView("".join(code), "".join(bare))


@dataclass(frozen=True, slots=True)
class Block:
    start: int  # offset of `{`
    end: int  # offset of the matching `}` (len(text) when unbalanced)
    header: str  # up to _HEADER_MAX characters before `{`, back to the last `;`, `{` or `}`


class Blocks:
    """Brace blocks of a bare view, sorted by opening offset."""

    def __init__(self, bare: str) -> None:
        self._blocks = _pair_braces(bare)
        self._starts = [b.start for b in self._blocks]

    def enclosing(self, offset: int) -> list[Block]:
        """Blocks containing `offset`, outermost first."""
        limit = bisect_right(self._starts, offset)
        return [b for b in self._blocks[:limit] if b.start < offset <= b.end]

    def function(self, offset: int) -> Block | None:
        """The outermost function/method block around `offset` (a closure's method)."""
        return next((b for b in self.enclosing(offset) if is_function(b)), None)

    def klass(self, offset: int) -> Block | None:
        """The innermost class-like block around `offset`."""
        classes = [b for b in self.enclosing(offset) if _CLASS_HEADER.search(b.header)]
        return classes[-1] if classes else None

    def functions_in(self, outer: Block) -> list[Block]:
        """Function blocks directly or indirectly inside `outer`, outermost only."""
        found: list[Block] = []
        for b in self._blocks[bisect_right(self._starts, outer.start) :]:
            if b.start > outer.end:
                break
            if is_function(b) and not (found and found[-1].start < b.start <= found[-1].end):
                found.append(b)
        return found


def is_function(block: Block) -> bool:
    return _FUNCTION_HEADER.search(block.header) is not None


def function_name(block: Block) -> str:
    """`generateDescription` from a method's header, `closure` when it has none."""
    matches = list(_FUNCTION_NAME.finditer(block.header))
    if not matches:
        return "closure"
    return matches[-1].group(1) or matches[-1].group(2) or "closure"


def _pair_braces(bare: str) -> list[Block]:
    stack: list[int] = []
    pairs: list[tuple[int, int]] = []
    for m in _BRACE.finditer(bare):
        if m.group() == "{":
            stack.append(m.start())
        elif stack:
            pairs.append((stack.pop(), m.start()))
    pairs.extend((start, len(bare)) for start in stack)
    pairs.sort()
    return [Block(start, end, _header(bare, start)) for start, end in pairs]


def _header(bare: str, start: int) -> str:
    lo = max(0, start - _HEADER_MAX)
    cut = max(bare.rfind(";", lo, start), bare.rfind("{", lo, start), bare.rfind("}", lo, start))
    return bare[max(lo, cut + 1) : start].strip()
