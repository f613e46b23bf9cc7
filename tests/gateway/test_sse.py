"""The incremental SSE parser: framing rules, and the same events however the bytes are cut."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from egressguard.gateway.sse import SseEvent, SseParser, encode


def parse(chunks: list[bytes], *, close: bool = True) -> list[SseEvent]:
    parser = SseParser()
    events = [event for chunk in chunks for event in parser.feed(chunk)]
    return events + parser.close() if close else events


def cuts(data: bytes, positions: list[int]) -> list[bytes]:
    bounds = [0, *sorted(set(positions)), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_line_endings(newline: str) -> None:
    wire = f"data: a{newline}data: b{newline}{newline}event: x{newline}data:c{newline}{newline}"
    assert parse([wire.encode()], close=False) == [
        SseEvent(data="a\nb"),
        SseEvent(event="x", data="c"),
    ]


def test_fields_comments_and_values() -> None:
    wire = (
        ": keep-alive comment\n"
        "event: message_start\n"
        "id: 7\n"
        "retry: 1500\n"
        "data:  two spaces keep one\n"
        "unknown: ignored\n"
        "\n"
        "retry: 12x\n"  # not digits: ignored
        "id: a\x00b\n"  # NUL: ignored
        "data\n"  # a field name alone: empty value
        "\n"
        "event: ping\n"  # no data: nothing dispatched
        "\n"
    )
    assert parse([wire.encode()]) == [
        SseEvent(event="message_start", data=" two spaces keep one", id="7", retry=1500),
        SseEvent(data=""),
    ]


def test_bom_and_crlf_split_across_chunks() -> None:
    assert parse([b"\xef\xbb", b"\xbfdata: x\r", b"\ndata: y\r", b"\n\r", b"\n"]) == [
        SseEvent(data="x\ny")
    ]
    # a CR at the end of a chunk ends the line at once: the event is not delayed
    parser = SseParser()
    assert parser.feed(b"data: z\r\r") == [SseEvent(data="z")]
    assert parser.feed(b"\ndata: w\n\n") == [SseEvent(data="w")]


def test_utf8_split_across_chunks() -> None:
    wire = "data: Grüße, Zoë – 東京 🎉\n\n".encode()
    expected = [SseEvent(data="Grüße, Zoë – 東京 🎉")]
    for i in range(len(wire) + 1):
        assert parse([wire[:i], wire[i:]]) == expected
    assert parse([bytes([b]) for b in wire]) == expected


def test_close_dispatches_an_event_without_its_blank_line() -> None:
    parser = SseParser()
    assert parser.feed(b"data: {}\n\ndata: [DONE]\n") == [SseEvent(data="{}")]
    assert parser.close() == [SseEvent(data="[DONE]")]
    assert parse([b"data: last"]) == [SseEvent(data="last")]
    assert parse([b"data: a\n\n"]) == [SseEvent(data="a")]  # nothing pending: nothing more
    assert parse([b"\xe2\x82"]) == []  # a truncated UTF-8 sequence and no field


def test_invalid_utf8_is_replaced() -> None:
    assert parse([b"data: \xff\n\n"]) == [SseEvent(data="\ufffd")]


def test_encode() -> None:
    event = SseEvent(event="content_block_delta", data='{"a":1}\nsecond', id="9", retry=10)
    assert encode(event) == (
        b'event: content_block_delta\nid: 9\nretry: 10\ndata: {"a":1}\ndata: second\n\n'
    )
    assert encode(SseEvent(data="[DONE]")) == b"data: [DONE]\n\n"
    with pytest.raises(ValueError, match="line break"):
        encode(SseEvent(event="a\nb", data=""))


# --- properties ---------------------------------------------------------------------------------

field_text = st.text(
    alphabet=st.characters(blacklist_characters="\r\n\x00", blacklist_categories=["Cs"]),
    max_size=12,
)
events = st.builds(
    SseEvent,
    event=st.none() | field_text.filter(bool),
    data=st.lists(field_text, min_size=1, max_size=3).map("\n".join),
    id=st.none() | field_text,
    retry=st.none() | st.integers(0, 10**6),
)


@settings(max_examples=300)
@given(
    stream=st.lists(events, max_size=5),
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
    data=st.data(),
)
def test_any_chunking_gives_the_same_events(
    stream: list[SseEvent], newline: str, data: st.DataObject
) -> None:
    wire = b"".join(encode(e) for e in stream).replace(b"\n", newline.encode())
    positions = data.draw(st.lists(st.integers(0, len(wire)), max_size=12))
    assert parse(cuts(wire, positions)) == stream


def test_every_cut_position_of_a_realistic_stream() -> None:
    wire = (
        b": OPENROUTER PROCESSING\r\n\r\n"
        b'event: message_start\r\ndata: {"type":"message_start"}\r\n\r\n'
        b'data: {"delta":"Gr\xc3\xbc\xc3\x9fe [EMAIL_7f3a9c]"}\n\n'
        b"id: 3\rretry: 100\rdata: one\rdata: two\r\r"
        b"data: [DONE]"
    )
    expected = parse([wire])
    assert len(expected) == 4 and expected[-1] == SseEvent(data="[DONE]")
    for i in range(len(wire) + 1):
        assert parse([wire[:i], wire[i:]]) == expected
        for j in range(i, len(wire) + 1, 7):
            assert parse([wire[:i], wire[i:j], wire[j:]]) == expected
