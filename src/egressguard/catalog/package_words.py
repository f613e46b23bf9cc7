"""providers.toml [ai_package_names] -> PackageWords: AI/LLM clients recognised by name alone.

A dependency the catalogue does not list is still worth an inventory entry when its name says
what it is: `bydn/openai`, `yu-dev/module-ai-llm`, `acme/chatgpt-connector`. A word counts only
when it stands alone between separators or the ends of the name (`/`, `-`, `_`, `.`, `@`),
optionally followed by a version-like suffix (`gpt4o`, `llm2`), so `egyptian/tours` or
`acme/allmighty` never match "gpt" / "llm".
"""

from __future__ import annotations

import re

from egressguard.catalog.fields import Fields
from egressguard.catalog.schema import PackageWords, TextSamples
from egressguard.errors import CatalogError

TABLE = "ai_package_names"
_WORD = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def parse_package_words(entry: Fields) -> PackageWords:
    entry.only(("words",), ("samples",))
    words = entry.texts("words", lower=True)
    for word in words:
        if not _WORD.fullmatch(word):
            raise entry.error(f"words: {word!r} must be lower-case letters, digits and '-'")
    if not words:
        raise entry.error("words must not be empty")
    alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    samples = entry.sub("samples")
    samples.only((), ("match", "no_match"))
    return PackageWords(
        words=words,
        pattern=re.compile(rf"(?<![a-z0-9])(?:{alternatives})(?:[0-9]+[a-z]?)?(?![a-z0-9])"),
        samples=TextSamples(match=samples.texts("match"), no_match=samples.texts("no_match")),
    )


def ai_word_in(words: PackageWords, package: str) -> str | None:
    """The AI word that marks `package` as an AI client ("bydn/openai" -> "openai"), or None."""
    m = words.pattern.search(package.lower())
    return m.group(0) if m else None


def check_package_words(words: PackageWords) -> None:
    """Run the table's own samples (load time and test suite)."""
    for name in words.samples.match:
        if ai_word_in(words, name) is None:
            raise CatalogError(f"{TABLE}: samples.match {name!r} is not recognised")
    for name in words.samples.no_match:
        if ai_word_in(words, name) is not None:
            raise CatalogError(f"{TABLE}: samples.no_match {name!r} is recognised")
