"""Render docs/providers.md from the catalogue facts (kept current by test_providers_doc.py).

.venv/bin/python tests/catalog/providers_doc.py     # rewrite docs/providers.md
"""

from __future__ import annotations

from pathlib import Path

from egressguard.catalog import Catalog, load_catalog
from egressguard.catalog.hosts import literal_of
from egressguard.catalog.schema import HostRule

# Sources as named in the compliance crosswalk, section 7 (vendor documentation it cites).
SOURCES = {
    "openai": (
        "developers.openai.com/api/docs/guides/data-residency; help.openai.com/en/articles/10503543"
    ),
    "azure-openai": "learn.microsoft.com/azure/ai-services/openai/how-to/deployment-types",
    "anthropic": "platform.claude.com/docs/en/manage-claude/data-residency",
    "google-gemini": "firebase.google.com/docs/ai-logic/locations",
    "google-vertex": "docs.cloud.google.com/vertex-ai/generative-ai/docs/learn/data-residency",
    "aws-bedrock": (
        "docs.aws.amazon.com/bedrock/latest/userguide/geographic-cross-region-inference.html"
    ),
    "mistral": "docs.mistral.ai/studio-api/regional-inference",
    "cohere": "cohere.com/privacy; docs.cohere.com/docs/model-vault/regions",
    "aleph-alpha": "github.com/Aleph-Alpha/aleph-alpha-client; aleph-alpha.com/privacy-policy",
    "deepseek": "DeepSeek privacy policy and press reports [2nd]",
    "groq": "press summaries [2nd]",
    "together": "docs.together.ai/docs/privacy-and-security",
    "perplexity": "docs.perplexity.ai/docs/resources/privacy-security",
    "huggingface": (
        "huggingface.co/docs/api-inference/security; huggingface.co/docs/inference-endpoints"
    ),
}
LOCAL = {"ollama", "vllm", "llamacpp", "self-hosted"}
NOT_IN_CROSSWALK = "**verify** (not in the crosswalk)"

HEADER = """\
# AI providers and widgets in the EgressGuard catalogue

Generated from `src/egressguard/catalog/providers.toml` by `tests/catalog/providers_doc.py`;
do not edit by hand. Facts come from the compliance crosswalk (section 7) where it has them;
anything else is marked **verify**. Hosts whose note says "verify" are marked likewise.

Regions: `eu` processing in the EU/EEA; `us` United States; `cn` China; `global` no
location control, or a pinned third country outside the EU other than US/CN (London, Zürich,
Tokyo ...); `local` the shop's own hosts; `unknown` the host does not tell.
Host patterns are regular expressions over the whole host name.
"""


SDK_FIELDS = """
PHP namespaces (`php_namespaces` in providers.toml, per composer package) say which classes
belong to an SDK: a class in that namespace (or the class of that name, e.g. `\\OpenAI`) is the
SDK's, matched case-insensitively on whole namespace segments, longest namespace first. The
catalogue API (`egressguard.catalog.Catalog`) exposes them for other analysers:

- `Catalog.php_sdk(class_name) -> SdkMatch | None`: the provider, SDK and namespace of a fully
  qualified class name (`"\\Tidycode\\AIClient\\FraudDetectionFactory"` -> `tidycode`,
  `tidycode/ai-php-sdk`, `Tidycode\\AIClient`);
- `Catalog.php_namespaces() -> tuple[SdkMatch, ...]`: every (provider, SDK, namespace);
- `Sdk.namespaces`: the namespaces of one package (`Provider.sdks`); the same index as a
  plain function over any provider tuple: `catalog.providers.namespace_index(providers)` and
  `match_namespace(index, class_name)`;
- `Catalog.sdk_provider(ecosystem, package)`: the provider of a composer/npm package;
- `Catalog.ai_package_word(package)`: for a package NOT listed here, the word that marks its
  name as an AI/LLM client (next section), else `None`.

Each provider with `php_namespaces` proves them with `samples.php_match` (class names that
must resolve to it) and may add `samples.php_no_match`; both run in the test suite and, for
custom providers, at load time."""

PACKAGE_WORDS_TEXT = """\
A composer/npm dependency that is not listed above but whose name contains one of these words
as a whole part (between `/`, `-`, `_`, `.`, `@` or the ends, optionally followed by a version
suffix such as `gpt4o`) is reported as `ai-sdk-dependency` at **low** confidence, with a
message saying the provider is inferred from the name (`[ai_package_names]` in
providers.toml). PHP classes injected from such a package when the package is not in the
scanned tree give `ai-client-outside-tree` (see docs/rules.md).
"""


def _host(rule: HostRule) -> str:
    shown = literal_of(rule.pattern) or rule.pattern
    port = f":{rule.port}" if rule.port else ""
    mark = " **verify**" if "verify" in rule.note else ""
    return f"`{shown}{port}` ({rule.region}){mark}"


def _eu(option: bool, remediation: str) -> str:
    return f"yes: {remediation}" if option else f"no. {remediation}"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def provider_rows(catalog: Catalog) -> list[str]:
    rows = [
        "| Provider | Hosts (region) | Jurisdiction | Default region | EU option | Source |",
        "|---|---|---|---|---|---|",
    ]
    for p in catalog.providers:
        hosts = "<br>".join(_host(r) for r in p.hosts) or (
            "(no host: framework, see SDKs)"
            if p.jurisdiction == "-"
            else "(host unknown: inside the vendor SDK, see SDKs)"
        )
        source = SOURCES.get(p.id, "own hosts" if p.id in LOCAL else NOT_IN_CROSSWALK)
        cells = [
            f"{p.name} (`{p.id}`)",
            hosts,
            p.jurisdiction,
            str(p.region),
            _eu(p.eu_option, p.eu_remediation),
            source,
        ]
        rows.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return rows


def widget_rows(catalog: Catalog) -> list[str]:
    rows = [
        "| Widget | Hosts (region) | Jurisdiction | Default region | AI product |",
        "|---|---|---|---|---|",
    ]
    for w in catalog.widgets:
        hosts = "<br>".join(_host(r) for r in w.hosts)
        cells = [
            f"{w.name} (`{w.id}`)",
            hosts,
            f"{w.jurisdiction} **verify**",
            str(w.region),
            "yes" if w.ai else "no",
        ]
        rows.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    return rows


def sdk_rows(catalog: Catalog) -> list[str]:
    rows = ["| Provider | composer | npm | PHP namespaces |", "|---|---|---|---|"]
    for p in catalog.providers:
        if p.sdks:
            composer = ", ".join(f"`{s.package}`" for s in p.sdks if s.ecosystem == "composer")
            npm = ", ".join(f"`{s.package}`" for s in p.sdks if s.ecosystem == "npm")
            spaces = ", ".join(f"`{ns}\\` ({s.package})" for s in p.sdks for ns in s.namespaces)
            rows.append(f"| `{p.id}` | {composer} | {npm} | {spaces} |")
    return rows


def package_word_lines(catalog: Catalog) -> list[str]:
    words = catalog.package_words
    if words is None:
        return []
    return [
        "Words: " + ", ".join(f"`{w}`" for w in words.words) + ".",
        "",
        "Recognised (samples): " + ", ".join(f"`{n}`" for n in words.samples.match) + ".",
        "Not recognised (samples): " + ", ".join(f"`{n}`" for n in words.samples.no_match) + ".",
    ]


def render(catalog: Catalog) -> str:
    parts = [
        HEADER,
        "## Providers\n",
        *provider_rows(catalog),
        "\n## SDK packages\n",
        "`@scope/*` covers the rest of an npm scope; provider-specific framework packages "
        "(`@langchain/openai`, `@ai-sdk/anthropic`) map to the provider itself.\n",
        *sdk_rows(catalog),
        SDK_FIELDS,
        "\n## AI clients recognised by package name\n",
        PACKAGE_WORDS_TEXT,
        *package_word_lines(catalog),
        "\n## Widgets (third-party chat/AI scripts)\n",
        "Public knowledge, not in the crosswalk: every jurisdiction and region here is "
        "**verify**.\n",
        *widget_rows(catalog),
    ]
    return "\n".join(parts) + "\n"


def target() -> Path:
    return Path(__file__).resolve().parents[2] / "docs" / "providers.md"


if __name__ == "__main__":
    target().write_text(render(load_catalog()), encoding="utf-8")
