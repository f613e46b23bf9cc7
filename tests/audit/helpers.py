"""Run one analyser over an in-memory file, the way the engine does."""

from __future__ import annotations

from pathlib import Path

from egressguard.audit.analysers.base import Analyser, Output, SourceFile
from egressguard.audit.classify import classify
from egressguard.audit.project import Project
from egressguard.catalog import load_catalog
from egressguard.model import IntegrationSite


def source_file(rel: str, content: str | bytes, tags: frozenset[str] = frozenset()) -> SourceFile:
    """A SourceFile as the engine builds it (tags default to every tag: the prefilter said yes)."""
    data = content.encode() if isinstance(content, str) else content
    language, exposure = classify(rel)
    all_tags = tags or frozenset({"ai", "key", "sdk", "widget"})
    return SourceFile(rel=rel, data=data, language=language, exposure=exposure, tags=all_tags)


def run_analyser(
    analyser: Analyser,
    rel: str,
    content: str | bytes,
    sites: tuple[IntegrationSite, ...] = (),
) -> list[Output]:
    """Outputs of `analyser` on one file, or [] when it does not want the file."""
    f = source_file(rel, content)
    f.sites = sites
    if not analyser.wants(f):
        return []
    return list(analyser.analyse(f, load_catalog()))


def project_tree(tmp_path: Path, files: dict[str, str]) -> Project:
    """A scan project of these files (path -> text) written under `tmp_path`."""
    project = Project(tmp_path)
    for rel, text in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        project.add(rel)
    return project


def module_registration(module: str) -> str:
    """A Magento module's registration.php."""
    return (
        "<?php\nuse Magento\\Framework\\Component\\ComponentRegistrar;\n"
        f"ComponentRegistrar::register(ComponentRegistrar::MODULE, '{module}', __DIR__);\n"
    )
