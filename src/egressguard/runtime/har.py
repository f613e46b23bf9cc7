"""HAR 1.2 files exported from browser devtools (Chrome, Firefox) -> `Traffic`.

What is read: every entry's request (URL, method, headers, cookies, body from `postData.text`,
or rebuilt from `postData.params`; base64 when `encoding` says so), the response status,
headers and body (for documents and scripts: page scripts and SRI hashes), Chrome's
`_resourceType` and `_webSocketMessages` (WebSocket frames), and the page list.

A file that is not a HAR at all (missing, binary, not JSON, no `log.entries`, larger than
`max_bytes`) raises `EvidenceInputError`; an entry that cannot be read is a `SkippedTarget`
in `Traffic.skipped`, with its index and the reason, and the rest is still analysed.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus, urlsplit

from egressguard.errors import EvidenceInputError
from egressguard.model import SkippedTarget
from egressguard.runtime.page_scripts import script_tags
from egressguard.runtime.traffic import (
    Cookie,
    Request,
    ResourceType,
    ScriptTag,
    Traffic,
    WebSocketFrame,
)

MAX_HAR_BYTES = 512 * 1024 * 1024
_KEEP_RESPONSE = frozenset({ResourceType.DOCUMENT, ResourceType.SCRIPT})
_CHROME_TYPES = {
    "document": ResourceType.DOCUMENT,
    "script": ResourceType.SCRIPT,
    "xhr": ResourceType.XHR,
    "fetch": ResourceType.FETCH,
    "ping": ResourceType.BEACON,
    "beacon": ResourceType.BEACON,
    "websocket": ResourceType.WEBSOCKET,
    "eventsource": ResourceType.EVENTSOURCE,
    "stylesheet": ResourceType.STYLESHEET,
    "image": ResourceType.IMAGE,
}


class _BadEntry(Exception):
    """One entry cannot be read; becomes a SkippedTarget (never leaves this module)."""


def load_har(path: Path, *, max_bytes: int = MAX_HAR_BYTES) -> Traffic:
    """The traffic recorded in a HAR file."""
    return parse_har(_read(path, max_bytes), label=path.name)


def _read(path: Path, max_bytes: int) -> bytes:
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise EvidenceInputError(
                f"{path}: {size} bytes is larger than the {max_bytes}-byte limit for a HAR file"
            )
        return path.read_bytes()
    except OSError as exc:
        raise EvidenceInputError(f"{path}: cannot read: {exc.strerror or exc}") from exc


def parse_har(data: bytes, *, label: str = "HAR") -> Traffic:
    """`Traffic` from the bytes of a HAR file (see the module docstring for what is read)."""
    document = _decode(data, label)
    log = document.get("log") if isinstance(document, dict) else None
    entries = log.get("entries") if isinstance(log, dict) else None
    if not isinstance(log, dict) or not isinstance(entries, list):
        raise EvidenceInputError(f"{label}: not a HAR file (no log.entries list)")
    builder = _Builder(label, _page_urls(log.get("pages"), entries))
    for index, entry in enumerate(entries):
        try:
            builder.add(entry)
        except _BadEntry as exc:
            builder.skipped.append(SkippedTarget(f"{label}#entry-{index}", "har-entry", str(exc)))
    return builder.traffic()


def _decode(data: bytes, label: str) -> object:
    if b"\0" in data[:8192]:
        raise EvidenceInputError(f"{label}: not a HAR file (binary content)")
    try:
        return json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise EvidenceInputError(
            f"{label}: not a HAR file (not UTF-8 at byte {exc.start})"
        ) from exc
    except json.JSONDecodeError as exc:
        raise EvidenceInputError(
            f"{label}: not a HAR file (invalid JSON at line {exc.lineno}, column {exc.colno}: "
            f"{exc.msg})"
        ) from exc
    except RecursionError as exc:
        raise EvidenceInputError(f"{label}: not a HAR file (JSON nested too deeply)") from exc


def _page_urls(pages: object, entries: Sequence[object]) -> dict[str, str]:
    """pageref -> page URL. Chrome puts the URL in the title; Firefox the document's title."""
    urls: dict[str, str] = {}
    for page in pages if isinstance(pages, list) else ():
        if isinstance(page, dict) and isinstance(page.get("id"), str):
            title = page.get("title")
            if isinstance(title, str) and title.startswith(("http://", "https://")):
                urls[page["id"]] = title
    for entry in entries:  # the first document of a page, when the title is not a URL
        if not isinstance(entry, dict) or _resource_type(entry) is not ResourceType.DOCUMENT:
            continue
        request, ref = entry.get("request"), entry.get("pageref")
        url = request.get("url") if isinstance(request, dict) else None
        if isinstance(ref, str) and ref not in urls and isinstance(url, str):
            urls[ref] = url
    return urls


@dataclass
class _Builder:
    label: str
    pages_by_ref: dict[str, str]
    requests: list[Request] = field(default_factory=list)
    frames: list[WebSocketFrame] = field(default_factory=list)
    cookies: dict[tuple[str, str, str, str], Cookie] = field(default_factory=dict)
    scripts: list[ScriptTag] = field(default_factory=list)
    pages: dict[str, None] = field(default_factory=dict)
    skipped: list[SkippedTarget] = field(default_factory=list)
    first_time: float | None = None

    def add(self, entry: object) -> None:
        if not isinstance(entry, dict):
            raise _BadEntry("entry is not an object")
        request = entry.get("request")
        if not isinstance(request, dict):
            raise _BadEntry("no request object")
        url = _text(request, "url")
        if not url.startswith(("http://", "https://", "ws://", "wss://")):
            raise _BadEntry(f"request.url is not an http(s)/ws(s) URL: {url[:80]!r}")
        kind = _resource_type(entry)
        page_url = self._page_of(entry, request, url, kind)
        response = entry.get("response")
        response = response if isinstance(response, dict) else {}
        body = self._request_body(request)
        status = response.get("status")
        kept = _response_body(response) if kind in _KEEP_RESPONSE else None
        self.requests.append(
            Request(
                url=url,
                method=_text(request, "method") or "GET",
                resource_type=kind,
                page_url=page_url,
                request_headers=_pairs(request.get("headers")),
                request_body=body,
                status=status if isinstance(status, int) and status > 0 else None,
                response_headers=_pairs(response.get("headers")),
                response_body=kept,
                started_at=self._time(entry.get("startedDateTime")),
            )
        )
        if kind is ResourceType.DOCUMENT:
            self.pages.setdefault(page_url)
            if kept:
                html = kept.decode("utf-8", "replace")
                self.scripts.extend(script_tags(html, url))
        self._frames(entry, url, page_url)
        self._cookies(request, response, url, page_url)

    def _page_of(
        self, entry: Mapping[str, Any], request: Mapping[str, Any], url: str, kind: ResourceType
    ) -> str:
        ref = entry.get("pageref")
        if isinstance(ref, str) and ref in self.pages_by_ref:
            return self.pages_by_ref[ref]
        if kind is ResourceType.DOCUMENT:
            return url
        referer = _header(request.get("headers"), "referer")
        return referer or url

    def _request_body(self, request: Mapping[str, Any]) -> bytes:
        post = request.get("postData")
        if not isinstance(post, dict):
            return b""
        text = post.get("text")
        if isinstance(text, str) and text:
            if post.get("encoding") == "base64":
                return _b64(text, "request.postData.text")
            return text.encode("utf-8", "surrogatepass")
        params = post.get("params")
        if isinstance(params, list):  # Firefox: form fields only
            pairs = [
                f"{quote_plus(str(p.get('name', '')))}={quote_plus(str(p.get('value', '')))}"
                for p in params
                if isinstance(p, dict)
            ]
            return "&".join(pairs).encode("utf-8")
        return b""

    def _frames(self, entry: Mapping[str, Any], url: str, page_url: str) -> None:
        messages = entry.get("_webSocketMessages")
        if not isinstance(messages, list):
            return
        for message in messages:
            if not isinstance(message, dict) or not isinstance(message.get("data"), str):
                continue
            sent = message.get("type") == "send"
            self.frames.append(WebSocketFrame(url, page_url, sent, message["data"]))

    def _cookies(
        self,
        request: Mapping[str, Any],
        response: Mapping[str, Any],
        url: str,
        page_url: str,
    ) -> None:
        host = urlsplit(url).hostname or ""
        for source in (request.get("cookies"), response.get("cookies")):
            for raw in source if isinstance(source, list) else ():
                if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
                    continue
                cookie = Cookie(
                    name=raw["name"],
                    value=str(raw.get("value", "")),
                    domain=str(raw.get("domain") or host),
                    path=str(raw.get("path") or "/"),
                    http_only=bool(raw.get("httpOnly", False)),
                    secure=bool(raw.get("secure", False)),
                    page_url=page_url,
                )
                self.cookies.setdefault(
                    (cookie.domain, cookie.name, cookie.value, page_url), cookie
                )

    def _time(self, value: object) -> float:
        if not isinstance(value, str):
            return 0.0
        try:
            stamp = datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return 0.0
        if self.first_time is None:
            self.first_time = stamp
        return round(max(0.0, stamp - self.first_time), 3)

    def traffic(self) -> Traffic:
        pages = tuple(self.pages) or tuple(dict.fromkeys(r.page_url for r in self.requests))
        first = pages[0] if pages else (self.requests[0].url if self.requests else "")
        parts = urlsplit(first)
        origin = f"{parts.scheme}://{parts.netloc}" if parts.netloc else ""
        return Traffic(
            origin=origin,
            source="har",
            requests=tuple(self.requests),
            websocket_frames=tuple(self.frames),
            cookies=tuple(self.cookies.values()),
            scripts=tuple(dict.fromkeys(self.scripts)),
            pages=pages,
            evidence_files=(self.label,),
            skipped=tuple(self.skipped),
        )


def _resource_type(entry: Mapping[str, Any]) -> ResourceType:
    chrome = entry.get("_resourceType")
    if isinstance(chrome, str):
        return _CHROME_TYPES.get(chrome.lower(), ResourceType.OTHER)
    if isinstance(entry.get("_webSocketMessages"), list):
        return ResourceType.WEBSOCKET
    response = entry.get("response")
    content = response.get("content") if isinstance(response, dict) else None
    mime = str(content.get("mimeType", "")) if isinstance(content, dict) else ""
    return _type_of_mime(mime.lower())


def _type_of_mime(mime: str) -> ResourceType:
    if "html" in mime:
        return ResourceType.DOCUMENT
    if "javascript" in mime or "ecmascript" in mime:
        return ResourceType.SCRIPT
    if "json" in mime:
        return ResourceType.XHR
    if "event-stream" in mime:
        return ResourceType.EVENTSOURCE
    if mime.startswith("image/"):
        return ResourceType.IMAGE
    if "css" in mime:
        return ResourceType.STYLESHEET
    return ResourceType.OTHER


def _response_body(response: Mapping[str, Any]) -> bytes | None:
    content = response.get("content")
    if not isinstance(content, dict) or not isinstance(content.get("text"), str):
        return None
    text: str = content["text"]
    if content.get("encoding") == "base64":
        try:
            return _b64(text, "response.content.text")
        except _BadEntry:
            return None  # the request is still analysed; only its body is unknown
    return text.encode("utf-8", "surrogatepass")


def _b64(text: str, where: str) -> bytes:
    try:
        return base64.b64decode(text, validate=False)
    except (binascii.Error, ValueError) as exc:
        raise _BadEntry(f"{where}: invalid base64 ({exc})") from exc


def _text(mapping: Mapping[str, Any], key: str) -> str:
    value = mapping.get(key)
    return value if isinstance(value, str) else ""


def _pairs(headers: object) -> tuple[tuple[str, str], ...]:
    items = headers if isinstance(headers, list) else []
    return tuple(
        (item["name"], str(item.get("value", "")))
        for item in items
        if isinstance(item, dict) and isinstance(item.get("name"), str)
    )


def _header(headers: object, name: str) -> str:
    for key, value in _pairs(headers):
        if key.lower() == name:
            return value
    return ""
