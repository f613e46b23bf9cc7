"""The data-flow vocabulary as typed values: sources, sinks, field names and sanitisers.

Loaded and validated by dataflow_rules.py; the schema of the TOML files is documented there.
Every rule answers one question from three strings the language engine builds for a call or
an access (the *subject*):

    name      the method/function/variable/property/object path ("getCustomerEmail", "$_POST",
              "customer.email", "useEmail")
    receiver  what the name is called on, with whatever the engine knows about it: its source
              text, declared type and where it came from ("$billing $order->getBillingAddress()")
    args      the source text of the arguments ("'cost'", "$ch, CURLOPT_POSTFIELDS, $body")

and, when the engine knows it, a fourth (only the PHP engine does, for a receiver that is a
typed parameter or a typed/injected `$this->property`):

    receiver_type  the receiver's own declared class, fully qualified through the file's
                   `use` statements, union members joined by "|", scalar types left out
                   ("Magento\\Framework\\App\\RequestInterface"); "" when not known

A sample in a data file is written as the engine would see the subject, e.g.
`$order->getCustomerEmail()`, `$this->checkoutSession->getQuote()`, `curl_setopt($ch,
CURLOPT_POSTFIELDS, $x)`, `customerData.get('cart')`, `customer.email`; `split_subject` turns
it into (name, receiver, args). A sample may start with its receiver's declared class, written
as a PHP parameter is (`Acme\\Ai\\Api\\AiRequestInterface $request->getParams()`);
`split_typed` takes it off.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum

from egressguard.model import Confidence, DataCategory


class SourceKind(StrEnum):
    """What a source rule's `pattern` is matched against."""

    METHOD = "method"  # PHP method name; receiver hint = object/type/origin text
    FUNCTION = "function"  # PHP function name (file_get_contents, getenv)
    VARIABLE = "variable"  # PHP superglobal or JS global, with any subscript ($_POST['q'])
    PROPERTY = "property"  # PHP/JS property read (->email, .customerEmail)
    JS_CALL = "js-call"  # JS call: name = callee's last member, receiver = the rest
    JS_MEMBER = "js-member"  # JS member path read (window.checkoutConfig.quoteData)
    LIQUID_OBJECT = "liquid-object"  # Liquid object path (customer.email, cart.items)
    GRAPHQL_FIELD = "graphql-field"  # Admin GraphQL selection path (customer.email)
    HOOK = "hook"  # checkout UI extension hook (useEmail)
    EVENT = "event"  # webhook topic or Web Pixels event (orders/create, checkout_completed)


class SinkKind(StrEnum):
    """How a sink sends data out."""

    HTTP_CALL = "http-call"  # a generic HTTP client call (Guzzle, Magento Curl, fetch, axios)
    SDK_CALL = "sdk-call"  # a provider SDK call (openai-php, openai, @anthropic-ai/sdk)
    CURL_OPTION = "curl-option"  # curl_setopt(…, CURLOPT_POSTFIELDS, data)
    STREAM_CONTEXT = "stream-context"  # stream_context_create(['http' => ['content' => …]])
    REQUEST_BODY = "request-body"  # a request object's body setter (setRawBody, setContent)
    WS_SEND = "ws-send"  # WebSocket send
    RENDER = "render"  # template output rendered into a browser script or data attribute


class SanitizerKind(StrEnum):
    FUNCTION = "function"  # a plain function call: hash(), md5()
    METHOD = "method"  # a method call: $this->anonymizer->anonymize()
    CALL = "call"  # either


class SanitizerReason(StrEnum):
    HASH = "hash"
    PSEUDONYMISE = "pseudonymise"
    ANONYMISE = "anonymise"
    METADATA = "metadata"  # returns facts about the data, not the data (count, strlen, isset)


# Kinds whose subject has a receiver (split at the last ->, ?->, :: or .).
RECEIVER_KINDS = frozenset(
    {
        SourceKind.METHOD,
        SourceKind.PROPERTY,
        SourceKind.JS_CALL,
        SinkKind.HTTP_CALL,
        SinkKind.SDK_CALL,
        SinkKind.REQUEST_BODY,
        SinkKind.WS_SEND,
    }
)
_LAST_SEP = re.compile(r"(?:\?->|->|::|\?\.|\.)(?=[$\w]+$)")


def split_subject(text: str, with_receiver: bool) -> tuple[str, str, str]:
    """(name, receiver, args) of a sample subject such as `$order->getEmail()`."""
    text = text.strip().rstrip(";").rstrip()
    args = ""
    open_paren = _final_call(text)
    if open_paren is not None:
        text, args = text[:open_paren].rstrip(), text[open_paren + 1 : -1]
    if not with_receiver:
        return text, "", args
    seps = list(_LAST_SEP.finditer(text))
    if not seps:
        return text, "", args
    return text[seps[-1].end() :], text[: seps[-1].start()], args


_TYPED = re.compile(r"^(\\?[A-Za-z_][\w\\]*(?:\|\\?[A-Za-z_][\w\\]*)*)\s+(?=\$)")


def split_typed(text: str) -> tuple[str, str]:
    """(declared class, the rest) of a sample that starts with its receiver's class, as a
    PHP parameter is written: `Acme\\Ai\\AiRequest $request->getParams()`; ("", text) if not."""
    text = text.strip()
    found = _TYPED.match(text)
    if found is None:
        return "", text
    return found.group(1).lstrip("\\"), text[found.end() :]


def _final_call(text: str) -> int | None:
    """Offset of the `(` opening the final argument list of `text`, or None."""
    if not text.endswith(")"):
        return None
    depth = 0
    for pos in range(len(text) - 1, -1, -1):
        depth += (text[pos] == ")") - (text[pos] == "(")
        if depth == 0:
            return pos
    return None


@dataclass(frozen=True, slots=True)
class Samples:
    match: tuple[str, ...] = ()
    no_match: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Matcher:
    """`pattern` searched in the name; optional `receiver` (case-insensitive) searched in the
    receiver hint and `requires` searched in the argument text. Absent means "any".

    `receiver_type` (case-insensitive) is searched in the receiver's declared class when the
    engine knows it (one member of a union is enough). An unknown class passes: the entry
    still applies to an untyped `$request` or to a call result (`$this->getRequest()`)."""

    pattern: re.Pattern[str]
    receiver: re.Pattern[str] | None = None
    requires: re.Pattern[str] | None = None
    receiver_type: re.Pattern[str] | None = None

    def matches(
        self, name: str, receiver: str = "", args: str = "", receiver_type: str = ""
    ) -> bool:
        if self.pattern.search(name) is None:
            return False
        if self.receiver is not None and self.receiver.search(receiver) is None:
            return False
        if not self.type_allows(receiver_type):
            return False
        return self.requires is None or self.requires.search(args) is not None

    def type_allows(self, receiver_type: str) -> bool:
        """No type constraint, an unknown class, or a declared class the constraint names."""
        if self.receiver_type is None or not receiver_type:
            return True
        return any(self.receiver_type.search(t) for t in receiver_type.split("|"))


@dataclass(frozen=True, slots=True)
class SourceRule:
    """Where shop data enters the code. `key_arg`: the first literal argument is a field name
    (getData('cost')) classified by fields.toml, falling back to `category` (`key_only`: no
    fallback, the rule applies only when the key classifies)."""

    id: str
    language: str
    kind: SourceKind
    category: DataCategory
    match: Matcher
    also: frozenset[DataCategory] = frozenset()
    key_arg: bool = False
    key_only: bool = False
    confidence: Confidence = Confidence.HIGH
    note: str = ""
    samples: Samples = Samples()

    @property
    def categories(self) -> frozenset[DataCategory]:
        return self.also | {self.category}


@dataclass(frozen=True, slots=True)
class SinkRule:
    """Where data leaves for an AI service. `payload_args`: 0-based argument positions that
    carry data (empty: every argument); `payload_keys`: when such an argument is an array or
    object literal, only these keys carry the data (empty: every key); `label` names the
    client in the trace ("Guzzle", "openai-php")."""

    id: str
    language: str
    kind: SinkKind
    label: str
    match: Matcher
    payload_args: tuple[int, ...] = ()
    payload_keys: tuple[str, ...] = ()
    url_arg: int | None = None
    confidence: Confidence = Confidence.HIGH
    samples: Samples = Samples()


@dataclass(frozen=True, slots=True)
class FieldRule:
    """A field/key name that says what it holds. `pattern` (and `exclude`) are searched in
    the normalised name: lower-case words joined by "_" (`getKundenEmail` -> "kunden_email",
    `first-name` -> "first_name"); accents are kept (prénom, straße)."""

    id: str
    category: DataCategory
    pattern: re.Pattern[str]
    exclude: re.Pattern[str] | None = None
    samples: Samples = Samples()


@dataclass(frozen=True, slots=True)
class SanitizerRule:
    """A call whose result no longer carries the data (hashing, pseudonymisation, masking)."""

    id: str
    kind: SanitizerKind
    reason: SanitizerReason
    pattern: re.Pattern[str]
    languages: tuple[str, ...] = ()  # empty: every language
    samples: Samples = Samples()

    def applies(self, name: str, is_method: bool, language: str) -> bool:
        if self.languages and language not in self.languages:
            return False
        if self.kind is SanitizerKind.FUNCTION and is_method:
            return False
        if self.kind is SanitizerKind.METHOD and not is_method:
            return False
        return self.pattern.search(name) is not None


@dataclass(frozen=True, slots=True)
class LanguageRules:
    language: str
    sources: tuple[SourceRule, ...] = ()
    sinks: tuple[SinkRule, ...] = ()

    def source(
        self, name: str, receiver: str = "", args: str = "", receiver_type: str = ""
    ) -> SourceRule | None:
        """The first source rule (file order) matching the subject."""
        return next(
            (r for r in self.sources if r.match.matches(name, receiver, args, receiver_type)),
            None,
        )

    def sink(self, name: str, receiver: str = "", args: str = "") -> SinkRule | None:
        return next((r for r in self.sinks if r.match.matches(name, receiver, args)), None)


_CAMEL = re.compile(r"(?<=[a-zà-ÿ0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NON_WORD = re.compile(r"[^\w]+|_+")
_GETTER = re.compile(r"^(?:get|set|has)_(?=.)")
_FIELD_CACHE_MAX = 8192


def normalise_field(name: str) -> str:
    """`getKundenEmail` -> "kunden_email"; `first-name` -> "first_name"; `$_POST` -> "post"."""
    text = unicodedata.normalize("NFC", name.strip().lstrip("$"))
    words = _NON_WORD.sub("_", _CAMEL.sub("_", text)).strip("_").lower()
    return _GETTER.sub("", words)


@dataclass(frozen=True, slots=True)
class DataflowRules:
    """Every language's sources and sinks, the field-name classifier and the sanitisers."""

    languages: tuple[LanguageRules, ...]
    fields: tuple[FieldRule, ...]
    sanitizers: tuple[SanitizerRule, ...]
    _field_cache: dict[str, FieldRule | None] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )

    def language(self, name: str) -> LanguageRules:
        """The rules of one language ("php", "javascript", "liquid"); empty when none."""
        return next((r for r in self.languages if r.language == name), LanguageRules(name))

    def classify_field(self, name: str) -> FieldRule | None:
        """The first field rule (file order) for a key/field/getter name, or None."""
        cache = self._field_cache
        if name not in cache:
            if len(cache) > _FIELD_CACHE_MAX:
                cache.clear()
            cache[name] = _classify(self.fields, normalise_field(name))
        return cache[name]

    def sanitizer(self, name: str, is_method: bool, language: str) -> SanitizerRule | None:
        return next((s for s in self.sanitizers if s.applies(name, is_method, language)), None)


def _classify(fields: tuple[FieldRule, ...], normalised: str) -> FieldRule | None:
    if not normalised:
        return None
    for rule in fields:
        if rule.pattern.search(normalised) and not (
            rule.exclude is not None and rule.exclude.search(normalised)
        ):
            return rule
    return None
