"""The labelled set is well-formed, current, big enough, and the detector keeps its quality."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

from egressguard.gateway.detect import PiiCategory

ROOT = Path(__file__).resolve().parents[3]
FIXTURES = ROOT / "tests" / "fixtures" / "pii"


def _module(path: Path, name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _cases() -> list[dict[str, object]]:
    lines = (FIXTURES / "labels.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def test_labels_are_well_formed() -> None:
    categories = {c.value for c in PiiCategory}
    ids = set()
    for case in _cases():
        text = case["text"]
        assert isinstance(text, str)
        assert case["id"] not in ids
        ids.add(case["id"])
        spans = case["spans"]
        assert isinstance(spans, list)
        previous_end = 0
        for span in sorted(spans, key=lambda s: s["start"]):
            assert span["category"] in categories
            assert previous_end <= span["start"] < span["end"] <= len(text)
            value = text[span["start"] : span["end"]]
            assert value == value.strip(), (case["id"], value)
            previous_end = span["end"]


def test_labels_match_their_source() -> None:
    build = _module(FIXTURES / "build_labels.py", "pii_build_labels")
    source = (FIXTURES / "cases.txt").read_text(encoding="utf-8")
    current = (FIXTURES / "labels.jsonl").read_text(encoding="utf-8")
    assert build.render(build.parse(source)) == current, "run tests/fixtures/pii/build_labels.py"


def test_set_size_and_coverage() -> None:
    cases = _cases()
    counts = Counter(span["category"] for case in cases for span in case["spans"])  # type: ignore[attr-defined]
    assert sum(counts.values()) >= 300
    assert {c["lang"] for c in cases} >= {"en", "de", "fr", "nl", "it", "es", "pl", "json"}
    assert set(counts) == {c.value for c in PiiCategory}
    assert sum(1 for c in cases if c["kind"] == "negatives") >= 4


def test_quality_does_not_regress() -> None:
    evaluate = _module(ROOT / "bench" / "pii_eval.py", "pii_eval")
    detector = evaluate.build_detector(evaluate.dictionaries())

    def predict(text: str) -> set[tuple[int, int, str]]:
        return {(s.start, s.end, s.category.value) for s in detector.scan(text)}

    tally = evaluate.score(evaluate.load_cases(), predict)
    tp, fp, fn = (sum(c.values()) for c in (tally.tp, tally.fp, tally.fn))
    precision, recall, _ = evaluate.prf(tp, fp, fn)
    assert precision >= 0.97
    assert recall >= 0.97
