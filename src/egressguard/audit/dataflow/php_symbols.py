"""PHP classes and where they live: one index per scan for cross-file (DI) analysis.

FileUnit      one parsed PHP file: namespace, `use` imports, classes (methods, constants,
              property types from constructor injection), top-level functions
ProjectIndex  class name -> file through PSR-4 (`autoload.psr-4` of every composer.json)
              and Magento `registration.php` (`'Vendor_Module', __DIR__` -> `Vendor\\Module\\`),
              plus `di.xml` preferences (interface -> implementation). Built once per scan
              from `Project.by_name` (no tree walk); each other file is parsed once, and each
              module's PHP files are read once into an identifier -> files map (the caller
              search in php_callers.py looks class names up there).
"""

from __future__ import annotations

import json
import os
import posixpath
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tree_sitter import Node

from egressguard.audit.dataflow import php_ast as A
from egressguard.audit.dataflow.parse import parse, syntax_error
from egressguard.model import IntegrationSite, Language

if TYPE_CHECKING:
    from egressguard.audit.project import Project
    from egressguard.catalog import Catalog
    from egressguard.catalog.schema import SdkMatch

_REGISTRATION = re.compile(
    r"ComponentRegistrar::MODULE\s*,\s*['\"]([A-Za-z0-9]+)_([A-Za-z0-9]+)['\"]\s*,\s*__DIR__"
)
_PREFERENCE = re.compile(
    r"<preference\s+for=\"\\?([\w\\]+)\"\s+type=\"\\?([\w\\]+)\"", re.IGNORECASE
)
_INDEXES_KEPT = 2
# Declared types that name no class (what a receiver of these is, is not known).
_NOT_CLASSES = frozenset(
    {"array", "bool", "callable", "false", "float", "int", "iterable", "mixed", "never"}
    | {"null", "object", "parent", "self", "static", "string", "true", "void"}
)
_TYPE_PARTS = re.compile(r"[|&()?\s]+")


@dataclass
class ClassInfo:
    name: str
    fqcn: str
    node: Node
    methods: dict[str, Node] = field(default_factory=dict)
    constants: dict[str, Node] = field(default_factory=dict)  # name -> value expression
    prop_types: dict[str, str] = field(default_factory=dict)  # property -> declared type
    defaults: dict[str, Node] = field(default_factory=dict)  # property -> declared default
    parent: str = ""  # fully qualified name of the class it extends
    # every class and interface it extends or implements, fully qualified (`parent` first)
    supertypes: tuple[str, ...] = ()


@dataclass
class FileUnit:
    rel: str
    data: bytes
    root: Node
    namespace: str = ""
    uses: dict[str, str] = field(default_factory=dict)  # alias -> fully qualified name
    classes: list[ClassInfo] = field(default_factory=list)
    functions: dict[str, Node] = field(default_factory=dict)
    error_line: int | None = None  # first syntax error (the tree is partial from there)

    def qualify(self, name: str) -> str:
        """The fully qualified name of a class name as written in this file."""
        if name.startswith("\\"):
            return name.lstrip("\\")
        head, _, rest = name.partition("\\")
        if head in self.uses:
            return self.uses[head] + ("\\" + rest if rest else "")
        return f"{self.namespace}\\{name}" if self.namespace else name

    def klass(self, name: str) -> ClassInfo | None:
        return next((c for c in self.classes if c.name == name), None)

    def declared_class(self, written: str) -> str:
        """A declared type as the data-flow rules see it: each class of `?A|B&C` fully
        qualified, joined by "|"; scalars, `self`, `mixed` and the like left out ("" when
        nothing is left: the class is not known)."""
        parts = (p for p in _TYPE_PARTS.split(written) if p)
        return "|".join(self.qualify(p) for p in parts if p.lower() not in _NOT_CLASSES)


def file_unit(rel: str, data: bytes) -> FileUnit:
    """Parse one PHP file into its declarations."""
    tree = parse(Language.PHP, data)
    root = tree.root_node
    error = syntax_error(tree)
    unit = FileUnit(rel, data, root, error_line=A.line(error) if error is not None else None)
    for node in A.declarations(root, frozenset({"namespace_definition", "namespace_use_clause"})):
        if node.type == "namespace_definition":
            unit.namespace = A.text(node.child_by_field_name("name"))
        else:
            _use(unit, node)
    for node in A.declarations(root, A.CLASSES):
        unit.classes.append(_class_info(unit, node))
    for node in root.named_children:
        if node.type == "function_definition":
            unit.functions[A.function_name(node)] = node
    return unit


def _use(unit: FileUnit, clause: Node) -> None:
    names = [c for c in clause.named_children if c.type in ("qualified_name", "name")]
    if not names:
        return
    full = A.text(names[0]).lstrip("\\")
    alias = clause.child_by_field_name("alias")
    short = A.text(alias) if alias is not None else (A.text(names[-1]) if len(names) > 1 else "")
    unit.uses[short or full.rpartition("\\")[2]] = full


def _class_info(unit: FileUnit, node: Node) -> ClassInfo:
    name = A.text(node.child_by_field_name("name"))
    info = ClassInfo(name, f"{unit.namespace}\\{name}" if unit.namespace else name, node)
    base = next((c for c in node.named_children if c.type == "base_clause"), None)
    if base is not None and base.named_children:
        info.parent = unit.qualify(A.text(base.named_children[0]))
    info.supertypes = tuple(
        unit.qualify(A.text(name))
        for clause in node.named_children
        if clause.type in ("base_clause", "class_interface_clause")
        for name in clause.named_children
        if name.type in ("name", "qualified_name")
    )
    decls = node.child_by_field_name("body")
    for member in decls.named_children if decls is not None else ():
        if member.type == "method_declaration":
            info.methods[A.function_name(member)] = member
        elif member.type == "const_declaration":
            for element in member.named_children:
                if element.type == "const_element" and len(element.named_children) >= 2:
                    info.constants[A.text(element.named_children[0])] = element.named_children[-1]
        elif member.type == "property_declaration":
            _typed_properties(info, member)
    constructor = info.methods.get("__construct")
    if constructor is not None:
        _injected(info, constructor)
    return info


def _typed_properties(info: ClassInfo, decl: Node) -> None:
    kind = A.text(decl.child_by_field_name("type")).lstrip("?")
    for element in decl.named_children:
        if element.type != "property_element" or not element.named_children:
            continue
        name = A.text(element.named_children[0]).lstrip("$")
        if kind:
            info.prop_types[name] = kind
        if len(element.named_children) > 1:
            info.defaults[name] = element.named_children[-1]


def _injected(info: ClassInfo, constructor: Node) -> None:
    """Constructor injection: promoted parameters and `$this->x = $param;`."""
    typed = {p.name: p.type for p in A.params(constructor) if p.type}
    for p in A.params(constructor):
        if p.promoted and p.type:
            info.prop_types[p.name.lstrip("$")] = p.type
    body = A.body(constructor)
    for assign in A.walk(body, frozenset({"assignment_expression"})) if body else ():
        prop = A.this_property(assign.child_by_field_name("left") or assign)
        right = A.variable(assign.child_by_field_name("right") or assign)
        if prop and right in typed:
            info.prop_types.setdefault(prop, typed[right])


class ProjectIndex:
    """Class name -> file, each other file parsed once; built lazily from one scan's Project."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self._prefixes: list[tuple[str, str]] | None = None
        self._preferences: dict[str, str] | None = None
        self._units: dict[str, FileUnit | None] = {}
        self._sites: dict[str, tuple[IntegrationSite, ...]] = {}
        self._module_files: dict[str, list[str]] = {}
        self._module_words: dict[str, dict[bytes, list[str]]] = {}
        self._raw: dict[str, bytes] = {}
        self._dependents: dict[str, list[str]] = {}
        self._paths: dict[str, list[str]] = {}
        self.sdk_classes: dict[str, SdkMatch | None] = {}  # php_sdk.sdk_class's answers

    def raw(self, rel: str) -> bytes:
        """The bytes of a scanned file, read once (empty when unreadable)."""
        if rel not in self._raw:
            self._raw[rel] = self.project.read(rel) or b""
        return self._raw[rel]

    def unit(self, rel: str) -> FileUnit | None:
        if rel not in self._units:
            data = self.raw(rel)
            self._units[rel] = file_unit(rel, data) if data else None
        return self._units[rel]

    def unit_of(self, rel: str, data: bytes) -> FileUnit:
        """The unit of a file whose bytes the caller holds (the engine's candidate, analysed by
        the endpoint and data-flow analysers in turn): parsed once per scan and shared with
        `unit(rel)`, unless the bytes differ from the ones parsed before."""
        known = self._units.get(rel)
        if known is not None and known.data == data:
            return known
        parsed = file_unit(rel, data)
        if rel not in self._units:
            self._units[rel] = parsed
        return parsed

    def resolve(self, fqcn: str) -> tuple[FileUnit, ClassInfo] | None:
        """The file and class of a fully qualified class name (through di.xml preferences)."""
        fqcn = self.preferences().get(fqcn, fqcn)
        for rel in self.paths_of(fqcn):
            unit = self.unit(rel)
            info = unit.klass(fqcn.rpartition("\\")[2]) if unit is not None else None
            if unit is not None and info is not None:
                return unit, info
        return None

    def paths_of(self, fqcn: str) -> list[str]:
        """The scanned files PSR-4/registration say may hold a class (none parsed)."""
        if fqcn not in self._paths:
            self._paths[fqcn] = self._find_paths(fqcn)
        return self._paths[fqcn]

    def _find_paths(self, fqcn: str) -> list[str]:
        out: list[str] = []
        for prefix, folder in self.prefixes():
            if fqcn.startswith(prefix):
                rel = posixpath.normpath(
                    posixpath.join(folder, fqcn[len(prefix) :].replace("\\", "/") + ".php")
                )
                if self.project.has(rel):
                    out.append(rel)
        return out

    def parent(self, unit: FileUnit, info: ClassInfo) -> tuple[FileUnit, ClassInfo] | None:
        """The class `info` extends (same file first, else through PSR-4), one level."""
        return parent_of(self, unit, info)

    def sites(self, unit: FileUnit, catalog: Catalog) -> tuple[IntegrationSite, ...]:
        """The AI call sites of another file, as the endpoint analyser finds them."""
        if unit.rel not in self._sites:
            from egressguard.audit.analysers.base import SourceFile
            from egressguard.audit.analysers.endpoints import EndpointAnalyser
            from egressguard.audit.classify import classify

            language, exposure = classify(unit.rel)
            other = SourceFile(unit.rel, unit.data, language, exposure, frozenset({"ai", "sdk"}))
            other.project = self.project
            self._sites[unit.rel] = tuple(EndpointAnalyser().analyse(other, catalog))
        return self._sites[unit.rel]

    def module_folder(self, rel: str) -> str:
        """The folder of the PSR-4/registration root holding `rel` (else its own folder)."""
        for _, folder in sorted(self.prefixes(), key=lambda p: -len(p[1])):
            if folder in ("", ".") or rel.startswith(folder + "/"):
                return "" if folder == "." else folder
        return posixpath.dirname(rel)

    def module_php(self, folder: str) -> list[str]:
        """PHP files under a module folder, listed once (a folder holding more than
        _MODULE_FILES_MAX PHP files is not a module: nothing is listed)."""
        if folder not in self._module_files:
            self._module_files[folder] = _php_files(self.project, folder)
        return self._module_files[folder]

    def module_words(self, folder: str) -> dict[bytes, list[str]]:
        """Identifier -> the PHP files of a module folder that name it as a whole word (in
        module_php's order; `FooFactory` names `Foo` too), built once per folder."""
        if folder not in self._module_words:
            words: dict[bytes, list[str]] = {}
            for rel in self.module_php(folder):
                for word in _words(self.raw(rel)):
                    words.setdefault(word, []).append(rel)
            self._module_words[folder] = words
        return self._module_words[folder]

    def dependents(self, folder: str) -> list[str]:
        """Folders of the modules that declare a dependency on the module in `folder`: its
        `Vendor_Module` in their etc/module.xml <sequence>, or its composer name in their
        composer.json `require`."""
        if folder not in self._dependents:
            self._dependents[folder] = sorted(self._depending_on(folder) - {folder})
        return self._dependents[folder]

    def _depending_on(self, folder: str) -> set[str]:
        own = posixpath.join(folder, "registration.php") if folder else "registration.php"
        m = _REGISTRATION.search(self.raw(own).decode("utf-8", "replace"))
        found: set[str] = set()
        if m is not None:
            needle = re.compile(rf"<module\s+name=\"{m.group(1)}_{m.group(2)}\"")
            for rel in self.project.by_name("module.xml"):
                text = self.raw(rel).decode("utf-8", "replace")
                sequence = text.find("<sequence")
                if sequence != -1 and needle.search(text, sequence):
                    found.add(posixpath.dirname(posixpath.dirname(rel)))
        name = _composer_name(
            self.raw(posixpath.join(folder, "composer.json") if folder else "composer.json")
        )
        if name:
            for rel in self.project.by_name("composer.json"):
                if name in _composer_requires(self.raw(rel)):
                    found.add(posixpath.dirname(rel))
        return found

    def prefixes(self) -> list[tuple[str, str]]:
        """(namespace prefix with trailing backslash, folder), longest prefix first."""
        if self._prefixes is None:
            found: set[tuple[str, str]] = set()
            for rel in self.project.by_name("composer.json"):
                found.update(_psr4(rel, self.project.read(rel)))
            for rel in self.project.by_name("registration.php"):
                data = self.project.read(rel) or b""
                m = _REGISTRATION.search(data.decode("utf-8", "replace"))
                if m is not None:
                    found.add((f"{m.group(1)}\\{m.group(2)}\\", posixpath.dirname(rel)))
            self._prefixes = sorted(found, key=lambda p: (-len(p[0]), p))
        return self._prefixes

    def preferences(self) -> dict[str, str]:
        if self._preferences is None:
            self._preferences = {}
            for rel in self.project.by_name("di.xml"):
                text = (self.project.read(rel) or b"").decode("utf-8", "replace")
                for m in _PREFERENCE.finditer(text):
                    self._preferences.setdefault(m.group(1), m.group(2))
        return self._preferences


def _psr4(rel: str, data: bytes | None) -> set[tuple[str, str]]:
    try:
        doc = json.loads(data or b"{}")
    except ValueError:
        return set()
    folder = posixpath.dirname(rel)
    out: set[tuple[str, str]] = set()
    for section in ("autoload", "autoload-dev"):
        block = doc.get(section) if isinstance(doc, dict) else None
        mapping = block.get("psr-4") if isinstance(block, dict) else None
        for prefix, dirs in mapping.items() if isinstance(mapping, dict) else ():
            for d in [dirs] if isinstance(dirs, str) else dirs if isinstance(dirs, list) else []:
                if isinstance(d, str) and isinstance(prefix, str) and prefix:
                    out.add(
                        (prefix.rstrip("\\") + "\\", posixpath.normpath(posixpath.join(folder, d)))
                    )
    return out


def parent_of(
    index: ProjectIndex | None, unit: FileUnit, info: ClassInfo
) -> tuple[FileUnit, ClassInfo] | None:
    """The class `info` extends: in the same file, else (with a project) through PSR-4."""
    if not info.parent:
        return None
    found = class_named(index, unit, info.parent)
    return None if found is None or found[1] is info else found


MAX_ANCESTRY = 16  # classes looked at per declared type (a deeper or cyclic hierarchy stops)


def with_ancestors(index: ProjectIndex | None, unit: FileUnit, classes: str) -> str:
    """`classes` ("A|B", fully qualified, as `FileUnit.declared_class` gives them) followed by
    every class and interface they extend or implement, transitively, as far as the file and
    the project declare them: a module's `StorefrontRequest extends Request\\Http` is also a
    `Magento\\Framework\\App\\Request\\Http`. Joined by "|"."""
    if not classes:
        return classes
    seen = classes.split("|")
    todo = list(seen)
    looked = 0
    while todo and looked < MAX_ANCESTRY:
        looked += 1
        found = class_named(index, unit, todo.pop(0))
        if found is None:
            continue
        for name in found[1].supertypes:
            if name not in seen:
                seen.append(name)
                todo.append(name)
    return "|".join(seen)


def class_named(
    index: ProjectIndex | None, unit: FileUnit, fqcn: str
) -> tuple[FileUnit, ClassInfo] | None:
    """The class `fqcn`: declared in `unit`, else (with a project) through PSR-4 and di.xml."""
    here = unit.klass(fqcn.rpartition("\\")[2])
    if here is not None and here.fqcn == fqcn:
        return unit, here
    return index.resolve(fqcn) if index is not None else None


def _composer_doc(data: bytes) -> dict[str, object]:
    try:
        doc = json.loads(data or b"{}")
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}


def _composer_name(data: bytes) -> str:
    name = _composer_doc(data).get("name")
    return name.lower() if isinstance(name, str) else ""


def _composer_requires(data: bytes) -> set[str]:
    require = _composer_doc(data).get("require")
    return {str(k).lower() for k in require} if isinstance(require, dict) else set()


_INDEXES: dict[int, tuple[Project, ProjectIndex]] = {}


def project_index(project: Project) -> ProjectIndex:
    """The index of one scan (kept for the last few Project objects)."""
    kept = _INDEXES.get(id(project))
    if kept is not None and kept[0] is project:
        return kept[1]
    if len(_INDEXES) >= _INDEXES_KEPT:
        _INDEXES.clear()
    index = ProjectIndex(project)
    _INDEXES[id(project)] = (project, index)
    return index


_MODULE_FILES_MAX = 300
_WORD = re.compile(rb"[A-Za-z0-9_]+")
_FACTORY = b"Factory"


def _words(data: bytes) -> set[bytes]:
    """The identifiers of a file (maximal runs of [A-Za-z0-9_]), and for each `XFactory`
    also `X`: a class is named where one of these equals its name."""
    found = set(_WORD.findall(data))
    found.update([w[: -len(_FACTORY)] for w in found if w.endswith(_FACTORY) and w != _FACTORY])
    return found


def _php_files(project: Project, folder: str) -> list[str]:
    found: list[str] = []
    top = os.path.join(project.base, folder)
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        rel_dir = os.path.relpath(dirpath, project.base).replace(os.sep, "/")
        for name in filenames:
            if name.endswith(".php"):
                rel = name if rel_dir == "." else f"{rel_dir}/{name}"
                found.append(rel)
                if len(found) > _MODULE_FILES_MAX:
                    return []
    return sorted(r for r in found if project.has(r))
