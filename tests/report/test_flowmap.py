"""Layout of the data-flow map (geometry only; the template draws it)."""

from __future__ import annotations

import dataclasses

from egressguard.model import Finding, ScanResult
from egressguard.report import flowmap


def _labels(result: ScanResult, column: int) -> list[str]:
    return [n.label for n in flowmap.build(result).nodes if n.key[0] == column]


def test_columns_from_findings_and_integrations(result: ScanResult) -> None:
    assert _labels(result, 0) == [
        "customer pii", "payment", "order", "shopper text", "credentials", "bulk export",
    ]  # fmt: skip
    assert _labels(result, 2) == ["Anthropic", "Chatbase", "Mistral AI", "OpenAI"]
    assert _labels(result, 3) == ["EU", "US"]
    assert _labels(result, 1)[:3] == ["chat widget", "product suggestions", "site search"]


def test_no_categories_gives_placeholder(empty_result: ScanResult) -> None:
    fmap = flowmap.build(empty_result)
    assert not fmap.categories_analysed
    assert [n.label for n in fmap.nodes] == [flowmap.PLACEHOLDER]
    assert fmap.edges == ()


def test_edges_take_the_worst_severity(result: ScanResult) -> None:
    tones = {e.tone for e in flowmap.build(result).edges}
    assert {"critical", "high", "medium", "low", "inventory"} <= tones


def test_many_files_fold_into_a_more_node(result: ScanResult) -> None:
    base = result.findings[1]
    many: list[Finding] = [dataclasses.replace(base, file=f"f{i:02}.php") for i in range(30)]
    fmap = flowmap.build(dataclasses.replace(result, findings=tuple(many), integrations=()))
    files = [n for n in fmap.nodes if n.key[0] == 1]
    assert len(files) == flowmap.MAX_NODES
    assert files[-1].label == f"+{30 - flowmap.MAX_NODES + 1} more"
    # 2 categories x 12 files, 12 files -> provider, provider -> region: no dangling edge
    assert len(fmap.edges) == 3 * flowmap.MAX_NODES + 1


def test_long_labels_are_shortened(result: ScanResult) -> None:
    for node in flowmap.build(result).nodes:
        assert len(node.label) <= flowmap.LABEL_CHARS
        assert node.title  # the full name stays available as a tooltip
