"""The labelled data-flow set (tests/fixtures/dataflow) is well-formed, and the scorer
(bench/dataflow_eval.py) matches findings to labels as documented.

Scores are measured by the scorer and reported in docs/dataflow-accuracy.md, never asserted.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "dataflow"


def _load_scorer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("dataflow_eval", ROOT / "bench/dataflow_eval.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


ev = _load_scorer()
CASES = ev.load_labels(FIXTURES / "labels.toml")


def test_case_ids_are_unique_and_match_the_folders() -> None:
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids))
    folders = {p.name for p in FIXTURES.iterdir() if p.is_dir()}
    assert folders == set(ids)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_labelled_locations_exist(case: Any) -> None:
    assert case.kind in ("positive", "negative", "precision")
    assert case.language in ("php", "phtml", "javascript", "typescript", "liquid")
    for sink in case.sinks:
        lines = (FIXTURES / case.id / sink.file).read_text(encoding="utf-8").splitlines()
        assert sink.end_line <= len(lines), f"{sink.file}:{sink.end_line} past end of file"
        assert lines[sink.line - 1].strip(), f"{sink.file}:{sink.line} is blank"
        for file, line in sink.alt:
            alt_lines = (FIXTURES / case.id / file).read_text(encoding="utf-8").splitlines()
            assert 1 <= line <= len(alt_lines) and alt_lines[line - 1].strip()


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_positive_cases_send_data_and_negative_cases_do_not(case: Any) -> None:
    sent = [s for s in case.sinks if s.categories]
    if case.kind in ("positive", "precision"):
        assert sent, "a positive case labels at least one AI call with categories"
    else:
        assert not sent, "a negative case labels no category"


def test_the_set_is_large_enough_and_covers_every_category() -> None:
    flows = [s for c in CASES for s in c.sinks if s.categories]
    assert len(flows) >= 40
    support = {cat: sum(cat in s.categories for s in flows) for cat in ev.CATEGORIES}
    assert all(n >= 2 for n in support.values()), support
    assert sum(c.kind == "negative" for c in CASES) >= 10
    assert {c.language for c in CASES} >= {"php", "javascript", "liquid"}


def test_fixtures_hold_no_real_looking_keys() -> None:
    key = re.compile(r"sk-(proj-|ant-)?[A-Za-z0-9_-]{20,}|AIza[0-9A-Za-z_-]{30,}|hf_[A-Za-z]{30,}")
    for path in FIXTURES.rglob("*"):
        if path.is_file():
            assert not key.search(path.read_text(encoding="utf-8")), path


# -- the scorer's matching rules ---------------------------------------------------------


def _sink(cats: set[str], line: int = 10, end: int = 14) -> Any:
    return ev.Sink("a.php", line, end, (("b.js", 3),), frozenset(cats))


def _result(sinks: tuple[Any, ...], predicted: list[Any]) -> Any:
    return ev.CaseResult(ev.Case("c", "php", "positive", "d", sinks), predicted)


def test_scorer_counts_tp_fp_fn_per_category_and_merges_duplicates() -> None:
    sinks = (_sink({"customer_pii", "order"}),)
    predicted = [
        ev.Predicted("a.php", 16, frozenset({"customer_pii"})),  # end_line + 2: matches
        ev.Predicted("b.js", 4, frozenset({"payment"})),  # near the alt location: same sink
        ev.Predicted("a.php", 30, frozenset({"cart"})),  # nowhere near a label
    ]
    s = ev.score([_result(sinks, predicted)])
    got = {k: (v.tp, v.fp, v.fn) for k, v in s.per_category.items() if v.tp + v.fp + v.fn}
    assert got == {
        "customer_pii": (1, 0, 0),
        "order": (0, 0, 1),
        "payment": (0, 1, 0),
        "cart": (0, 1, 0),
    }
    assert [(e.file, e.line, e.category) for e in s.misses] == [("a.php", 10, "order")]
    assert s.sinks_found == 1


def test_scorer_negative_call_and_window_edges() -> None:
    sinks = (_sink(set()),)
    s = ev.score([_result(sinks, [ev.Predicted("a.php", 8, frozenset({"catalog"}))])])
    assert (s.per_category["catalog"].fp, s.negative_calls, s.negative_calls_clean) == (1, 1, 0)
    assert sinks[0].distance("a.php", 8) == 2 and sinks[0].distance("a.php", 7) is None
    assert ev.micro(s.per_category).precision == 0.0
