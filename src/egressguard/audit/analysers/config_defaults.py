"""Magento config defaults (`etc/config.xml`) that name an AI endpoint, and the PHP reads of them.

`$this->scopeConfig->getValue('acme/api/endpoint')` (or `getValue(self::XML_ENDPOINT)` with the
path in a class constant) reads the value a module ships in `<default><acme><api><endpoint>`.
When that default is a catalogue host, the read is where the code gets its AI URL: the
endpoint analyser reports the call there. The defaults are parsed once per scan (cached on
the Project).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from egressguard.audit.project import Project

_CACHE_KEY = "magento-config-defaults"
_READ = re.compile(
    r"""->\s*(?:getValue|getConfigValue|getStoreConfig)\s*\(\s*(?:['"](?P<path>[\w/]+)['"]"""
    r"""|(?:self|static)::(?P<const>[A-Z_][A-Z0-9_]*))"""
)
_CONST = re.compile(r"""\bconst\s+(?P<name>[A-Z_][A-Z0-9_]*)\s*=\s*['"](?P<value>[\w/]+)['"]""")


def config_reads(code: str, project: Project | None) -> Iterator[tuple[int, str]]:
    """(offset, default value) for every config read in PHP `code` whose path has a default."""
    if project is None or ("getValue" not in code and "getConfigValue" not in code):
        return
    defaults = _defaults(project)
    if not defaults:
        return
    constants = {m.group("name"): m.group("value") for m in _CONST.finditer(code)}
    for m in _READ.finditer(code):
        path = m.group("path") or constants.get(m.group("const") or "", "")
        value = defaults.get(path)
        if value:
            yield m.start(), value


def _defaults(project: Project) -> dict[str, str]:
    cached = project.cache.get(_CACHE_KEY)
    if isinstance(cached, dict):
        return cached
    defaults: dict[str, str] = {}
    for rel in project.by_name("config.xml"):
        data = project.read(rel)
        if data is not None and b"<default" in data:
            defaults.update(_parse(data))
    project.cache[_CACHE_KEY] = defaults
    return defaults


def _parse(data: bytes) -> dict[str, str]:
    """`section/group/field` -> text of `<config><default>…`; malformed XML yields nothing."""
    try:
        root = ET.fromstring(data)
    except ET.ParseError:
        return {}
    out: dict[str, str] = {}
    for default in root.findall("default"):
        for section in default:
            for group in section:
                for fld in group:
                    if fld.text and fld.text.strip():
                        out[f"{section.tag}/{group.tag}/{fld.tag}"] = fld.text.strip()
    return out
