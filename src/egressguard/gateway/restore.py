"""Put the original values back into an upstream's answer: whole JSON bodies and SSE streams.

`Restorer(lookup, known)` is created per request. `lookup(token)` returns a token's value or None
(a closure over the request's issued tokens and the tenant's vault); `known` are the tokens of
this request (its issued tokens, which include every token of the history a chat client resends).

Security: with `known`, only those tokens are restored (`only_known=True`, the default). A token
is then restored only if this request itself held its value, so a user who types a guessed
`[EMAIL_xxxxxx]` into a shop's chatbot (and gets the model to echo it) cannot read another
customer's value out of the tenant's vault. `only_known=False` also restores vault tokens of
earlier turns that are not in the request (Responses API `previous_response_id` chains) and
accepts that oracle. Without `known`, every token `lookup` resolves is restored and a stream
holds back any suffix that could still grow into a token-shaped string (`[`, `[EMA`,
`[EMAIL_7f`; at most `MAX_TOKEN_LENGTH` - 1 characters).

- `restore_text` replaces every complete token whose value is known. A token-shaped string that
  is not (the model invented `[EMAIL_ffffff]`) is left as is and recorded in `unknown_tokens`.
- Tool-call arguments are JSON in a string: they are decoded, restored string by string and
  re-encoded, so a value holding quotes, backslashes or control characters stays valid JSON.
  Arguments that do not decode (a truncated answer) get JSON-escaped values in place.
- `StreamRestorer.feed(delta)` returns at once everything that cannot be the start of a known
  token and holds back only the longest suffix that is a proper prefix of one (at most
  len(longest token) - 1 characters; sorted tokens + bisect). `flush()` ends the stream: a held
  suffix that has reached a token's digest (`[EMAIL_7f`) is emitted as `[REDACTED]` (fail closed);
  a shorter one (`[EM`) is ordinary text.
- `restore_sse_event(api, event, state)` keeps one `StreamRestorer` per choice and text field, per
  tool-call argument stream (choice, tool index), per Responses item/content part and per
  Anthropic content block. Held text is flushed into the chunk that carries `finish_reason`,
  before `content_block_stop` / `*.done`, and before `[DONE]`, `message_delta`, `message_stop`,
  `response.completed`, errors and frames it does not understand; `StreamState.close()` flushes
  at end of stream when the upstream sent none of these.
  A text field the hold-back empties is dropped from its delta (and a chunk left with nothing
  to say is not sent); role, tool-call ids and names, finish_reason and usage always go out.

Anthropic `thinking` blocks are left as the model wrote them (their signature covers the text).
"""

from __future__ import annotations

import json
import re
from bisect import bisect_left
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any, assert_never

from egressguard.gateway.actions import Api
from egressguard.gateway.sse import SseEvent
from egressguard.gateway.tokens import MAX_HEX, TOKEN_PATTERN

Json = Any  # a decoded JSON value
REDACTED = "[REDACTED]"
_DIGEST_REACHED = re.compile(r"\[[A-Z][A-Z0-9_]*_[0-9a-f]*")
# Any prefix of a token-shaped string, for a restorer that was given no token list.
_TOKEN_PREFIX = re.compile(rf"\[(?:[A-Z][A-Z0-9_]*(?:_[0-9a-f]{{0,{MAX_HEX}}})?)?")
_MAX_LABEL = 40
MAX_TOKEN_LENGTH = 1 + _MAX_LABEL + 1 + MAX_HEX + 1
"""The longest token a restorer without a token list holds back for (labels of <= 40 chars)."""
_TEXT_PARTS = frozenset({"text", "output_text", "input_text", "summary_text", "reasoning_text"})


class Restorer:
    """De-tokenises one request's answer. Per request: it records the unknown tokens it saw."""

    def __init__(
        self,
        lookup: Callable[[str], str | None],
        known: Iterable[str] | None = None,
        *,
        only_known: bool = True,
    ) -> None:
        self._lookup = lookup
        self._grammar = known is None
        self._known = sorted({t for t in known or () if TOKEN_PATTERN.fullmatch(t)})
        self._only = frozenset(self._known) if known is not None and only_known else None
        self._longest = MAX_TOKEN_LENGTH if known is None else max(map(len, self._known), default=0)
        self._unknown: set[str] = set()
        self._missed: set[str] = set()
        self.restored = 0

    @property
    def unknown_tokens(self) -> frozenset[str]:
        """Token-shaped strings in the answer that stand for nothing known."""
        return frozenset(self._unknown)

    @property
    def missed_tokens(self) -> frozenset[str]:
        """Tokens with a value that a stream split and could not restore (not in `known`)."""
        return frozenset(self._missed)

    def note_split(self, token: str) -> None:
        """A stream emitted `token` in pieces (it was not in `known`): record it."""
        (self._unknown if self._resolve(token) is None else self._missed).add(token)

    def _resolve(self, token: str) -> str | None:
        if self._only is not None and token not in self._only:
            return None
        return self._lookup(token)

    @property
    def longest(self) -> int:
        """Length of the longest known token (a stream holds back at most this - 1)."""
        return self._longest

    def restore_text(self, text: str, *, json_string: bool = False) -> str:
        """`text` with known tokens replaced (JSON-escaped if `text` is inside a JSON string)."""
        if "[" not in text:
            return text
        return TOKEN_PATTERN.sub(self._json_sub if json_string else self._sub, text)

    def _value(self, token: str) -> str | None:
        value = self._resolve(token)
        if value is None:
            self._unknown.add(token)
        else:
            self.restored += 1
        return value

    def _sub(self, match: re.Match[str]) -> str:
        value = self._value(match.group())
        return match.group() if value is None else value

    def _json_sub(self, match: re.Match[str]) -> str:
        value = self._value(match.group())
        return match.group() if value is None else json.dumps(value, ensure_ascii=False)[1:-1]

    def hold_from(self, text: str) -> int:
        """Where the longest suffix of `text` that is a proper prefix of a known token starts."""
        known = self._known
        i = text.find("[", max(0, len(text) - self._longest + 1)) if self._longest else -1
        while i != -1:
            suffix = text[i:]
            if self._grammar:
                if _TOKEN_PREFIX.fullmatch(suffix):
                    return i
            else:
                j = bisect_left(known, suffix)
                if j < len(known) and known[j] != suffix and known[j].startswith(suffix):
                    return i
            i = text.find("[", i + 1)
        return len(text)

    def incomplete(self, held: str) -> str:
        """What to emit for text still held at the end of a stream (fail closed)."""
        return REDACTED if _DIGEST_REACHED.match(held) else held

    def stream(self, *, json_string: bool = False) -> StreamRestorer:
        return StreamRestorer(self, json_string=json_string)

    # --- JSON values and bodies ---------------------------------------------------------------

    def arguments(self, text: str) -> str:
        """Tool-call arguments (a JSON document in a string), restored and re-encoded."""
        if "[" not in text:
            return text
        try:
            decoded = json.loads(text)
        except ValueError:
            return self.restore_text(text, json_string=True)
        restored = self.json(decoded)
        return text if restored == decoded else json.dumps(restored, ensure_ascii=False)

    def json(self, value: Json) -> Json:
        """A decoded JSON value with every string (and object key) restored."""
        if isinstance(value, str):
            return self._string(value)
        if isinstance(value, dict):
            return {self.restore_text(k): self.json(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.json(v) for v in value]
        return value

    def _string(self, text: str) -> str:
        """A string that may itself hold a JSON document (restored inside, then re-encoded)."""
        if "[" not in text:
            return text
        stripped = text.strip()
        if stripped[:1] in ("{", "[") and stripped[-1:] in ("}", "]"):
            try:
                decoded = json.loads(stripped)
            except ValueError:
                decoded = None
            if isinstance(decoded, dict | list):
                restored = self.json(decoded)
                return text if restored == decoded else json.dumps(restored, ensure_ascii=False)
        return self.restore_text(text)

    def restore_json_body(self, api: Api, body: Json) -> Json:
        """A restored copy of a non-streamed answer of `api` (other values are left alone)."""
        if not isinstance(body, dict):
            return body
        out = dict(body)
        match api:
            case Api.CHAT | Api.COMPLETIONS:
                if isinstance(out.get("choices"), list):
                    out["choices"] = [self._choice(c) for c in out["choices"]]
            case Api.RESPONSES:
                self._response(out)
            case Api.MESSAGES:
                out["content"] = self.content(out.get("content"))
            case Api.EMBEDDINGS:
                pass
            case _:
                assert_never(api)
        return out

    def _choice(self, choice: Json) -> Json:
        if not isinstance(choice, dict):
            return choice
        out = dict(choice)
        self._fields(out, ("text",))
        if isinstance(out.get("message"), dict):
            out["message"] = self.message(out["message"])
        return out

    def message(self, message: dict[str, Json]) -> dict[str, Json]:
        """An OpenAI chat message: content, refusal, reasoning, tool calls."""
        out = dict(message)
        out["content"] = self.content(out.get("content"))
        self._fields(out, ("refusal", "reasoning_content", "reasoning"))
        if isinstance(out.get("tool_calls"), list):
            out["tool_calls"] = [self._tool_call(call) for call in out["tool_calls"]]
        if isinstance(out.get("function_call"), dict):
            out["function_call"] = self._function(out["function_call"])
        return out

    def _tool_call(self, call: Json) -> Json:
        if isinstance(call, dict) and isinstance(call.get("function"), dict):
            return {**call, "function": self._function(call["function"])}
        return call

    def _function(self, function: dict[str, Json]) -> dict[str, Json]:
        if isinstance(function.get("arguments"), str):
            return {**function, "arguments": self.arguments(function["arguments"])}
        return function

    def content(self, content: Json) -> Json:
        """A string, or a list of OpenAI content parts / Anthropic content blocks."""
        if isinstance(content, str):
            return self.restore_text(content)
        if isinstance(content, list):
            return [self.part(part) for part in content]
        return content

    def part(self, part: Json) -> Json:
        """One content part or block (text, refusal, tool_use); others are left alone."""
        if not isinstance(part, dict):
            return part
        kind = part.get("type")
        out = dict(part)
        if kind in _TEXT_PARTS:
            self._fields(out, ("text",))
        elif kind == "refusal":
            self._fields(out, ("refusal",))
        elif kind in ("tool_use", "server_tool_use") and "input" in out:
            out["input"] = self.json(out["input"])
        return out

    def item(self, item: Json) -> Json:
        """One Responses output item."""
        if not isinstance(item, dict):
            return item
        out = dict(item)
        kind = out.get("type")
        if kind in ("message", "reasoning") and "content" in out:
            out["content"] = self.content(out["content"])
        if kind == "reasoning" and isinstance(out.get("summary"), list):
            out["summary"] = [self.part(p) for p in out["summary"]]
        if kind == "function_call" and isinstance(out.get("arguments"), str):
            out["arguments"] = self.arguments(out["arguments"])
        if kind == "custom_tool_call":
            self._fields(out, ("input",))
        return out

    def _response(self, out: dict[str, Json]) -> None:
        self._fields(out, ("instructions", "output_text"))
        if isinstance(out.get("output"), list):
            out["output"] = [self.item(item) for item in out["output"]]

    def _fields(self, obj: dict[str, Json], names: Iterable[str]) -> None:
        for name in names:
            if isinstance(obj.get(name), str):
                obj[name] = self.restore_text(obj[name])


class StreamRestorer:
    """One text stream (a choice's content, a tool call's arguments, a content block)."""

    def __init__(self, restorer: Restorer, *, json_string: bool = False) -> None:
        self._restorer = restorer
        self._json = json_string
        self._held = ""
        self._open = ""  # emitted raw text since the last `[` not yet closed by `]`

    @property
    def held(self) -> str:
        return self._held

    def feed(self, delta: str) -> str:
        """What can be emitted now; a possible token prefix at the end is held back."""
        if not self._held and not self._open and "[" not in delta:
            return delta  # the common case: nothing held, nothing that could start a token
        text = self._held + delta if self._held else delta
        cut = self._restorer.hold_from(text)
        self._held = text[cut:]
        if self._open or "[" in text[:cut]:
            self._watch(text[:cut])
        return self._restorer.restore_text(text[:cut], json_string=self._json)

    def _watch(self, segment: str) -> None:
        """Notice a token-shaped string emitted across two feeds (so not restored)."""
        if self._open:
            end = segment.find("]")
            if end == -1:
                self._open += segment
                if len(self._open) <= MAX_TOKEN_LENGTH:
                    return
                self._open = ""  # too long to be a token
            else:
                candidate, self._open = self._open + segment[: end + 1], ""
                if TOKEN_PATTERN.fullmatch(candidate):
                    self._restorer.note_split(candidate)
        start = segment.rfind("[")
        if start != -1 and "]" not in segment[start:]:
            self._open = segment[start:]

    def flush(self) -> str:
        """The end of the stream: the held text, masked if it is an incomplete token."""
        held, self._held = self._held, ""
        return self._restorer.incomplete(held) if held else ""


# --- SSE --------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Open:
    """A stream with held text and how to emit a delta of it as an event of its own."""

    restorer: StreamRestorer
    emit: Callable[[], Callable[[str], SseEvent]]  # a factory: called only when text is held


class StreamState:
    """The per-response state of `restore_sse_event`."""

    def __init__(self, restorer: Restorer) -> None:
        self.restorer = restorer
        self._streams: dict[Hashable, _Open] = {}
        self.envelope: dict[str, Json] = {}  # id/object/created/model of the last OpenAI chunk

    def feed(
        self,
        key: Hashable,
        delta: str,
        emit: Callable[[], Callable[[str], SseEvent]],
        *,
        json_string: bool = False,
    ) -> str:
        """Feed `key`'s stream; `emit()(text)` builds an event for a later flush."""
        found = self._streams.get(key)
        if found is None:
            found = self._streams[key] = _Open(self.restorer.stream(json_string=json_string), emit)
        found.emit = emit
        return found.restorer.feed(delta)

    def flush(self, key: Hashable) -> str:
        found = self._streams.pop(key, None)
        return found.restorer.flush() if found is not None else ""

    def open_keys(self) -> list[Hashable]:
        return list(self._streams)

    def flush_events(self, keys: Iterable[Hashable] | None = None) -> list[SseEvent]:
        """Events carrying the held text of `keys` (all streams when None), in opening order."""
        events: list[SseEvent] = []
        for key in list(self._streams) if keys is None else list(keys):
            found = self._streams.pop(key, None)
            text = found.restorer.flush() if found is not None else ""
            if found is not None and text:
                events.append(found.emit()(text))
        return events

    def close(self) -> list[SseEvent]:
        """End of stream without a final frame: events for everything still held."""
        return self.flush_events()


def restore_json_body(api: Api, body: Json, restorer: Restorer) -> Json:
    """A restored copy of a non-streamed answer of `api` (`Restorer.restore_json_body`)."""
    return restorer.restore_json_body(api, body)


def restore_sse_event(api: Api, event: SseEvent, state: StreamState) -> list[SseEvent]:
    """The events to send for one upstream event: restored, preceded by flushed held text."""
    if api is Api.EMBEDDINGS:
        return [event]
    if event.data.strip() == "[DONE]":
        return [*state.flush_events(), event]
    try:
        obj = json.loads(event.data)
    except ValueError:
        return [*state.flush_events(), event]
    if not isinstance(obj, dict):
        return [*state.flush_events(), event]
    match api:
        case Api.CHAT | Api.COMPLETIONS:
            return _openai_chunk(api, event, obj, state)
        case Api.RESPONSES:
            return _responses_event(event, obj, state)
        case Api.MESSAGES:
            return _anthropic_event(event, obj, state)
        case _:
            assert_never(api)


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))  # stateless


def _dumps(obj: Json) -> str:
    return _ENCODER.encode(obj)


def _replace(event: SseEvent, obj: Json) -> SseEvent:
    return SseEvent(event.event, _dumps(obj), event.id, event.retry)


# --- OpenAI chat.completion.chunk and text_completion chunks ---------------------------------

_CHAT_TEXT = ("content", "refusal", "reasoning_content", "reasoning")
_ENVELOPE = ("id", "object", "created", "model", "system_fingerprint")


def _openai_chunk(
    api: Api, event: SseEvent, obj: dict[str, Json], state: StreamState
) -> list[SseEvent]:
    choices = obj.get("choices")
    if not isinstance(choices, list):
        return [*state.flush_events(), event]
    state.envelope = {k: obj[k] for k in _ENVELOPE if k in obj}
    changed = False
    for choice in choices:
        if isinstance(choice, dict):
            changed |= _openai_choice(api, event, choice, state)
    if not changed:
        return [event]
    kept = [c for c in choices if not (isinstance(c, dict) and _emptied(api, c))]
    if not kept and obj.get("usage") is None:
        return []  # every choice only carried text that is now held back
    obj["choices"] = kept
    return [_replace(event, obj)]


def _openai_choice(api: Api, event: SseEvent, choice: dict[str, Json], state: StreamState) -> bool:
    """Restore one choice in place; True when it changed."""
    index = choice.get("index", 0)
    if api is Api.COMPLETIONS:
        fields: dict[str, Json] = choice
        names: tuple[str, ...] = ("text",)
    else:
        delta = choice.get("delta")
        fields = delta if isinstance(delta, dict) else {}
        names = _CHAT_TEXT
    changed = False
    for name in names:
        if isinstance(fields.get(name), str):
            emit = partial(_openai_emitter, api, event, state, index, name, None)
            changed |= _feed_field(state, (index, name), fields, name, emit, json_string=False)
    calls = fields.get("tool_calls")
    for call in calls if isinstance(calls, list) else ():
        function = call.get("function") if isinstance(call, dict) else None
        if isinstance(function, dict) and isinstance(function.get("arguments"), str):
            j = call.get("index", 0)
            emit = partial(_openai_emitter, api, event, state, index, "tool", j)
            changed |= _feed_field(state, (index, "tool", j), function, "arguments", emit, True)
    if choice.get("finish_reason") is not None:
        changed |= _flush_choice(api, choice, fields, state, index)
    if changed:
        _drop_held_fields(api, fields)
    return changed


def _drop_held_fields(api: Api, fields: dict[str, Json]) -> None:
    """Remove text fields the hold-back emptied (an empty delta says nothing), and tool-call
    entries left with nothing but their index. Never touches role, ids, names, finish_reason."""
    if api is Api.CHAT:
        for name in _CHAT_TEXT:
            if fields.get(name) == "" and name in fields:
                del fields[name]
    calls = fields.get("tool_calls")
    if not isinstance(calls, list):
        return
    for call in calls:
        function = call.get("function") if isinstance(call, dict) else None
        if isinstance(function, dict) and function.get("arguments") == "" and len(function) == 1:
            del call["function"]
    kept = [c for c in calls if not (isinstance(c, dict) and set(c) <= {"index"})]
    if kept:
        fields["tool_calls"] = kept
    else:
        del fields["tool_calls"]


_EMPTY_CHOICE_KEYS = frozenset({"index", "delta", "finish_reason", "logprobs", "text"})


def _emptied(api: Api, choice: dict[str, Json]) -> bool:
    """A restored choice with nothing left to say (its text is held back, no finish yet)."""
    if not set(choice) <= _EMPTY_CHOICE_KEYS:
        return False
    if choice.get("finish_reason") is not None or choice.get("logprobs") is not None:
        return False
    if api is Api.COMPLETIONS:
        return choice.get("text") == ""
    return "text" not in choice and choice.get("delta") == {}


def _feed_field(
    state: StreamState,
    key: Hashable,
    obj: dict[str, Json],
    name: str,
    emit: Callable[[], Callable[[str], SseEvent]],
    json_string: bool,
) -> bool:
    before = obj[name]
    after = state.feed(key, before, emit, json_string=json_string)
    obj[name] = after
    return bool(after != before)


def _flush_choice(
    api: Api, choice: dict[str, Json], fields: dict[str, Json], state: StreamState, index: Json
) -> bool:
    """At finish_reason: append every held text of this choice to this chunk."""
    changed = False
    for key in state.open_keys():
        if not (isinstance(key, tuple) and key[0] == index):
            continue
        text = state.flush(key)
        if not text:
            continue
        changed = True
        if key[1] == "tool":
            _append_arguments(fields, key[2], text)
        else:
            fields[key[1]] = (fields.get(key[1]) or "") + text
    if changed and api is Api.CHAT:
        choice["delta"] = fields
    return changed


def _append_arguments(delta: dict[str, Json], tool_index: Json, text: str) -> None:
    calls = delta.get("tool_calls")
    if not isinstance(calls, list):
        calls = delta["tool_calls"] = []
    for call in calls:
        if isinstance(call, dict) and call.get("index", 0) == tool_index:
            function = call.setdefault("function", {})
            function["arguments"] = (function.get("arguments") or "") + text
            return
    calls.append({"index": tool_index, "function": {"arguments": text}})


def _openai_emitter(
    api: Api, event: SseEvent, state: StreamState, index: Json, name: str, tool: Json
) -> Callable[[str], SseEvent]:
    def emit(text: str) -> SseEvent:
        if api is Api.COMPLETIONS:
            choice: dict[str, Json] = {"index": index, "text": text}
        elif name == "tool":
            call = {"index": tool, "function": {"arguments": text}}
            choice = {"index": index, "delta": {"tool_calls": [call]}}
        else:
            choice = {"index": index, "delta": {name: text}}
        choice["finish_reason"] = None
        return SseEvent(event.event, _dumps({**state.envelope, "choices": [choice]}))

    return emit


# --- OpenAI Responses events ------------------------------------------------------------------

# delta event type -> (its .done type, the .done field with the full text, JSON arguments?)
_RESPONSES_DELTAS: dict[str, tuple[str, str, bool]] = {
    "response.output_text.delta": ("response.output_text.done", "text", False),
    "response.refusal.delta": ("response.refusal.done", "refusal", False),
    "response.reasoning_text.delta": ("response.reasoning_text.done", "text", False),
    "response.reasoning_summary_text.delta": (
        "response.reasoning_summary_text.done",
        "text",
        False,
    ),
    "response.function_call_arguments.delta": (
        "response.function_call_arguments.done",
        "arguments",
        True,
    ),
}
_RESPONSES_DONES = {
    done: (delta, name, js) for delta, (done, name, js) in _RESPONSES_DELTAS.items()
}
_RESPONSES_ENDS = frozenset(
    {"response.completed", "response.incomplete", "response.failed", "error"}
)
_PART_FIELDS = ("item_id", "output_index", "content_index", "summary_index")


def _responses_key(kind: str, obj: dict[str, Json]) -> Hashable:
    return (kind, *(obj.get(name) for name in _PART_FIELDS))


def _responses_event(event: SseEvent, obj: dict[str, Json], state: StreamState) -> list[SseEvent]:
    kind = obj.get("type")
    kind = kind if isinstance(kind, str) else event.event or ""
    if kind in _RESPONSES_DELTAS and isinstance(obj.get("delta"), str):
        emit = partial(_template_emitter, event, obj, "delta")
        key = _responses_key(kind, obj)
        text = state.feed(key, obj["delta"], emit, json_string=_RESPONSES_DELTAS[kind][2])
        if text == obj["delta"]:
            return [event]
        return [_replace(event, {**obj, "delta": text})] if text else []
    before: list[SseEvent] = []
    restorer = state.restorer
    out = dict(obj)
    if kind in _RESPONSES_DONES:
        delta_kind, name, js = _RESPONSES_DONES[kind]
        before = state.flush_events([_responses_key(delta_kind, obj)])
        if isinstance(obj.get(name), str):
            out[name] = restorer.arguments(obj[name]) if js else restorer.restore_text(obj[name])
    elif kind in _RESPONSES_ENDS:
        before = state.flush_events()
    if "response" in obj:
        out["response"] = restorer.restore_json_body(Api.RESPONSES, obj["response"])
    if "item" in obj:
        out["item"] = restorer.item(obj["item"])
    if "part" in obj:
        out["part"] = restorer.part(obj["part"])
    return [*before, _replace(event, out) if out != obj else event]


def _template_emitter(
    event: SseEvent, obj: dict[str, Json], name: str
) -> Callable[[str], SseEvent]:
    def emit(text: str) -> SseEvent:
        return SseEvent(event.event, _dumps({**obj, name: text}))

    return emit


# --- Anthropic messages -----------------------------------------------------------------------

# delta type -> (its text field, JSON?) ; thinking and signature deltas are left alone
_ANTHROPIC_DELTAS = {"text_delta": ("text", False), "input_json_delta": ("partial_json", True)}
_ANTHROPIC_ENDS = frozenset({"message_delta", "message_stop", "error"})


def _anthropic_event(event: SseEvent, obj: dict[str, Json], state: StreamState) -> list[SseEvent]:
    kind = obj.get("type")
    if kind == "content_block_delta":
        return _anthropic_delta(event, obj, state)
    if kind == "content_block_stop":
        return [*state.flush_events([("block", obj.get("index"))]), event]
    if kind in _ANTHROPIC_ENDS:
        return [*state.flush_events(), event]
    if kind == "content_block_start" and isinstance(obj.get("content_block"), dict):
        restored = state.restorer.part(obj["content_block"])
        if restored != obj["content_block"]:
            return [_replace(event, {**obj, "content_block": restored})]
    if kind == "message_start" and isinstance(obj.get("message"), dict):
        message = state.restorer.restore_json_body(Api.MESSAGES, obj["message"])
        if message != obj["message"]:
            return [_replace(event, {**obj, "message": message})]
    return [event]


def _anthropic_delta(event: SseEvent, obj: dict[str, Json], state: StreamState) -> list[SseEvent]:
    delta = obj.get("delta")
    if not isinstance(delta, dict):
        return [event]
    spec = _ANTHROPIC_DELTAS.get(str(delta.get("type")))
    if spec is None or not isinstance(delta.get(spec[0]), str):
        return [event]
    name, js = spec
    index = obj.get("index")

    def emit(text: str) -> SseEvent:
        return SseEvent(event.event, _dumps({**obj, "delta": {**delta, name: text}}))

    text = state.feed(("block", index), delta[name], lambda: emit, json_string=js)
    if text == delta[name]:
        return [event]
    return [_replace(event, {**obj, "delta": {**delta, name: text}})] if text else []
