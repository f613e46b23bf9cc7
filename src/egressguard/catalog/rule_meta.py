"""[[rules]] tables -> RuleMeta values: what each finding rule means, which controls it touches."""

from __future__ import annotations

import re

from egressguard.catalog.fields import Fields
from egressguard.catalog.schema import RuleMeta
from egressguard.model import DataCategory, Frameworks, Kind, Severity

# The rule ids other stages emit; the packaged rules.toml must define every one of them.
REQUIRED_RULE_IDS = frozenset(
    {
        "ai-endpoint",
        "ai-sdk-dependency",
        "ai-client-outside-tree",
        "ai-transfer-third-country",
        "ai-key-browser-exposed",
        "ai-key-hardcoded",
        "ai-key-in-config-file",
        "ai-key-rendered-to-browser",
        "ai-key-in-url",
        "ai-credential-field-not-encrypted",
        "ai-credential-plaintext-in-dump",
        "ai-call-without-audit-log",
        "ai-prompt-logged",
        "ai-script-on-storefront",
        "ai-script-on-checkout",
        "ai-bulk-data-export",
        "data-flow-to-ai",
    }
)

# The shape of a control id per framework, as the compliance crosswalk writes them.
_CONTROL_ID = {
    "gdpr": re.compile(r"Art\. \d+(?:\(\d+\))?(?:\([a-z]\))?"),
    "nis2": re.compile(r"Art\. (?:21\(2\)\([a-j]\)|23(?:\(\d\))?(?:\([a-e]\))?)"),
    "nist_ai_rmf": re.compile(
        r"(?:GOVERN|MAP|MEASURE|MANAGE) \d\.\d+|(?:GV|MP|MS|MG)-\d\.\d+-\d{3}"
    ),
    "iso27001": re.compile(r"[5-8]\.\d{1,2}"),
    "pci_dss": re.compile(r"\d{1,2}(?:\.\d{1,2}){1,3}"),
}
_REQUIRED = ("id", "kind", "severity", "title", "description", "remediation", "frameworks")


def parse_rule(entry: Fields) -> RuleMeta:
    entry.only(_REQUIRED, ("data_categories",))
    categories = entry.texts("data_categories")
    try:
        data_categories = tuple(DataCategory(c) for c in categories)
    except ValueError as exc:
        raise entry.error(f"'data_categories': {exc}") from None
    return RuleMeta(
        id=entry.text("id"),
        kind=entry.enum("kind", Kind),
        severity=entry.enum("severity", Severity),
        title=entry.text("title"),
        description=entry.text("description"),
        remediation=entry.text("remediation"),
        frameworks=_frameworks(entry.sub("frameworks")),
        data_categories=data_categories,
    )


def _frameworks(entry: Fields) -> Frameworks:
    entry.only((), tuple(_CONTROL_ID))
    ids = {name: entry.texts(name) for name in _CONTROL_ID}
    for name, values in ids.items():
        for value in values:
            if not _CONTROL_ID[name].fullmatch(value):
                raise entry.error(f"{name} control id {value!r} is not in the crosswalk's format")
    return Frameworks(**ids)
