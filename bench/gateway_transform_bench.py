"""What tokenisation and restoration cost beyond detection, for a ~2 KB shop prompt.

Measured in one process, each step many times (p50/p95/p99 of single calls, in microseconds):

- detect:   `Detector.scan` over every string the redactor scans (the detection engine's share);
- redact:   `Redactor.redact_request` with the real detector (detection + walking + tokens);
- redact-replay: the same walk with a detector that replays the recorded spans from a dict, so
            what is left is the transformer's own cost (walk, copies, HMACs, JSON re-encoding);
- restore-json: `restore_json_body` of a ~1 KB chat answer with tokens and tool arguments;
- restore-stream: per SSE event, parse + `restore_sse_event` + encode, for a chat stream of
            4-character deltas with tokens split across events (the proxy's per-event work).

    .venv/bin/python bench/gateway_transform_bench.py [--iterations 2000]

Prints a Markdown table: wall-clock percentiles and the median CPU time of the calling thread
(which a busy machine disturbs less). Never run by the tests; timings are machine-dependent.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

from egressguard.gateway.actions import Action, Api
from egressguard.gateway.detect import Detector, PiiCategory, Span, build_detector
from egressguard.gateway.restore import Restorer, StreamState, restore_json_body, restore_sse_event
from egressguard.gateway.sse import SseEvent, SseParser, encode
from egressguard.gateway.tokens import Tokenizer
from egressguard.gateway.transform import RedactContext, Redactor

SECRET = b"bench-secret-0123456789abcdefghij"


def prompt() -> dict[str, Any]:
    """A Magento-style support prompt: ~2 KB of text and JSON with personal data."""
    order = {
        "increment_id": "000001234",
        "customer": {
            "firstname": "Anna",
            "lastname": "Müller",
            "email": "anna.mueller@example.de",
            "telephone": "+49 30 1234567",
        },
        "billing_address": {"street": "Hauptstraße 5", "postcode": "10115", "city": "Berlin"},
        "payment": {"iban": "DE89 3704 0044 0532 0130 00"},
        "items": [{"sku": "TSHIRT-RED-M", "qty": 2, "price": 19.9}] * 3,
    }
    question = (
        "Hello, I ordered last week and the parcel has not arrived yet. My name is Jan Kowalski, "
        "you can reach me at jan.kowalski@example.com or on +48 601 234 567. Please check "
        "whether the delivery address was right and tell me when it ships. "
    ) * 3
    return {
        "model": "local",
        "messages": [
            {"role": "system", "content": "You are the support assistant of a fashion shop."},
            {"role": "user", "content": question},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {
                            "name": "get_order",
                            "arguments": json.dumps({"email": "jan.kowalski@example.com"}),
                        },
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": json.dumps(order)},
        ],
    }


class Recording:
    """Wraps the detector: remembers every scan call and its spans."""

    def __init__(self, detector: Detector) -> None:
        self._detector = detector
        self.spans: dict[tuple[str, str | None], list[Span]] = {}
        self.calls: list[tuple[str, str | None]] = []  # every scan, repeats included

    def scan(self, text: str, *, key: str | None = None) -> list[Span]:
        self.calls.append((text, key))
        found = self.spans[(text, key)] = self._detector.scan(text, key=key)
        return found


class Replay:
    """Returns recorded spans: a detector that costs one dict lookup."""

    def __init__(self, spans: dict[tuple[str, str | None], list[Span]]) -> None:
        self._spans = spans

    def scan(self, text: str, *, key: str | None = None) -> Sequence[Span]:
        return self._spans.get((text, key), [])


Samples = tuple[list[float], list[float]]  # (wall µs, this thread's CPU µs) per call


def sample(fn: Callable[[], object], iterations: int, per: int = 1) -> Samples:
    """Wall and CPU time of `iterations` calls, divided by `per` (events per call)."""
    for _ in range(min(200, iterations)):
        fn()
    wall: list[float] = []
    cpu: list[float] = []
    for _ in range(iterations):
        start, start_cpu = time.perf_counter_ns(), time.thread_time_ns()
        fn()
        cpu.append((time.thread_time_ns() - start_cpu) / 1000 / per)
        wall.append((time.perf_counter_ns() - start) / 1000 / per)
    return wall, cpu


def row(name: str, samples: Samples, note: str) -> str:
    q = statistics.quantiles(samples[0], n=100)
    cpu = statistics.median(samples[1])
    return f"| {name} | {q[49]:.1f} | {q[94]:.1f} | {q[98]:.1f} | {cpu:.1f} | {note} |"


def answer(tokens: list[str]) -> dict[str, Any]:
    text = " ".join(f"Sure, {t} is noted." for t in tokens) * 3
    args = json.dumps({"to": tokens[0], "cc": tokens[1:3], "note": "ok"})
    call = {"id": "c", "type": "function", "function": {"name": "send", "arguments": args}}
    message = {"role": "assistant", "content": text, "tool_calls": [call]}
    return {"id": "x", "object": "chat.completion", "choices": [{"index": 0, "message": message}]}


def stream_wire(text: str) -> bytes:
    env = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m"}
    chunks = [text[i : i + 4] for i in range(0, len(text), 4)]
    events = [
        SseEvent(data=json.dumps({**env, "choices": [{"index": 0, "delta": {"content": c}}]}))
        for c in chunks
    ]
    return b"".join(encode(e) for e in events) + b"data: [DONE]\n\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=2000)
    n = parser.parse_args().iterations

    detector = build_detector([])
    tokenizer = Tokenizer(SECRET)
    body = prompt()
    size = len(json.dumps(body, ensure_ascii=False).encode())
    ctx = RedactContext("shop1", tokenizer.conversation_id("shop1", Api.CHAT, body))

    def tokenize(category: PiiCategory) -> Action:
        return Action.TOKENIZE

    recording = Recording(detector)
    result = Redactor(recording, tokenizer, tokenize).redact_request(Api.CHAT, body, ctx)
    scans = recording.calls
    real = Redactor(detector, tokenizer, tokenize)
    replay = Redactor(Replay(recording.spans), tokenizer, tokenize)

    def detect_all() -> None:
        for text, key in scans:
            detector.scan(text, key=key)

    issued = {token: item.value for token, item in result.issued.items()}
    reply = answer(list(issued))
    wire = stream_wire(reply["choices"][0]["message"]["content"])

    def restore_json() -> None:
        restore_json_body(Api.CHAT, reply, Restorer(issued.get, issued))

    events = SseParser().feed(wire)

    def restore_stream() -> None:
        state = StreamState(Restorer(issued.get, issued))
        for event in events:
            for out in restore_sse_event(Api.CHAT, event, state):
                encode(out)

    def parse_stream() -> None:
        SseParser().feed(wire)

    per_event = sample(restore_stream, max(50, n // 20), len(events))
    parse = sample(parse_stream, max(50, n // 20), len(events))
    lines = [
        f"prompt: {size} bytes JSON, {len(scans)} strings scanned, "
        f"{sum(result.counts.values())} values found, {len(issued)} tokens issued; "
        f"answer: {len(json.dumps(reply))} bytes; stream: {len(events)} events, {len(wire)} bytes",
        f"python {platform.python_version()} on {platform.machine()}, {n} iterations",
        "",
        "| step | wall p50 µs | wall p95 µs | wall p99 µs | CPU p50 µs | note |",
        "|---|---:|---:|---:|---:|---|",
        row("detect", sample(detect_all, n), "Detector.scan over the same strings"),
        row("redact", sample(lambda: real.redact_request(Api.CHAT, body, ctx), n), "real detector"),
        row(
            "redact-replay",
            sample(lambda: replay.redact_request(Api.CHAT, body, ctx), n),
            "transform only (spans replayed)",
        ),
        row("restore-json", sample(restore_json, n), "whole answer, incl. tool arguments"),
        row("sse-parse", parse, "per event"),
        row("restore-stream", per_event, "per event: restore_sse_event + encode"),
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
