"""AI SDKs declared as dependencies (`ai-sdk-dependency`, inventory).

Manifests and lock files of both ecosystems the catalogue knows:

    composer   composer.json (require, require-dev), composer.lock (packages, packages-dev)
    npm        package.json (dependencies, devDependencies, peerDependencies,
               optionalDependencies), package-lock.json / npm-shrinkwrap.json (v2/v3
               `packages`, v1 `dependencies`), yarn.lock (v1 and berry), pnpm-lock.yaml

Each SDK is reported once per file, on the line where its name first appears, with the locked
version when the file has one. A catalogue SDK is a fact (high confidence). A package the
catalogue does not list but whose name marks an AI/LLM client (`bydn/openai`,
`yu-dev/module-ai-llm`: the catalogue's [ai_package_names] words) is reported too, at LOW
confidence, with no provider and a message saying it is inferred from the name. The hit key is
rule + ecosystem + package (no version), so an upgrade does not churn the baseline.
Malformed JSON raises MalformedInput; yarn and pnpm locks are read with a line regex (no YAML
parser), which cannot fail.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from egressguard.audit.analysers.base import MalformedInput, Output, SourceFile
from egressguard.model import Confidence, Hit

if TYPE_CHECKING:
    from egressguard.catalog import Catalog

RULE = "ai-sdk-dependency"

_COMPOSER_SECTIONS = ("require", "require-dev")
_COMPOSER_LOCK_SECTIONS = ("packages", "packages-dev")
_NPM_SECTIONS = ("dependencies", "devDependencies", "peerDependencies", "optionalDependencies")
# yarn.lock entry header: `openai@^4.0.0:`, `"@anthropic-ai/sdk@^0.20", "@anthropic-ai/sdk@^0.2":`
# (berry: `"openai@npm:^4.0.0":`); its `version` line follows within the entry.
_YARN_ENTRY = re.compile(r'^"?(@?[^@\s",]+)@[^\n]*:\s*$', re.M)
_YARN_VERSION = re.compile(r'^\s+version:?\s+"?([^"\s]+)', re.M)
# pnpm-lock.yaml package keys: `/openai@4.20.1:` (v6), `openai@4.20.1:` (v9),
# `/@anthropic-ai/sdk/0.20.0:` (v5), with optional quotes and peer suffixes.
_PNPM_PACKAGE = re.compile(
    r"""^\s{2,4}['"]?/?(@?[A-Za-z0-9._-]+(?:/[A-Za-z0-9._-]+)?)[@/](\d[^:'"(\s]*)""", re.M
)


@dataclass(frozen=True, slots=True)
class Declared:
    """One dependency as a file declares it."""

    package: str
    version: str  # the constraint (manifest) or the locked version (lock file)
    where: str  # "require", "packages", "yarn.lock" …
    offset: int  # where the package name first appears in the text


class DependencyAnalyser:
    name = "dependencies"
    tags = frozenset({"sdk", "pkg"})
    after_sites = False

    def wants(self, f: SourceFile) -> bool:
        return PurePosixPath(f.rel).name in _READERS

    def analyse(self, f: SourceFile, catalog: Catalog) -> Iterator[Output]:
        ecosystem, reader = _READERS[PurePosixPath(f.rel).name]
        seen: set[str] = set()
        for dep in reader(f.text):
            if dep.package in seen:
                continue
            provider = catalog.sdk_provider(ecosystem, dep.package)
            if provider is not None:
                seen.add(dep.package)
                yield _hit(f, ecosystem, dep, provider.id, provider.name)
                continue
            word = catalog.ai_package_word(dep.package)
            if word is not None:
                seen.add(dep.package)
                yield _inferred_hit(f, ecosystem, dep, word)


def _hit(f: SourceFile, ecosystem: str, dep: Declared, provider_id: str, provider: str) -> Hit:
    line = f.line_of(dep.offset)
    return Hit(
        rule=RULE,
        line=line,
        message=f"{provider} SDK {dep.package}{_version(dep)} declared in {dep.where}",
        evidence=f.line_text(line).strip()[:200],
        key=f"{RULE}:{ecosystem}:{dep.package}",
        provider=provider_id,
        host=None,
        confidence=Confidence.HIGH,
    )


def _inferred_hit(f: SourceFile, ecosystem: str, dep: Declared, word: str) -> Hit:
    line = f.line_of(dep.offset)
    message = (
        f"{dep.package}{_version(dep)} declared in {dep.where} looks like an AI/LLM client: "
        f"inferred from the name ({word!r}), not a catalogue SDK; provider and host unknown"
    )
    return Hit(
        rule=RULE,
        line=line,
        message=message,
        evidence=f.line_text(line).strip()[:200],
        key=f"{RULE}:{ecosystem}:{dep.package}",
        provider=None,
        host=None,
        confidence=Confidence.LOW,
    )


def _version(dep: Declared) -> str:
    return f" {dep.version}" if dep.version else ""


def _load_json(text: str) -> dict[str, object]:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise MalformedInput(f"invalid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise MalformedInput("invalid manifest: the top level is not a JSON object")
    return data


def _name_offset(text: str, quoted_name: str, start: int = 0) -> int:
    """Offset of `"name"` in text (the first after `start`), or of the file start if absent."""
    pos = text.find(quoted_name, start)
    if pos == -1 and start:
        pos = text.find(quoted_name)
    return max(pos, 0)


def _mapping(value: object) -> Mapping[str, object]:
    return value if isinstance(value, dict) else {}


def _from_sections(
    text: str, data: Mapping[str, object], sections: Iterable[str]
) -> Iterator[Declared]:
    """`{"require": {"openai-php/client": "^0.10"}}`-style manifest sections."""
    for section in sections:
        start = _name_offset(text, f'"{section}"')
        for package, version in _mapping(data.get(section)).items():
            offset = _name_offset(text, json.dumps(package), start)
            yield Declared(package, version if isinstance(version, str) else "", section, offset)


def _composer_json(text: str) -> Iterator[Declared]:
    yield from _from_sections(text, _load_json(text), _COMPOSER_SECTIONS)


def _package_json(text: str) -> Iterator[Declared]:
    yield from _from_sections(text, _load_json(text), _NPM_SECTIONS)


def _composer_lock(text: str) -> Iterator[Declared]:
    data = _load_json(text)
    for section in _COMPOSER_LOCK_SECTIONS:
        packages = data.get(section)
        for entry in packages if isinstance(packages, list) else ():
            entry = _mapping(entry)
            name, version = entry.get("name"), entry.get("version")
            if isinstance(name, str):
                offset = _name_offset(text, f'"name": {json.dumps(name)}')
                offset = offset or _name_offset(text, json.dumps(name))
                yield Declared(name, str(version or ""), section, offset)


def _package_lock(text: str) -> Iterator[Declared]:
    data = _load_json(text)
    for path, entry in _mapping(data.get("packages")).items():
        if "node_modules/" in path:
            name = path.rsplit("node_modules/", 1)[1]
            version = _mapping(entry).get("version")
            offset = _name_offset(text, json.dumps(path))
            yield Declared(name, str(version or ""), "packages", offset)
    yield from _lock_v1_dependencies(text, _mapping(data.get("dependencies")))


def _lock_v1_dependencies(text: str, deps: Mapping[str, object]) -> Iterator[Declared]:
    for name, entry in deps.items():
        version = _mapping(entry).get("version")
        offset = _name_offset(text, json.dumps(name) + ":")
        yield Declared(name, str(version or ""), "dependencies", offset)


def _yarn_lock(text: str) -> Iterator[Declared]:
    for m in _YARN_ENTRY.finditer(text):
        version = _YARN_VERSION.search(text, m.end(), m.end() + 400)
        yield Declared(m.group(1), version.group(1) if version else "", "yarn.lock", m.start(1))


def _pnpm_lock(text: str) -> Iterator[Declared]:
    for m in _PNPM_PACKAGE.finditer(text):
        yield Declared(m.group(1), m.group(2), "pnpm-lock.yaml", m.start(1))


_READERS = {
    "composer.json": ("composer", _composer_json),
    "composer.lock": ("composer", _composer_lock),
    "package.json": ("npm", _package_json),
    "package-lock.json": ("npm", _package_lock),
    "npm-shrinkwrap.json": ("npm", _package_lock),
    "yarn.lock": ("npm", _yarn_lock),
    "pnpm-lock.yaml": ("npm", _pnpm_lock),
}
