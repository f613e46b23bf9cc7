"""The packaged data tables of detection (`detect/data/`): key names, street words, name context.

Each loader reads its file once and validates its shape; a bad file raises CatalogError naming
the file and the table.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources

import tomli

from egressguard.errors import CatalogError
from egressguard.gateway.detect.model import PiiCategory

_PACKAGE = "egressguard.gateway.detect"


def _read(name: str) -> str:
    return resources.files(_PACKAGE).joinpath("data").joinpath(name).read_text(encoding="utf-8")


def _toml(name: str) -> dict[str, object]:
    try:
        return tomli.loads(_read(name))
    except tomli.TOMLDecodeError as exc:
        raise CatalogError(f"{name}: {exc}") from exc


def _strings(doc: dict[str, object], name: str, table: str) -> tuple[str, ...]:
    raw = doc.get(table)
    if not isinstance(raw, list) or not all(isinstance(v, str) and v for v in raw):
        raise CatalogError(f"{name}: '{table}' must be a list of non-empty strings")
    return tuple(str(v) for v in raw)


@dataclass(frozen=True, slots=True)
class KeyTable:
    """Normalised JSON key -> category; `weak` keys need the value to look the part."""

    strong: dict[str, PiiCategory]
    weak: dict[str, PiiCategory]


@functools.cache
def key_table() -> KeyTable:
    name = "keys.toml"
    doc = _toml(name)
    maps: list[dict[str, PiiCategory]] = []
    for section in ("strong", "weak"):
        raw = doc.get(section)
        if not isinstance(raw, dict):
            raise CatalogError(f"{name}: missing table [{section}]")
        mapping: dict[str, PiiCategory] = {}
        for category_name in raw:
            try:
                category = PiiCategory(category_name)
            except ValueError as exc:
                raise CatalogError(f"{name}: unknown category {category_name!r}") from exc
            for key in _strings(raw, name, category_name):
                mapping[key] = category
        maps.append(mapping)
    return KeyTable(strong=maps[0], weak=maps[1])


@dataclass(frozen=True, slots=True)
class StreetWords:
    suffixes: tuple[str, ...]
    before_name: tuple[str, ...]
    number_first: tuple[str, ...]
    number_name_word: tuple[str, ...]
    linkers: tuple[str, ...]


@functools.cache
def street_words() -> StreetWords:
    name = "streets.toml"
    doc = _toml(name)
    return StreetWords(
        *(
            _strings(doc, name, t)
            for t in ("suffixes", "before_name", "number_first", "number_name_word", "linkers")
        )
    )


@dataclass(frozen=True, slots=True)
class NameContext:
    titles: tuple[str, ...]
    lower_titles: frozenset[str]
    labels: tuple[str, ...]
    not_names: frozenset[str]


@functools.cache
def name_context() -> NameContext:
    name = "names.toml"
    doc = _toml(name)
    return NameContext(
        titles=_strings(doc, name, "titles"),
        lower_titles=frozenset(_strings(doc, name, "lower_titles")),
        labels=_strings(doc, name, "labels"),
        not_names=frozenset(_strings(doc, name, "not_names")),
    )


@functools.cache
def first_names() -> frozenset[str]:
    """Packaged first names (EN, DE, FR, NL, IT, ES, PL), as written (capitalised)."""
    lines = _read("first_names.txt").splitlines()
    return frozenset(s for line in lines if (s := line.strip()) and not s.startswith("#"))
