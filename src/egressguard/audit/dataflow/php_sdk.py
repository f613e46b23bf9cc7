"""PHP classes that are AI SDK clients, by the catalogue's SDK namespaces.

A receiver is an SDK client when its declared type (a constructor-injected or typed property
of the object's class or of the class it extends) is

    a class in a catalogue SDK namespace       `\\Tidycode\\AIClient\\FraudDetection`
    a Magento factory of one                    `FraudDetectionFactory` (same namespace)
    a project class that extends one (one level)
                                                `ShopAi extends \\Orhanerday\\OpenAi\\OpenAi`

Which of its methods send data: any call with arguments except configuration and accessors
(`setBaseURL(…)`, `getModels()`, `withHeader(…)` …). The host is the provider's default host,
or `sdk:<package>` when the catalogue knows none (a vendor SaaS reached only through its SDK).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from tree_sitter import Node

from egressguard.audit.dataflow import php_ast as A
from egressguard.catalog.hosts import literal_of

if TYPE_CHECKING:
    from egressguard.audit.dataflow.php_context import ClassState
    from egressguard.audit.dataflow.php_symbols import ProjectIndex
    from egressguard.catalog import Catalog
    from egressguard.catalog.schema import SdkMatch

# Methods of an SDK client that configure it or read from it rather than send shop data.
_NOT_A_CALL = re.compile(
    r"^(?:__\w+|set|get|with|is|has|add|remove|create|make|build|configure|list|retrieve"
    r"|delete|cancel|close|init|use|on|reset|clear)(?:[A-Z_]|$)"
)
_FACTORY = "Factory"


def sdk_class(index: ProjectIndex | None, catalog: Catalog, fqcn: str) -> SdkMatch | None:
    """The SDK a class belongs to: by namespace, as a Magento factory of an SDK class or of a
    project subclass, or as a project class extending an SDK class (one level)."""
    fqcn = fqcn.lstrip("\\")
    found = catalog.php_sdk(fqcn)
    if found is not None or index is None:
        return found
    if fqcn in index.sdk_classes:
        return index.sdk_classes[fqcn]
    index.sdk_classes[fqcn] = None  # cycles (a class extending itself) end here
    resolved = index.resolve(fqcn)
    if resolved is not None and resolved[1].parent:
        found = catalog.php_sdk(resolved[1].parent)
    elif resolved is None and fqcn.endswith(_FACTORY) and len(fqcn) > len(_FACTORY):
        found = sdk_class(index, catalog, fqcn[: -len(_FACTORY)])
    index.sdk_classes[fqcn] = found
    return found


def receiver_sdk(
    index: ProjectIndex | None, catalog: Catalog, state: ClassState, call: Node
) -> SdkMatch | None:
    """The SDK of `$this->prop->method(args)` when `prop` holds an SDK client and the method
    sends (has arguments, not a setter/getter); else None."""
    if call.type not in A.METHOD_CALLS or not A.arguments(call):
        return None
    if _NOT_A_CALL.match(A.call_name(call)):
        return None
    prop = A.this_property(A.call_object(call) or call)
    declared = state.prop_type(index, prop) if prop else None
    if declared is None:
        return None
    unit, kind = declared
    return sdk_class(index, catalog, unit.qualify(kind))


def sdk_host(match: SdkMatch) -> str:
    """The provider's default host, or `sdk:<package>` when the catalogue lists none."""
    for rule in match.provider.hosts:
        host = literal_of(rule.pattern)
        if host is not None:
            return host
    return f"sdk:{match.sdk.package}"
