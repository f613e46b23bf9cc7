"""docs/rules.md explains every rule of rules.toml (a section and a row in the overview table)."""

from __future__ import annotations

from pathlib import Path

import pytest

from egressguard.catalog import load_catalog

DOC = Path(__file__).resolve().parents[2] / "docs" / "rules.md"
RULE_IDS = sorted(load_catalog().rules)


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_rule_is_documented(rule_id: str) -> None:
    text = DOC.read_text("utf-8")
    assert f"\n## {rule_id}\n" in text, f"docs/rules.md has no '## {rule_id}' section"
    assert f"| [`{rule_id}`](#{rule_id}) |" in text, f"docs/rules.md table lacks {rule_id}"


@pytest.mark.parametrize("rule_id", RULE_IDS)
def test_documented_kind_matches_the_catalogue(rule_id: str) -> None:
    rule = load_catalog().rule(rule_id)
    row = next(line for line in DOC.read_text("utf-8").splitlines() if f"[`{rule_id}`]" in line)
    assert f"| {rule.kind} |" in row
