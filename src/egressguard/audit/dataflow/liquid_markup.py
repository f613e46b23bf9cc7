"""A careful lexical pass over Liquid/HTML: outputs, tags, scripts and attributes.

No HTML grammar: Liquid inside attributes and scripts is not HTML, and what matters here is
small: where each `{{ … }}` output sits (inside a `<script>`, in an attribute, or in text),
the `assign`/`capture`/`for` tags that name values, and the inline scripts to hand to the
JavaScript grammar. Every pattern is bounded or always matches once started, so the pass is
linear in the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_LIQUID = re.compile(
    r"\{\{-?(?P<out>(?:[^}]|\}(?!\})){0,2000}?)-?\}\}"
    r"|\{%-?(?P<tag>(?:[^%]|%(?!\})){0,2000}?)-?%\}"
)
_SCRIPT = re.compile(
    r"<script\b(?P<attrs>[^>]{0,2000})>(?P<body>[\s\S]*?)(?:</script\s*>|\Z)", re.IGNORECASE
)
_TYPE = re.compile(r"""\btype\s*=\s*["']?([\w/+.-]+)""", re.IGNORECASE)
_ID = re.compile(r"""\bid\s*=\s*["']?([^"'\s>]+)""", re.IGNORECASE)
_ATTRIBUTE = re.compile(r"""([A-Za-z_:][\w:.-]*)\s*=\s*["']?[^"'<>=]*$""")
_TAG_WINDOW = 2000  # characters searched back for the `<` of the tag an output sits in
# Script types that are code; anything else with a type (JSON, templates) is data.
_JS_TYPES = frozenset(
    {"", "text/javascript", "application/javascript", "module", "text/babel", "text/jsx"}
)


@dataclass(frozen=True, slots=True)
class Output:
    start: int
    end: int
    expr: str  # the Liquid expression, filters included
    place: str  # "script", "attribute", "data" (a JSON script) or "text"
    attribute: str = ""  # the attribute name, or the JSON script's id


@dataclass(frozen=True, slots=True)
class Tag:
    start: int
    end: int
    body: str


@dataclass(frozen=True, slots=True)
class Script:
    start: int  # offset of the body
    end: int
    code: bool  # JavaScript (not a JSON data island)
    island: str  # the id of a JSON data island


@dataclass(frozen=True, slots=True)
class Markup:
    outputs: tuple[Output, ...]
    tags: tuple[Tag, ...]
    scripts: tuple[Script, ...]


def scan(text: str) -> Markup:
    scripts = tuple(_scripts(text))
    outputs: list[Output] = []
    tags: list[Tag] = []
    for m in _LIQUID.finditer(text):
        if m.group("tag") is not None:
            tags.append(Tag(m.start(), m.end(), m.group("tag").strip()))
            continue
        script = _script_at(scripts, m.start())
        if script is not None:
            place = "script" if script.code else "data"
            outputs.append(Output(m.start(), m.end(), m.group("out").strip(), place, script.island))
        else:
            attr = _attribute_at(text, m.start())
            place = "attribute" if attr else "text"
            outputs.append(Output(m.start(), m.end(), m.group("out").strip(), place, attr))
    return Markup(tuple(outputs), tuple(tags), scripts)


def _scripts(text: str) -> list[Script]:
    out: list[Script] = []
    for m in _SCRIPT.finditer(text):
        attrs = m.group("attrs")
        kind = _TYPE.search(attrs)
        code = (kind.group(1).lower() if kind else "") in _JS_TYPES and "src=" not in attrs
        ident = _ID.search(attrs)
        out.append(Script(m.start("body"), m.end("body"), code, ident.group(1) if ident else ""))
    return out


def _script_at(scripts: tuple[Script, ...], offset: int) -> Script | None:
    return next((s for s in scripts if s.start <= offset < s.end), None)


def _attribute_at(text: str, offset: int) -> str:
    """The attribute whose value holds `offset` ("" when the offset is in text)."""
    lo = max(0, offset - _TAG_WINDOW)
    lt = text.rfind("<", lo, offset)
    if lt == -1 or text.rfind(">", lt, offset) != -1:
        return ""
    m = _ATTRIBUTE.search(_strip_liquid(text[lt:offset]))
    return m.group(1).lower() if m else ""


def _strip_liquid(fragment: str) -> str:
    return _LIQUID.sub("x", fragment)


def js_source(text: str, markup: Markup, placeholder: dict[int, str]) -> str:
    """The inline scripts as one JavaScript program, on the template's own lines.

    Markup outside scripts keeps only its newlines (a `;` ends each script, so scripts do not
    run into each other); Liquid tags inside scripts keep only their newlines; an output
    becomes its placeholder identifier (`placeholder[output.start]`).
    """
    pieces: list[str] = []
    pos = 0
    cuts = sorted(
        [
            (o.start, o.end, placeholder.get(o.start, ""))
            for o in markup.outputs
            if o.place == "script"
        ]
        + [(t.start, t.end, "") for t in markup.tags]
    )
    ci = 0
    for script in markup.scripts:
        if not script.code:
            continue
        pieces.append(_newlines(text[pos : script.start]))
        cur = script.start
        while ci < len(cuts) and cuts[ci][0] < script.start:
            ci += 1
        while ci < len(cuts) and cuts[ci][0] < script.end:
            start, end, repl = cuts[ci]
            pieces.append(text[cur:start])
            pieces.append(repl + _newlines(text[start:end]))
            cur = max(cur, end)
            ci += 1
        pieces.append(text[cur : script.end])
        pieces.append(";")
        pos = script.end
    pieces.append(_newlines(text[pos:]))
    return "".join(pieces)


def _newlines(fragment: str) -> str:
    return "\n" * fragment.count("\n")
