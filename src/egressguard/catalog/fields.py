"""Typed, validating access to one TOML table; every error message starts with the entry id.

    entry = Fields("openai", table)
    entry.only(required={"id", "name"}, optional={"note"})
    name = entry.text("name")

Validation happens once, at the boundary, so the rest of the package sees only typed values.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from egressguard.errors import CatalogError

E = TypeVar("E", bound=StrEnum)

_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


@dataclass(frozen=True, slots=True)
class Fields:
    """One table of a data file, named `eid` in every error."""

    eid: str
    table: Mapping[str, object]

    def error(self, message: str) -> CatalogError:
        return CatalogError(f"{self.eid}: {message}")

    def only(self, required: Iterable[str], optional: Iterable[str] = ()) -> None:
        """Reject unknown keys and missing required keys."""
        req = frozenset(required)
        unknown = sorted(set(self.table) - req - frozenset(optional))
        if unknown:
            raise self.error(f"unknown key(s) {', '.join(map(repr, unknown))}")
        missing = sorted(req - set(self.table))
        if missing:
            raise self.error(f"missing required key(s) {', '.join(map(repr, missing))}")

    def _get(self, key: str, kind: type | tuple[type, ...], default: object) -> object:
        if key not in self.table:
            if default is None:
                raise self.error(f"missing required key {key!r}")
            return default
        value = self.table[key]
        if not isinstance(value, kind) or (isinstance(value, bool) and kind in (int, float)):
            raise self.error(f"{key!r} must be {_kind_name(kind)}, not {type(value).__name__}")
        return value

    def text(self, key: str, default: str | None = None, *, empty: bool = False) -> str:
        value = self._get(key, str, default)
        assert isinstance(value, str)
        if not empty and not value.strip():
            raise self.error(f"{key!r} must not be empty")
        return value

    def flag(self, key: str, default: bool | None = None) -> bool:
        value = self._get(key, bool, default)
        assert isinstance(value, bool)
        return value

    def integer(
        self, key: str, default: int | None = None, *, low: int = 0, high: int = 2**31
    ) -> int:
        value = self._get(key, int, default)
        assert isinstance(value, int)
        if not low <= value <= high:
            raise self.error(f"{key!r} must be between {low} and {high}, not {value}")
        return value

    def number(self, key: str, default: float | None = None) -> float:
        value = self._get(key, (int, float), default)
        assert isinstance(value, int | float)
        return float(value)

    def texts(self, key: str, *, lower: bool = False) -> tuple[str, ...]:
        """A list of non-empty strings (optional: empty when absent)."""
        value = self._get(key, list, [])
        assert isinstance(value, list)
        out: list[str] = []
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item:
                raise self.error(f"{key}[{i}] must be a non-empty string")
            if lower and item != item.lower():
                raise self.error(f"{key}[{i}] {item!r} must be lower-case")
            out.append(item)
        return tuple(out)

    def enum(self, key: str, enum_type: type[E], default: E | None = None) -> E:
        raw = self.text(key, None if default is None else default.value)
        try:
            return enum_type(raw)
        except ValueError:
            allowed = ", ".join(m.value for m in enum_type)
            raise self.error(f"{key!r} = {raw!r} is not one of: {allowed}") from None

    def tables(self, key: str) -> tuple[Fields, ...]:
        """A list of sub-tables, each named "<eid>: key[i]" in errors (optional: empty)."""
        value = self._get(key, list, [])
        assert isinstance(value, list)
        out: list[Fields] = []
        for i, item in enumerate(value):
            if not isinstance(item, Mapping):
                raise self.error(f"{key}[{i}] must be a table")
            out.append(Fields(f"{self.eid}: {key}[{i}]", item))
        return tuple(out)

    def sub(self, key: str) -> Fields:
        """An optional sub-table (empty when absent)."""
        value = self._get(key, Mapping, {})
        assert isinstance(value, Mapping)
        return Fields(f"{self.eid}: {key}", value)

    def regex(self, key: str, pattern: str, flags: int = 0) -> re.Pattern[str]:
        """Compile `pattern` (the value of `key`) with Python `re`."""
        try:
            return re.compile(pattern, flags)
        except re.error as exc:
            raise self.error(f"{key!r} is not a valid Python regex ({exc}): {pattern!r}") from exc


def entry_id(table: object, where: str) -> str:
    """The kebab-case id of a top-level entry; errors name the position when there is no id."""
    if not isinstance(table, Mapping):
        raise CatalogError(f"{where}: must be a table")
    value = table.get("id")
    if not isinstance(value, str) or not value:
        raise CatalogError(f"{where}: missing or empty 'id'")
    if not _ID.fullmatch(value):
        raise CatalogError(f"{value}: id must be kebab-case (a-z, 0-9, '-')")
    return value


def _kind_name(kind: type | tuple[type, ...]) -> str:
    names = {str: "a string", bool: "true or false", int: "an integer", float: "a number"}
    names |= {list: "a list", Mapping: "a table"}
    kinds = kind if isinstance(kind, tuple) else (kind,)
    return " or ".join(names.get(k, k.__name__) for k in kinds)
