"""The labelled fixtures of the config-at-rest and key-in-url rules through a whole scan.

The per-analyser tests hand each file straight to its analyser; here the engine's prefilter
decides which files are analysed at all, so a rule whose files carry no prefilter tag fails.
"""

from __future__ import annotations

import pytest

from egressguard.audit.engine import AuditRequest, run_audit

from .test_secrets import FIXTURES, expected_lines

RULES = ("ai-credential-field-not-encrypted", "ai-key-in-url")


@pytest.mark.parametrize("rule", RULES)
def test_every_marked_line_is_found(rule: str) -> None:
    root = FIXTURES / rule / "positive"
    want = {
        (path.relative_to(root).as_posix(), line)
        for path in root.rglob("*")
        if path.is_file() and f"expect: {rule}" in path.read_text("utf-8")
        for line in expected_lines(rule, path)
    }
    result = run_audit(AuditRequest(roots=(root,)))
    got = {(f.file, f.line) for f in result.findings if f.rule == rule}
    assert want and got == want


@pytest.mark.parametrize("rule", RULES)
def test_negative_tree_stays_clean(rule: str) -> None:
    result = run_audit(AuditRequest(roots=(FIXTURES / rule / "negative",)))
    assert [f for f in result.findings if f.rule == rule] == []
