"""Host classification, lookalikes, host search in text, SDK mapping, prefilter literals."""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from egressguard.catalog import Catalog
from egressguard.model import Region


@pytest.mark.parametrize(
    ("host", "provider", "region"),
    [
        ("eu.api.openai.com", "openai", Region.EU),
        ("API.OpenAI.com", "openai", Region.GLOBAL),
        ("api.openai.com:443", "openai", Region.GLOBAL),
        ("https://eu.api.openai.com/v1/chat/completions", "openai", Region.EU),
        ("https://user@api.anthropic.com:443/v1/messages", "anthropic", Region.US),
        ("europe-west3-aiplatform.googleapis.com", "google-vertex", Region.EU),
        ("europe-west2-aiplatform.googleapis.com", "google-vertex", Region.GLOBAL),
        ("bedrock-runtime.eu-west-2.amazonaws.com", "aws-bedrock", Region.GLOBAL),
        ("bedrock-runtime.eu-south-2.amazonaws.com", "aws-bedrock", Region.EU),
        ("api.deepseek.com", "deepseek", Region.CN),
        ("localhost:11434", "ollama", Region.LOCAL),
        ("[::1]:11434", "ollama", Region.LOCAL),
        ("ollama.internal", "ollama", Region.LOCAL),
        ("ollama.com", "ollama-cloud", Region.UNKNOWN),
        ("localhost:8080", "self-hosted", Region.LOCAL),
        ("vllm.lan", "vllm", Region.LOCAL),
    ],
)
def test_classify_host(catalog: Catalog, host: str, provider: str, region: Region) -> None:
    found = catalog.classify_host(host)
    assert found is not None
    assert (found.provider.id, found.region) == (provider, region)
    assert found.host == found.host.lower() and ":" not in found.host.strip(":1")


@pytest.mark.parametrize(
    "host",
    [
        "api.openai.com.evil.example",
        "api.openai.com.evil.example:443",
        "x.api.openai.com.attacker.tld",
        "eu.api.openai.com.attacker.tld",
        "notopenai.com",
        "api-openai.com",
        "apixopenaixcom",
        "api.openai.comm",
        "myshop.openai.azure.com.attacker.tld",
        "generativelanguage.googleapis.com.evil",
        "bedrock-runtime.eu-central-1.amazonaws.com.evil.example",
        "api.anthropic.co",
        "",
        ":",
        "[",
        "a" * 300,
    ],
)
def test_lookalikes_are_not_providers(catalog: Catalog, host: str) -> None:
    found = catalog.classify_host(host)
    assert found is None or found.provider.id not in {"openai", "azure-openai", "anthropic"}
    assert found is None or found.provider.id in {"ollama", "vllm", "llamacpp", "self-hosted"}


@given(st.text(max_size=300))
@settings(max_examples=300, deadline=None)
def test_classify_host_never_raises(catalog: Catalog, text: str) -> None:
    catalog.classify_host(text)
    catalog.classify_widget(text)
    list(catalog.find_hosts(text))


_LABEL = st.text(alphabet=string.ascii_lowercase + string.digits + "-", min_size=1, max_size=20)
_KNOWN = st.sampled_from(["api.openai.com", "eu.api.openai.com", "api.anthropic.com"])


@given(prefix=_LABEL, known=_KNOWN, suffix=st.lists(_LABEL, min_size=1, max_size=3))
@settings(max_examples=300, deadline=None)
def test_prefixed_or_suffixed_hosts_never_classify_as_the_provider(
    catalog: Catalog, prefix: str, known: str, suffix: list[str]
) -> None:
    for host in (f"{prefix}.{known}.{'.'.join(suffix)}", f"{known}.{'.'.join(suffix)}"):
        found = catalog.classify_host(host)
        assert found is None or found.provider.id not in {"openai", "anthropic"}, host


def test_find_hosts_in_text(catalog: Catalog) -> None:
    text = (
        "$url = 'https://eu.api.openai.com/v1/chat/completions';\n"
        "const a = 'https://api.openai.com.evil.example/v1';\n"
        "fetch(`http://localhost:11434/api/chat`);\n"
        "base = 'http://192.168.1.5:8000/v1/chat/completions'\n"
        "db = '127.0.0.1'\n"
        '<script src="https://widget.intercom.io/widget/abc"></script>\n'
        "Ollama runs models; API.ANTHROPIC.COM is upper case.\n"
    )
    found = list(catalog.find_hosts(text))
    hosts = [h for _, h in found]
    assert hosts == [
        "eu.api.openai.com",
        "localhost:11434",
        "192.168.1.5",
        "widget.intercom.io",
        "api.anthropic.com",
    ]
    for offset, host in found:
        assert text[offset : offset + len(host)].lower() == host


def test_find_hosts_needs_url_context_for_single_labels(catalog: Catalog) -> None:
    assert list(catalog.find_hosts("ollama is great")) == []
    assert list(catalog.find_hosts("http://ollama:11434/api/generate")) == [(7, "ollama:11434")]


@pytest.mark.parametrize(
    ("ecosystem", "package", "provider"),
    [
        ("composer", "openai-php/client", "openai"),
        ("composer", "OpenAI-PHP/Laravel", "openai"),
        ("npm", "@anthropic-ai/sdk", "anthropic"),
        ("npm", "@langchain/openai", "openai"),
        ("npm", "@langchain/pinecone", "langchain"),
        ("npm", "@ai-sdk/svelte", "vercel-ai"),
        ("npm", "ai", "vercel-ai"),
        ("npm", "@aws-sdk/client-bedrock-runtime", "aws-bedrock"),
        ("npm", "left-pad", None),
        ("composer", "aws/aws-sdk-php", None),
    ],
)
def test_sdk_provider(catalog: Catalog, ecosystem: str, package: str, provider: str | None) -> None:
    found = catalog.sdk_provider(ecosystem, package)
    assert (found.id if found else None) == provider


def test_prefilter_literals_are_short_and_distinctive(catalog: Catalog) -> None:
    literals = catalog.prefilter_literals()
    tags = {tag for tag, _, _ in literals}
    assert tags == {"ai", "key", "sdk", "widget", "cred", "pkg"}
    too_common = {b"ai", b"gpt", b"llm", b"chat", b"api", b"key", b"amazonaws.com", b"azure"}
    for tag, literal, caseless in literals:
        # "pkg" words only wake the dependency and vendor-client analysers, case-sensitively.
        assert literal.lower() not in too_common or (tag == "pkg" and not caseless), (tag, literal)
        assert len(literal) >= 3, (tag, literal)
    assert ("ai", b"openai", True) in literals
    assert ("key", b"sk-ant-api03-", False) in literals
    assert ("widget", b"widget.intercom.io", True) in literals
    assert len(literals) < 300


def test_lookups_by_id(catalog: Catalog) -> None:
    assert catalog.provider("openai").name == "OpenAI"
    assert catalog.rule("ai-key-browser-exposed").severity == "critical"
    with pytest.raises(Exception, match=r"^nobody: no such provider"):
        catalog.provider("nobody")
    with pytest.raises(Exception, match=r"^no-rule: no such rule"):
        catalog.rule("no-rule")
