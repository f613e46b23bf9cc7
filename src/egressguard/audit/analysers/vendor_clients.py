"""AI clients injected from a package that is not in the scanned tree (`ai-client-outside-tree`).

A Magento module that talks to an LLM through another package (`bydn/openai`,
`yu-dev/module-ai-llm`) has no AI host, SDK call or key of its own: scanned alone it looks
clean. The evidence is that the module depends on a package whose NAME marks an AI/LLM client
(the catalogue's [ai_package_names] words, see Catalog.ai_package_word) and injects that
package's classes:

    composer.json   "require": {"yu-dev/module-ai-llm": "*"}          the package
    etc/module.xml  <sequence><module name="Yu_AiLlm"/></sequence>       or the Magento module
    Model/Chat.php  use Yu\\AiLlm\\Model\\ProviderChain;
                    public function __construct(ProviderChain $chain)   the injection

When the package is not in the scanned tree (no composer.json with its name, no
`<Vendor>/<Module>/registration.php`, no vendor/<package>), each PHP file that injects one of
its classes (constructor parameter or `new`) gets one inventory finding per package, at the
first injection: the data it sends cannot be traced. Test folders (`Test/Unit`, `tests/`) are
skipped: they build such clients as mocks. Confidence is LOW: both the package's
role and the class-to-package mapping are inferred from names. Catalogue SDKs
(`Tidycode\\AIClient`, `OpenAI\\…`) are not reported here: their calls are AI call sites of the
endpoint analyser.

Namespace <-> package: the class `V\\M\\…` belongs to `vendor/name` when the name, without a
`module-`/`magento2-`/`magento-` prefix and separators, equals M (case-insensitive) and one of
vendor / V starts with the other ("yu-dev" and "Yu"); a Magento module name `V_M` is `V\\M`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from egressguard.audit.analysers.base import Output, SourceFile
from egressguard.audit.analysers.credential_names import words
from egressguard.model import Confidence, Hit, Language

if TYPE_CHECKING:
    from egressguard.audit.project import Project
    from egressguard.catalog import Catalog

RULE = "ai-client-outside-tree"
_CACHE_KEY = "vendor-clients:composer-names"
_TEST_DIRS = frozenset({"Test", "Tests", "test", "tests"})  # unit tests build clients as mocks
_PREFIXES = ("module-", "magento2-", "magento-")
_NAME = r"\\?[A-Za-z_]\w*(?:\\[A-Za-z_]\w*)*"
_USE = re.compile(rf"^[ \t]*use[ \t]+({_NAME})(?:[ \t]+as[ \t]+(\w+))?[ \t]*;", re.M)
_CONSTRUCT = re.compile(r"\bfunction\s+__construct\s*\(")
# One constructor parameter: modifiers (promotion), then its type (nullable, union), then $name.
_PARAM = re.compile(
    r"\s*(?:(?:public|private|protected|readonly)\s+)*\??([\\\w|&]+)\s+&?\s*(?:\.\.\.)?\$\w"
)
_NEW = re.compile(rf"\bnew\s+({_NAME})\s*\(")
_SEQUENCE = re.compile(r"<sequence\b[^>]*>(.*?)</sequence>", re.S)
_SEQUENCE_MODULE = re.compile(r"<module\s+name=\"([A-Za-z0-9]+)_([A-Za-z0-9]+)\"")
_SCALARS = frozenset(
    {"int", "float", "string", "bool", "array", "callable", "iterable", "object", "mixed",
     "self", "static", "null", "false", "true", "void", "never", "parent"}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class ClientPackage:
    """A dependency whose name marks an AI/LLM client, with the namespace its classes use."""

    name: str  # "bydn/openai" or, from module.xml, "Yu_AiLlm"
    word: str  # the AI word in the name
    vendor: str  # compact lower-case vendor ("yudev") or namespace root ("yu")
    module: str  # compact lower-case module part ("aillm")

    def owns(self, class_name: str) -> bool:
        parts = class_name.lstrip("\\").lower().split("\\")
        if len(parts) < 2 or _compact(parts[1]) != self.module:
            return False
        root = _compact(parts[0])
        return root.startswith(self.vendor) or self.vendor.startswith(root)


class VendorClientAnalyser:
    name = "vendor-clients"
    tags = frozenset({"pkg", "ai"})
    after_sites = False

    def wants(self, f: SourceFile) -> bool:
        if f.language is not Language.PHP or f.project is None:
            return False
        return not _TEST_DIRS.intersection(PurePosixPath(f.rel).parts[:-1])

    def analyse(self, f: SourceFile, catalog: Catalog) -> Iterator[Output]:
        project = f.project
        assert project is not None
        packages = module_client_packages(project, f.rel, catalog)
        packages = [p for p in packages if not in_tree(project, p)]
        if not packages:
            return
        reported: set[str] = set()
        for offset, class_name in injections(f):
            if catalog.php_sdk(class_name) is not None:
                continue
            package = next((p for p in packages if p.owns(class_name)), None)
            if package is None or package.name in reported:
                continue
            reported.add(package.name)
            yield _hit(f, offset, class_name, package)


def injections(f: SourceFile) -> Iterator[tuple[int, str]]:
    """(offset, fully qualified class) of constructor parameter types and `new` expressions."""
    bare = f.view.bare
    imports, namespace = _imports(f.view.code)
    for m in _CONSTRUCT.finditer(bare):
        for start, param in _params(bare, m.end()):
            p = _PARAM.match(param)
            if p is None:
                continue
            for type_name in p.group(1).replace("&", "|").split("|"):
                name = _resolve(type_name, imports, namespace) if type_name else None
                if name is not None:
                    yield start + p.start(1), name
    for m in _NEW.finditer(bare):
        name = _resolve(m.group(1), imports, namespace)
        if name is not None:
            yield m.start(1), name


def _imports(code: str) -> tuple[dict[str, str], str]:
    imports: dict[str, str] = {}
    for m in _USE.finditer(code):
        full = m.group(1).lstrip("\\")
        alias = m.group(2) or full.rsplit("\\", 1)[-1]
        imports[alias.lower()] = full
    ns = re.search(r"^\s*namespace\s+([\w\\]+)\s*[;{]", code, re.M)
    return imports, ns.group(1) if ns else ""


def _resolve(name: str, imports: dict[str, str], namespace: str) -> str | None:
    if name.lower() in _SCALARS:
        return None
    if name.startswith("\\"):
        return name[1:]
    head, _, rest = name.partition("\\")
    imported = imports.get(head.lower())
    if imported is not None:
        return f"{imported}\\{rest}" if rest else imported
    return f"{namespace}\\{name}" if namespace else name


def _params(bare: str, start: int) -> Iterator[tuple[int, str]]:
    """(offset, text) of each parameter of the list opened just before `start`."""
    depth, begin = 0, start
    for i in range(start, min(len(bare), start + 8000)):
        c = bare[i]
        if c in "([":
            depth += 1
        elif c in ")]" and depth:
            depth -= 1
        elif c == ")" or (c == "," and not depth):
            yield begin, bare[begin:i]
            begin = i + 1
            if c == ")":
                return


def module_client_packages(project: Project, rel: str, catalog: Catalog) -> list[ClientPackage]:
    """AI-named dependencies of the module that holds `rel` (composer.json, etc/module.xml)."""
    root = _module_root(project, rel)
    if root is None:
        return []
    key = f"{_CACHE_KEY}:module:{root}"
    cached = project.cache.get(key)
    if isinstance(cached, list):
        return cached
    found = project.cache[key] = _client_packages(project, root, catalog)
    return found


def _client_packages(project: Project, root: str, catalog: Catalog) -> list[ClientPackage]:
    out: list[ClientPackage] = []
    for package in _composer_requires(project, _join(root, "composer.json")):
        if catalog.sdk_provider("composer", package) is not None:
            continue  # a catalogue SDK: its calls are call sites, not this rule's business
        word = catalog.ai_package_word(package)
        if word is not None and "/" in package:
            vendor, name = package.split("/", 1)
            for prefix in _PREFIXES:
                name = name.removeprefix(prefix)
            out.append(ClientPackage(package, word, _compact(vendor), _compact(name)))
    for vendor, module in _sequence_modules(project, _join(root, "etc/module.xml")):
        candidates = [module.lower(), *sorted(words(module))]
        word = next((w for w in candidates if catalog.ai_package_word(w)), None)
        if word is not None:
            name = f"{vendor}_{module}"
            out.append(ClientPackage(name, word, _compact(vendor), _compact(module)))
    return out


def in_tree(project: Project, package: ClientPackage) -> bool:
    """Whether the package's code is part of the scan (then its calls are analysed directly)."""
    if package.name in _composer_names(project):
        return True
    if "/" in package.name and project.has(f"vendor/{package.name}/composer.json"):
        return True
    for rel in project.by_name("registration.php"):
        parts = PurePosixPath(rel).parts
        if len(parts) >= 3:
            vendor, module = _compact(parts[-3]), _compact(parts[-2])
            if module == package.module and (
                vendor.startswith(package.vendor) or package.vendor.startswith(vendor)
            ):
                return True
    return False


def _module_root(project: Project, rel: str) -> str | None:
    """The nearest folder above `rel` with a composer.json or etc/module.xml ("" = the root)."""
    parts = PurePosixPath(rel).parts[:-1]
    for end in range(len(parts), -1, -1):
        folder = "/".join(parts[:end])
        if project.has(_join(folder, "composer.json")) or project.has(
            _join(folder, "etc/module.xml")
        ):
            return folder
    return None


def _join(folder: str, name: str) -> str:
    return f"{folder}/{name}" if folder else name


def _composer_requires(project: Project, rel: str) -> list[str]:
    data = _composer(project, rel)
    require = data.get("require") if data else None
    return [str(k).lower() for k in require] if isinstance(require, dict) else []


def _composer(project: Project, rel: str) -> dict[str, object] | None:
    raw = project.read(rel)
    if raw is None:
        return None
    try:
        data = json.loads(raw.decode("utf-8", "replace"))
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def _composer_names(project: Project) -> frozenset[str]:
    """The `name` of every composer.json in the scan (read once per scan)."""
    cached = project.cache.get(_CACHE_KEY)
    if isinstance(cached, frozenset):
        return cached
    names: set[str] = set()
    for rel in project.by_name("composer.json"):
        data = _composer(project, rel)
        name = data.get("name") if data else None
        if isinstance(name, str):
            names.add(name.lower())
    found = project.cache[_CACHE_KEY] = frozenset(names)
    return found


def _sequence_modules(project: Project, rel: str) -> list[tuple[str, str]]:
    raw = project.read(rel)
    if raw is None:
        return []
    text = raw.decode("utf-8", "replace")
    return [
        (m.group(1), m.group(2))
        for block in _SEQUENCE.finditer(text)
        for m in _SEQUENCE_MODULE.finditer(block.group(1))
    ]


def _compact(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def _hit(f: SourceFile, offset: int, class_name: str, package: ClientPackage) -> Hit:
    line = f.line_of(offset)
    short = class_name.rsplit("\\", 1)[-1]
    message = (
        f"AI client from package {package.name} not in the scanned tree, flows not traced: "
        f"{short} ({class_name}) is injected here; the package is taken for an AI/LLM client "
        f"from its name ({package.word!r}). Scan it together with this module to see what "
        f"data it sends and where."
    )
    return Hit(
        rule=RULE,
        line=line,
        message=message,
        evidence=f.line_text(line).strip()[:200],
        key=f"{RULE}:{package.name}",
        confidence=Confidence.LOW,
    )
