"""Load and validate the data-flow vocabulary: catalog/dataflow/*.toml -> DataflowRules.

    load_dataflow_rules() -> DataflowRules        cached; validated once; CatalogError names
                                                  the entry id (or the file for TOML errors)
    dataflow_rules_from_toml(texts) -> DataflowRules   {file name: TOML text} (tests)
    check_samples(rules)                          run every entry's samples (the test suite)

Files: one per language, named after it (`php.toml`, `javascript.toml`, `liquid.toml`: any
`<language>.toml` except the two shared ones), plus `fields.toml` and `sanitizers.toml`.

SCHEMA (shared by every language file)

    [[sources]]                       # where shop data enters the code; first match wins
    id = "magento-order-customer-email"     # kebab-case, unique in the file, never renamed
    kind = "method"                   # method | function | variable | property | js-call |
                                      # js-member | liquid-object | graphql-field | hook | event
    category = "customer_pii"         # a DataCategory value
    pattern = '^getCustomerEmail$'    # Python regex searched in the name (anchor it)
    receiver = 'order|quote'          # optional; case-insensitive regex searched in the
                                      # receiver hint (object text, type hint, origin)
    receiver_type = '^magento|^psr'   # optional, kinds with a receiver; case-insensitive
                                      # regex searched in the receiver's own declared class,
                                      # fully qualified (a typed parameter or a typed or
                                      # injected $this->property); the entry then applies
                                      # only when that class is unknown (untyped variable,
                                      # call result) or matches. Only PHP knows classes.
    requires = "^\\s*$"               # optional; regex searched in the argument text
    also = ["bulk_export"]            # optional; more categories the source carries
    key_arg = false                   # optional; the first literal argument is a field name
                                      # classified by fields.toml (getData('cost')); its
                                      # category wins over `category`
    key_only = false                  # optional (with key_arg); apply only when the key
                                      # classifies (getData('email') on anything)
    confidence = "high"               # optional; high | medium | low
    note = "…"                        # optional; shown nowhere, for maintainers
    samples.match = ["$order->getCustomerEmail()"]   # subjects this entry must match
    samples.no_match = ["$order->getStoreId()"]      # subjects it must not match

    [[sinks]]                         # where data leaves for an AI service
    id = "guzzle-request"
    kind = "http-call"                # http-call | sdk-call | curl-option | stream-context |
                                      # request-body | ws-send | render
    label = "Guzzle"                  # names the client in the trace
    pattern / receiver / requires / confidence / samples   # as for sources
    payload_args = [2]                # optional; 0-based argument positions carrying data
    payload_keys = ["json", "body"]   # optional; keys of an array/object literal argument
                                      # that carry data; an unlisted key whose value is
                                      # itself a literal is searched (nested options), other
                                      # unlisted keys (headers, model) do not carry data
    url_arg = 1                       # optional; 0-based position of the URL argument: a
                                      # literal URL there that is no AI endpoint means the
                                      # call is not a sink

A sample is the subject as the engine sees it: `receiver->name(args)`, `receiver.name(args)`,
`name(args)` or a bare name/path. For kinds with a receiver (method, property, js-call,
http-call, sdk-call, request-body, ws-send) it is split at the last `->`, `?->`, `::` or `.`,
and may start with the receiver's declared class, written as a PHP parameter is:
`Acme\\Ai\\Api\\AiRequestInterface $request->getParams()` (no class: not known).
A sink only counts when the language engine also ties it to an AI call site (the endpoint
analyser's IntegrationSite); the rules say *how* data is sent, the sites say *where*.

    fields.toml:     [[fields]] id, category, pattern, exclude (optional), samples
                     pattern/exclude are searched in the normalised name (lower-case words
                     joined by "_": getKundenEmail -> kunden_email); first match wins.
    sanitizers.toml: [[sanitizers]] id, kind (function | method | call), reason (hash |
                     pseudonymise | anonymise | metadata), pattern (searched in the called
                     name), languages (optional list; empty = all), samples
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from importlib import resources

import tomli

from egressguard.catalog.dataflow_schema import (
    RECEIVER_KINDS,
    DataflowRules,
    FieldRule,
    LanguageRules,
    Matcher,
    Samples,
    SanitizerKind,
    SanitizerReason,
    SanitizerRule,
    SinkKind,
    SinkRule,
    SourceKind,
    SourceRule,
    split_subject,
    split_typed,
)
from egressguard.catalog.fields import Fields, entry_id
from egressguard.errors import CatalogError
from egressguard.model import Confidence, DataCategory

__all__ = [
    "DataflowRules",
    "FieldRule",
    "LanguageRules",
    "SanitizerRule",
    "SinkRule",
    "SourceRule",
    "check_samples",
    "dataflow_rules_from_toml",
    "load_dataflow_rules",
]

PACKAGE = "egressguard.catalog.dataflow"
FIELDS_FILE = "fields.toml"
SANITIZERS_FILE = "sanitizers.toml"
_SHARED = frozenset({FIELDS_FILE, SANITIZERS_FILE})
_COMMON = frozenset({"id", "kind", "pattern", "receiver", "requires", "confidence", "samples"})
_SOURCE_KEYS = _COMMON | {"category", "also", "key_arg", "key_only", "note", "receiver_type"}
_SINK_KEYS = _COMMON | {"label", "payload_args", "payload_keys", "url_arg", "note"}


@functools.cache
def load_dataflow_rules() -> DataflowRules:
    """The packaged vocabulary (validated once per process)."""
    folder = resources.files(PACKAGE)
    texts = {
        item.name: item.read_text("utf-8")
        for item in folder.iterdir()
        if item.name.endswith(".toml") and item.is_file()
    }
    return dataflow_rules_from_toml(texts)


def dataflow_rules_from_toml(texts: Mapping[str, str]) -> DataflowRules:
    """Build the rules from {file name: TOML text}; a missing shared file means none."""
    languages = tuple(
        _language(name.removesuffix(".toml"), _parse(text, name))
        for name, text in sorted(texts.items())
        if name not in _SHARED
    )
    fields_doc = _parse(texts.get(FIELDS_FILE, ""), FIELDS_FILE)
    sanitizers_doc = _parse(texts.get(SANITIZERS_FILE, ""), SANITIZERS_FILE)
    _only(fields_doc, FIELDS_FILE, {"fields"})
    _only(sanitizers_doc, SANITIZERS_FILE, {"sanitizers"})
    return DataflowRules(
        languages=languages,
        fields=tuple(_parse_field(e) for e in _entries(fields_doc, "fields", FIELDS_FILE)),
        sanitizers=tuple(
            _parse_sanitizer(e) for e in _entries(sanitizers_doc, "sanitizers", SANITIZERS_FILE)
        ),
    )


def _parse(text: str, name: str) -> dict[str, object]:
    try:
        return tomli.loads(text)
    except tomli.TOMLDecodeError as exc:
        raise CatalogError(f"{name}: not valid TOML ({exc})") from exc


def _only(doc: Mapping[str, object], name: str, allowed: set[str]) -> None:
    unknown = sorted(set(doc) - allowed)
    if unknown:
        raise CatalogError(f"{name}: unknown top-level key(s) {', '.join(map(repr, unknown))}")


def _entries(doc: Mapping[str, object], key: str, name: str) -> list[Fields]:
    tables = doc.get(key, [])
    if not isinstance(tables, list):
        raise CatalogError(f"{name}: {key} must be an array of tables ([[{key}]])")
    seen: set[str] = set()
    out: list[Fields] = []
    for i, table in enumerate(tables):
        eid = entry_id(table, f"{name}: {key}[{i}]")
        if eid in seen:
            raise CatalogError(f"{eid}: duplicate id in {name}")
        seen.add(eid)
        assert isinstance(table, Mapping)
        out.append(Fields(eid, table))
    return out


def _language(language: str, doc: Mapping[str, object]) -> LanguageRules:
    name = f"{language}.toml"
    _only(doc, name, {"sources", "sinks"})
    return LanguageRules(
        language=language,
        sources=tuple(_parse_source(e, language) for e in _entries(doc, "sources", name)),
        sinks=tuple(_parse_sink(e, language) for e in _entries(doc, "sinks", name)),
    )


def _parse_source(e: Fields, language: str) -> SourceRule:
    e.only(required={"id", "kind", "category", "pattern", "samples"}, optional=_SOURCE_KEYS)
    kind = e.enum("kind", SourceKind)
    if "receiver_type" in e.table and kind not in RECEIVER_KINDS:
        raise e.error(f"'receiver_type' needs a kind with a receiver, not {kind.value!r}")
    return SourceRule(
        id=e.eid,
        language=language,
        kind=kind,
        category=e.enum("category", DataCategory),
        also=_categories(e, "also"),
        match=_matcher(e),
        key_arg=e.flag("key_arg", False),
        key_only=e.flag("key_only", False),
        confidence=e.enum("confidence", Confidence, Confidence.HIGH),
        note=e.text("note", "", empty=True),
        samples=_samples(e),
    )


def _parse_sink(e: Fields, language: str) -> SinkRule:
    e.only(required={"id", "kind", "label", "pattern", "samples"}, optional=_SINK_KEYS)
    positions = _positions(e, "payload_args")
    url_arg = e.integer("url_arg", -1, low=-1, high=64)
    return SinkRule(
        id=e.eid,
        language=language,
        kind=e.enum("kind", SinkKind),
        label=e.text("label"),
        match=_matcher(e),
        payload_args=positions,
        url_arg=None if url_arg < 0 else url_arg,
        payload_keys=e.texts("payload_keys"),
        confidence=e.enum("confidence", Confidence, Confidence.HIGH),
        samples=_samples(e),
    )


def _categories(e: Fields, key: str) -> frozenset[DataCategory]:
    out: set[DataCategory] = set()
    for i, raw in enumerate(e.texts(key)):
        try:
            out.add(DataCategory(raw))
        except ValueError:
            raise e.error(f"{key}[{i}] = {raw!r} is not a data category") from None
    return frozenset(out)


def _positions(e: Fields, key: str) -> tuple[int, ...]:
    value = e.table.get(key, [])
    if not isinstance(value, list) or not all(
        isinstance(p, int) and not isinstance(p, bool) and p >= 0 for p in value
    ):
        raise e.error(f"{key!r} must be a list of non-negative integers")
    return tuple(value)


def _parse_field(e: Fields) -> FieldRule:
    e.only(required={"id", "category", "pattern", "samples"}, optional={"exclude", "note"})
    exclude = e.text("exclude", "", empty=True)
    return FieldRule(
        id=e.eid,
        category=e.enum("category", DataCategory),
        pattern=e.regex("pattern", e.text("pattern")),
        exclude=e.regex("exclude", exclude) if exclude else None,
        samples=_samples(e),
    )


def _parse_sanitizer(e: Fields) -> SanitizerRule:
    e.only(required={"id", "kind", "reason", "pattern", "samples"}, optional={"languages", "note"})
    return SanitizerRule(
        id=e.eid,
        kind=e.enum("kind", SanitizerKind),
        reason=e.enum("reason", SanitizerReason),
        pattern=e.regex("pattern", e.text("pattern")),
        languages=e.texts("languages"),
        samples=_samples(e),
    )


def _matcher(e: Fields) -> Matcher:
    receiver = e.text("receiver", "", empty=True)
    requires = e.text("requires", "", empty=True)
    receiver_type = e.text("receiver_type", "", empty=True)
    return Matcher(
        pattern=e.regex("pattern", e.text("pattern")),
        receiver=e.regex("receiver", receiver, re.IGNORECASE) if receiver else None,
        requires=e.regex("requires", requires) if requires else None,
        receiver_type=(
            e.regex("receiver_type", receiver_type, re.IGNORECASE) if receiver_type else None
        ),
    )


def _samples(e: Fields) -> Samples:
    sub = e.sub("samples")
    sub.only(required={"match"}, optional={"no_match"})
    match = sub.texts("match")
    if not match:
        raise e.error("samples.match must hold at least one sample")
    return Samples(match=match, no_match=sub.texts("no_match"))


def check_samples(rules: DataflowRules) -> None:
    """Every entry's samples behave as the entry says (CatalogError naming the entry)."""
    for lang in rules.languages:
        for src in lang.sources:
            _check_matcher(src.id, src.kind, src.match, src.samples)
        for sink in lang.sinks:
            _check_matcher(sink.id, sink.kind, sink.match, sink.samples)
    for f in rules.fields:
        for i, name in enumerate(f.samples.match):
            got = rules.classify_field(name)
            if got is None or got.id != f.id:
                found = got.id if got else "nothing"
                raise CatalogError(f"{f.id}: samples.match[{i}] {name!r} classifies as {found}")
        for i, name in enumerate(f.samples.no_match):
            got = rules.classify_field(name)
            if got is not None and got.id == f.id:
                raise CatalogError(f"{f.id}: samples.no_match[{i}] {name!r} classifies as {f.id}")
    for s in rules.sanitizers:
        _check_sanitizer(s)


def _check_matcher(
    eid: str, kind: SourceKind | SinkKind, matcher: Matcher, samples: Samples
) -> None:
    for label, texts, want in (
        ("match", samples.match, True),
        ("no_match", samples.no_match, False),
    ):
        for i, text in enumerate(texts):
            typed = kind in RECEIVER_KINDS
            declared, subject = split_typed(text) if typed else ("", text)
            name, receiver, args = split_subject(subject, typed)
            if matcher.matches(name, receiver, args, declared) is not want:
                raise CatalogError(f"{eid}: samples.{label}[{i}] {text!r} does not behave")


def _check_sanitizer(s: SanitizerRule) -> None:
    for label, texts, want in (
        ("match", s.samples.match, True),
        ("no_match", s.samples.no_match, False),
    ):
        for i, text in enumerate(texts):
            name, receiver, _ = split_subject(text, True)
            language = s.languages[0] if s.languages else "php"
            if s.applies(name, bool(receiver), language) is not want:
                raise CatalogError(f"{s.id}: samples.{label}[{i}] {text!r} does not behave")
