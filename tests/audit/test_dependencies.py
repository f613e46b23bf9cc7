"""DependencyAnalyser: labelled fixtures, keys, versions, robustness."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from egressguard.audit.analysers.base import MalformedInput
from egressguard.audit.analysers.dependencies import DependencyAnalyser
from egressguard.model import Confidence, Hit

from .helpers import run_analyser
from .test_secrets import FIXTURES, check_negative, check_positive, fixture_params, never_raises

RULES = ("ai-sdk-dependency",)


@pytest.mark.parametrize(("rule", "root", "rel"), fixture_params(RULES, "positive"))
def test_positive_fixture(rule: str, root: Path, rel: str) -> None:
    check_positive(DependencyAnalyser(), rule, root, rel)


@pytest.mark.parametrize(("rule", "root", "rel"), fixture_params(RULES, "negative"))
def test_negative_fixture(rule: str, root: Path, rel: str) -> None:
    check_negative(DependencyAnalyser(), rule, root, rel)


def test_each_rule_has_three_labelled_cases_each_way() -> None:
    assert len(fixture_params(RULES, "positive")) >= 3
    assert len(fixture_params(RULES, "negative")) >= 3


def test_key_has_no_version_and_message_has_the_locked_one() -> None:
    root = FIXTURES / "ai-sdk-dependency" / "positive"
    (hit,) = run_analyser(
        DependencyAnalyser(), "composer.lock", (root / "shop/composer.lock").read_text()
    )
    assert isinstance(hit, Hit)
    assert hit.key == "ai-sdk-dependency:composer:openai-php/client"
    assert "v0.10.3" in hit.message and hit.provider == "openai" and hit.host is None


def test_one_hit_per_package_per_file() -> None:
    manifest = {
        "require": {"openai-php/client": "^0.10"},
        "require-dev": {"openai-php/client": "^0.10"},
    }
    hits = run_analyser(DependencyAnalyser(), "composer.json", json.dumps(manifest, indent=4))
    assert len(hits) == 1


def test_package_lock_v1_dependencies() -> None:
    lock = {"lockfileVersion": 1, "dependencies": {"openai": {"version": "3.3.0"}}}
    (hit,) = run_analyser(DependencyAnalyser(), "package-lock.json", json.dumps(lock, indent=2))
    assert isinstance(hit, Hit) and hit.line == 4 and "3.3.0" in hit.message


@pytest.mark.parametrize("text", ["{", "[1, 2]", '{"require": '])
def test_malformed_json_raises_malformed_input(text: str) -> None:
    with pytest.raises(MalformedInput):
        run_analyser(DependencyAnalyser(), "composer.json", text)


def test_not_a_manifest_is_not_wanted() -> None:
    assert run_analyser(DependencyAnalyser(), "app/code/Acme/AiChat/etc/module.xml", "{") == []


_SEEDS = st.sampled_from(
    ['{"require": {', '"openai-php/client": "^0.10"', "}", '"packages": [', '{"name": "openai"',
     "openai@^4.0.0:\n", '  version "4.1.0"\n', "  /openai@4.1.0:\n", "'@anthropic-ai/sdk@1.0.0':"]
)  # fmt: skip
_CONTENT = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300),
    st.lists(st.one_of(_SEEDS, st.text(max_size=10)), max_size=30).map("".join),
)


@pytest.mark.parametrize(
    "rel",
    [
        "composer.json",
        "composer.lock",
        "package.json",
        "package-lock.json",
        "yarn.lock",
        "pnpm-lock.yaml",
    ],
)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(content=_CONTENT)
def test_never_raises_on_arbitrary_content(rel: str, content: str | bytes) -> None:
    never_raises(DependencyAnalyser(), rel, content)


@pytest.mark.parametrize(
    ("package", "inferred"),
    [
        ("bydn/openai", True),
        ("yu-dev/module-ai-llm", True),
        ("acme/gpt4o-writer", True),
        ("openai-php/client", False),  # a catalogue SDK: a fact, not an inference
        ("acme/egyptian-tours", None),
        ("acme/module-ai-search-engine", None),
    ],
)
def test_ai_client_inferred_from_the_name(package: str, inferred: bool | None) -> None:
    manifest = json.dumps({"require": {package: "*"}}, indent=4)
    hits = run_analyser(DependencyAnalyser(), "composer.json", manifest)
    if inferred is None:
        assert hits == []
        return
    (hit,) = hits
    assert isinstance(hit, Hit) and hit.line == 3
    if inferred:
        assert hit.confidence is Confidence.LOW and hit.provider is None
        assert "inferred from the name" in hit.message and package in hit.message
    else:
        assert hit.confidence is Confidence.HIGH and hit.provider == "openai"
