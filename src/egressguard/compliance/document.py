"""A tiny document model rendered to Markdown and to self-contained, printable HTML.

The DPIA draft, the executive summary and the incident helper are built once as `Doc` and
rendered twice, so the two formats cannot say different things. Gaps for the human to fill
are `Gap` paragraphs: highlighted in HTML, marked "**TO COMPLETE**" in Markdown.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources


@dataclass(frozen=True, slots=True)
class Para:
    text: str


@dataclass(frozen=True, slots=True)
class Gap:
    text: str


@dataclass(frozen=True, slots=True)
class Table:
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True, slots=True)
class Bullets:
    items: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Figure:
    """An inline SVG made by `charts.py` (which escapes its labels) and its caption; the
    Markdown rendering gives the caption and the same numbers as a table."""

    svg: str
    caption: str
    fallback: Table


Block = Para | Gap | Table | Bullets | Figure


@dataclass(frozen=True, slots=True)
class Section:
    title: str
    blocks: tuple[Block, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class Doc:
    title: str
    subtitle: str
    sections: tuple[Section, ...]


def to_markdown(doc: Doc) -> str:
    lines = [f"# {doc.title}", "", doc.subtitle, ""]
    for section in doc.sections:
        lines += [f"## {section.title}", ""]
        for block in section.blocks:
            lines += [*_md_block(block), ""]
    return "\n".join(lines).rstrip() + "\n"


def _md_block(block: Block) -> list[str]:
    if isinstance(block, Para):
        return [block.text]
    if isinstance(block, Gap):
        return [f"> **TO COMPLETE**: {block.text}"]
    if isinstance(block, Bullets):
        return [f"- {item}" for item in block.items] or ["- (none)"]
    if isinstance(block, Figure):
        return [f"*{block.caption}* (chart in the HTML version)", "", *_md_block(block.fallback)]
    head = "| " + " | ".join(block.header) + " |"
    rule = "|" + "|".join("---" for _ in block.header) + "|"
    body = ["| " + " | ".join(_cell(c) for c in row) + " |" for row in block.rows]
    return (
        [head, rule, *body]
        if body
        else [head, rule, "| " + " | ".join("" for _ in block.header) + " |"]
    )


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_html(doc: Doc, extra_head: str = "") -> str:
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:\">",
        f"<title>{html.escape(doc.title)}</title><style>{_css()}</style>{extra_head}</head><body>",
        f"<h1>{html.escape(doc.title)}</h1>",
        f'<p class="sub">{html.escape(doc.subtitle)}</p>',
    ]
    for section in doc.sections:
        parts.append(f"<section><h2>{html.escape(section.title)}</h2>")
        parts.extend(_html_block(b) for b in section.blocks)
        parts.append("</section>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _html_block(block: Block) -> str:
    if isinstance(block, Para):
        return f"<p>{html.escape(block.text)}</p>"
    if isinstance(block, Gap):
        return f'<p class="gap"><b>TO COMPLETE:</b> {html.escape(block.text)}</p>'
    if isinstance(block, Figure):
        caption = html.escape(block.caption)
        return f"<figure>{block.svg}<figcaption>{caption}</figcaption></figure>"
    if isinstance(block, Bullets):
        items = "".join(f"<li>{html.escape(i)}</li>" for i in block.items) or "<li>(none)</li>"
        return f"<ul>{items}</ul>"
    head = "".join(f"<th>{html.escape(h)}</th>" for h in block.header)
    body = "".join(
        "<tr>" + "".join(f"<td{_cls(c)}>{html.escape(c)}</td>" for c in row) + "</tr>"
        for row in block.rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cls(cell: str) -> str:
    return {
        "gap": ' class="gap-cell"',
        "met": ' class="met-cell"',
        "not assessed": ' class="na-cell"',
    }.get(cell, "")


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> Table:
    return Table(tuple(header), tuple(tuple(r) for r in rows))


@cache
def _css() -> str:
    return resources.files("egressguard.compliance").joinpath("templates/document.css").read_text()
