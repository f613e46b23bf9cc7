"""Does a name (config path, field id, label, template expression) denote an AI credential?

Shared by the secret analyser (templates that render a secret), the config-at-rest analyser
(admin fields and dump rows) and nothing else. Names are split into lower-case words, so
"getOpenAiKey", "openai/general/api_key" and "OpenAI API Key" are all understood:

    words("getOpenAiKey")           -> {"get", "open", "ai", "key"}
    names_credential("api_key")     -> True       names_credential("max_tokens") -> False
    names_credential("site_key")    -> False      (public by design: reCAPTCHA, Maps)
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from egressguard.catalog import Catalog

_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")

# Words that make a name a credential on their own.
_STRONG = frozenset(
    {"secret", "password", "passwd", "bearer", "apikey", "accesskey", "secretkey", "authtoken"}
)
# "key" is a credential only next to one of these (or alone): not "form_key", "cache_key".
_KEY_QUALIFIERS = frozenset(
    {"api", "access", "secret", "private", "auth", "license", "subscription"}
)
# Public-by-design values or things about a credential that are not the credential itself.
_NOT_A_SECRET = frozenset(
    {
        "public", "publishable", "site", "label", "comment", "placeholder", "hint", "title",
        "tooltip", "url", "link", "header", "is", "has", "enabled", "configured", "exists",
        "valid", "length", "masked", "hash", "name", "note", "type",
    }
)  # fmt: skip
_TOKEN_COUNTS = frozenset({"max", "limit", "count", "num", "budget", "usage", "tokens", "per"})

# Words and word-parts that make a name AI-related.
_AI_WORDS = frozenset(
    {
        "ai", "openai", "chatgpt", "gpt", "llm", "anthropic", "claude", "gemini", "mistral",
        "assistant", "chatbot", "copilot", "copywriter", "genai", "cohere", "groq", "deepseek",
        "perplexity", "ollama", "huggingface", "vertex", "bedrock",
    }
)  # fmt: skip
_AI_PARTS = (
    "openai",
    "chatgpt",
    "gpt",
    "anthropic",
    "claude",
    "gemini",
    "mistral",
    "llm",
    "chatbot",
    "copilot",
    "deepseek",
    "perplexity",
    "huggingface",
)
# The same idea over free text (a whole template): a provider word anywhere, or "AI" as a word
# or a camel-case part ("Acme_AiChat", "AI Assistant", "ai_assistant").
_AI_TEXT = re.compile(
    r"(?i:openai|chatgpt|gpt|anthropic|claude|gemini|mistral|llm|chatbot|copilot|deepseek"
    r"|perplexity|groq|cohere|huggingface|ollama)"
    r"|(?<![A-Za-z])(?:ai|AI|Ai)(?![a-z])"
)


def words(name: str) -> frozenset[str]:
    """The lower-case words of an identifier, path or label."""
    return frozenset(w.lower() for w in _WORD.findall(name))


def names_credential(name: str, extra_words: Iterable[str] = ()) -> bool:
    """True when `name` denotes a secret value (an API key, token, password …).

    `extra_words`: more credential names (the catalogue's `credential_words`, e.g. "api_key",
    "access_token"), matched in the compacted name ("API Key" -> "apikey").
    """
    ws = words(name)
    if ws & _NOT_A_SECRET:
        return False
    if ws & _STRONG:
        return True
    compact = _compact(name)
    if compact and any(_compact(w) in compact for w in extra_words if _compact(w)):
        return True
    if "token" in ws:
        return not ws & _TOKEN_COUNTS
    if "key" in ws:
        return ws == {"key"} or bool(ws & (_KEY_QUALIFIERS | _AI_WORDS))
    return False


def _compact(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def names_ai(name: str) -> bool:
    """True when `name` mentions AI or an AI provider ("openai/general", "Acme_AiChat")."""
    if words(name) & _AI_WORDS:
        return True
    lower = name.lower()
    return any(part in lower for part in _AI_PARTS)


def mentions_ai(text: str) -> bool:
    """True when free text (a template, a file) mentions AI or an AI provider anywhere."""
    return _AI_TEXT.search(text) is not None


def ai_word(text: str) -> str | None:
    """The first AI word or provider name in free text ("gemini", "AI"), or None."""
    m = _AI_TEXT.search(text)
    return m.group() if m else None


def provider_named(name: str, catalog: Catalog) -> str | None:
    """The id of the catalogue provider `name` mentions ("azure-openai" beats "openai")."""
    compact = re.sub(r"[^a-z0-9]", "", name.lower())
    best: str | None = None
    for provider in catalog.providers:
        pid = re.sub(r"[^a-z0-9]", "", provider.id)
        if pid and pid in compact and (best is None or len(provider.id) > len(best)):
            best = provider.id
    return best
