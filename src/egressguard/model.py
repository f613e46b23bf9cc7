"""The shared data model: every stage reads and writes these frozen values.

Data flows one way: sources -> prefilter -> analysers -> findings -> reporters -> CLI.
Nothing here performs I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

SCHEMA_VERSION = "1.0"


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Higher is worse: critical=4 ... info=0."""
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {
    Severity.CRITICAL: 4,
    Severity.HIGH: 3,
    Severity.MEDIUM: 2,
    Severity.LOW: 1,
    Severity.INFO: 0,
}


class Confidence(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class Kind(StrEnum):
    SECRET = "secret"
    DATA_FLOW = "data-flow"
    RESIDENCY = "residency"
    CONFIG_AT_REST = "config-at-rest"
    LOGGING = "logging"
    PII_IN_LOGS = "pii-in-logs"
    THIRD_PARTY_SCRIPT = "third-party-script"
    BULK_ACCESS = "bulk-access"
    INVENTORY = "inventory"


class Region(StrEnum):
    EU = "eu"
    US = "us"
    CN = "cn"
    GLOBAL = "global"
    LOCAL = "local"
    UNKNOWN = "unknown"

    @property
    def is_sovereign(self) -> bool:
        """True when data stays in the EU/EEA or on the shop's own hosts."""
        return self in (Region.EU, Region.LOCAL)


class DataCategory(StrEnum):
    CUSTOMER_PII = "customer_pii"
    PAYMENT = "payment"
    ORDER = "order"
    CART = "cart"
    PROPRIETARY_PRICING = "proprietary_pricing"
    CATALOG = "catalog"
    SHOPPER_TEXT = "shopper_text"
    CREDENTIALS = "credentials"
    BULK_EXPORT = "bulk_export"


class Exposure(StrEnum):
    """Who can read a file's contents: shoppers' browsers, only the server, or stored config."""

    BROWSER = "browser"
    SERVER = "server"
    CONFIG = "config"


class RunsIn(StrEnum):
    SERVER = "server"
    BROWSER = "browser"


class Language(StrEnum):
    PHP = "php"
    PHTML = "phtml"
    JAVASCRIPT = "javascript"
    TYPESCRIPT = "typescript"
    LIQUID = "liquid"
    HTML = "html"
    XML = "xml"
    JSON = "json"
    ENV = "env"
    SQL = "sql"
    TOML = "toml"
    YAML = "yaml"
    OTHER = "other"


class PlatformKind(StrEnum):
    MAGENTO2_ROOT = "magento2"
    MAGENTO2_MODULE = "magento2-module"
    MAGENTO2_THEME = "magento2-theme"
    SHOPIFY_THEME = "shopify-theme"
    SHOPIFY_APP = "shopify-app"
    GENERIC = "generic"


@dataclass(frozen=True, slots=True)
class Location:
    file: str
    line: int


@dataclass(frozen=True, slots=True)
class TraceStep:
    file: str
    line: int
    note: str


@dataclass(frozen=True, slots=True)
class Frameworks:
    gdpr: tuple[str, ...] = ()
    nis2: tuple[str, ...] = ()
    nist_ai_rmf: tuple[str, ...] = ()
    iso27001: tuple[str, ...] = ()
    pci_dss: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Hit:
    """What an analyser reports; the engine turns it into a Finding using the rule catalogue.

    `evidence` must already be masked. `key` is the stable material of the fingerprint:
    it must not contain a line number or a plaintext secret (use a secret's fingerprint).
    """

    rule: str
    line: int
    message: str
    evidence: str
    key: str
    provider: str | None = None
    host: str | None = None
    region: Region | None = None
    severity: Severity | None = None
    confidence: Confidence | None = None
    data_categories: tuple[DataCategory, ...] = ()
    trace: tuple[TraceStep, ...] = ()


@dataclass(frozen=True, slots=True)
class IntegrationSite:
    """One place in the code where an AI provider is called or configured."""

    provider: str
    host: str
    line: int
    runs_in: RunsIn
    feature: str = "unknown"
    # HIGH: the host is in the code/config or an SDK's default; MEDIUM: inferred (a config URL
    # whose path or surrounding branch names the provider).
    confidence: Confidence = Confidence.HIGH


@dataclass(frozen=True, slots=True)
class Finding:
    id: str
    rule: str
    kind: Kind
    severity: Severity
    confidence: Confidence
    file: str
    line: int
    message: str
    evidence: str
    remediation: str
    frameworks: Frameworks
    fingerprint: str
    provider: str | None = None
    host: str | None = None
    region: Region | None = None
    data_categories: tuple[DataCategory, ...] = ()
    trace: tuple[TraceStep, ...] = ()
    excerpt: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Integration:
    provider: str
    provider_name: str
    host: str
    region: Region
    jurisdiction: str
    eu_option: bool
    runs_in: RunsIn
    locations: tuple[Location, ...]
    features: tuple[str, ...] = ()
    data_categories: tuple[DataCategory, ...] = ()  # what the data-flow analysis saw sent


@dataclass(frozen=True, slots=True)
class ProviderInfo:
    """Catalogue facts of a provider or widget vendor that a result mentions."""

    id: str
    name: str
    jurisdiction: str
    region: Region
    eu_option: bool


@dataclass(frozen=True, slots=True)
class Platform:
    kind: PlatformKind
    root: str
    evidence: str


@dataclass(frozen=True, slots=True)
class SkippedTarget:
    file: str
    reason: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Suppressed:
    rule: str
    file: str
    fingerprint: str
    via: str
    reason: str


@dataclass(frozen=True, slots=True)
class ScanStats:
    files_scanned: int
    bytes_scanned: int
    duration_s: float
    candidate_files: int = 0


@dataclass(frozen=True, slots=True)
class Tool:
    name: str
    version: str


@dataclass(frozen=True, slots=True)
class ScanResult:
    tool: Tool
    roots: tuple[str, ...]
    platforms: tuple[Platform, ...]
    integrations: tuple[Integration, ...]
    findings: tuple[Finding, ...]
    skipped: tuple[SkippedTarget, ...]
    stats: ScanStats
    suppressed: tuple[Suppressed, ...] = ()
    warnings: tuple[str, ...] = ()
    providers: tuple[ProviderInfo, ...] = ()
    schema_version: str = SCHEMA_VERSION
    rules: tuple[RuleInfo, ...] = field(default=())
    # Every rule id this scan evaluated: a checked rule without a finding looked and found
    # nothing (the control matrix's "met"); a rule not listed was not looked for at all.
    checked_rules: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RuleInfo:
    """Rule metadata carried into the result so reporters need not import the catalogue."""

    id: str
    kind: Kind
    severity: Severity
    title: str
    description: str
    remediation: str
    frameworks: Frameworks
    help_uri: str = ""
