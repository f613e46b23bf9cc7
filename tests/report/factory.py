"""Hand-built ScanResults for the reporter tests (no scanner involved).

`build_result()` is realistic: findings of several kinds and severities (one with a trace
and data categories, several with masked excerpts), browser and server integrations on
Magento 2 and Shopify, skipped files with awkward names (spaces, unicode, `<script>`),
suppressed entries, warnings and rule metadata (one rule deliberately left out, as a
result from an older catalogue might).

The fake API key below is planted only to prove that reporters never unmask: the result
carries `mask(RAW_OPENAI_KEY)` only, and the tests assert the raw value never comes out.
"""

from __future__ import annotations

from egressguard.masking import fingerprint, mask
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

# Built from parts so that no secret scanner mistakes this test file for a leak.
RAW_OPENAI_KEY = "sk-" + "proj-" + "EgressGuardFakeKey" + "0123456789abcdefXYZ"
RAW_ANTHROPIC_KEY = "sk-" + "ant-" + "api03-" + "FakeFakeFakeFake" + "9876543210"
XSS = "<script>alert(1)</script>"

MODULE = "app/code/Acme/AiAssist"
THEME = "themes/dawn-ai"

SECRET_FW = Frameworks(
    gdpr=("Art. 32(1)(b)",),
    nis2=("21(2)(h)", "21(2)(i)"),
    nist_ai_rmf=("MEASURE 2.7",),
    iso27001=("5.17", "8.24"),
    pci_dss=("8.3.2",),
)
PII_FW = Frameworks(
    gdpr=("Art. 5(1)(c)", "Art. 25(2)", "Art. 44"),
    nis2=("21(2)(a)",),
    nist_ai_rmf=("MEASURE 2.10", "MAP 4.1"),
    iso27001=("5.14", "5.34", "8.11"),
)
SCRIPT_FW = Frameworks(
    gdpr=("Art. 28",), nis2=("21(2)(d)",), iso27001=("8.16",), pci_dss=("6.4.3", "11.6.1")
)
CONFIG_FW = Frameworks(gdpr=("Art. 32(1)(b)",), iso27001=("5.17", "8.4"))
LOG_FW = Frameworks(gdpr=("Art. 5(1)(c)", "Art. 32"), iso27001=("8.15",))
BULK_FW = Frameworks(gdpr=("Art. 5(1)(c)",), pci_dss=("3.2.1",))
INVENTORY_FW = Frameworks(gdpr=("Art. 30(1)",), nist_ai_rmf=("GOVERN 1.6",))


def _key_in_frontend() -> Finding:
    masked = mask(RAW_OPENAI_KEY)
    return Finding(
        id="F001",
        rule="ai-key-in-frontend",
        kind=Kind.SECRET,
        severity=Severity.CRITICAL,
        confidence=Confidence.HIGH,
        file=f"{MODULE}/view/frontend/web/js/chat-widget.js",
        line=12,
        message="OpenAI API key shipped to shoppers' browsers",
        evidence=f'apiKey: "{masked}"',
        remediation="Revoke the key at OpenAI, then call the API from the server through a proxy.",
        frameworks=SECRET_FW,
        fingerprint=fingerprint(RAW_OPENAI_KEY),
        provider="openai",
        host="api.openai.com",
        region=Region.US,
        data_categories=(DataCategory.CREDENTIALS,),
        excerpt=(
            (10, "define(['jquery'], function ($) {"),
            (11, "    var client = {"),
            (12, f'        apiKey: "{masked}",'),
            (13, "        model: 'gpt-4o-mini'"),
            (14, "    };"),
        ),
    )


def _pii_to_openai() -> Finding:
    return Finding(
        id="F002",
        rule="pii-to-ai-provider",
        kind=Kind.DATA_FLOW,
        severity=Severity.HIGH,
        confidence=Confidence.MEDIUM,
        file=f"{MODULE}/Model/PromptBuilder.php",
        line=48,
        message="Customer e-mail and order history are sent to OpenAI (US) in a prompt",
        evidence="$prompt .= $customer->getEmail() . $order->getItems();",
        remediation="Send only the fields the feature needs; pseudonymise customer data "
        "or use an EU-hosted model with a DPA.",
        frameworks=PII_FW,
        fingerprint="sha256:5d41402abc4b",
        provider="openai",
        host="api.openai.com",
        region=Region.US,
        data_categories=(DataCategory.CUSTOMER_PII, DataCategory.ORDER),
        trace=(
            TraceStep(f"{MODULE}/Controller/Ajax/Suggest.php", 31, "loads the customer session"),
            TraceStep(
                f"{MODULE}/Model/PromptBuilder.php", 48, "adds e-mail and items to the prompt"
            ),
            TraceStep(f"{MODULE}/Model/OpenAiClient.php", 77, "POST to api.openai.com/v1/chat"),
        ),
        excerpt=(
            (47, "$prompt = 'Suggest products for:';"),
            (48, "$prompt .= $customer->getEmail() . $order->getItems();"),
            (49, "return $this->client->complete($prompt);"),
        ),
    )


def _widget_on_checkout() -> Finding:
    return Finding(
        id="F003",
        rule="ai-script-on-checkout",
        kind=Kind.THIRD_PARTY_SCRIPT,
        severity=Severity.HIGH,
        confidence=Confidence.HIGH,
        file=f"{THEME}/layout/checkout.liquid",
        line=88,
        message=f"AI chat widget loaded on the checkout page (tag: {XSS})",
        evidence='<script src="https://widget.chatbase.co/embed.min.js" defer></script>',
        remediation="Remove the widget from checkout and payment pages, or list it in the "
        "PCI DSS 6.4.3 script inventory with an integrity check.",
        frameworks=SCRIPT_FW,
        fingerprint="sha256:9f86d081884c",
        provider="chatbase",
        host="widget.chatbase.co",
        region=Region.US,
        data_categories=(DataCategory.PAYMENT, DataCategory.SHOPPER_TEXT),
    )


def _key_in_env() -> Finding:
    masked = mask(RAW_ANTHROPIC_KEY)
    return Finding(
        id="F004",
        rule="ai-key-in-config",
        kind=Kind.CONFIG_AT_REST,
        severity=Severity.MEDIUM,
        confidence=Confidence.HIGH,
        file="app/etc/env.php",
        line=77,
        message="Anthropic API key stored in plain text in app/etc/env.php",
        evidence=f"'api_key' => '{masked}'",
        remediation="Move the key to a secret manager or an environment variable and rotate it.",
        frameworks=CONFIG_FW,
        fingerprint=fingerprint(RAW_ANTHROPIC_KEY),
        provider="anthropic",
        host="api.anthropic.com",
        region=Region.US,
        data_categories=(DataCategory.CREDENTIALS,),
        excerpt=((76, "'ai' => ["), (77, f"    'api_key' => '{masked}',"), (78, "],")),
    )


def _bulk_export() -> Finding:
    return Finding(
        id="F005",
        rule="bulk-orders-to-ai",
        kind=Kind.BULK_ACCESS,
        severity=Severity.MEDIUM,
        confidence=Confidence.LOW,
        file=f"{MODULE}/Cron/Summarise.php",
        line=22,
        message="Query `SELECT * FROM sales_order` | all orders go to one prompt",
        evidence="$rows = $conn->fetchAll('SELECT * FROM sales_order');",
        remediation="Aggregate on the server; send counts, never whole order tables.",
        frameworks=BULK_FW,
        fingerprint="sha256:2c26b46b68ff",
        provider="mistral",
        host="api.mistral.ai",
        region=Region.EU,
        data_categories=(DataCategory.BULK_EXPORT, DataCategory.ORDER),
    )


def _shopper_text_logged() -> Finding:
    return Finding(
        id="F006",
        rule="prompt-logged",
        kind=Kind.PII_IN_LOGS,
        severity=Severity.LOW,
        confidence=Confidence.MEDIUM,
        file=f"{MODULE}/Logger/Handler.php",
        line=30,
        message="Chat prompts written to var/log/ai.log with the shopper's text",
        evidence="$this->logger->info('prompt', ['text' => $prompt]);",
        remediation="Log prompt length and a hash, not the prompt itself.",
        frameworks=LOG_FW,
        fingerprint="sha256:fcde2b2edba5",
        data_categories=(DataCategory.SHOPPER_TEXT,),
    )


def _inventory() -> Finding:
    return Finding(
        id="F007",
        rule="ai-integration",
        kind=Kind.INVENTORY,
        severity=Severity.INFO,
        confidence=Confidence.HIGH,
        file=f"{THEME}/sections/ai search.liquid",
        line=5,
        message="Mistral AI search called from the storefront (EU endpoint)",
        evidence="fetch('https://api.mistral.ai/v1/embeddings')",
        remediation="Record the integration in the records of processing (GDPR Art. 30).",
        frameworks=INVENTORY_FW,
        fingerprint="sha256:b5bb9d8014a0",
        provider="mistral",
        host="api.mistral.ai",
        region=Region.EU,
    )


def findings() -> tuple[Finding, ...]:
    """Sorted worst first, as the engine delivers them."""
    return (
        _key_in_frontend(),
        _pii_to_openai(),
        _widget_on_checkout(),
        _key_in_env(),
        _bulk_export(),
        _shopper_text_logged(),
        _inventory(),
    )


def integrations() -> tuple[Integration, ...]:
    return (
        Integration(
            provider="openai",
            provider_name="OpenAI",
            host="api.openai.com",
            region=Region.US,
            jurisdiction="US",
            eu_option=True,
            runs_in=RunsIn.BROWSER,
            locations=(Location(f"{MODULE}/view/frontend/web/js/chat-widget.js", 12),),
            features=("chat widget",),
        ),
        Integration(
            provider="openai",
            provider_name="OpenAI",
            host="api.openai.com",
            region=Region.US,
            jurisdiction="US",
            eu_option=True,
            runs_in=RunsIn.SERVER,
            locations=(
                Location(f"{MODULE}/Model/OpenAiClient.php", 77),
                Location(f"{MODULE}/Model/PromptBuilder.php", 52),
            ),
            features=("product suggestions",),
        ),
        Integration(
            provider="anthropic",
            provider_name="Anthropic",
            host="api.anthropic.com",
            region=Region.US,
            jurisdiction="US",
            eu_option=False,
            runs_in=RunsIn.SERVER,
            locations=(Location("app/etc/env.php", 77),),
        ),
        Integration(
            provider="mistral",
            provider_name="Mistral AI",
            host="api.mistral.ai",
            region=Region.EU,
            jurisdiction="FR",
            eu_option=True,
            runs_in=RunsIn.BROWSER,
            locations=(Location(f"{THEME}/sections/ai search.liquid", 5),),
            features=("site search",),
        ),
    )


def rules() -> tuple[RuleInfo, ...]:
    """Metadata for every rule above except `ai-integration` (the SARIF fallback path)."""
    return (
        RuleInfo(
            id="ai-key-in-frontend",
            kind=Kind.SECRET,
            severity=Severity.CRITICAL,
            title="AI provider key in front-end code",
            description="An AI provider API key is readable in JavaScript, a template or a "
            "theme that shoppers' browsers download.",
            remediation="Revoke the key and call the provider from the server.",
            frameworks=SECRET_FW,
            help_uri="https://egressguard.example/rules/ai-key-in-frontend",
        ),
        RuleInfo(
            id="pii-to-ai-provider",
            kind=Kind.DATA_FLOW,
            severity=Severity.HIGH,
            title="Personal data sent to an AI provider",
            description="Customer personal data flows into a request to an AI provider.",
            remediation="Minimise, pseudonymise, or use an EU-hosted model under a DPA.",
            frameworks=PII_FW,
        ),
        RuleInfo(
            id="ai-script-on-checkout",
            kind=Kind.THIRD_PARTY_SCRIPT,
            severity=Severity.HIGH,
            title="AI script on a payment page",
            description="A third-party AI script runs on checkout or payment pages.",
            remediation="Remove it or inventory and integrity-check it (PCI DSS 6.4.3).",
            frameworks=SCRIPT_FW,
        ),
        RuleInfo(
            id="ai-key-in-config",
            kind=Kind.CONFIG_AT_REST,
            severity=Severity.MEDIUM,
            title="AI provider key in a configuration file",
            description="An AI provider key is stored in plain text in configuration.",
            remediation="Use a secret manager or environment variables.",
            frameworks=CONFIG_FW,
        ),
        RuleInfo(
            id="bulk-orders-to-ai",
            kind=Kind.BULK_ACCESS,
            severity=Severity.MEDIUM,
            title="Bulk order data sent to an AI provider",
            description="Whole tables of orders or customers are read and sent in one request.",
            remediation="Aggregate on the server.",
            frameworks=BULK_FW,
        ),
        RuleInfo(
            id="prompt-logged",
            kind=Kind.PII_IN_LOGS,
            severity=Severity.LOW,
            title="Prompts written to logs",
            description="Prompts that contain shopper text are logged.",
            remediation="Log metadata, not prompt text.",
            frameworks=LOG_FW,
        ),
    )


def skipped() -> tuple[SkippedTarget, ...]:
    return (
        SkippedTarget("media/product photo 01.psd", "binary file"),
        SkippedTarget("i18n/de_DE/übersetzung – groß.csv", "too large", "12.4 MB > 10 MB limit"),
        SkippedTarget(f"{THEME}/snippets/{XSS}.liquid", "not valid UTF-8", "invalid byte at 17"),
    )


def suppressed() -> tuple[Suppressed, ...]:
    return (
        Suppressed(
            rule="ai-key-in-config",
            file="dev/tests/fixtures/env.php",
            fingerprint="sha256:0a1b2c3d4e5f",
            via="baseline",
            reason="test fixture with a revoked key",
        ),
        Suppressed(
            rule="prompt-logged",
            file=f"{MODULE}/Logger/Debug.php",
            fingerprint="sha256:6a7b8c9d0e1f",
            via="inline",
            reason="debug logger disabled in production",
        ),
    )


def build_result() -> ScanResult:
    return ScanResult(
        tool=Tool(name="egressguard", version="0.1.0"),
        roots=("examples/magento2-module", "examples/shopify-theme"),
        platforms=(
            Platform(PlatformKind.MAGENTO2_MODULE, "examples/magento2-module", "registration.php"),
            Platform(PlatformKind.SHOPIFY_THEME, "examples/shopify-theme", "layout/theme.liquid"),
        ),
        integrations=integrations(),
        findings=findings(),
        skipped=skipped(),
        stats=ScanStats(
            files_scanned=412, bytes_scanned=3_481_233, duration_s=0.87, candidate_files=37
        ),
        suppressed=suppressed(),
        warnings=("2 files were larger than 1 MB and were scanned for secrets only",),
        rules=rules(),
        providers=(
            ProviderInfo("anthropic", "Anthropic", "US", Region.US, True),
            ProviderInfo("chatbase", "Chatbase", "US", Region.UNKNOWN, False),
            ProviderInfo("mistral", "Mistral AI", "FR", Region.GLOBAL, True),
            ProviderInfo("openai", "OpenAI", "US", Region.GLOBAL, True),
        ),
    )


def build_empty_result() -> ScanResult:
    """A clean scan: nothing found, nothing skipped, no data categories known."""
    return ScanResult(
        tool=Tool(name="egressguard", version="0.1.0"),
        roots=(".",),
        platforms=(),
        integrations=(),
        findings=(),
        skipped=(),
        stats=ScanStats(files_scanned=3, bytes_scanned=512, duration_s=0.01),
    )
