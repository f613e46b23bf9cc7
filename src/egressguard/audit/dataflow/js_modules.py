"""JavaScript/TypeScript modules, one level across files: who imports a file, and how.

    exported_functions(index, fns)   export name -> function nodes of a file ("name" for a
                                     named export, "default" for the default export,
                                     "default.name" for a member of an exported object)
    imported_names(index, resolve)   local name -> (module file, export name) of a file's
                                     ES imports and `require` calls
    ModuleGraph(project)             per scan: the JS/TS files of a package (the nearest
                                     folder with a package.json), their import specifiers
                                     resolved to files (relative paths, tsconfig/jsconfig
                                     `paths` such as `~/*`, extensions and index files)

The graph is built once per package and kept in `Project.cache`; a package with more than
MAX_FILES script files is not indexed (no cross-file flows there, never a slow scan).
"""

from __future__ import annotations

import json
import os
import posixpath
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tree_sitter import Node

from egressguard.audit.dataflow.js_scope import FUNCTIONS, Index, text

if TYPE_CHECKING:
    from egressguard.audit.project import Project

MAX_FILES = 3000
SCRIPT_EXTENSIONS = (".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts")
_SKIP_DIRS = frozenset(
    {"node_modules", ".git", "build", "dist", ".cache", "coverage", ".next", ".turbo", "vendor"}
)
_SPECIFIER = re.compile(rb"""(?:\bfrom|\bimport|\brequire\s*\()\s*\(?\s*['"]([^'"\n]{1,300})['"]""")
_COMMENT = re.compile(r'("(?:[^"\\\n]|\\.)*")|//[^\n]*|/\*[\s\S]*?\*/')
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")


@dataclass(frozen=True, slots=True)
class Imported:
    """A local name bound by an import: the module file and what it names there
    ("name", "default", or "*" for a namespace / the whole `require`d module)."""

    module: str
    name: str


# --- the exporting side ------------------------------------------------------------------


def exported_functions(index: Index, fns: Callable[[Node], list[Node]]) -> dict[str, list[Node]]:
    """Export name -> the file's function nodes exported under it (`fns` resolves an
    identifier to the functions it names)."""
    out: dict[str, list[Node]] = {}
    for node in index.root.named_children:
        if node.type == "export_statement":
            _export_statement(node, fns, out)
        elif node.type == "expression_statement" and node.named_children:
            _commonjs(node.named_children[0], fns, out)
    return out


def _export_statement(
    node: Node, fns: Callable[[Node], list[Node]], out: dict[str, list[Node]]
) -> None:
    is_default = any(c.type == "default" for c in node.children)
    decl = node.child_by_field_name("declaration")
    value = node.child_by_field_name("value")
    if decl is not None:
        for name, fn in _declared_functions(decl):
            out.setdefault("default" if is_default else name, []).append(fn)
    elif value is not None:
        _exported_value("default", value, fns, out)
    for clause in (c for c in node.named_children if c.type == "export_clause"):
        for spec in clause.named_children:
            local, alias = spec.child_by_field_name("name"), spec.child_by_field_name("alias")
            if local is not None:
                out.setdefault(text(alias or local), []).extend(fns(local))


def _declared_functions(decl: Node) -> Iterator[tuple[str, Node]]:
    if decl.type in FUNCTIONS or decl.type == "generator_function_declaration":
        name = decl.child_by_field_name("name")
        yield (text(name) if name is not None else "default"), decl
    elif decl.type in ("lexical_declaration", "variable_declaration"):
        for d in decl.named_children:
            name, value = d.child_by_field_name("name"), d.child_by_field_name("value")
            if name is not None and value is not None and value.type in FUNCTIONS:
                yield text(name), value


def _exported_value(
    name: str, value: Node, fns: Callable[[Node], list[Node]], out: dict[str, list[Node]]
) -> None:
    """`export default f`, `export default { a, b: c }`, `module.exports = …`."""
    if value.type in FUNCTIONS:
        out.setdefault(name, []).append(value)
    elif value.type == "identifier":
        out.setdefault(name, []).extend(fns(value))
    elif value.type == "object":
        for child in value.named_children:
            if child.type == "shorthand_property_identifier":
                out.setdefault(f"{name}.{text(child)}", []).extend(fns(child))
            elif child.type == "pair":
                key, inner = child.child_by_field_name("key"), child.child_by_field_name("value")
                if key is not None and inner is not None:
                    _exported_value(f"{name}.{text(key).strip(chr(39) + chr(34))}", inner, fns, out)
            elif child.type == "method_definition":
                key = child.child_by_field_name("name")
                if key is not None:
                    out.setdefault(f"{name}.{text(key)}", []).append(child)


def _commonjs(expr: Node, fns: Callable[[Node], list[Node]], out: dict[str, list[Node]]) -> None:
    """`module.exports = …`, `module.exports.a = …`, `exports.a = …` (CommonJS: a named
    export is a member of the default one)."""
    if expr.type != "assignment_expression":
        return
    left, right = expr.child_by_field_name("left"), expr.child_by_field_name("right")
    if left is None or right is None:
        return
    target = text(left)
    if target == "module.exports":
        _exported_value("default", right, fns, out)
    elif target.startswith(("module.exports.", "exports.")) and target.count(".") <= 2:
        _exported_value("default." + target.rpartition(".")[2], right, fns, out)


# --- the importing side ------------------------------------------------------------------


def imported_names(index: Index, resolve: Callable[[str], str | None]) -> dict[str, Imported]:
    """Local name -> what it imports, for every import of a file that `resolve` maps to a
    scanned file (top-level `import` statements and `require('…')` declarations)."""
    out: dict[str, Imported] = {}
    for node in index.root.named_children:
        if node.type == "import_statement":
            _import_statement(node, resolve, out)
        elif node.type in ("lexical_declaration", "variable_declaration"):
            for d in node.named_children:
                _require(d, resolve, out)
    return out


def _import_statement(
    node: Node, resolve: Callable[[str], str | None], out: dict[str, Imported]
) -> None:
    source = node.child_by_field_name("source")
    module = resolve(text(source)[1:-1]) if source is not None else None
    if module is None:
        return
    for clause in (c for c in node.named_children if c.type == "import_clause"):
        for part in clause.named_children:
            if part.type == "identifier":
                out[text(part)] = Imported(module, "default")
            elif part.type == "namespace_import" and part.named_children:
                out[text(part.named_children[0])] = Imported(module, "*")
            elif part.type == "named_imports":
                for spec in part.named_children:
                    name = spec.child_by_field_name("name")
                    alias = spec.child_by_field_name("alias")
                    if name is not None:
                        out[text(alias or name)] = Imported(module, text(name))


def _require(decl: Node, resolve: Callable[[str], str | None], out: dict[str, Imported]) -> None:
    name, value = decl.child_by_field_name("name"), decl.child_by_field_name("value")
    if name is None or value is None or value.type != "call_expression":
        return
    callee = value.child_by_field_name("function")
    args = value.child_by_field_name("arguments")
    if callee is None or text(callee) != "require" or args is None or not args.named_children:
        return
    spec = args.named_children[0]
    module = resolve(text(spec)[1:-1]) if spec.type == "string" else None
    if module is None:
        return
    if name.type == "identifier":
        out[text(name)] = Imported(module, "*")
    elif name.type == "object_pattern":
        for child in name.named_children:
            if child.type == "shorthand_property_identifier_pattern":
                out[text(child)] = Imported(module, text(child))
            elif child.type == "pair_pattern":
                key, inner = child.child_by_field_name("key"), child.child_by_field_name("value")
                if key is not None and inner is not None and inner.type == "identifier":
                    out[text(inner)] = Imported(module, text(key))


def reexported(index: Index, resolve: Callable[[str], str | None], module: str) -> dict[str, str]:
    """What a file (a "barrel" such as index.ts) re-exports from `module`: its export name ->
    the name in `module` (`export { a as b } from './m'` -> {"b": "a"}; `export * from './m'`
    -> {"*": "*"})."""
    out: dict[str, str] = {}
    for node in index.root.named_children:
        source = node.child_by_field_name("source") if node.type == "export_statement" else None
        if source is None or resolve(text(source)[1:-1]) != module:
            continue
        clauses = [c for c in node.named_children if c.type == "export_clause"]
        if not clauses:
            out["*"] = "*"
        for clause in clauses:
            for spec in clause.named_children:
                name, alias = spec.child_by_field_name("name"), spec.child_by_field_name("alias")
                if name is not None:
                    out[text(alias or name)] = text(name)
    return out


# --- the package: files and who imports whom ----------------------------------------------


@dataclass
class Package:
    """The script files of one package and, per file, the files that import it."""

    root: str
    files: list[str] = field(default_factory=list)
    importers: dict[str, list[str]] = field(default_factory=dict)
    aliases: list[tuple[str, list[str]]] = field(default_factory=list)  # tsconfig paths


class ModuleGraph:
    """Import graphs of the packages of one scan, each built on first use."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self._packages: dict[str, Package | None] = {}

    def importers(self, rel: str) -> list[str]:
        """The scanned files of `rel`'s package that import it (sorted)."""
        package = self.package(rel)
        return [] if package is None else package.importers.get(rel, [])

    def resolver(self, importer: str) -> Callable[[str], str | None]:
        package = self.package(importer)
        aliases = package.aliases if package is not None else []
        return lambda spec: self.resolve(importer, spec, aliases)

    def package(self, rel: str) -> Package | None:
        root = self._root(rel)
        if root not in self._packages:
            self._packages[root] = self._build(root)
        return self._packages[root]

    def _root(self, rel: str) -> str:
        folder = posixpath.dirname(rel)
        while True:
            if self.project.has(
                posixpath.join(folder, "package.json") if folder else "package.json"
            ):
                return folder
            if not folder:
                return ""
            folder = posixpath.dirname(folder)

    def _build(self, root: str) -> Package | None:
        files = _script_files(self.project, root)
        if files is None:
            return None
        package = Package(root, files, aliases=_path_aliases(self.project, root))
        known = set(files)
        for rel in files:
            data = self.project.read(rel) or b""
            for m in _SPECIFIER.finditer(data):
                target = self.resolve(rel, m.group(1).decode("utf-8", "replace"), package.aliases)
                if target is not None and target != rel and target in known:
                    found = package.importers.setdefault(target, [])
                    if rel not in found:
                        found.append(rel)
        return package

    def resolve(self, importer: str, spec: str, aliases: list[tuple[str, list[str]]]) -> str | None:
        """The scanned file an import specifier names, or None (a package, or not found)."""
        bases: list[str] = []
        if spec.startswith("."):
            bases.append(posixpath.normpath(posixpath.join(posixpath.dirname(importer), spec)))
        else:
            for prefix, targets in aliases:
                if spec.startswith(prefix):
                    rest = spec[len(prefix) :]
                    bases.extend(posixpath.normpath(t + rest) for t in targets)
        for base in bases:
            found = self._file(base)
            if found is not None:
                return found
        return None

    def _file(self, base: str) -> str | None:
        if base.startswith("../") or base == "..":
            return None
        stem, ext = posixpath.splitext(base)
        candidates = [base] if ext in SCRIPT_EXTENSIONS else []
        if ext in (".js", ".jsx", ".mjs", ".cjs"):  # TypeScript ESM: './x.js' is x.ts
            candidates += [stem + e for e in (".ts", ".tsx", ".mts", ".cts")]
        candidates += [base + e for e in SCRIPT_EXTENSIONS]
        candidates += [f"{base}/index{e}" for e in SCRIPT_EXTENSIONS]
        return next((c for c in candidates if self.project.has(c)), None)


def module_graph(project: Project) -> ModuleGraph:
    """The scan's graph (one per Project, kept in its cache)."""
    found = project.cache.get("dataflow.js-modules")
    if isinstance(found, ModuleGraph):
        return found
    graph = ModuleGraph(project)
    project.cache["dataflow.js-modules"] = graph
    return graph


def _script_files(project: Project, root: str) -> list[str] | None:
    top = os.path.join(project.base, root)
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(top):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS and not d.startswith("."))
        rel_dir = os.path.relpath(dirpath, project.base).replace(os.sep, "/")
        for name in sorted(filenames):
            if name.endswith(SCRIPT_EXTENSIONS) and not name.endswith((".min.js", ".d.ts")):
                rel = name if rel_dir == "." else f"{rel_dir}/{name}"
                if project.has(rel):
                    found.append(rel)
                    if len(found) > MAX_FILES:
                        return None
    return found


def _path_aliases(project: Project, root: str) -> list[tuple[str, list[str]]]:
    """tsconfig.json / jsconfig.json `compilerOptions.paths` as (prefix, [folders]), longest
    prefix first (`"~/*": ["./app/*"]` -> ("~/", ["app/"]))."""
    for name in ("tsconfig.json", "jsconfig.json"):
        rel = posixpath.join(root, name) if root else name
        raw = project.read(rel)
        if raw is None:
            continue
        options = _json_with_comments(raw.decode("utf-8", "replace")).get("compilerOptions")
        if not isinstance(options, dict):
            return []
        base_url = options.get("baseUrl", ".")
        paths = options.get("paths")
        if not isinstance(paths, dict) or not isinstance(base_url, str):
            return []
        base = posixpath.normpath(posixpath.join(root, base_url))
        out: list[tuple[str, list[str]]] = []
        for key, targets in paths.items():
            if not isinstance(key, str) or not isinstance(targets, list):
                continue
            folders = [
                posixpath.normpath(posixpath.join(base, t.rstrip("*")))
                + ("/" if t.endswith("/*") else "")
                for t in targets
                if isinstance(t, str)
            ]
            out.append((key.rstrip("*"), [f.removeprefix("./") for f in folders]))
        return sorted(out, key=lambda p: -len(p[0]))
    return []


def _json_with_comments(raw: str) -> dict[str, object]:
    try:
        doc = json.loads(raw)
    except ValueError:
        stripped = _COMMENT.sub(lambda m: m.group(1) or "", raw)
        try:
            doc = json.loads(_TRAILING_COMMA.sub(r"\1", stripped))
        except ValueError:
            return {}
    return doc if isinstance(doc, dict) else {}
