"""EndpointAnalyser: labelled fixtures, residency of typical hosts, features, robustness.

The fixture walker and `endpoint_sites` are shared with the logging, scripts and bulk tests.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from egressguard.audit.analysers.endpoints import EndpointAnalyser, feature_of
from egressguard.audit.analysers.lexical import Blocks, code_view
from egressguard.catalog import load_catalog
from egressguard.model import IntegrationSite, Language, RunsIn
from tests.audit.helpers import run_analyser

RULES = Path(__file__).resolve().parent.parent / "fixtures" / "rules"


@dataclass(frozen=True)
class FixtureFile:
    label: str  # "positive" | "negative"
    name: str  # path inside the rule folder: "positive/app/code/…"
    rel: str  # the path the analyser sees: "app/code/…"
    text: str
    expected: tuple[dict[str, Any], ...]


def fixture_files(rule: str) -> list[FixtureFile]:
    """Every labelled file of a rule folder with the expectations recorded for it."""
    folder = RULES / rule
    expect = tomllib.loads((folder / "expected.toml").read_text("utf-8")).get("expect", [])
    files = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != "expected.toml"):
        name = path.relative_to(folder).as_posix()
        label, rel = name.split("/", 1)
        mine = tuple(e for e in expect if e["file"] == name)
        files.append(FixtureFile(label, name, rel, path.read_text("utf-8"), mine))
    return files


def fixture_params(rule: str) -> list[Any]:
    return [pytest.param(f, id=f.name) for f in fixture_files(rule)]


def endpoint_sites(rel: str, content: str) -> tuple[IntegrationSite, ...]:
    """The sites the engine would hand to `after_sites` analysers for this file."""
    outs = run_analyser(EndpointAnalyser(), rel, content)
    return tuple(o for o in outs if isinstance(o, IntegrationSite))


@pytest.mark.parametrize("fixture", fixture_params("ai-endpoint"))
def test_endpoint_fixtures(fixture: FixtureFile) -> None:
    catalog = load_catalog()
    sites = endpoint_sites(fixture.rel, fixture.text)
    got = {
        (
            s.line,
            s.provider,
            s.host,
            catalog.provider(s.provider) and _region(s.host),
            s.runs_in.value,
            s.feature,
        )
        for s in sites
    }
    want = {
        (e["line"], e["provider"], e["host"], e["region"], e["runs_in"], e["feature"])
        for e in fixture.expected
    }
    if fixture.label == "negative":
        assert sites == ()
    else:
        assert want, "a positive fixture needs expectations in expected.toml"
        assert got == want


def _region(host: str) -> str:
    match = load_catalog().classify_host(host)
    assert match is not None, host
    return match.region.value


def test_every_endpoint_rule_folder_has_three_of_each() -> None:
    for rule in ("ai-endpoint",):
        labels = [f.label for f in fixture_files(rule)]
        assert labels.count("positive") >= 3 and labels.count("negative") >= 3


@pytest.mark.parametrize(
    ("host", "sovereign"),
    [
        ("eu.api.openai.com", True),
        ("api.eu.mistral.ai", True),
        ("europe-west3-aiplatform.googleapis.com", True),
        ("bedrock-runtime.eu-central-1.amazonaws.com", True),
        ("localhost:11434", True),
        ("api.openai.com", False),
        ("api.anthropic.com", False),
        ("api.deepseek.com", False),
    ],
)
def test_residency_of_detected_hosts(host: str, sovereign: bool) -> None:
    sites = endpoint_sites(
        "app/code/Acme/Ai/Model/Client.php", f"<?php\n$u = 'https://{host}/v1/chat/completions';\n"
    )
    assert [s.host for s in sites] == [host]
    match = load_catalog().classify_host(sites[0].host)
    assert match is not None
    assert match.region.is_sovereign is sovereign


PHP = "app/code/Acme/Ai/Model/Client.php"
NODE = "web/services/ai.js"


@pytest.mark.parametrize(
    ("rel", "code", "expected"),
    [
        # comments and docblocks are not call sites
        (PHP, "<?php\n// POST https://api.openai.com/v1/chat/completions\n", []),
        (PHP, "<?php\n/** @see https://api.anthropic.com/v1/messages */\n", []),
        (PHP, "<?php\n# https://api.mistral.ai/v1\n", []),
        (NODE, "/* fetch('https://api.openai.com/v1') */\n", []),
        # a look-alike host is not the provider
        (PHP, "<?php\n$u = 'https://api.openai.com.evil.example/v1';\n", []),
        (PHP, "<?php\n$u = 'https://api.example.com/v1/chat/completions';\n", []),
        # a `//` inside a string is not a comment
        (
            PHP,
            "<?php\n$u = 'https://api.openai.com/v1'; // primary\n",
            [(2, "openai", "api.openai.com")],
        ),
        # SDK clients: default host, base URL, region, server
        (NODE, "const c = new OpenAI();\n", [(1, "openai", "api.openai.com")]),
        (
            NODE,
            "const c = new OpenAI({\n  baseURL: 'https://eu.api.openai.com/v1',\n});\n",
            [(2, "openai", "eu.api.openai.com")],
        ),
        (
            NODE,
            "const c = new OpenAI({ baseURL: 'http://litellm.internal:4000' });\n",
            [(1, "self-hosted", "litellm.internal:4000")],
        ),
        (
            NODE,
            "const b = new BedrockRuntimeClient({ region: 'eu-central-1' });\n",
            [(1, "aws-bedrock", "bedrock-runtime.eu-central-1.amazonaws.com")],
        ),
        (
            NODE,
            "const b = new BedrockRuntimeClient({});\n",
            [(1, "aws-bedrock", "bedrock-runtime.us-east-1.amazonaws.com")],
        ),
        (
            NODE,
            "const m = new Mistral({ apiKey, server: 'eu' });\n",
            [(1, "mistral", "api.eu.mistral.ai")],
        ),
        (
            NODE,
            "const g = new GoogleGenAI({ vertexai: true, location: 'europe-west4' });\n",
            [(1, "google-vertex", "europe-west4-aiplatform.googleapis.com")],
        ),
        (
            NODE,
            "const r = await ollama.chat({ model: 'llama3.1' });\n",
            [(1, "ollama", "localhost:11434")],
        ),
        (
            NODE,
            "const llm = new ChatOpenAI({ model: 'gpt-4o' });\n",
            [(1, "openai", "api.openai.com")],
        ),
        (PHP, "<?php\n$c = OpenAI::client($key);\n", [(2, "openai", "api.openai.com")]),
        (
            PHP,
            "<?php\n$c = new \\Orhanerday\\OpenAi\\OpenAi($key);\n",
            [(2, "openai", "api.openai.com")],
        ),
        (
            PHP,
            "<?php\n$c = new BedrockRuntimeClient(['region' => 'eu-west-1', 'version' => '3']);\n",
            [(2, "aws-bedrock", "bedrock-runtime.eu-west-1.amazonaws.com")],
        ),
        # a variable named like a provider is not a call
        (NODE, "const openai = null;\nexport { openai };\n", []),
        # local runtimes: Ollama's port, or an LLM path on a private host
        (
            PHP,
            "<?php\n$u = 'http://127.0.0.1:11434/api/chat';\n",
            [(2, "ollama", "127.0.0.1:11434")],
        ),
        (
            PHP,
            "<?php\n$u = 'http://192.168.1.20:8080/v1/embeddings';\n",
            [(2, "self-hosted", "192.168.1.20:8080")],
        ),
        (PHP, "<?php\n$u = 'http://localhost:8080/rest/V1/orders';\n", []),
        # one site per (provider, host, line)
        (
            PHP,
            "<?php\n$a = ['https://api.openai.com/v1', 'https://api.openai.com/v2'];\n",
            [(2, "openai", "api.openai.com")],
        ),
    ],
)
def test_endpoint_cases(rel: str, code: str, expected: list[tuple[int, str, str]]) -> None:
    assert [(s.line, s.provider, s.host) for s in endpoint_sites(rel, code)] == expected


def test_constant_is_reported_at_definition_and_use() -> None:
    code = (
        "<?php\nclass C {\n    const API_URL = 'https://api.anthropic.com';\n"
        "    public function ask() {\n        $x = 1;\n"
        "        return $this->client->post(self::API_URL . '/v1/messages', []);\n    }\n}\n"
    )
    assert [(s.line, s.provider) for s in endpoint_sites(PHP, code)] == [
        (3, "anthropic"),
        (6, "anthropic"),
    ]


def test_phtml_script_runs_in_browser_and_php_on_server() -> None:
    code = "<?php $u = 'https://api.openai.com/v1'; ?>\n<script>\nfetch('https://api.mistral.ai/v1/chat/completions');\n</script>\n"
    sites = endpoint_sites("app/design/frontend/A/t/Magento_Theme/templates/x.phtml", code)
    assert [(s.provider, s.runs_in) for s in sites] == [
        ("openai", RunsIn.SERVER),
        ("mistral", RunsIn.BROWSER),
    ]


@pytest.mark.parametrize(
    ("context", "feature"),
    [
        ("app/code/Acme/AiCopy/Model/DescriptionGenerator.php", "copywriter"),
        ("generateSeoText($product)", "copywriter"),
        ("app/code/Acme/FraudShield/Model/RiskScore.php", "fraud-check"),
        ("web/services/orderSummary.js", "order-summary"),
        ("Cron/SummarizeOrders.php", "order-summary"),
        ("Model/Translator.php translate($text)", "translation"),
        ("Helpdesk/Model/TicketReply.php", "support-reply"),
        ("Model/SemanticSearch.php embeddings", "search"),
        ("$this->searchCriteriaBuilder->create()", "unknown"),
        ("Block/Recommendations.php", "recommendation"),
        ("view/frontend/web/js/chat-widget.js", "chat-widget"),
        ("$client->chat()->create(['messages' => [['role' => 'assistant']]])", "unknown"),
        ("fetch('https://api.openai.com/v1/chat/completions')", "unknown"),
        ("useOpenAI()", "unknown"),
        ("Model/Client.php", "unknown"),
    ],
)
def test_feature_keyword_table(context: str, feature: str) -> None:
    assert feature_of(context) == feature


_FILE_TYPES = [
    "app/code/A/B/Model/X.php",
    "app/design/frontend/A/t/Magento_Theme/templates/x.phtml",
    "app/code/A/B/view/frontend/web/js/x.js",
    "web/services/x.ts",
    "theme/sections/x.liquid",
    "app/code/A/B/etc/config.xml",
    "shopify-app/.env",
    "config/x.json",
    "dumps/x.sql",
    "x.html",
]
_PIECES = (
    *"{}()[]'\"`/*#<>!-%\n\\$;:=.,? ",
    "//",
    "/*",
    "*/",
    "<!--",
    "-->",
    "{% comment %}",
    "{% endcomment %}",
    "<script>",
    "</script>",
    "https://api.openai.com/v1",
    "http://localhost:11434/api/chat",
    "new OpenAI(",
    "OpenAI::client(",
    "const API_URL = ",
    "self::API_URL",
    "function f() ",
    "class C ",
    "=> ",
    "baseURL: ",
    "region: 'eu-central-1'",
)
_ALPHABET = st.sampled_from(_PIECES)
_TEXT = st.lists(_ALPHABET, max_size=60).map("".join)


@settings(max_examples=150, deadline=None)
@given(text=_TEXT, rel=st.sampled_from(_FILE_TYPES))
def test_endpoint_analyser_never_raises(text: str, rel: str) -> None:
    for site in endpoint_sites(rel, text):
        assert site.line >= 1


@settings(max_examples=200, deadline=None)
@given(text=st.one_of(_TEXT, st.text(max_size=200)), language=st.sampled_from(list(Language)))
def test_code_view_keeps_offsets_and_brace_matching_terminates(
    text: str, language: Language
) -> None:
    view = code_view(text, language)
    assert len(view.code) == len(view.bare) == len(text)
    assert [i for i, c in enumerate(view.bare) if c == "\n"] == [
        i for i, c in enumerate(text) if c == "\n"
    ]
    blocks = Blocks(view.bare)
    for offset in range(0, len(text) + 1, 7):
        enclosing = blocks.enclosing(offset)
        assert all(b.start < offset <= b.end for b in enclosing)
        blocks.function(offset)
        blocks.klass(offset)
