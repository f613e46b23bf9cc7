"""A real OpenAI/Anthropic-shaped test upstream and a helper to run ASGI apps on loopback.

The upstream records every request it receives (path, headers, parsed body) and answers
according to `Behaviour`, which a test sets before each call:

- `echo` (default): the reply text is `reply` if set, else the text of the last user message;
  streamed when the request says `stream: true`, as `chunk_size`-character deltas, or as the
  exact byte chunks in `raw_chunks` (to cut the stream at chosen byte positions);
- `hang`: never answers (until the server stops);
- `hang_mid_stream` / `die_mid_stream`: sends `events_before_failure` events, then hangs or
  drops the connection;
- `status`: answers `status` with an error body (`fail_times` limits how many requests fail).

Only 127.0.0.1 is ever bound.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: Any
    raw: bytes


@dataclass
class Behaviour:
    mode: str = "echo"
    reply: str | None = None
    chunk_size: int = 4
    raw_chunks: list[bytes] | None = None
    events_before_failure: int = 2
    status: int = 503
    fail_times: int | None = None
    tool_call: dict[str, Any] | None = None  # chat: answer with this function call
    models: list[str] = field(default_factory=lambda: ["llama3", "mistral-small"])


class TestUpstream:
    """The upstream's state: what it received and how it behaves next."""

    __test__ = False  # not a pytest class

    def __init__(self, name: str = "upstream") -> None:
        self.name = name
        self.received: list[Received] = []
        self.behaviour = Behaviour()
        self.stopping = False
        self.aborted = 0  # streams the client (the gateway) walked away from
        self._failed = 0

    def reset(self) -> None:
        self.aborted = 0
        self.received.clear()
        self.behaviour = Behaviour()
        self._failed = 0

    def seen_text(self) -> str:
        """Everything the upstream received, as one string (for 'never saw X' assertions)."""
        return "\n".join(r.raw.decode("utf-8", "replace") for r in self.received)

    def app(self) -> Starlette:
        routes = [
            Route(p, self._handle, methods=["POST"])
            for p in (
                "/v1/chat/completions",
                "/v1/completions",
                "/v1/embeddings",
                "/v1/responses",
                "/v1/messages",
            )
        ]
        routes.append(Route("/v1/models", self._models, methods=["GET"]))
        return Starlette(routes=routes)

    async def _models(self, request: Request) -> Response:
        data = [{"id": m, "object": "model", "owned_by": self.name} for m in self.behaviour.models]
        return JSONResponse({"object": "list", "data": data})

    async def _handle(self, request: Request) -> Response:
        raw = await request.body()
        body = json.loads(raw)
        self.received.append(Received(request.url.path, dict(request.headers), body, raw))
        b = self.behaviour
        if b.mode == "hang":
            await self._sleep_until_stopped()
        if b.mode == "status" and (b.fail_times is None or self._failed < b.fail_times):
            self._failed += 1
            return JSONResponse({"error": {"message": "upstream says no"}}, status_code=b.status)
        path = request.url.path
        text = b.reply if b.reply is not None else _last_user_text(path, body)
        if body.get("stream") is True:
            return StreamingResponse(self._stream(path, text), media_type="text/event-stream")
        return JSONResponse(_answer(path, body, text, b.tool_call))

    async def _sleep_until_stopped(self) -> None:
        while not self.stopping:
            await asyncio.sleep(0.05)

    async def _stream(self, path: str, text: str) -> AsyncIterator[bytes]:
        b = self.behaviour
        chunks = b.raw_chunks if b.raw_chunks is not None else sse_events(path, text, b.chunk_size)
        try:
            for i, chunk in enumerate(chunks):
                if b.mode in ("hang_mid_stream", "die_mid_stream") and i == b.events_before_failure:
                    if b.mode == "die_mid_stream":
                        raise ConnectionAbortedError("test upstream dies mid-stream")
                    await self._sleep_until_stopped()
                    return
                yield chunk
                await asyncio.sleep(0)
        except asyncio.CancelledError:
            self.aborted += 1
            raise


def _last_user_text(path: str, body: dict[str, Any]) -> str:
    if path == "/v1/completions":
        return str(body.get("prompt", ""))
    if path == "/v1/embeddings":
        return json.dumps(body.get("input"))
    if path == "/v1/responses":
        inp = body.get("input")
        return inp if isinstance(inp, str) else json.dumps(inp)
    for message in reversed(body.get("messages", [])):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            return " ".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


def _answer(
    path: str, body: dict[str, Any], text: str, tool_call: dict[str, Any] | None
) -> dict[str, Any]:
    if path == "/v1/messages":
        return {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": body.get("model"),
            "content": [{"type": "text", "text": text}],
            "stop_reason": "end_turn",
            "usage": {"input_tokens": 1, "output_tokens": 1},
        }
    if path == "/v1/completions":
        return {
            "id": "cmpl-1",
            "object": "text_completion",
            "choices": [{"index": 0, "text": text}],
        }
    if path == "/v1/embeddings":
        return {"object": "list", "data": [{"object": "embedding", "index": 0, "embedding": [0.1]}]}
    if path == "/v1/responses":
        return {
            "id": "resp_1",
            "object": "response",
            "status": "completed",
            "output": [
                {
                    "type": "message",
                    "role": "assistant",
                    "content": [{"type": "output_text", "text": text}],
                }
            ],
        }
    message: dict[str, Any] = {"role": "assistant", "content": text}
    if tool_call is not None:
        message = {"role": "assistant", "content": None, "tool_calls": [tool_call]}
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "model": body.get("model"),
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
    }


def sse_events(path: str, text: str, size: int) -> list[bytes]:
    """The SSE events an upstream of this API shape sends for `text`, `size` chars per delta."""
    parts = [text[i : i + size] for i in range(0, len(text), size)] or [""]
    if path == "/v1/messages":
        return _anthropic_events(parts)
    if path == "/v1/responses":
        out = [_ev({"type": "response.output_text.delta", "output_index": 0, "content_index": 0,
                    "delta": p}, "response.output_text.delta") for p in parts]  # fmt: skip
        done = {"type": "response.completed", "response": {"id": "resp_1", "status": "completed"}}
        return [*out, _ev(done, "response.completed")]
    if path == "/v1/completions":
        chunks = [
            _ev({"object": "text_completion", "choices": [{"index": 0, "text": p}]}) for p in parts
        ]
        return [*chunks, b"data: [DONE]\n\n"]
    chunks = [
        _ev({"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": p}}]})
        for p in parts
    ]
    finish = {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {},
              "finish_reason": "stop"}]}  # fmt: skip
    return [*chunks, _ev(finish), b"data: [DONE]\n\n"]


def _anthropic_events(parts: list[str]) -> list[bytes]:
    start = {"type": "message_start", "message": {"id": "msg_1", "type": "message",
             "role": "assistant", "content": []}}  # fmt: skip
    block = {
        "type": "content_block_start",
        "index": 0,
        "content_block": {"type": "text", "text": ""},
    }
    deltas = [
        _ev(
            {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": p}},
            "content_block_delta",
        )
        for p in parts
    ]
    return [
        _ev(start, "message_start"),
        _ev(block, "content_block_start"),
        *deltas,
        _ev({"type": "content_block_stop", "index": 0}, "content_block_stop"),
        _ev({"type": "message_stop"}, "message_stop"),
    ]


def _ev(doc: dict[str, Any], event: str | None = None) -> bytes:
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {json.dumps(doc)}\n\n".encode()


class ServerThread:
    """uvicorn serving an ASGI app on 127.0.0.1 (port 0 by default) in a background thread."""

    def __init__(
        self, app: Any = None, *, port: int = 0, config: uvicorn.Config | None = None
    ) -> None:
        self.config = config or uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"
        )
        self.server = uvicorn.Server(self.config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.port = port

    def __enter__(self) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("test server did not start")
            time.sleep(0.01)
        sock: socket.socket = self.server.servers[0].sockets[0]
        self.port = sock.getsockname()[1]
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"
