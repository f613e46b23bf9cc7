"""The model server's record: every exchange once, request and answer, streams included."""

from __future__ import annotations

import asyncio
import json
import stat
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from egressguard.local_model.recorder import (
    MAX_RECORDED_BYTES,
    ExchangeLog,
    answer_text,
    read_exchanges,
    recording,
)


def _app(chunks: list[bytes], status: int = 200) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        more = True
        while more:
            message = await receive()
            more = message.get("more_body", False)
        await send({"type": "http.response.start", "status": status, "headers": []})
        for i, chunk in enumerate(chunks):
            last = i == len(chunks) - 1
            await send({"type": "http.response.body", "body": chunk, "more_body": not last})

    return app


def _call(app: Any, body_parts: list[bytes], path: str = "/v1/chat/completions") -> list[Any]:
    scope = {"type": "http", "method": "POST", "path": path}
    incoming = [
        {"type": "http.request", "body": part, "more_body": i < len(body_parts) - 1}
        for i, part in enumerate(body_parts)
    ]
    sent: list[Any] = []

    async def receive() -> Any:
        return incoming.pop(0)

    async def send(message: Any) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


def test_json_exchange_recorded_parsed_and_passed_through_unchanged(tmp_path: Path) -> None:
    log = ExchangeLog(tmp_path / "record.jsonl")
    answer = json.dumps({"choices": [{"message": {"content": "hi [EMAIL_1a2b3c]"}}]}).encode()
    body = json.dumps({"messages": [{"role": "user", "content": "[EMAIL_1a2b3c]"}]}).encode()
    sent = _call(recording(_app([answer]), log), [body[:7], body[7:]])
    log.close()
    assert b"".join(m.get("body", b"") for m in sent) == answer  # the client sees it unchanged
    (entry,) = read_exchanges(tmp_path / "record.jsonl")
    assert entry["method"] == "POST"
    assert entry["path"] == "/v1/chat/completions"
    assert entry["status"] == 200
    assert entry["request"]["messages"][0]["content"] == "[EMAIL_1a2b3c]"
    assert entry["response"]["choices"][0]["message"]["content"] == "hi [EMAIL_1a2b3c]"


def test_record_file_is_private(tmp_path: Path) -> None:
    ExchangeLog(tmp_path / "r.jsonl").close()
    assert stat.S_IMODE((tmp_path / "r.jsonl").stat().st_mode) == 0o600


def test_an_oversized_body_is_cut_and_says_so(tmp_path: Path) -> None:
    log = ExchangeLog(tmp_path / "r.jsonl")
    big = b"x" * (MAX_RECORDED_BYTES + 10)
    _call(recording(_app([b"{}"]), log), [big])
    log.close()
    (entry,) = read_exchanges(tmp_path / "r.jsonl")
    assert entry["request"]["truncated"] is True
    assert len(entry["request"]["text"]) == MAX_RECORDED_BYTES


def test_a_line_cut_by_a_crash_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text('{"path": "/a"}\n{"path": "/b', encoding="utf-8")
    assert read_exchanges(path) == [{"path": "/a"}]
    assert read_exchanges(tmp_path / "missing.jsonl") == []


@settings(max_examples=60, deadline=None)
@given(
    text=st.text(min_size=1, max_size=300),
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=6),
)
def test_a_stream_is_recorded_whole_however_it_is_chunked(
    tmp_path_factory: Any, text: str, cuts: list[int]
) -> None:
    raw = f"data: {json.dumps({'choices': [{'delta': {'content': text}}]})}\n\n".encode()
    points = sorted({c for c in cuts if 0 < c < len(raw)})
    chunks = [raw[a:b] for a, b in zip([0, *points], [*points, len(raw)], strict=True)]
    path = tmp_path_factory.mktemp("rec") / "r.jsonl"
    log = ExchangeLog(path)
    _call(recording(_app(chunks), log), [b'{"stream": true}'])
    log.close()
    (entry,) = read_exchanges(path)
    assert entry["response"] == raw.decode()


def test_answer_text_of_a_body_and_of_a_stream() -> None:
    assert (
        answer_text({"choices": [{"message": {"content": "Hi [EMAIL_1a2b]"}}]}) == "Hi [EMAIL_1a2b]"
    )
    assert answer_text({"choices": []}) == ""
    stream = (
        'data: {"choices": [{"delta": {"role": "assistant"}}]}\n\n'
        'data: {"choices": [{"delta": {"content": "Hi [EMA"}}]}\n\n'
        ": ping\n\n"
        "data: {not json\n\n"
        'data: {"choices": [{"delta": {"content": "IL_1a2b]"}}]}\n\n'
        "data: [DONE]\n\n"
    )
    assert answer_text(stream) == "Hi [EMAIL_1a2b]"
