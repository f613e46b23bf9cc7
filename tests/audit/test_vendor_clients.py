"""VendorClientAnalyser (ai-client-outside-tree): labelled fixture trees, mapping, robustness.

Unlike the one-file fixtures of other rules, this rule needs the tree around a file (the
module's composer.json / etc/module.xml, and whether the package is in the scan), so each
polarity folder is scanned as one project.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from egressguard.audit.analysers.vendor_clients import RULE, VendorClientAnalyser
from egressguard.audit.engine import AuditRequest, run_audit
from egressguard.audit.project import Project
from egressguard.catalog import load_catalog
from egressguard.model import Confidence, Hit

from .helpers import source_file
from .test_secrets import FIXTURES, expected_lines

ROOT = FIXTURES / RULE


def _project(root: Path) -> Project:
    project = Project(root)
    for path in root.rglob("*"):
        if path.is_file():
            project.add(path.relative_to(root).as_posix())
    return project


def _php_files(polarity: str) -> list[object]:
    """PHP files of a polarity; the positive ones are those with an `expect:` marker."""
    root = ROOT / polarity
    return [
        pytest.param(p.relative_to(root).as_posix(), id=f"{polarity}/{p.relative_to(root)}")
        for p in sorted(root.rglob("*.php"))
        if polarity == "negative" or f"expect: {RULE}" in p.read_text("utf-8")
    ]


def hits_in(root: Path, rel: str, project: Project | None = None) -> list[Hit]:
    f = source_file(rel, (root / rel).read_bytes(), frozenset({"pkg", "ai"}))
    f.project = project or _project(root)
    analyser = VendorClientAnalyser()
    if not analyser.wants(f):
        return []
    return [h for h in analyser.analyse(f, load_catalog()) if isinstance(h, Hit)]


@pytest.mark.parametrize("rel", _php_files("positive"))
def test_positive_fixture(rel: str) -> None:
    root = ROOT / "positive"
    marked = expected_lines(RULE, root / rel)
    hits = hits_in(root, rel)
    assert {h.line for h in hits} == marked
    assert all(h.confidence is Confidence.LOW and h.rule == RULE for h in hits)


@pytest.mark.parametrize("rel", _php_files("negative"))
def test_negative_fixture(rel: str) -> None:
    assert hits_in(ROOT / "negative", rel) == []


def test_three_labelled_cases_each_way() -> None:
    assert len(_php_files("positive")) >= 3 and len(_php_files("negative")) >= 3


def test_message_names_package_and_class() -> None:
    (hit,) = hits_in(ROOT / "positive", "app/code/Acme/ReviewGuard/Model/Validator.php")
    assert "AI client from package acme/openai not in the scanned tree, flows not traced" in (
        hit.message
    )
    assert "Acme\\OpenAi\\Model\\Moderation" in hit.message and "'openai'" in hit.message
    assert hit.key == f"{RULE}:acme/openai" and hit.provider is None


def test_package_in_tree_silences_the_rule() -> None:
    """The same module as the positive case, with the package's code beside it."""
    root = ROOT / "negative"
    assert hits_in(root, "app/code/Acme/ReviewGuard/Model/Validator.php") == []
    alone = _project(root)
    alone.index["registration.php"] = [
        r for r in alone.index["registration.php"] if "/OpenAi/" not in r
    ]
    hits = hits_in(root, "app/code/Acme/ReviewGuard/Model/Validator.php", alone)
    assert [h.line for h in hits] == [11]


def test_no_project_no_finding() -> None:
    rel = "app/code/Acme/ReviewGuard/Model/Validator.php"
    f = source_file(rel, (ROOT / "positive" / rel).read_bytes())
    assert not VendorClientAnalyser().wants(f)


_SEEDS = st.sampled_from(
    ["<?php ", "namespace Acme\\X;", "use Acme\\OpenAi\\Client;", "function __construct(",
     "Client $c", ",", ")", "(", "new Client(", "?", "|", "private readonly ", "$x", "\n"]
)  # fmt: skip


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(content=st.lists(st.one_of(_SEEDS, st.text(max_size=10)), max_size=40).map("".join))
def test_never_raises_on_arbitrary_content(content: str) -> None:
    root = ROOT / "positive"
    rel = "app/code/Acme/ReviewGuard/Model/Fuzz.php"
    f = source_file(rel, content, frozenset({"pkg"}))
    f.project = _project(root)
    list(VendorClientAnalyser().analyse(f, load_catalog()))


def test_whole_scan_reaches_the_rule_through_the_prefilter() -> None:
    """The engine's prefilter tags ("pkg" for llm/Llm, "ai" for OpenAi) wake the analysers."""
    result = run_audit(AuditRequest(roots=(ROOT / "positive",)))
    got = sorted((f.rule, f.file, f.line) for f in result.findings if f.rule == RULE)
    assert got == [
        (RULE, "app/code/Acme/ChatAssist/Model/ChatService.php", 14),
        (RULE, "app/code/Acme/ReviewGuard/Model/Validator.php", 11),
        (RULE, "vendor/acme/module-faq-bot/Model/Answer.php", 10),
    ]
    inferred = {
        f.message.split(" ", 1)[0]
        for f in result.findings
        if f.rule == "ai-sdk-dependency" and f.confidence is Confidence.LOW
    }
    assert inferred == {"acme/openai", "acme/chatgpt-connector"}
