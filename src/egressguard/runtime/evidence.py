"""Where a runtime finding points and what it shows: page locations and masked evidence.

Runtime findings point at pages, not files: `page_location` keeps scheme, host and path and
drops the query string and fragment (they can hold search terms, tokens or typed data).
Evidence is a short window of the request text with every canary value, detected secret and
long high-entropy token masked (`masking.mask`), so no report ever carries one in full.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from egressguard.masking import mask
from egressguard.model import Hit
from egressguard.runtime.traffic import Request

_TOKEN = re.compile(r"[A-Za-z0-9_\-+/=]{24,}")
_WINDOW = 70  # characters of context on each side of the first hit
_MAX_EVIDENCE = 400
_MAX_PATH = 120
_MAX_BODY_TEXT = 1 << 20  # characters of a body that are searched


@dataclass(frozen=True, slots=True)
class PageHit:
    """A hit and the page (its `page_location`) it was observed on."""

    page: str
    hit: Hit


def page_location(url: str) -> str:
    """`scheme://host[:port]/path` of a URL, without query or fragment, path cut to a length."""
    parts = urlsplit(url)
    if not parts.netloc:
        return url.split("?", 1)[0].split("#", 1)[0][:_MAX_PATH]
    path = parts.path or "/"
    if len(path) > _MAX_PATH:
        path = path[:_MAX_PATH] + "…"
    return f"{parts.scheme}://{parts.netloc}{path}"


def request_label(request: Request) -> str:
    """`METHOD scheme://host/path` (no query string: it may hold what the finding is about)."""
    query = "?…" if urlsplit(request.url).query else ""
    return f"{request.method} {page_location(request.url)}{query}"


def request_text(request: Request) -> tuple[str, int]:
    """The request as one searchable text (request line, headers, blank line, body) and the
    offset where the body starts."""
    lines = [f"{request.method} {request.url}"]
    lines += [f"{name}: {value}" for name, value in request.request_headers]
    head = "\n".join(lines) + "\n\n"
    body = request.request_body[:_MAX_BODY_TEXT].decode("utf-8", "replace")
    return head + body, len(head)


def _entropy(value: str) -> float:
    counts = Counter(value)
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def _secret_looking(token: str) -> bool:
    has_digit = any(c.isdigit() for c in token)
    has_alpha = any(c.isalpha() for c in token)
    return has_digit and has_alpha and _entropy(token) >= 3.5


def token_spans(text: str) -> list[tuple[int, int]]:
    """Long, high-entropy tokens (a key without a rule, a session id) to mask."""
    return [m.span() for m in _TOKEN.finditer(text) if _secret_looking(m.group())]


def masked(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """`text` with every span replaced by its masked form (overlapping spans merged)."""
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out, pos = [], 0
    for start, end in merged:
        out += [text[pos:start], mask(text[start:end])]
        pos = end
    out.append(text[pos:])
    return "".join(out)


def snippet(text: str, focus: tuple[int, int], spans: Iterable[tuple[int, int]]) -> str:
    """A one-line, masked window of `text` around `focus`."""
    lo = max(0, focus[0] - _WINDOW)
    hi = min(len(text), focus[1] + _WINDOW)
    inside = [(max(s, lo) - lo, min(e, hi) - lo) for s, e in spans if e > lo and s < hi]
    window = masked(text[lo:hi], [*inside, *token_spans(text[lo:hi])])
    window = window.replace("\r", "").replace("\n", " ⏎ ")
    prefix = "…" if lo > 0 else ""
    suffix = "…" if hi < len(text) else ""
    line = f"{prefix}{window}{suffix}"
    return line if len(line) <= _MAX_EVIDENCE else line[:_MAX_EVIDENCE] + "…"
