"""The built-in analysers, registered explicitly (one module per rule family).

| analyser               | rules                                                                |
|------------------------|----------------------------------------------------------------------|
| EndpointAnalyser       | AI call sites -> ai-endpoint, ai-transfer-third-country (engine)      |
| SecretAnalyser         | ai-key-browser-exposed, ai-key-hardcoded, ai-key-in-config-file,     |
|                        | ai-key-rendered-to-browser                                           |
| ConfigAtRestAnalyser   | ai-credential-field-not-encrypted, ai-credential-plaintext-in-dump   |
| KeyInUrlAnalyser       | ai-key-in-url (a credential in an AI endpoint's query string)        |
| DependencyAnalyser     | ai-sdk-dependency                                                    |
| VendorClientAnalyser   | ai-client-outside-tree (AI client injected from an unscanned package) |
| ScriptAnalyser         | ai-script-on-storefront, ai-script-on-checkout                       |
| LoggingAnalyser        | ai-call-without-audit-log, ai-prompt-logged (needs the call sites)   |
| BulkAccessAnalyser     | ai-bulk-data-export (needs the call sites)                           |
| DataFlowAnalyser       | data-flow-to-ai: shop data reaching each AI call (audit/dataflow/)   |
"""

from __future__ import annotations

from egressguard.audit.analysers.base import Analyser, MalformedInput, SourceFile
from egressguard.audit.analysers.bulk import BulkAccessAnalyser
from egressguard.audit.analysers.config_at_rest import ConfigAtRestAnalyser
from egressguard.audit.analysers.dependencies import DependencyAnalyser
from egressguard.audit.analysers.endpoints import EndpointAnalyser
from egressguard.audit.analysers.key_in_url import KeyInUrlAnalyser
from egressguard.audit.analysers.logging_rules import LoggingAnalyser
from egressguard.audit.analysers.scripts import ScriptAnalyser
from egressguard.audit.analysers.secrets import SecretAnalyser
from egressguard.audit.analysers.vendor_clients import VendorClientAnalyser
from egressguard.audit.dataflow.analyser import DataFlowAnalyser

# Every rule the analysers above (and the engine, from their call sites) evaluate: what an
# audit reports as checked (ScanResult.checked_rules), less the rules a user disabled.
AUDIT_RULES = frozenset(
    {
        "ai-endpoint",
        "ai-transfer-third-country",
        "ai-key-browser-exposed",
        "ai-key-hardcoded",
        "ai-key-in-config-file",
        "ai-key-rendered-to-browser",
        "ai-credential-field-not-encrypted",
        "ai-credential-plaintext-in-dump",
        "ai-key-in-url",
        "ai-sdk-dependency",
        "ai-client-outside-tree",
        "ai-script-on-storefront",
        "ai-script-on-checkout",
        "ai-call-without-audit-log",
        "ai-prompt-logged",
        "ai-bulk-data-export",
        "data-flow-to-ai",
    }
)

__all__ = ["AUDIT_RULES", "Analyser", "MalformedInput", "SourceFile", "default_analysers"]


def default_analysers() -> tuple[Analyser, ...]:
    """Every built-in analyser, first-phase ones before those that need the call sites."""
    return (
        EndpointAnalyser(),
        SecretAnalyser(),
        ConfigAtRestAnalyser(),
        KeyInUrlAnalyser(),
        DependencyAnalyser(),
        VendorClientAnalyser(),
        ScriptAnalyser(),
        LoggingAnalyser(),
        BulkAccessAnalyser(),
        DataFlowAnalyser(),
    )
