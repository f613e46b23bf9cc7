"""KeyInUrlAnalyser (ai-key-in-url): labelled fixtures, confidence, the statement table."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from egressguard.audit.analysers.key_in_url import RULE, KeyInUrlAnalyser
from egressguard.model import Confidence, Hit, IntegrationSite, RunsIn

from .helpers import run_analyser
from .test_secrets import FIXTURES, check_negative, check_positive, fixture_params, never_raises

RULES = (RULE,)


@pytest.mark.parametrize(("rule", "root", "rel"), fixture_params(RULES, "positive"))
def test_positive_fixture(rule: str, root: Path, rel: str) -> None:
    check_positive(KeyInUrlAnalyser(), rule, root, rel)


@pytest.mark.parametrize(("rule", "root", "rel"), fixture_params(RULES, "negative"))
def test_negative_fixture(rule: str, root: Path, rel: str) -> None:
    check_negative(KeyInUrlAnalyser(), rule, root, rel)


def test_three_labelled_cases_each_way() -> None:
    assert len(fixture_params(RULES, "positive")) >= 3
    assert len(fixture_params(RULES, "negative")) >= 3


def _hits(rel: str, code: str) -> list[Hit]:
    return [h for h in run_analyser(KeyInUrlAnalyser(), rel, code) if isinstance(h, Hit)]


def test_host_in_the_statement_is_high_and_names_the_provider() -> None:
    root = FIXTURES / RULE / "positive"
    rel = "app/code/Acme/GeminiCopy/Model/Client.php"
    (hit,) = _hits(rel, (root / rel).read_text())
    assert hit.confidence is Confidence.HIGH and hit.provider == "google-gemini"
    assert "generativelanguage.googleapis.com" in hit.message and "'key='" in hit.message


def test_config_url_in_ai_context_is_medium() -> None:
    root = FIXTURES / RULE / "positive"
    rel = "app/code/Acme/AiReports/Model/AiClient.php"
    hits = _hits(rel, (root / rel).read_text())
    assert {h.confidence for h in hits} == {Confidence.MEDIUM}
    assert all(h.provider is None and "no host" in h.message for h in hits)


_PHP = "<?php\nfunction f() {{\n    {}\n}}\n"


@pytest.mark.parametrize(
    ("statement", "should_flag"),
    [
        ("$u = 'https://api.mistral.ai/v1/x?api_key=' . $this->apiKey;", True),
        ('$u = "https://api.openai.com/v1/x?token=$token";', True),
        ("$u = 'https://api.anthropic.com/v1/x?key=' . $this->config->getApiKey();", True),
        ("$u = sprintf('https://api.openai.com/v1/x?key=%s', $secret);", True),
        ("$u = 'https://api.openai.com/v1/x?key=' . $productKey;", False),
        ("$u = 'https://api.openai.com/v1/x?key=abc123';", False),
        ("$u = 'https://api.openai.com/v1/x?model=' . $apiKey;", False),
        ("$u = 'https://maps.googleapis.com/maps/api/js?key=' . $apiKey;", False),
        ("// $u = 'https://api.openai.com/v1/x?key=' . $apiKey;", False),
    ],
)
def test_statement_table(statement: str, should_flag: bool) -> None:
    hits = _hits("app/code/Acme/Shop/Model/Client.php", _PHP.format(statement))
    assert bool(hits) is should_flag


def test_evidence_masks_a_literal_key_on_the_line() -> None:
    key = "AIzaSyD4x9Qm2Lp7Vt8Rw3Kc6Jf1Nh5Bg0Ys2Ue"
    code = _PHP.format(
        f"$u = 'https://generativelanguage.googleapis.com/v1/m?key=' . $apiKey; $k = '{key}';"
    )
    (hit,) = _hits("app/code/Acme/Shop/Model/Client.php", code)
    assert key not in hit.evidence and key not in hit.message


_SEEDS = st.sampled_from(
    ["'https://api.openai.com/v1?key=", "'", '"', " . ", " + ", "$apiKey", "{$this->apiKey}",
     "${apiKey}", "sprintf(", "%s", ",", ")", ";", "\n", "gemini", "?key=", "&api_key="]
)  # fmt: skip


@pytest.mark.parametrize("rel", ["a/Model/C.php", "web/app.ts", "assets/x.js"])
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(content=st.lists(st.one_of(_SEEDS, st.text(max_size=10)), max_size=40).map("".join))
def test_never_raises_on_arbitrary_content(rel: str, content: str) -> None:
    never_raises(KeyInUrlAnalyser(), rel, content)


@pytest.mark.parametrize(
    ("site_confidence", "want"),
    [(Confidence.HIGH, Confidence.HIGH), (Confidence.MEDIUM, Confidence.MEDIUM)],
)
def test_config_url_takes_the_provider_of_the_next_call_site(
    site_confidence: Confidence, want: Confidence
) -> None:
    root = FIXTURES / RULE / "positive"
    rel = "app/code/Acme/AiReports/Model/AiClient.php"
    site = IntegrationSite(
        "google-gemini",
        "generativelanguage.googleapis.com",
        14,
        RunsIn.SERVER,
        confidence=site_confidence,
    )
    hits = run_analyser(KeyInUrlAnalyser(), rel, (root / rel).read_text(), sites=(site,))
    first = next(h for h in hits if isinstance(h, Hit) and h.line == 13)
    assert (first.provider, first.confidence) == ("google-gemini", want)
    assert "AI call on line 14 (generativelanguage.googleapis.com" in first.message


def test_a_call_site_in_another_function_does_not_count() -> None:
    code = _PHP.format("$u = $this->url . '?key=' . $apiKey;") + "function g() {\n  call();\n}\n"
    site = IntegrationSite("openai", "api.openai.com", 6, RunsIn.SERVER)
    assert run_analyser(KeyInUrlAnalyser(), "a/Model/C.php", code, sites=(site,)) == []
