"""Which files inject a PHP class, and which of them can change the flows of the class's file.

    callers(index, unit, info)     files of its module, and of the modules that depend on it,
                                   that name the class (php._from_callers runs their methods)
    relevant(index, unit, found)   the callers whose run can reach the file's code or objects

Names are looked up in the per-module identifier map of the ProjectIndex (each module file is
read and tokenised once per scan), not searched for in every file once per analysed class.

A caller's run touches only the files `reach` lists: its own, the class each of its classes
extends, and the classes their properties are declared as (with the class those extend), as
php_calls follows them (one DI level, one inheritance level). Callers run in order and share
object state, so `relevant` keeps, from the last caller back, each one whose reach meets the
analysed file or the reach of a caller kept after it; the others cannot change a flow to the
file's AI calls and are not run (nor parsed for their AI call sites).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from egressguard.audit.dataflow import php_ast as A
from egressguard.audit.dataflow.php_symbols import ClassInfo, FileUnit, ProjectIndex

_IDENTIFIER = re.compile(r"[A-Za-z0-9_]+")


@dataclass(frozen=True, slots=True)
class Caller:
    """A file that may inject the analysed class, and which of its methods to run as entries
    (None: every method)."""

    unit: FileUnit
    only: frozenset[str] | None = None


def callers(index: ProjectIndex, unit: FileUnit, info: ClassInfo) -> list[Caller]:
    """Files that may inject `info`: files of its module which name it (or its factory), an
    interface it implements or the class it extends; files of the modules that depend on it
    which name it or an interface (only their methods that use a property of that type run);
    and (one level) files naming a class that extends it. Read once each, at most
    php_symbols._MODULE_FILES_MAX files per module."""
    folder = index.module_folder(unit.rel)
    own = {info.name} | {name.rpartition("\\")[2] for name in info.supertypes}
    other = own - {info.parent.rpartition("\\")[2]}
    found = [Caller(u) for u in _naming(index, [folder], own, unit.rel)]
    found += [
        Caller(u, _using(u, other))
        for u in _naming(index, index.dependents(folder), other, unit.rel)
    ]
    subclasses = {
        c.name
        for caller in found
        for c in caller.unit.classes
        if c.parent == info.fqcn and c is not info
    }
    if subclasses:
        skip = {c.unit.rel for c in found} | {unit.rel}
        folders = [folder, *index.dependents(folder)]
        more = _naming(index, folders, subclasses, unit.rel)
        found += [Caller(u, _using(u, subclasses)) for u in more if u.rel not in skip]
    return found


def relevant(index: ProjectIndex, unit: FileUnit, found: list[Caller]) -> list[Caller]:
    """The callers (in their order) whose run can change a flow to `unit`'s AI calls: those
    that reach `unit`, and those that reach what a later relevant caller reaches."""
    wanted = {unit.rel}
    kept: list[Caller] = []
    for caller in reversed(found):
        touched = reach(index, caller.unit)
        if touched & wanted:
            wanted |= touched
            kept.append(caller)
    kept.reverse()
    return kept


def reach(index: ProjectIndex, unit: FileUnit) -> set[str]:
    """Every file whose code runs, or whose objects' state is read or written, when the
    methods of `unit` run as entries (a superset of what php_calls follows)."""
    touched = {unit.rel}
    for info in unit.classes:
        for owner, klass in _lineage(index, unit, info):
            touched.add(owner.rel)
            for kind in klass.prop_types.values():
                resolved = index.resolve(owner.qualify(kind))
                if resolved is not None:
                    touched.update(u.rel for u, _ in _lineage(index, *resolved))
    return touched


def _lineage(
    index: ProjectIndex, unit: FileUnit, info: ClassInfo
) -> list[tuple[FileUnit, ClassInfo]]:
    """The class and the class it extends (one level, as ClassState.lineage)."""
    parent = index.parent(unit, info)
    return [(unit, info), parent] if parent is not None else [(unit, info)]


def _naming(index: ProjectIndex, folders: list[str], names: set[str], own: str) -> list[FileUnit]:
    """PHP files of `folders` that name one of `names` as a whole word (or its factory)."""
    wanted = sorted(n for n in names if n)
    if not wanted:
        return []
    odd = [n for n in wanted if not _IDENTIFIER.fullmatch(n)]
    needle = _needle(odd) if odd else None
    out: list[FileUnit] = []
    for folder in folders:
        words = index.module_words(folder)
        hits = {rel for n in wanted for rel in words.get(n.encode(), ())}
        for rel in index.module_php(folder):
            named = rel in hits or (needle is not None and needle.search(index.raw(rel)))
            if rel != own and named:
                found = index.unit(rel)
                if found is not None:
                    out.append(found)
    return out


def _needle(names: list[str]) -> re.Pattern[bytes]:
    """A search for names that are no plain identifier (the word map cannot hold them)."""
    words = b"|".join(re.escape(n.encode()) for n in names)
    return re.compile(rb"(?<![A-Za-z0-9_])(?:" + words + rb")(?:Factory)?(?![A-Za-z0-9_])")


def _using(unit: FileUnit, names: set[str]) -> frozenset[str] | None:
    """Methods of `unit` that use a property typed as one of `names` (`$this->prop->`);
    None when none does (the class is reached some other way: run every method)."""
    methods: set[str] = set()
    for info in unit.classes:
        props = [p for p, kind in info.prop_types.items() if kind.rpartition("\\")[2] in names]
        for name, node in info.methods.items():
            body = A.text(node)
            if any(f"->{p}->" in body or f"->{p}?->" in body for p in props):
                methods.add(name)
    return frozenset(methods) or None
