"""Reading a JSON report back: parse(render(r)) == r for any result; bad reports are clear."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from egressguard.errors import EvidenceInputError
from egressguard.model import (
    Confidence,
    DataCategory,
    Finding,
    Frameworks,
    Integration,
    Kind,
    Location,
    Platform,
    PlatformKind,
    ProviderInfo,
    Region,
    RuleInfo,
    RunsIn,
    ScanResult,
    ScanStats,
    Severity,
    SkippedTarget,
    Suppressed,
    Tool,
    TraceStep,
)
from egressguard.report.json_report import parse, render
from tests.report.factory import build_empty_result, build_result

text = st.text(max_size=30)
texts = st.lists(text, max_size=3).map(tuple)
line = st.integers(min_value=0, max_value=10**6)
frameworks = st.builds(Frameworks, texts, texts, texts, texts, texts)
categories = st.lists(st.sampled_from(list(DataCategory)), max_size=3, unique=True).map(tuple)
findings = st.builds(
    Finding,
    id=text,
    rule=text,
    kind=st.sampled_from(list(Kind)),
    severity=st.sampled_from(list(Severity)),
    confidence=st.sampled_from(list(Confidence)),
    file=text,
    line=line,
    message=text,
    evidence=text,
    remediation=text,
    frameworks=frameworks,
    fingerprint=text,
    provider=st.none() | text,
    host=st.none() | text,
    region=st.none() | st.sampled_from(list(Region)),
    data_categories=categories,
    trace=st.lists(st.builds(TraceStep, text, line, text), max_size=2).map(tuple),
    excerpt=st.lists(st.tuples(line, text), max_size=2).map(tuple),
)
integrations = st.builds(
    Integration,
    text,
    text,
    text,
    st.sampled_from(list(Region)),
    text,
    st.booleans(),
    st.sampled_from(list(RunsIn)),
    st.lists(st.builds(Location, text, line), max_size=2).map(tuple),
    texts,
    categories,
)
results = st.builds(
    ScanResult,
    tool=st.builds(Tool, text, text),
    roots=texts,
    platforms=st.lists(
        st.builds(Platform, st.sampled_from(list(PlatformKind)), text, text), max_size=2
    ).map(tuple),
    integrations=st.lists(integrations, max_size=2).map(tuple),
    findings=st.lists(findings, max_size=3).map(tuple),
    skipped=st.lists(st.builds(SkippedTarget, text, text, text), max_size=2).map(tuple),
    stats=st.builds(
        ScanStats,
        st.integers(0, 10**9),
        st.integers(0, 10**12),
        st.floats(min_value=0, max_value=1e6, allow_nan=False),
        st.integers(0, 10**6),
    ),
    suppressed=st.lists(st.builds(Suppressed, text, text, text, text, text), max_size=2).map(tuple),
    warnings=texts,
    providers=st.lists(
        st.builds(ProviderInfo, text, text, text, st.sampled_from(list(Region)), st.booleans()),
        max_size=2,
    ).map(tuple),
    schema_version=st.sampled_from(["1.0", "1.3"]),
    rules=st.lists(
        st.builds(
            RuleInfo,
            text,
            st.sampled_from(list(Kind)),
            st.sampled_from(list(Severity)),
            text,
            text,
            text,
            frameworks,
            text,
        ),
        max_size=2,
    ).map(tuple),
)


@settings(max_examples=200, deadline=None)
@given(result=results)
def test_round_trip(result: ScanResult) -> None:
    assert parse(render(result)) == result


def test_round_trip_of_the_golden_results() -> None:
    for result in (build_result(), build_empty_result()):
        assert parse(render(result)) == result


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.pop("findings"), "findings: missing"),
        (
            lambda d: d["findings"][0].update(severity="fatal"),
            r"findings\[0\].severity: unknown value",
        ),
        (lambda d: d["findings"][0].update(line="7"), r"findings\[0\].line: expected an integer"),
        (lambda d: d["stats"].update(duration_s=True), "stats.duration_s: expected a number"),
        (lambda d: d.update(schema_version="2.0"), "reads 1.x"),
        (lambda d: d.update(roots="x"), "roots: expected a list"),
    ],
)
def test_bad_reports_name_the_field(mutate: object, message: str) -> None:
    doc = json.loads(render(build_result()))
    mutate(doc)  # type: ignore[operator]
    with pytest.raises(EvidenceInputError, match=message):
        parse(json.dumps(doc))


@pytest.mark.parametrize("text_", ["", "{", "[]", '"x"', "[" * 50_000])
def test_not_json_reports(text_: str) -> None:
    with pytest.raises(EvidenceInputError):
        parse(text_)
