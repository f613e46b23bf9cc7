"""An ASGI wrapper that records what reached the model server and what it answered.

Each exchange becomes one JSON line: method, path, the request body (parsed when it is JSON) and
the response body (for a stream: the SSE text as sent). This is the model server's own view: the
demo and the end-to-end test read it to prove that only tokens, never the detected values,
reached the model. The file is created with mode 0600, because whatever the gateway did not
detect is in it in clear; it is for demonstrations and tests, not for production.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_RECORDED_BYTES = 1 << 20  # per body; longer bodies are cut and say so


class ExchangeLog:
    """Appends one JSON line per exchange to a 0600 file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._file = os.fdopen(fd, "a", encoding="utf-8")
        self._lock = threading.Lock()

    def write(self, entry: dict[str, Any]) -> None:
        line = json.dumps(entry, ensure_ascii=False)
        with self._lock:
            self._file.write(line + "\n")
            self._file.flush()

    def close(self) -> None:
        with self._lock:
            self._file.close()


def read_exchanges(path: Path) -> list[dict[str, Any]]:
    """The exchanges recorded so far (a line cut by a crash is left out)."""
    if not path.is_file():
        return []
    out: list[dict[str, Any]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict):
            out.append(entry)
    return out


def _decoded(raw: bytes) -> Any:
    cut = len(raw) > MAX_RECORDED_BYTES
    text = raw[:MAX_RECORDED_BYTES].decode("utf-8", errors="replace")
    if not cut:
        try:
            return json.loads(text)
        except ValueError:
            pass
    return {"text": text, "truncated": True} if cut else text


def recording(app: ASGIApp, log: ExchangeLog) -> ASGIApp:
    """`app`, with every HTTP exchange written to `log` once its response is complete."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        request = bytearray()
        response = bytearray()
        status = 0
        written = False
        started = time.time()

        def write() -> None:
            nonlocal written
            if written:
                return
            written = True
            log.write(
                {
                    "time": started,
                    "method": scope.get("method", ""),
                    "path": scope.get("path", ""),
                    "status": status,
                    "request": _decoded(bytes(request)),
                    "response": _decoded(bytes(response)),
                }
            )

        async def tapped_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request" and len(request) <= MAX_RECORDED_BYTES:
                request.extend(message.get("body", b""))
            return message

        async def tapped_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body":
                if len(response) <= MAX_RECORDED_BYTES:
                    response.extend(message.get("body", b""))
                if not message.get("more_body", False):
                    write()  # before the last byte leaves: a client that has the answer can read it
            await send(message)

        try:
            await app(scope, tapped_receive, tapped_send)
        finally:
            write()  # an exchange that failed or was cut is recorded too

    return wrapped


def answer_text(response: Any) -> str:
    """The text of a chat completion answer: a JSON body, or an SSE stream's deltas joined."""
    if isinstance(response, dict):
        choices = response.get("choices") or [{}]
        return str((choices[0].get("message") or {}).get("content") or "")
    parts: list[str] = []
    for line in str(response).splitlines():
        if not line.startswith("data:") or line[5:].strip() == "[DONE]":
            continue
        try:
            event = json.loads(line[5:])
        except ValueError:
            continue
        choices = event.get("choices") or []
        parts.extend(str((c.get("delta") or {}).get("content") or "") for c in choices)
    return "".join(parts)
