"""The bundled demo: every planted problem in examples/README.md is found, clean files stay clean.

The expectations are read from the tables in examples/README.md, so the document a new user
reads and the test agree by construction.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from egressguard.cli.main import run

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
# `data-flow-to-ai` (customer_pii, order): the categories the finding must carry.
_CATEGORIES = re.compile(r"`data-flow-to-ai` \(([a-z_, ]+)\)")
_ROW = re.compile(r"^\| `(?P<file>[^`]+)`[^|]*\|(?P<problem>[^|]*(?:\\\|[^|]*)*)\|(?P<rules>.*)\|$")
_RULE = re.compile(r"`([a-z0-9-]+)`")
_SECTION = {"## Magento 2 module": "magento2-module", "## Shopify theme": "shopify-theme"}


def _planted() -> list[tuple[str, str]]:
    """(file, rule) rows; for data-flow rows the rule is `data-flow-to-ai:cat1,cat2`."""
    expected: list[tuple[str, str]] = []
    tree = ""
    for line in (EXAMPLES / "README.md").read_text(encoding="utf-8").splitlines():
        tree = next((t for h, t in _SECTION.items() if line.startswith(h)), tree)
        m = _ROW.match(line)
        if not tree or m is None or "Expected" in line:
            continue
        path = f"{tree}/{m.group('file')}"
        flow = _CATEGORIES.search(m.group("rules"))
        for rule in _RULE.findall(m.group("rules")):
            if rule == "data-flow-to-ai" and flow is not None:
                rule += ":" + ",".join(sorted(c.strip() for c in flow.group(1).split(",")))
            expected.append((path, rule))
    return expected


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    out = tmp_path_factory.mktemp("demo") / "r.json"
    roots = [str(EXAMPLES / "magento2-module"), str(EXAMPLES / "shopify-theme")]
    code = run(["audit", *roots, "--format", "json", "--output", str(out), "--no-progress"])
    assert code == 1  # the demo has high and critical findings
    doc: dict[str, object] = json.loads(out.read_text(encoding="utf-8"))
    return doc


PLANTED = _planted()


def test_the_readme_table_was_read() -> None:
    assert len(PLANTED) >= 25


@pytest.mark.parametrize(("file", "rule"), PLANTED, ids=[f"{f}:{r}" for f, r in PLANTED])
def test_planted_problem_is_reported(demo: dict[str, object], file: str, rule: str) -> None:
    rule, _, cats = rule.partition(":")
    findings = [
        (f["file"], f["rule"])
        for f in demo["findings"]  # type: ignore[attr-defined]
        if not cats or set(cats.split(",")) <= set(f["data_categories"])
    ]
    suppressed = [(s["file"], s["rule"]) for s in demo["suppressed"]]  # type: ignore[attr-defined]
    assert (file, rule) in findings or (file, rule) in suppressed


CLEAN = [
    "magento2-module/Service/EuSupportReplier.php",
    "magento2-module/Service/LocalClassifier.php",
    "magento2-module/view/frontend/web/js/support-form.js",
    "magento2-module/Controller/Support/Reply.php",
    "shopify-theme/sections/main-product.liquid",
    "shopify-theme/layout/theme.liquid",
    "shopify-theme/assets/global.js",
]


@pytest.mark.parametrize("file", CLEAN)
def test_clean_file_has_only_inventory(demo: dict[str, object], file: str) -> None:
    rules = {f["rule"] for f in demo["findings"] if f["file"] == file}  # type: ignore[attr-defined]
    assert rules <= {"ai-endpoint"}


def test_sovereign_endpoints_raise_no_transfer_finding(demo: dict[str, object]) -> None:
    regions = {
        (i["host"], i["region"])
        for i in demo["integrations"]  # type: ignore[attr-defined]
    }
    assert ("api.eu.mistral.ai", "eu") in regions
    assert ("127.0.0.1:11434", "local") in regions
    transfers = {
        f["host"]
        for f in demo["findings"]  # type: ignore[attr-defined]
        if f["rule"] == "ai-transfer-third-country"
    }
    assert transfers == {"api.openai.com", "api.anthropic.com"}


def test_demo_never_leaks_a_planted_key(demo: dict[str, object]) -> None:
    keys = set()
    for path in EXAMPLES.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            keys.update(re.findall(r"(?:sk-proj-|sk-ant-api03-|AIza)[A-Za-z0-9_-]{30,}", text))
    assert keys
    blob = json.dumps(demo)
    for key in keys:
        assert key not in blob
        assert key[8:28] not in blob
