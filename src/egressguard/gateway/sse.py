"""Incremental Server-Sent Events framing (WHATWG HTML, "event stream interpretation"). Pure.

`SseParser.feed(chunk)` takes the bytes as they arrive, however they are cut, and returns the
events completed so far: lines end with CR, LF or CRLF (a CRLF split between two chunks is one
line end), UTF-8 sequences may be split between chunks, a leading BOM is dropped, comment lines
(`: ...`) and unknown fields are ignored, several `data:` lines join with LF, `retry:` takes digits
only and an `id:` holding NUL is ignored.

Deliberate differences from a browser, because the parser sits in a proxy:

- `SseEvent.id` and `.retry` are the fields written in *this* event's block (None when absent),
  not the persisted last-event-id, so re-encoding an event reproduces what the upstream sent;
- `close()` dispatches a final event that lacks its blank line (a browser drops it; several LLM
  servers end with `data: [DONE]\\n` and close).

Like a browser, a block without `data:` lines dispatches nothing (its `id`/`retry` are dropped).
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

_LINE_END = re.compile(r"\r\n|\r|\n")


@dataclass(frozen=True, slots=True)
class SseEvent:
    """One dispatched event. `event` None means the default type (`message`)."""

    event: str | None = None
    data: str = ""
    id: str | None = None
    retry: int | None = None


class SseParser:
    """Turns a byte stream into events. One parser per stream."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._partial: list[str] = []  # text of the line not yet ended
        self._skip_lf = False  # the last text ended with CR: an LF first is its CRLF's half
        self._started = False  # the BOM check is done
        self._data: list[str] = []
        self._event: str | None = None
        self._id: str | None = None
        self._retry: int | None = None

    def feed(self, chunk: bytes) -> list[SseEvent]:
        """The events completed by `chunk`."""
        return self._text(self._decoder.decode(chunk))

    def close(self) -> list[SseEvent]:
        """End of stream: the events still pending, including one without its blank line."""
        events = self._text(self._decoder.decode(b"", final=True))
        if self._partial:
            line = "".join(self._partial)
            self._partial.clear()
            self._line(line, events)
        self._dispatch(events)
        return events

    def _text(self, text: str) -> list[SseEvent]:
        events: list[SseEvent] = []
        if not text:
            return events
        if not self._started:
            self._started = True
            text = text.removeprefix("\ufeff")
        if self._skip_lf:
            self._skip_lf = False
            text = text.removeprefix("\n")
        if "\n" not in text and "\r" not in text:
            self._partial.append(text)
            return events
        self._partial.append(text)
        lines = _LINE_END.split("".join(self._partial))
        self._partial.clear()
        tail = lines.pop()
        if tail:
            self._partial.append(tail)
        self._skip_lf = text.endswith("\r")
        for line in lines:
            self._line(line, events)
        return events

    def _line(self, line: str, events: list[SseEvent]) -> None:
        if not line:
            self._dispatch(events)
            return
        if line[0] == ":":
            return
        name, colon, value = line.partition(":")
        if colon and value[:1] == " ":
            value = value[1:]
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value or None
        elif name == "id":
            if "\0" not in value:
                self._id = value
        elif name == "retry" and value.isascii() and value.isdigit():
            self._retry = int(value)

    def _dispatch(self, events: list[SseEvent]) -> None:
        if self._data:
            events.append(SseEvent(self._event, "\n".join(self._data), self._id, self._retry))
        self._data = []
        self._event = self._id = None
        self._retry = None


def encode(event: SseEvent) -> bytes:
    """The wire form of `event`: its fields, one `data:` line per line of data, a blank line."""
    out: list[str] = []
    if event.event:
        out.append(f"event: {_one_line(event.event)}\n")
    if event.id is not None:
        out.append(f"id: {_one_line(event.id)}\n")
    if event.retry is not None:
        out.append(f"retry: {event.retry}\n")
    out.extend(f"data: {line}\n" for line in _LINE_END.split(event.data))
    out.append("\n")
    return "".join(out).encode("utf-8")


def _one_line(value: str) -> str:
    if _LINE_END.search(value):
        raise ValueError("an SSE field value cannot hold a line break")
    return value
