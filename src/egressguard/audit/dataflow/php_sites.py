"""AI call sites in PHP that only the syntax tree shows (for the endpoint analyser).

    sdk_call_sites     `$this->client->detectFraud($data)` where `client` is an SDK client by
                       its declared type (php_sdk.py): the provider of the SDK, its default host
    config_url_sites   `$this->curl->post($apiUrl, …)` where `$apiUrl` is read from config
                       (`scopeConfig->getValue(…)`) and the config path (`…/openai_url`) or the
                       branch around the call (`case 'anthropic':`, `if ($p === 'gemini')`,
                       a `match` arm) names one provider: its default host, medium confidence.
                       A config URL with no provider named is no site.

Both parse the file only when a cheap text check says they may find something.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from tree_sitter import Node

from egressguard.audit.dataflow import php_ast as A
from egressguard.audit.dataflow.php_context import ClassState
from egressguard.audit.dataflow.php_sdk import receiver_sdk, sdk_host
from egressguard.audit.dataflow.php_symbols import FileUnit, ProjectIndex, file_unit, project_index
from egressguard.catalog.hosts import literal_of
from egressguard.model import Confidence

if TYPE_CHECKING:
    from egressguard.audit.analysers.base import SourceFile
    from egressguard.catalog import Catalog

_CONFIG_READ = re.compile(r"->\s*(?:getValue|getConfigValue|getStoreConfig)\s*\(")
_REQUEST_CALL = re.compile(
    r"->\s*(?:post|put|patch|postAsync|putAsync|request|requestAsync|send|sendAsync"
    r"|makeRequest|setUri|setUrl)\s*\(|\bcurl_init\b|\bCURLOPT_URL\b|\bfile_get_contents\b"
)
_CONFIG_METHODS = frozenset({"getValue", "getConfigValue", "getStoreConfig"})
# Calls that send a request to their first argument (`request('POST', $url)`: the second).
_REQUESTS = frozenset(
    {"post", "put", "patch", "postAsync", "putAsync", "send", "sendAsync", "makeRequest",
     "setUri", "setUrl", "curl_init", "file_get_contents", "fopen"}
)  # fmt: skip
_METHOD_FIRST = frozenset({"request", "requestAsync"})
_USE = re.compile(rb"^\s*use\s+\\?([\w\\]+)\s*;", re.MULTILINE)
_NAMESPACE = re.compile(rb"^\s*namespace\s+([\w\\]+)", re.MULTILINE)
_EXTENDS = re.compile(rb"\bextends\s+\\?([\w\\]+)")
_TYPED = re.compile(rb"(?<![\w$\\])\\?([A-Z][\w\\]*)\s+&?\$\w")  # `ShopAi $ai`, `?Foo $x`
_WORD = re.compile(r"[a-z0-9]+")
# Words in provider names and ids that name no single provider.
_GENERIC = frozenset(
    {"ai", "api", "the", "self", "hosted", "server", "sdk", "cloud", "developer", "model",
     "set", "in", "code", "provider", "llm", "php", "framework", "vendor", "saas", "host",
     "unknown", "fraud", "detection", "embeddings", "agent", "foundry", "sonar", "cpp",
     "face", "alpha", "together", "amazon", "google"}
)  # fmt: skip
_TEST_DIRS = frozenset({"Test", "Tests", "test", "tests"})
_DEPTH = 8  # tree levels from a URL argument down to its config read


@dataclass(frozen=True, slots=True)
class TreeSite:
    line: int
    provider: str
    host: str
    confidence: Confidence


def tree_sites(f: SourceFile, catalog: Catalog) -> list[TreeSite]:
    """SDK-client calls and provider-branch config URLs of one PHP file (not in test folders:
    unit tests call mocks of SDK clients)."""
    index = project_index(f.project) if f.project is not None else None
    sdk = not _in_tests(f.rel) and _may_hold_sdk_client(f, catalog, index)
    config = (
        _CONFIG_READ.search(f.text) is not None
        and _REQUEST_CALL.search(f.text) is not None
        and _names_provider(f.text, catalog)
    )
    if not (sdk or config):
        return []
    unit = index.unit_of(f.rel, f.data) if index is not None else file_unit(f.rel, f.data)
    found: list[TreeSite] = []
    if sdk:
        found += sdk_call_sites(unit, index, catalog)
    if config:
        found += config_url_sites(unit, catalog)
    return found


# --- SDK clients ---------------------------------------------------------------------------


def sdk_call_sites(unit: FileUnit, index: ProjectIndex | None, catalog: Catalog) -> list[TreeSite]:
    out: list[TreeSite] = []
    for info in unit.classes:
        state = ClassState(info, unit)
        calls = [c for m in info.methods.values() for c in A.walk(m, A.METHOD_CALLS)]
        for call in calls:
            match = receiver_sdk(index, catalog, state, call)
            if match is not None:
                out.append(
                    TreeSite(A.line(call), match.provider.id, sdk_host(match), Confidence.HIGH)
                )
    return out


def _may_hold_sdk_client(f: SourceFile, catalog: Catalog, index: ProjectIndex | None) -> bool:
    """A method call on a property, in a file that names an SDK namespace, imports or extends
    a project class whose file names one (a subclass of an SDK client, a parent holding one)."""
    if b"->" not in f.data:
        return False
    if _names_sdk_namespace(f.data, catalog):
        return True
    if index is None:
        return False
    imports = {m.group(1).rpartition(b"\\")[2]: m.group(1) for m in _USE.finditer(f.data)}
    namespace = _NAMESPACE.search(f.data)
    names = {*_EXTENDS.findall(f.data), *_TYPED.findall(f.data)}
    fqcns = set(imports.values())
    for name in names - set(imports.values()):
        if b"\\" in name or name in imports:
            fqcns.add(imports.get(name, name))
        elif namespace is not None:
            fqcns.add(namespace.group(1) + b"\\" + name)
    for fqcn in sorted(fqcns):
        name = fqcn.decode("ascii", "replace").lstrip("\\")
        for rel in index.paths_of(index.preferences().get(name, name)):
            if _names_sdk_namespace(index.raw(rel), catalog):
                return True
    return False


def _names_sdk_namespace(data: bytes, catalog: Catalog) -> bool:
    """A cheap substring test first; the precise pattern only when a namespace occurs."""
    lower = data.lower()
    if not any(ns in lower for ns in _namespace_words(catalog)):
        return False
    return _namespace_needle(catalog).search(data) is not None


@cache
def _namespace_words(catalog: Catalog) -> tuple[bytes, ...]:
    return tuple(
        sorted(
            {m.namespace.lower().encode() + b"\\" for m in catalog.php_namespaces()}
            | {m.namespace.lower().encode() + b"::" for m in catalog.php_namespaces()}
        )
    )


@cache
def _namespace_needle(catalog: Catalog) -> re.Pattern[bytes]:
    """An SDK namespace as code names it: `use OpenAI\\…`, `\\OpenAI::client(`, not a project
    namespace that merely contains the word (`Bydn\\OpenAi\\…`)."""
    spaces = sorted({re.escape(m.namespace.encode()) for m in catalog.php_namespaces()})
    return re.compile(rb"(?<![\w\\])\\?(?:" + b"|".join(spaces) + rb")(?:\\|::)", re.IGNORECASE)


def _in_tests(rel: str) -> bool:
    return any(part in _TEST_DIRS for part in rel.split("/")[:-1])


# --- config URLs named for a provider -------------------------------------------------------


def config_url_sites(unit: FileUnit, catalog: Catalog) -> list[TreeSite]:
    words = provider_words(catalog)
    out: list[TreeSite] = []
    for info in unit.classes:
        for method in info.methods.values():
            out += _config_calls(unit, info.constants, method, words, catalog)
    return out


def _config_calls(
    unit: FileUnit,
    constants: dict[str, Node],
    method: Node,
    words: dict[str, str],
    catalog: Catalog,
) -> list[TreeSite]:
    assigned: dict[str, Node] = {}
    for node in A.walk(method, frozenset({"assignment_expression"})):
        name = A.variable(node.child_by_field_name("left") or node)
        right = node.child_by_field_name("right")
        if name is not None and right is not None:
            assigned.setdefault(name, right)
    out: list[TreeSite] = []
    for call in A.walk(method, A.CALLS):
        url = _url_argument(call)
        path = _config_path(url, assigned, constants, 0) if url is not None else None
        if path is None:
            continue
        provider = _named(path, words) or _branch_provider(call, method, words)
        host = _default_host(catalog, provider) if provider else None
        if provider and host:
            out.append(TreeSite(A.line(call), provider, host, Confidence.MEDIUM))
    return out


def _url_argument(call: Node) -> Node | None:
    name = A.call_name(call)
    args = A.arguments(call)
    if name in _REQUESTS and args:
        return args[0]
    if name in _METHOD_FIRST and len(args) > 1:
        return args[1]
    if name == "curl_setopt" and len(args) == 3 and A.text(args[1]) == "CURLOPT_URL":
        return args[2]
    return None


def _config_path(
    node: Node, assigned: dict[str, Node], constants: dict[str, Node], depth: int
) -> str | None:
    """The config path a URL expression is read from (`'acme/ai/openai_url'`, or the name and
    value of the class constant holding it); None when it is not read from config."""
    if depth > _DEPTH:
        return None
    if node.type in A.CALLS and A.call_name(node) in _CONFIG_METHODS:
        args = A.arguments(node)
        if not args:
            return None
        literal = A.string_value(args[0])
        if literal is not None:
            return literal
        const = A.text(args[0]).rpartition("::")[2]
        value = constants.get(const)
        return f"{const} {A.string_value(value) or ''}" if value is not None else const
    if node.type == "variable_name":
        origin = assigned.get(A.text(node))
        return _config_path(origin, assigned, constants, depth + 1) if origin else None
    for child in node.named_children:  # concatenation, rtrim($url, '/') . '?key=', casts
        found = _config_path(child, assigned, constants, depth + 1)
        if found is not None:
            return found
    return None


def _branch_provider(call: Node, method: Node, words: dict[str, str]) -> str | None:
    """The provider named by the branch the call sits in: `case 'openai':`, an `if`/`elseif`
    comparing with 'anthropic', a `match` arm for 'gemini' (nearest branch first)."""
    node: Node | None = call
    while node is not None and node != method:
        parent = node.parent
        if parent is None:
            break
        label: Node | None = None
        if parent.type == "case_statement":
            label = parent.named_children[0] if parent.named_children else None
        elif parent.type in ("if_statement", "else_if_clause") and node == (
            parent.child_by_field_name("body")
        ):
            label = parent.child_by_field_name("condition")
        elif parent.type == "match_conditional_expression":
            label = parent.named_children[0] if parent.named_children else None
        found = _named(_strings(label), words) if label is not None else None
        if found is not None:
            return found
        node = parent
    return None


def _strings(node: Node) -> str:
    if A.string_value(node) is not None:
        return A.string_value(node) or ""
    return " ".join(
        A.string_value(s) or "" for s in A.walk(node, frozenset({"string", "encapsed_string"}))
    )


def _named(text: str, words: dict[str, str]) -> str | None:
    """The one provider the words of `text` name (`openai_url`, 'anthropic'), else None."""
    named = {words[w] for w in _WORD.findall(text.lower()) if w in words}
    return named.pop() if len(named) == 1 else None


def _names_provider(text: str, catalog: Catalog) -> bool:
    words = provider_words(catalog)
    return any(w in words for w in set(_WORD.findall(text.lower())))


@cache
def provider_words(catalog: Catalog) -> dict[str, str]:
    """word -> provider id for words that name exactly one provider: ids and their parts,
    keywords, and the words of provider names ("claude" -> anthropic); an exact id wins."""
    owners: dict[str, set[str]] = {}
    for p in catalog.providers:
        words = {p.id, *p.id.split("-"), *_WORD.findall(p.name.lower())}
        words |= {re.sub(r"[^a-z0-9]", "", k) for k in p.keywords}
        for w in words - _GENERIC:
            if len(w) >= 4 and not w.isdigit():
                owners.setdefault(w, set()).add(p.id)
    out = {w: next(iter(ids)) for w, ids in owners.items() if len(ids) == 1}
    out.update({p.id: p.id for p in catalog.providers if "-" not in p.id})
    return out


def _default_host(catalog: Catalog, provider_id: str) -> str | None:
    for rule in catalog.provider(provider_id).hosts:
        host = literal_of(rule.pattern)
        if host is not None:
            return host
    return None
