"""Apply the policy's actions to a request body before it leaves.

`Redactor.redact_request(api, body, ctx)` walks the text an upstream will read in each API shape
and replaces every detected value according to `action_for(category)`:

- tokenize: a reversible token (`tokens.Tokenizer`), recorded in `RedactResult.issued`;
- mask: an irreversible placeholder such as `[EMAIL]`;
- block: the category is listed in `RedactResult.blocked` (the app refuses the request) and the
  value is masked in the returned body anyway, so a body that is sent by mistake still leaks
  nothing;
- allow: left as is.

Shapes walked (everything else, e.g. `tools` definitions and images, is copied untouched):
OpenAI chat `messages[].content` (string or text parts), `name`, `refusal`, `tool_calls[].function
.arguments` and `function_call.arguments` (JSON strings: parsed, walked key-aware, re-serialised),
`prediction.content`; completions `prompt` and `suffix`; embeddings `input`; responses
`instructions` and `input` (string or items: messages, function calls and their outputs,
reasoning summaries); Anthropic `system` and `messages[].content` (string or blocks: text,
`tool_use.input`, `tool_result.content`, text documents). `user` and `metadata` strings too.

Strings that hold a JSON object or array (tool results, pasted orders) are parsed and walked
key-aware: each string or number is scanned with the key it sits under (`detector.scan(text,
key="email")`). Text that already is a token or a mask placeholder is never re-detected.
The input body is not modified; a new one is returned.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol, assert_never

from egressguard.gateway.actions import Action, Api
from egressguard.gateway.detect.model import PiiCategory, Span
from egressguard.gateway.text_memo import TextMemo
from egressguard.gateway.tokens import MASK_PATTERN, TOKEN_PATTERN, Binding, Tokenizer, mask

Json = Any  # a decoded JSON value
_IDENTIFIER_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*\Z")
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")
_TEXT_PARTS = frozenset({"text", "input_text", "output_text", "summary_text", "reasoning_text"})
_CATEGORY = {str(c.value): c for c in PiiCategory}

# What a long text became (`RedactionMemo`): offsets, category and action ids and tokens only, no
# text and no value (a hit cuts the values from the text being redacted). Three tuples:
# (start, end, replacement) per replaced span; (category, action, spans) per category seen, in
# order of first appearance; (start, end, category, token) for the first span of each tokenised
# value, in order of first appearance (the tokens to check and issue on a hit).
Remembered = tuple[
    tuple[tuple[int, int, str], ...],
    tuple[tuple[str, str, int], ...],
    tuple[tuple[int, int, str, str], ...],
]
RedactionMemo = TextMemo[Remembered]


class DetectorLike(Protocol):
    """The detection engine's contract (`egressguard.gateway.detect.Detector`)."""

    def scan(self, text: str, *, key: str | None = None) -> Sequence[Span]: ...


def _unbound(token: str) -> Binding | None:
    return None


@dataclass(frozen=True, slots=True)
class RedactContext:
    """Who is asking: the tenant and conversation decide the tokens.

    `bound(token)` returns what a token already stands for in this tenant (the vault), so a
    collision with another value or conversation lengthens the new token instead of overwriting
    the old binding.
    """

    tenant: str
    conversation: str
    bound: Callable[[str], Binding | None] = _unbound


class Issued(NamedTuple):
    """What a token issued for this request stands for."""

    category: PiiCategory
    value: str


@dataclass(slots=True)
class RedactResult:
    """The body to send and what was done to it (metadata; `issued` holds the values)."""

    body: dict[str, Json]
    counts: dict[PiiCategory, int] = field(default_factory=dict)
    actions: dict[PiiCategory, Action] = field(default_factory=dict)
    issued: dict[str, Issued] = field(default_factory=dict)
    blocked: list[PiiCategory] = field(default_factory=list)


class Redactor:
    """Detector + tokenizer + policy. Holds no per-request state; safe to share.

    With a `memo`, what a long text became (which spans, which token or placeholder each) is
    remembered for `scope` (the caller's policy scope, e.g. the route) and the request's tenant
    and conversation, so chat history resent on every turn is neither scanned nor tokenised
    again. A remembered token is used only while `RedactContext.bound` still binds it to the
    value at that place in this conversation; otherwise the text is redacted afresh. The result
    is the one a fresh redaction gives: the same counts, actions, tokens and issued values.
    """

    def __init__(
        self,
        detector: DetectorLike,
        tokenizer: Tokenizer,
        action_for: Callable[[PiiCategory], Action],
        *,
        memo: RedactionMemo | None = None,
        scope: str = "",
    ) -> None:
        self._detector = detector
        self._tokenizer = tokenizer
        self._action_for = action_for
        self._memo = memo
        self._scope = scope

    def redact_request(self, api: Api, body: dict[str, Json], ctx: RedactContext) -> RedactResult:
        """A redacted copy of `body` and what was detected, done and issued."""
        result = RedactResult(body=dict(body))
        _walker(api)(self._run(ctx, result), result.body)
        return result

    def redact_text(self, text: str, ctx: RedactContext, *, key: str | None = None) -> RedactResult:
        """Redact one string (the result's body is `{"text": ...}`)."""
        result = RedactResult(body={})
        result.body["text"] = self._run(ctx, result).text(text, key)
        return result

    def _run(self, ctx: RedactContext, result: RedactResult) -> _Run:
        return _Run(self, ctx, result)


class _Run:
    """The state of one request's redaction."""

    def __init__(self, redactor: Redactor, ctx: RedactContext, result: RedactResult) -> None:
        self._detector = redactor._detector
        self._tokenizer = redactor._tokenizer
        self._action_for = redactor._action_for
        self._memo = redactor._memo
        self._scope = redactor._scope
        self._ctx = ctx
        self._result = result
        self._decided: dict[PiiCategory, Action] = {}
        self._minted: dict[tuple[PiiCategory, str], str] = {}  # (category, value) -> token

    # --- strings ------------------------------------------------------------------------------

    def text(self, text: str, key: str | None = None) -> str:
        """`text` with every detected value replaced according to the policy."""
        if not text:
            return text
        memo, digest = self._memo, None
        if memo is not None:
            ctx = self._ctx
            digest = memo.digest(text, self._scope, ctx.tenant, ctx.conversation, key)
            remembered = memo.get(digest) if digest is not None else None
            if remembered is not None:
                replayed = self._replay(text, remembered)
                if replayed is not None:
                    return replayed
                memo.note_stale()
        spans = _select(self._detector.scan(text, key=key), text)
        pieces: list[tuple[int, int, str]] = []
        seen: dict[PiiCategory, int] = {}
        tokens: dict[tuple[PiiCategory, str], tuple[int, int, str, str]] = {}
        for span in spans:
            category, start, end = span.category, span.start, span.end
            value = text[start:end]
            replacement = self._replace(category, value)
            seen[category] = seen.get(category, 0) + 1
            if replacement is None:
                continue
            pieces.append((start, end, replacement))
            if self._decided[category] is Action.TOKENIZE and (category, value) not in tokens:
                tokens[(category, value)] = (start, end, str(category.value), replacement)
        if memo is not None and digest is not None:
            decided = self._decided
            memo.put(
                digest,
                (
                    tuple(pieces),
                    tuple((str(c.value), str(decided[c].value), n) for c, n in seen.items()),
                    tuple(tokens.values()),
                ),
                len(pieces) + len(seen) + len(tokens),
            )
        return _splice(text, pieces)

    def _replay(self, text: str, remembered: Remembered) -> str | None:
        """`text` redacted as remembered, recorded in the result as `text()` records it; None,
        with nothing recorded, when an action changed or a remembered token no longer holds."""
        pieces, seen, tokens = remembered
        for category, action, _ in seen:
            if self._decide(_CATEGORY[category]).value != action:
                return None
        for start, end, category, token in tokens:
            if not self._holds(_CATEGORY[category], text[start:end], token):
                return None
        result = self._result
        for category, _, n in seen:
            member = _CATEGORY[category]
            action = self._decided[member]
            result.counts[member] = result.counts.get(member, 0) + n
            result.actions[member] = action
            if action is Action.BLOCK and member not in result.blocked:
                result.blocked.append(member)
        for start, end, category, token in tokens:
            member, value = _CATEGORY[category], text[start:end]
            self._minted.setdefault((member, value), token)
            result.issued.setdefault(token, Issued(member, value))
        return _splice(text, pieces)

    def _holds(self, category: PiiCategory, value: str, token: str) -> bool:
        """Is `token` still what `_replace` gives `value`? It is this value's token in this
        request, or bound to it (or an equal spelling) in this conversation."""
        minted = self._minted.get((category, value))
        if minted is not None:
            return minted == token
        taken = self._bound(token)
        return taken is not None and taken.admits(category, value, self._ctx.conversation)

    def _decide(self, category: PiiCategory) -> Action:
        action = self._decided.get(category)
        if action is None:  # the policy may hand back any str enum: normalise it once
            action = self._decided[category] = Action(self._action_for(category))
        return action

    def _replace(self, category: PiiCategory, value: str) -> str | None:
        """The replacement of `value` (None: allowed), recorded in the result."""
        result = self._result
        action = self._decide(category)
        result.counts[category] = result.counts.get(category, 0) + 1
        result.actions[category] = action
        if action is Action.ALLOW:
            return None
        if action is Action.TOKENIZE:
            token = self._minted.get((category, value))
            if token is None:
                ctx = self._ctx
                token = self._minted[(category, value)] = self._tokenizer.token(
                    ctx.tenant, ctx.conversation, category, value, bound=self._bound
                )
            result.issued.setdefault(token, Issued(category, value))
            return token
        if action is Action.BLOCK and category not in result.blocked:
            result.blocked.append(category)
        return mask(category)

    def _bound(self, token: str) -> Binding | None:
        issued = self._result.issued.get(token)
        if issued is not None:
            return Binding(issued.value, self._ctx.conversation)
        return self._ctx.bound(token)

    def content_text(self, text: str, key: str | None = None) -> str:
        """A string that may hold a JSON object or array: walked key-aware if it does."""
        decoded = _decode_json_container(text)
        if decoded is None:
            return self.text(text, key)
        walked = self.json(decoded, key)
        return text if walked == decoded else json.dumps(walked, ensure_ascii=False)

    def arguments(self, text: str) -> str:
        """Tool-call arguments: a JSON document in a string."""
        try:
            decoded = json.loads(text)
        except ValueError:
            return self.text(text)
        walked = self.json(decoded, None)
        return text if walked == decoded else json.dumps(walked, ensure_ascii=False)

    def name(self, text: str) -> str:
        """A participant `name` (OpenAI allows `[A-Za-z0-9_-]` only): token without brackets."""
        redacted = self.text(text, "name")
        return text if redacted == text else _NAME_UNSAFE.sub("", redacted)

    # --- structured values --------------------------------------------------------------------

    def json(self, value: Json, key: str | None) -> Json:
        """A decoded JSON value with every string (and number) scanned under its key."""
        if isinstance(value, str):
            return self.content_text(value, key)
        if isinstance(value, dict):
            return {self._key(k): self.json(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [self.json(v, key) for v in value]
        if isinstance(value, int | float) and not isinstance(value, bool):
            text = str(value)
            redacted = self.text(text, key)
            return value if redacted == text else redacted
        return value

    def _key(self, key: str) -> str:
        return key if _IDENTIFIER_KEY.match(key) else self.text(key)

    def fields(self, obj: dict[str, Json], names: Sequence[str]) -> None:
        """Redact the string fields `names` of `obj` in place (obj is already a copy)."""
        for name in names:
            value = obj.get(name)
            if isinstance(value, str):
                obj[name] = self.text(value, name)

    def metadata(self, body: dict[str, Json]) -> None:
        self.fields(body, ("user",))
        meta = body.get("metadata")
        if isinstance(meta, dict):
            body["metadata"] = self.json(meta, None)


def _splice(text: str, pieces: Sequence[tuple[int, int, str]]) -> str:
    """`text` with each (start, end) replaced by its string (pieces in order, not overlapping)."""
    if not pieces:
        return text
    out: list[str] = []
    pos = 0
    for start, end, replacement in pieces:
        out.append(text[pos:start])
        out.append(replacement)
        pos = end
    out.append(text[pos:])
    return "".join(out)


def _select(spans: Sequence[Span], text: str) -> list[Span]:
    """Non-overlapping spans, longest first at each start, none inside an existing token."""
    if not spans:
        return []
    taken = _protected(text)
    chosen: list[Span] = []
    end = 0
    for span in sorted(spans, key=lambda s: (s.start, s.start - s.end)):
        if span.start < end or not 0 <= span.start < span.end <= len(text):
            continue
        if any(a < span.end and span.start < b for a, b in taken):
            continue
        chosen.append(span)
        end = span.end
    return chosen


def _protected(text: str) -> list[tuple[int, int]]:
    if "[" not in text:
        return []
    return [m.span() for p in (TOKEN_PATTERN, MASK_PATTERN) for m in p.finditer(text)]


def _decode_json_container(text: str) -> Json:
    """The decoded object or array when `text` is one, else None."""
    stripped = text.strip()
    if not stripped or (stripped[0], stripped[-1]) not in (("{", "}"), ("[", "]")):
        return None
    try:
        return json.loads(stripped)
    except ValueError:
        return None


def _copy(value: Json) -> dict[str, Json] | None:
    return dict(value) if isinstance(value, dict) else None


# --- OpenAI chat ------------------------------------------------------------------------------


def _content(run: _Run, content: Json) -> Json:
    """A message's content: a string or a list of parts (OpenAI) / blocks (Anthropic)."""
    if isinstance(content, str):
        return run.content_text(content)
    if isinstance(content, list):
        return [_part(run, part) for part in content]
    return content


def _part(run: _Run, part: Json) -> Json:
    if isinstance(part, str):
        return run.content_text(part)
    obj = _copy(part)
    if obj is None:
        return part
    kind = obj.get("type")
    if kind in _TEXT_PARTS and isinstance(obj.get("text"), str):
        obj["text"] = run.content_text(obj["text"])
    elif kind == "refusal":
        run.fields(obj, ("refusal",))
    elif kind in ("tool_use", "server_tool_use") and "input" in obj:
        obj["input"] = run.json(obj["input"], None)
    elif kind == "tool_result":
        obj["content"] = _content(run, obj.get("content"))
    elif kind == "document":
        _document(run, obj)
    elif kind == "search_result":
        obj["content"] = _content(run, obj.get("content"))
        run.fields(obj, ("title",))
    return obj


def _document(run: _Run, obj: dict[str, Json]) -> None:
    run.fields(obj, ("title", "context"))
    source = _copy(obj.get("source"))
    if source is None:
        return
    if source.get("type") == "text" and isinstance(source.get("data"), str):
        source["data"] = run.content_text(source["data"])
    elif source.get("type") == "content":
        source["content"] = _content(run, source.get("content"))
    obj["source"] = source


def _function(run: _Run, function: Json) -> Json:
    obj = _copy(function)
    if obj is not None and isinstance(obj.get("arguments"), str):
        obj["arguments"] = run.arguments(obj["arguments"])
    return obj if obj is not None else function


def _tool_call(run: _Run, call: Json) -> Json:
    obj = _copy(call)
    if obj is None:
        return call
    if "function" in obj:
        obj["function"] = _function(run, obj["function"])
    return obj


def _chat_message(run: _Run, message: Json) -> Json:
    obj = _copy(message)
    if obj is None:
        return message
    if "content" in obj:
        obj["content"] = _content(run, obj["content"])
    if isinstance(obj.get("name"), str):
        obj["name"] = run.name(obj["name"])
    run.fields(obj, ("refusal",))
    if isinstance(obj.get("tool_calls"), list):
        obj["tool_calls"] = [_tool_call(run, call) for call in obj["tool_calls"]]
    if "function_call" in obj:
        obj["function_call"] = _function(run, obj["function_call"])
    return obj


def _walk_chat(run: _Run, body: dict[str, Json]) -> None:
    if isinstance(body.get("messages"), list):
        body["messages"] = [_chat_message(run, m) for m in body["messages"]]
    prediction = _copy(body.get("prediction"))
    if prediction is not None:
        prediction["content"] = _content(run, prediction.get("content"))
        body["prediction"] = prediction
    run.metadata(body)


# --- OpenAI completions and embeddings -------------------------------------------------------


def _strings(run: _Run, value: Json) -> Json:
    """A string or a list of strings (token-id arrays are left alone)."""
    if isinstance(value, str):
        return run.content_text(value)
    if isinstance(value, list):
        return [run.content_text(v) if isinstance(v, str) else v for v in value]
    return value


def _walk_completions(run: _Run, body: dict[str, Json]) -> None:
    if "prompt" in body:
        body["prompt"] = _strings(run, body["prompt"])
    run.fields(body, ("suffix",))
    run.metadata(body)


def _walk_embeddings(run: _Run, body: dict[str, Json]) -> None:
    if "input" in body:
        body["input"] = _strings(run, body["input"])
    run.metadata(body)


# --- OpenAI responses -------------------------------------------------------------------------


def _response_item(run: _Run, item: Json) -> Json:
    if isinstance(item, str):
        return run.content_text(item)
    obj = _copy(item)
    if obj is None:
        return item
    kind = obj.get("type")
    if "content" in obj and kind in (None, "message", "reasoning"):
        obj["content"] = _content(run, obj["content"])
    if kind == "function_call" and isinstance(obj.get("arguments"), str):
        obj["arguments"] = run.arguments(obj["arguments"])
    elif kind in ("function_call_output", "custom_tool_call_output"):
        obj["output"] = _content(run, obj.get("output"))
    elif kind == "custom_tool_call":
        run.fields(obj, ("input",))
    elif kind == "reasoning" and isinstance(obj.get("summary"), list):
        obj["summary"] = [_part(run, part) for part in obj["summary"]]
    return obj


def _walk_responses(run: _Run, body: dict[str, Json]) -> None:
    run.fields(body, ("instructions",))
    items = body.get("input")
    if isinstance(items, str):
        body["input"] = run.content_text(items)
    elif isinstance(items, list):
        body["input"] = [_response_item(run, item) for item in items]
    run.metadata(body)


# --- Anthropic messages -----------------------------------------------------------------------


def _anthropic_message(run: _Run, message: Json) -> Json:
    obj = _copy(message)
    if obj is not None and "content" in obj:
        obj["content"] = _content(run, obj["content"])
    return obj if obj is not None else message


def _walk_messages(run: _Run, body: dict[str, Json]) -> None:
    if "system" in body:
        body["system"] = _content(run, body["system"])
    if isinstance(body.get("messages"), list):
        body["messages"] = [_anthropic_message(run, m) for m in body["messages"]]
    run.metadata(body)


def _walker(api: Api) -> Callable[[_Run, dict[str, Json]], None]:
    match api:
        case Api.CHAT:
            return _walk_chat
        case Api.COMPLETIONS:
            return _walk_completions
        case Api.EMBEDDINGS:
            return _walk_embeddings
        case Api.RESPONSES:
            return _walk_responses
        case Api.MESSAGES:
            return _walk_messages
        case _:
            assert_never(api)
