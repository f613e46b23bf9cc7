"""core_config_data rows in an SQL dump, read with regexes (no SQL parser), linear in its size.

Handles mysqldump's multi-row `INSERT INTO \\`core_config_data\\` VALUES (…),(…);`, column-list
variants (`INSERT INTO core_config_data (scope, scope_id, path, value) VALUES …`), table
prefixes (`mg_core_config_data`), `INSERT IGNORE` / `REPLACE`, comments between rows, and
MySQL string escapes. Without a column list the table's own order is assumed:
config_id, scope, scope_id, path, value, updated_at.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

_DEFAULT_COLUMNS = ("config_id", "scope", "scope_id", "path", "value", "updated_at")
_INSERT = re.compile(
    r"(?:INSERT(?:\s+(?:IGNORE|LOW_PRIORITY|DELAYED|HIGH_PRIORITY))*|REPLACE)\s+INTO\s+"
    r"(?:[`\"]?\w+[`\"]?\.)?[`\"]?\w*core_config_data[`\"]?\s*"
    r"(?:\((?P<columns>[^)]*)\)\s*)?VALUES\s*",
    re.I,
)
_VALUE = r"'(?:[^'\\]|\\.|'')*'|\"(?:[^\"\\]|\\.|\"\")*\"|NULL|[-+]?[\w.:]+(?:\([^()]*\))?"
_ROW = re.compile(rf"\(\s*((?:{_VALUE})(?:\s*,\s*(?:{_VALUE}))*)\s*\)", re.I | re.S)
_ONE_VALUE = re.compile(_VALUE, re.I | re.S)
_GAP = r"(?:\s|--[^\n]*(?:\n|\Z)|#[^\n]*(?:\n|\Z)|/\*.*?\*/)*"  # spaces and comments
_BETWEEN_ROWS = re.compile(rf"{_GAP},{_GAP}", re.S)
_ESCAPE = re.compile(r"\\(.)|''|\"\"", re.S)
_ESCAPES = {"0": "\0", "n": "\n", "r": "\r", "t": "\t", "Z": "\x1a", "b": "\b"}
# Magento's encrypted form: "<key version>:<cipher version>:<base64>" (0:3:…, 1:3:…, 0:2:…).
_ENCRYPTED = re.compile(r"\d+:\d:[A-Za-z0-9+/=:_-]{8,}")


@dataclass(frozen=True, slots=True)
class ConfigRow:
    scope: str
    scope_id: str
    path: str
    value: str
    offset: int  # where the row's value literal starts in the dump


def config_rows(text: str) -> Iterator[ConfigRow]:
    """Every core_config_data row of every INSERT in `text` that has a path and a value."""
    for insert in _INSERT.finditer(text):
        columns = _columns(insert.group("columns"))
        if "path" not in columns or "value" not in columns:
            continue
        yield from _rows(text, insert.end(), columns)


def _columns(listed: str | None) -> tuple[str, ...]:
    if listed is None:
        return _DEFAULT_COLUMNS
    return tuple(c.strip().strip('`"').lower() for c in listed.split(","))


def _rows(text: str, pos: int, columns: tuple[str, ...]) -> Iterator[ConfigRow]:
    while (row := _ROW.match(text, pos)) is not None:
        literals = list(_ONE_VALUE.finditer(text, row.start(1), row.end(1)))
        if len(literals) == len(columns):
            yield _row(literals, columns)
        sep = _BETWEEN_ROWS.match(text, row.end())
        if sep is None:
            return
        pos = sep.end()


def _row(literals: list[re.Match[str]], columns: tuple[str, ...]) -> ConfigRow:
    by_name = dict(zip(columns, literals, strict=True))
    value = by_name["value"]
    return ConfigRow(
        scope=_unquote(by_name["scope"].group()) if "scope" in by_name else "default",
        scope_id=_unquote(by_name["scope_id"].group()) if "scope_id" in by_name else "0",
        path=_unquote(by_name["path"].group()),
        value=_unquote(value.group()),
        offset=value.start(),
    )


def _unquote(literal: str) -> str:
    if literal.upper() == "NULL":
        return ""
    if len(literal) >= 2 and literal[0] in "'\"" and literal[-1] == literal[0]:
        return _ESCAPE.sub(_unescape_one, literal[1:-1])
    return literal


def _unescape_one(m: re.Match[str]) -> str:
    if m.group(1) is None:
        return m.group()[0]
    return _ESCAPES.get(m.group(1), m.group(1))


def is_encrypted(value: str) -> bool:
    """Magento's encrypted form (`0:3:<base64>`), or the admin form's `******` placeholder."""
    return _ENCRYPTED.fullmatch(value) is not None or set(value) == {"*"}
