"""`.egressguard.toml` -> frozen, validated audit settings (validated once, at the boundary).

```toml
exclude = ["vendor/acme/legacy/**", "**/*.min.js"]   # gitignore-like globs, added to the defaults
max_file_size = 5_000_000                            # bytes; larger files are listed as skipped
fail_on = "high"                                     # critical|high|medium|low|info|none
disable_rules = ["ai-script-on-storefront"]

[severity]                                           # per-rule severity overrides
ai-call-without-audit-log = "low"

[[providers]]                              # custom providers, same schema as the catalogue
id = "acme-llm"
...
```
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from egressguard.errors import ConfigError
from egressguard.model import Severity

CONFIG_FILE_NAME = ".egressguard.toml"
DEFAULT_MAX_FILE_SIZE = 5 * 1024 * 1024

# Never source: VCS metadata, installed JS packages, Magento's generated code and caches.
DEFAULT_EXCLUDES: tuple[str, ...] = (
    ".git",
    ".hg",
    ".svn",
    "node_modules",
    "generated/code",
    "generated/metadata",
    "var/cache",
    "var/page_cache",
    "var/view_preprocessed",
    "pub/static/_cache",
)

_KNOWN_KEYS = frozenset(
    {
        "exclude",
        "max_file_size",
        "fail_on",
        "disable_rules",
        "severity",
        "providers",
        "history",
        "vendors",
        "database",
    }
)


@dataclass(frozen=True, slots=True)
class AuditSettings:
    exclude: tuple[str, ...] = DEFAULT_EXCLUDES
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    fail_on: Severity | None = Severity.HIGH
    disable_rules: frozenset[str] = frozenset()
    severity_overrides: Mapping[str, Severity] = field(default_factory=dict)
    providers: tuple[Mapping[str, Any], ...] = ()
    # Scan history: True = the default file under the state directory, False = off,
    # a string = that SQLite file (relative to the config file's folder).
    history: bool | str = True
    # The vendor/DPA register (vendors.yaml) to check providers against; relative to the
    # config file's folder. "" = none.
    vendors: str = ""
    # postgresql://USER:PASSWORD@HOST:PORT/DB: the scan history lives there (shared by a
    # fleet's audits and by several hosts); "" = the SQLite history (see `history`).
    database: str = ""
    source: str = "defaults"


def parse_fail_on(value: str) -> Severity | None:
    """`none` means never fail on findings."""
    if value == "none":
        return None
    try:
        return Severity(value)
    except ValueError:
        choices = ", ".join([*(s.value for s in Severity), "none"])
        raise ConfigError(f"fail_on: {value!r} is not one of {choices}") from None


def load_settings(path: Path | None) -> AuditSettings:
    """Settings from a config file, or the defaults when `path` is None."""
    if path is None:
        return AuditSettings()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from exc
    return settings_from_mapping(raw, str(path))


def settings_from_mapping(raw: Mapping[str, Any], source: str) -> AuditSettings:
    unknown = sorted(set(raw) - _KNOWN_KEYS)
    if unknown:
        raise ConfigError(f"{source}: unknown key(s): {', '.join(unknown)}")
    return AuditSettings(
        exclude=DEFAULT_EXCLUDES + _str_list(raw, "exclude", source),
        max_file_size=_positive_int(raw.get("max_file_size", DEFAULT_MAX_FILE_SIZE), source),
        fail_on=parse_fail_on(str(raw.get("fail_on", "high"))),
        disable_rules=frozenset(_str_list(raw, "disable_rules", source)),
        severity_overrides=_severity_table(raw.get("severity", {}), source),
        providers=tuple(_table_list(raw, "providers", source)),
        history=_history(raw.get("history", True), source),
        vendors=_str(raw, "vendors", source),
        database=_database(raw, source),
        source=source,
    )


def _database(raw: Mapping[str, Any], source: str) -> str:
    value = _str(raw, "database", source)
    if value and not value.startswith(("postgresql://", "postgres://")):
        raise ConfigError(f"{source}: database must be a postgresql:// URL")
    return value


def _str(raw: Mapping[str, Any], key: str, source: str) -> str:
    value = raw.get(key, "")
    if not isinstance(value, str):
        raise ConfigError(f"{source}: {key} must be a string")
    return value


def _history(value: Any, source: str) -> bool | str:
    if isinstance(value, bool) or (isinstance(value, str) and value):
        return value
    raise ConfigError(f"{source}: history must be true, false or a file path")


def _str_list(raw: Mapping[str, Any], key: str, source: str) -> tuple[str, ...]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{source}: {key} must be a list of strings")
    return tuple(value)


def _table_list(raw: Mapping[str, Any], key: str, source: str) -> Sequence[Mapping[str, Any]]:
    value = raw.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ConfigError(f"{source}: {key} must be an array of tables ([[{key}]])")
    return value


def _positive_int(value: object, source: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ConfigError(f"{source}: max_file_size must be a positive integer (bytes)")
    return value


def _severity_table(value: object, source: str) -> dict[str, Severity]:
    if not isinstance(value, dict):
        raise ConfigError(f"{source}: [severity] must be a table of rule-id = severity")
    out: dict[str, Severity] = {}
    for rule, sev in value.items():
        try:
            out[rule] = Severity(sev)
        except ValueError:
            raise ConfigError(f"{source}: [severity] {rule} = {sev!r} is not a severity") from None
    return out
