"""Person names in free text, from context (no model).

One pass finds runs of capitalised words ("Herr Jan Kowalski"); each run is a name when
- it starts with a title or salutation, which is not part of the name: "Herr Müller",
  "Mme Dupont", "Dear John Smith", "Szanowna Pani Anna Nowak";
- a title with a dot or a label with a colon or dash stands just before it: "M. Dupont",
  "Herr Dr. Jürgen Weber", "Kunde: Anna Nowak", "Customer - John Smith";
- or a packaged first name is followed by a capitalised surname: "Giulia Bianchi".
A name is at most three words (plus particles: "Pieter de Vries"); words in the `not_names`
table (weekdays, months, shop words, company forms) end it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass

from egressguard.gateway.detect.letters import CAP_TAIL, CAP_WORD, UPPER
from egressguard.gateway.detect.model import PiiCategory, Span
from egressguard.gateway.detect.tables import first_names, name_context

# Lower-case particles inside a name: "Pieter de Vries", "Ursula von der Leyen".
_PARTICLES = r"(?:(?:van|von|de|der|den|ter|te|zu|di|da|del|della|dos|du|la)[ ])*"
_RUN = re.compile(rf"[{UPPER}](?<![\w'’-].){CAP_TAIL}(?:[ ]{_PARTICLES}{CAP_WORD})*")
_WORD = re.compile(CAP_WORD)
_MAX_WORDS = 3
_CUE_WINDOW = 40


@dataclass(frozen=True, slots=True)
class _Tables:
    titles: frozenset[str]
    lower_titles: frozenset[str]
    title_before: re.Pattern[str]
    title_ends: tuple[str, ...]  # each title's last word: `title_before` needs one before "."
    label_before: re.Pattern[str]
    not_names: frozenset[str]
    first_names: frozenset[str]


def _alternation(words: tuple[str, ...]) -> str:
    ordered = sorted(words, key=len, reverse=True)
    return "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in ordered)


@functools.cache
def _tables() -> _Tables:
    ctx = name_context()
    titles = tuple(t.rstrip(".") for t in ctx.titles)
    title_before = re.compile(rf"(?<![\w])(?:{_alternation(titles)})\.,?[ ]+$")
    label_before = re.compile(rf"(?<![\w])(?i:{_alternation(ctx.labels)})[ ]?[:\-–][ ]*$")
    single = frozenset(t for t in titles if " " not in t)
    return _Tables(
        titles=single,
        lower_titles=ctx.lower_titles,
        title_before=title_before,
        title_ends=tuple(sorted({t.split()[-1] for t in titles})),
        label_before=label_before,
        not_names=ctx.not_names,
        first_names=first_names(),
    )


def find(text: str) -> Iterator[Span]:
    tables = _tables()
    for m in _RUN.finditer(text):
        run = m.group()
        if " " in run:
            span = _name_in_run(text, m.start(), run.split(" "), tables)
        elif run in tables.titles:
            continue
        else:
            span = _word_after_cue(text, m.start(), run, tables)
        if span is not None:
            yield span


def _word_after_cue(text: str, start: int, word: str, tables: _Tables) -> Span | None:
    """`_name_in_run` for a one-word run (most runs): a name only after a title or label."""
    cue = _cue_before(text, start, tables)
    if cue == "title" or (cue == "label" and _credible([word], tables)):
        return _span(start, [word], tables.not_names, "name-context")
    return None


def _name_in_run(text: str, start: int, words: list[str], tables: _Tables) -> Span | None:
    skipped = 0
    while skipped < len(words) and words[skipped] in tables.titles:
        start += len(words[skipped]) + 1
        skipped += 1
    if skipped:
        return _span(start, words[skipped:], tables.not_names, "name-context")
    cue = _cue_before(text, start, tables)
    if cue == "title" or (cue == "label" and _credible(words, tables)):
        return _span(start, words, tables.not_names, "name-context")
    for i, word in enumerate(words[:-1]):
        if word in tables.first_names and words[i + 1] not in tables.not_names:
            span = _span(start, words[i:], tables.not_names, "first-name")
            return span if span is not None and " " in span.value else None
        start += len(word) + 1
    return None


def _cue_before(text: str, start: int, tables: _Tables) -> str:
    """ "title" or "label" when one ends right before `start` ("M. ", "Kunde: ", "mevrouw ")."""
    i = start - 1
    while i >= 0 and text[i] == " ":
        i -= 1
    if i < 0:
        return ""
    if text[i].isalpha():
        word_start = i
        while word_start > 0 and text[word_start - 1].isalpha():
            word_start -= 1
        return "title" if text[word_start : i + 1] in tables.lower_titles else ""
    lo = max(0, start - _CUE_WINDOW)
    if text[i] in ".," and _title_dot(text, i, start, tables):
        return "title"
    if text[i] in ":-–" and tables.label_before.search(text, lo, start):
        return "label"
    return ""


def _title_dot(text: str, i: int, start: int, tables: _Tables) -> bool:
    """A title and its dot end at `i` ("Dr. ", "M., "), spaces up to `start`.

    `title_before` alone tries every title at every position of the window; it runs only when
    a title's last word stands right before the dot.
    """
    dot = i - 1 if text[i] == "," else i
    if i == start - 1 or text[dot] != "." or not text.endswith(tables.title_ends, 0, dot):
        return False
    return tables.title_before.search(text, max(0, start - _CUE_WINDOW), start) is not None


def _credible(words: list[str], tables: _Tables) -> bool:
    """After a label a lone capitalised word is often a sentence: two words or a first name."""
    if words[0] in tables.not_names:
        return False
    return sum(w[0].isupper() for w in words) >= 2 or words[0] in tables.first_names


def _span(start: int, words: list[str], not_names: frozenset[str], rule: str) -> Span | None:
    kept: list[str] = []
    capitalised = 0
    for word in words:
        if word in not_names or capitalised == _MAX_WORDS:
            break
        kept.append(word)
        capitalised += word[0].isupper()
    while kept and not kept[-1][0].isupper():
        kept.pop()
    if not kept:
        return None
    name = " ".join(kept)
    return Span(start, start + len(name), PiiCategory.PERSON_NAME, name, rule)


def looks_like_name(value: str) -> bool:
    """1-4 capitalised words, at least one a known first name (for ambiguous JSON keys)."""
    words = value.split()
    if not 1 <= len(words) <= 4 or not all(_WORD.fullmatch(w) for w in words):
        return False
    known = _tables().first_names
    return any(w in known for w in words)
