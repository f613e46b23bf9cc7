"""Reversible tokens: their form, how they are minted, and which conversation they belong to.

A token looks like `[EMAIL_7f3a9c]`: one bracket type, the category in upper case, an underscore
and at least six lower-case hex digits of

    HMAC-SHA256(secret, "egressguard/token/v1" || f(tenant) || f(conversation) || f(category)
                        || f(normalised value))

where `f(x)` is the UTF-8 bytes of `x` prefixed by their length (4 bytes, big-endian), so no two
different field tuples share an input. The same value in the same tenant and conversation always
gets the same token (so a model quoting a token from an earlier turn is restored); another tenant
or conversation gets an unrelated one, and without the secret nobody can compute or test a guess.

Collisions: six hex digits are 24 bits. When the caller says a token is already bound to a
different value or to another conversation (`bound`, a lookup over this request's tokens and the
vault), the digest is lengthened two hex digits at a time. Lengthening is deterministic, so the
second value keeps its longer token on later turns too. Two requests racing for the same short
token (two gateway processes on one vault) are settled by the vault: the second write is refused
and the caller mints again, now seeing the first binding (`protect.ShopProtector.redact`).
Tokens are prefix-free (each ends with `]`, which no token holds inside), which the stream
restorer relies on.

Conversation ids (`Tokenizer.conversation_id`), first match wins:

1. the `x-egressguard-conversation` request header;
2. `metadata.conversation_id` in the body (OpenAI chat/responses, any string);
3. the Responses API `conversation` (a string or `{"id": ...}`);
4. the Responses API `previous_response_id`: the conversation of the answer it names, when the
   gateway recorded it for this tenant (`previous`, a lookup in the vault), so a chain of
   responses stays one conversation although each turn sends only its new input;
5. the end user: OpenAI `user`, Anthropic `metadata.user_id` (tokens are then stable across that
   user's conversations, a wider scope than one conversation);
6. the first user message (chat, messages, responses), else the prompt (completions) or the input
   (embeddings): clients resend the whole history on every turn, so it is the same on every turn.

The id is `"<source>:" + 32 hex digits` of a keyed digest of the tenant and the material, so it
carries no personal data (a first message or a `user` e-mail) into logs.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from egressguard.gateway.actions import Api

TOKEN_PATTERN = re.compile(r"\[[A-Z][A-Z0-9_]*_[0-9a-f]{6,64}\]")
"""A complete token. Tokens contain no `[` or `]` inside, so matches never overlap."""

MASK_PATTERN = re.compile(r"\[[A-Z][A-Z0-9_]*\]")
"""An irreversible placeholder written by the mask action, e.g. `[EMAIL]`."""

CONVERSATION_HEADER = "x-egressguard-conversation"

MIN_HEX = 6
MAX_HEX = 64
_TOKEN_DOMAIN = b"egressguard/token/v1"
_CONVERSATION_DOMAIN = b"egressguard/conversation/v1"

_NON_LABEL = re.compile(r"[^A-Z0-9]+")
_NON_ALNUM = re.compile(r"[^0-9A-Za-z]")
_SPACES = re.compile(r"\s+")
# Identifiers whose separators carry no meaning: `DE89 3704-0044` is `DE8937040044`.
_COMPACT_CATEGORIES = frozenset({"phone", "card", "iban", "vat_id", "national_id"})


class Binding(NamedTuple):
    """What a token already stands for: its value and the conversation it was minted for
    (`None`: an entry from before conversations were recorded, any conversation)."""

    value: str
    conversation: str | None

    def admits(self, category: str, value: str, conversation: str, key: str | None = None) -> bool:
        """Whether the token may stand for `value` in `conversation` too: same conversation
        (or none recorded) and the same value or an equal spelling (`key`: `value` already
        normalised, when the caller has it)."""
        if self.conversation not in (None, conversation):
            return False
        if self.value == value:
            return True
        return normalise(category, self.value) == (key or normalise(category, value))


def label(category: str) -> str:
    """The token label of a category: `person_name` -> `PERSON_NAME` (starts with a letter)."""
    text = _NON_LABEL.sub("_", category.upper()).strip("_")
    return text if text[:1].isalpha() else f"DATA_{text}".rstrip("_")


def mask(category: str) -> str:
    """The irreversible placeholder of the mask action: `email` -> `[EMAIL]`."""
    return f"[{label(category)}]"


def normalise(category: str, value: str) -> str:
    """The form of a value that decides its token: equal values get equal tokens."""
    if not value.isascii():
        value = unicodedata.normalize("NFKC", value)
    text = _SPACES.sub(" ", value).strip()
    if category in _COMPACT_CATEGORIES:
        return _NON_ALNUM.sub("", text).upper()
    return text.casefold()


def _fields(*parts: str) -> bytes:
    raws = [part.encode("utf-8", "surrogatepass") for part in parts]
    return b"".join(len(raw).to_bytes(4, "big") + raw for raw in raws)


class Tokenizer:
    """Mints tokens with a deployment secret. Holds no per-request state; safe to share."""

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the token secret must be at least 16 bytes")
        # HMAC-SHA256 (RFC 2104) with the padded-key states computed once: the same digest as
        # `hmac.new(secret, msg, sha256)`, without OpenSSL's per-call MAC setup (~3x faster).
        key = secret if len(secret) <= 64 else hashlib.sha256(secret).digest()
        key = key.ljust(64, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))
        self._labels: dict[str, str] = {}  # category -> label (a handful of entries)

    def _digest(self, domain: bytes, *parts: str) -> str:
        inner = self._inner.copy()
        inner.update(domain + _fields(*parts))
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()

    def token(
        self,
        tenant: str,
        conversation: str,
        category: str,
        value: str,
        *,
        bound: Callable[[str], Binding | None] | None = None,
    ) -> str:
        """The token of `value`. `bound(token)` returns what a token already stands for; the
        shortest candidate that is free, or bound to this value in this conversation, wins."""
        key = normalise(category, value)
        digest = self._digest(_TOKEN_DOMAIN, tenant, conversation, category, key)
        name = self._labels.get(category) or self._labels.setdefault(category, label(category))
        for width in range(MIN_HEX, MAX_HEX + 1, 2):
            candidate = f"[{name}_{digest[:width]}]"
            taken = bound(candidate) if bound is not None else None
            if taken is None or taken.admits(category, value, conversation, key):
                return candidate
        raise ValueError("token space exhausted")  # 256-bit collision: not reachable

    def conversation_id(
        self,
        tenant: str,
        api: Api,
        body: Mapping[str, Any],
        *,
        header: str | None = None,
        previous: Callable[[str], str | None] | None = None,
    ) -> str:
        """The conversation a request belongs to (see the module docstring for the rule);
        `previous(response_id)` is the recorded conversation of an earlier answer."""
        source, material = conversation_source(api, body, header)
        chained = body.get("previous_response_id") if api is Api.RESPONSES else None
        if previous is not None and source in ("user", "first-message") and _nonempty(chained):
            found = previous(str(chained))
            if found is not None:
                return found
        return f"{source}:{self._digest(_CONVERSATION_DOMAIN, tenant, source, material)[:32]}"


def conversation_source(
    api: Api, body: Mapping[str, Any], header: str | None = None
) -> tuple[str, str]:
    """(source, material) of a request's conversation id, first match of the documented rule."""
    if header and header.strip():
        return "header", header.strip()
    metadata = body.get("metadata")
    metadata = metadata if isinstance(metadata, Mapping) else {}
    if _nonempty(metadata.get("conversation_id")):
        return "metadata", str(metadata["conversation_id"])
    conversation = body.get("conversation")
    if isinstance(conversation, Mapping):
        conversation = conversation.get("id")
    if api is Api.RESPONSES and _nonempty(conversation):
        return "conversation", str(conversation)
    for user in (body.get("user"), metadata.get("user_id")):
        if _nonempty(user):
            return "user", str(user)
    return "first-message", _first_user_text(api, body)


def _nonempty(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _first_user_text(api: Api, body: Mapping[str, Any]) -> str:
    if api is Api.COMPLETIONS:
        return _first_string(body.get("prompt"))
    if api is Api.EMBEDDINGS:
        return _first_string(body.get("input"))
    items = body.get("input") if api is Api.RESPONSES else body.get("messages")
    if isinstance(items, str):
        return items.strip()
    for item in items if isinstance(items, list) else ():
        if isinstance(item, Mapping) and item.get("role") == "user":
            return _content_text(item.get("content")).strip()
    return ""


def _first_string(value: object) -> str:
    if isinstance(value, list) and value:
        value = value[0]
    return value.strip() if isinstance(value, str) else ""


def _content_text(content: object) -> str:
    if isinstance(content, str):
        return content
    parts = content if isinstance(content, list) else ()
    return "\n".join(
        part["text"]
        for part in parts
        if isinstance(part, Mapping) and isinstance(part.get("text"), str)
    )
