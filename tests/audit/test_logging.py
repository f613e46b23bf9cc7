"""LoggingAnalyser: ai-call-without-audit-log and ai-prompt-logged."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from egressguard.audit.analysers.lexical import code_view
from egressguard.audit.analysers.logging_rules import (
    RULE_NO_LOG,
    RULE_PROMPT_LOGGED,
    LoggingAnalyser,
    payload_in,
)
from egressguard.model import Hit, Language
from tests.audit.helpers import run_analyser
from tests.audit.test_endpoints import FixtureFile, endpoint_sites, fixture_files, fixture_params


def logging_hits(rel: str, text: str) -> list[Hit]:
    outs = run_analyser(LoggingAnalyser(), rel, text, sites=endpoint_sites(rel, text))
    return [o for o in outs if isinstance(o, Hit)]


def _check(rule: str, fixture: FixtureFile) -> None:
    hits = [h for h in logging_hits(fixture.rel, fixture.text) if h.rule == rule]
    if fixture.label == "negative":
        assert hits == []
        return
    assert fixture.expected, "a positive fixture needs expectations in expected.toml"
    assert sorted(h.line for h in hits) == sorted(e["line"] for e in fixture.expected)
    for hit, want in zip(
        sorted(hits, key=lambda h: h.line),
        sorted(fixture.expected, key=lambda e: e["line"]),
        strict=True,
    ):
        assert hit.provider == want.get("provider")
        assert hit.evidence and "\n" not in hit.evidence


@pytest.mark.parametrize("fixture", fixture_params(RULE_NO_LOG))
def test_call_without_audit_log_fixtures(fixture: FixtureFile) -> None:
    _check(RULE_NO_LOG, fixture)


@pytest.mark.parametrize("fixture", fixture_params(RULE_PROMPT_LOGGED))
def test_prompt_logged_fixtures(fixture: FixtureFile) -> None:
    _check(RULE_PROMPT_LOGGED, fixture)


@pytest.mark.parametrize("rule", [RULE_NO_LOG, RULE_PROMPT_LOGGED])
def test_three_positive_and_three_negative_fixtures(rule: str) -> None:
    labels = [f.label for f in fixture_files(rule)]
    assert labels.count("positive") >= 3 and labels.count("negative") >= 3


PHP = "app/code/Acme/Ai/Model/Client.php"


def _method(body: str, extra: str = "") -> str:
    return (
        "<?php\nclass Client\n{\n    public function ask(string $prompt): string\n    {\n"
        f"        $r = $this->http->post('https://api.openai.com/v1/chat/completions', []);\n{body}"
        f"        return '';\n    }}\n{extra}}}\n"
    )


@pytest.mark.parametrize(
    ("body", "extra", "flagged"),
    [
        ("", "", True),
        ("        $this->logger->info('ai', ['status' => 200]);\n", "", False),
        ("        $this->_logger->debug('ai');\n", "", False),
        ("        error_log('ai call done');\n", "", False),
        ("        $this->auditLog->record('openai');\n", "", False),
        (
            "        $this->note();\n",
            "    private function note() { $this->logger->notice('ai'); }\n",
            False,
        ),
        # a logging helper that the AI method never calls does not count
        ("", "    private function note() { $this->logger->notice('ai'); }\n", True),
    ],
)
def test_audit_log_in_method_or_helper(body: str, extra: str, flagged: bool) -> None:
    hits = [h for h in logging_hits(PHP, _method(body, extra)) if h.rule == RULE_NO_LOG]
    assert bool(hits) is flagged
    if hits:
        assert "OpenAI" in hits[0].message and "ask()" in hits[0].message


def test_browser_calls_are_out_of_scope_for_the_audit_rule() -> None:
    code = "fetch('https://api.openai.com/v1/chat/completions', {});\n"
    hits = logging_hits("app/code/A/B/view/frontend/web/js/chat.js", code)
    assert [h for h in hits if h.rule == RULE_NO_LOG] == []


def test_console_counts_as_logging_in_server_js() -> None:
    code = (
        "export async function ask(q) {\n"
        "  const r = await fetch('https://api.anthropic.com/v1/messages');\n"
        "  console.info('ai call', r.status);\n}\n"
    )
    assert logging_hits("web/services/ask.js", code) == []


@pytest.mark.parametrize(
    ("args", "payload"),
    [
        ("'OpenAI request', ['payload' => $payload]", "$payload"),
        ("json_encode($messages)", "$messages"),
        ("$response->getBody()", "$response"),
        ("print_r($result, true)", "$result"),
        ("JSON.stringify(messages)", "messages"),
        ("prompt", "prompt"),
        ("{ messages }", "messages"),
        ("`answer: ${completion.choices[0].message.content}`", "completion"),
        ('"Prompt: $prompt"', "$prompt"),
        ("['model' => $model, 'tokens' => $usage['total_tokens'], 'status' => $status]", None),
        ("'failed: ' . $e->getMessage()", None),
        ("['chars' => strlen($prompt), 'id' => $requestId]", None),
        ("{ model: completion.model, tokens: completion.usage.total_tokens }", None),
        ("'status', $response->getStatusCode()", None),
        ("err.message", None),
        ("{ promptLength: prompt.length }", None),
        ("'OpenAI request sent'", None),
    ],
)
def test_payload_identifiers(args: str, payload: str | None) -> None:
    view = code_view(args, Language.JAVASCRIPT if "$" not in args else Language.PHP)
    assert payload_in(view.code, view.bare) == payload


def test_prompt_logging_needs_an_ai_site_in_the_file() -> None:
    code = (
        "<?php\nclass E { public function f($payload) "
        "{ $this->logger->debug('x', ['p' => $payload]); } }\n"
    )
    assert logging_hits("app/code/A/B/Model/E.php", code) == []


def test_prompt_logged_evidence_masks_keys() -> None:
    key = "sk-proj-" + "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z" * 2
    code = (
        "<?php\nfunction f($prompt) {\n  $u = 'https://api.openai.com/v1';\n"
        f"  error_log($prompt . '{key}');\n}}\n"
    )
    hits = [h for h in logging_hits(PHP, code) if h.rule == RULE_PROMPT_LOGGED]
    assert len(hits) == 1
    assert key not in hits[0].evidence and key not in hits[0].key


_PIECES = (
    *"{}()[]'\"`/*#\n\\$;:=.,? ",
    "$this->logger->info(",
    "console.log(",
    "error_log(",
    "file_put_contents(BP.'/var/log/x.log', ",
    "$prompt",
    "messages",
    "'https://api.openai.com/v1'",
    "function f() ",
    "class C ",
    "=> ",
)
_ALPHABET = st.sampled_from(_PIECES)


@settings(max_examples=150, deadline=None)
@given(
    text=st.lists(_ALPHABET, max_size=60).map("".join),
    rel=st.sampled_from(
        [PHP, "web/x.js", "web/x.ts", "app/design/frontend/A/t/M/templates/x.phtml"]
    ),
)
def test_logging_analyser_never_raises(text: str, rel: str) -> None:
    for hit in logging_hits(rel, text):
        assert hit.line >= 1
