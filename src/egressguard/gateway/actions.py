"""The small vocabularies shared by the request transformer, the restorer and the app.

`Action` is what the policy decides for a detected data category; `Api` names the request and
response shape a route speaks (the transformer and the restorer dispatch on it).
"""

from __future__ import annotations

from enum import StrEnum


class Action(StrEnum):
    """What happens to a detected value before the request leaves."""

    ALLOW = "allow"  # sent as is
    TOKENIZE = "tokenize"  # replaced by a reversible token, restored in the answer
    MASK = "mask"  # replaced by an irreversible placeholder such as `[EMAIL]`
    BLOCK = "block"  # the request is refused; nothing is sent upstream


class Api(StrEnum):
    """The payload shape of a route."""

    CHAT = "chat.completions"  # OpenAI POST /v1/chat/completions
    COMPLETIONS = "completions"  # OpenAI POST /v1/completions (legacy)
    EMBEDDINGS = "embeddings"  # OpenAI POST /v1/embeddings
    RESPONSES = "responses"  # OpenAI POST /v1/responses
    MESSAGES = "messages"  # Anthropic POST /v1/messages
