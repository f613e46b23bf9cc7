"""Findings from what pages sent: AI endpoints called, keys seen, personal data to AI and to
third parties (canary values with their encoding, or personal data the detector finds).

Every request and every browser-to-server WebSocket frame is searched as one text (request
line, headers, body). Occurrences are grouped per page and destination, so a chat that sends
ten messages gives one finding that counts ten requests, with the first as evidence.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import unquote_plus

from egressguard.gateway.detect import Detector, PiiCategory, Span
from egressguard.gateway.detect.engine import lower_same_length
from egressguard.gateway.detect.secrets import SecretFinder
from egressguard.masking import fingerprint as value_fingerprint
from egressguard.masking import mask
from egressguard.model import Confidence, DataCategory, Hit, Region, Severity
from egressguard.runtime.canary import CanaryMatcher
from egressguard.runtime.destinations import Destination, Destinations
from egressguard.runtime.evidence import (
    PageHit,
    page_location,
    request_label,
    request_text,
    snippet,
)
from egressguard.runtime.traffic import ResourceType, Traffic

_TRANSFER_SEVERITY = {Region.CN: Severity.HIGH}
_SHOPPER_TEXT_FIELDS = frozenset({"chat_sentence"})
# Detected categories worth a finding: to AI every kind of personal data, to other third
# parties only what is unambiguous in analytics payloads (ids and timestamps look like phones).
_AI_CATEGORIES = frozenset(
    {
        PiiCategory.EMAIL,
        PiiCategory.PHONE,
        PiiCategory.CARD,
        PiiCategory.IBAN,
        PiiCategory.VAT_ID,
        PiiCategory.NATIONAL_ID,
        PiiCategory.ADDRESS,
        PiiCategory.PERSON_NAME,
    }
)
STRONG_CATEGORIES = frozenset({PiiCategory.EMAIL, PiiCategory.CARD, PiiCategory.IBAN})
# Only a text with an '@' or a long digit run can hold an e-mail, card or IBAN.
_DIGIT_RUN = re.compile(r"\d[\d -]{8,}\d")


def strong_gate(text: str) -> bool:
    """False when the detector cannot find an e-mail, card or IBAN in `text` (skip it)."""
    return "@" in text or "%40" in text or _DIGIT_RUN.search(text) is not None


_PAYMENT = frozenset({PiiCategory.CARD, PiiCategory.IBAN})
# Downloads of a widget's code are the script inventory's business, not an API call.
_DOWNLOADS = frozenset(
    {ResourceType.SCRIPT, ResourceType.STYLESHEET, ResourceType.IMAGE, ResourceType.DOCUMENT}
)


@dataclass(frozen=True, slots=True)
class Sent:
    """One message that left a page: a request or a WebSocket frame, as searchable text."""

    page: str
    label: str  # "POST https://host/path" or "WebSocket frame to wss://host/path"
    text: str
    body_start: int  # where the payload starts in `text` (the detector reads only that)
    dest: Destination
    loads_code: bool = False  # a script, style, image or page download, not an API call


@dataclass
class _Group:
    """Occurrences of one finding key on one page."""

    first: Hit
    labels: dict[str, None] = field(default_factory=dict)
    details: dict[str, None] = field(default_factory=dict)
    count: int = 0


class RequestFindings:
    def __init__(
        self,
        traffic: Traffic,
        destinations: Destinations,
        secrets: SecretFinder,
        matcher: CanaryMatcher | None,
        detector: Detector | None,
    ) -> None:
        self.traffic = traffic
        self.destinations = destinations
        self.secrets = secrets
        self.matcher = matcher
        self.detector = detector
        self.groups: dict[tuple[str, str, str], _Group] = {}
        self.ai_dests: dict[tuple[str, str], Destination] = {}  # (provider id, host) ->
        self.ai_sites: dict[tuple[str, str], dict[str, None]] = {}  # (provider id, host) -> pages
        self.ai_categories: dict[tuple[str, str], set[DataCategory]] = {}

    def run(self) -> list[PageHit]:
        for sent in self._messages():
            self._one(sent)
        return self._hits()

    def _messages(self) -> Iterator[Sent]:
        for request in self.traffic.requests:
            dest = self.destinations.of(request.url)
            if dest is None:
                continue
            text, body_start = request_text(request)
            page = page_location(request.page_url or request.url)
            loads_code = request.resource_type in _DOWNLOADS
            yield Sent(page, request_label(request), text, body_start, dest, loads_code)
        for frame in self.traffic.websocket_frames:
            dest = self.destinations.of(frame.url)
            if dest is None or not frame.sent:
                continue
            label = f"WebSocket frame to {page_location(frame.url)}"
            yield Sent(page_location(frame.page_url or frame.url), label, frame.payload, 0, dest)

    def _one(self, sent: Sent) -> None:
        lower = lower_same_length(sent.text)
        secret_spans = list(self.secrets.find(sent.text, lower))
        canary = self.matcher.find(sent.text) if self.matcher is not None else []
        hide = [(s.start, s.end) for s in secret_spans] + [(h.start, h.end) for h in canary]
        for span in secret_spans:
            self._key(sent, span, hide)
        dest = sent.dest
        if dest.ai and not dest.first_party and not (dest.widget and sent.loads_code):
            self.ai_sites.setdefault((dest.party, dest.host), {})[sent.page] = None
            self.ai_dests[(dest.party, dest.host)] = dest
            self._endpoint(sent, hide)
        if dest.first_party:
            return
        for hit in canary:
            self._personal(sent, hit.field, str(hit.encoding), (hit.start, hit.end), hide, True)
        if self.detector is not None and self.matcher is None:
            found, detected = self._detected(sent)
            for span in found:
                focus = (span.start, span.end)
                self._personal(sent, str(span.category), "detected", focus, hide + detected, False)

    def _detected(self, sent: Sent) -> tuple[list[Span], list[tuple[int, int]]]:
        """Personal data in the payload, searched as sent and URL-decoded (form bodies, query),
        and every span the detector found there (all are masked in the evidence)."""
        assert self.detector is not None
        wanted = _AI_CATEGORIES if sent.dest.ai else STRONG_CATEGORIES
        if not sent.dest.ai and not strong_gate(sent.text):
            return [], []
        body = sent.text[sent.body_start :]
        every = [
            Span(s.start + sent.body_start, s.end + sent.body_start, s.category, s.value, s.rule)
            for s in self.detector.scan(body)
        ]
        found = [s for s in every if s.category in wanted]
        hide = [(s.start, s.end) for s in every]
        first_line = sent.text.split("\n", 1)[0]
        encoded = [(body, (sent.body_start, len(sent.text)))] if "%" in body else []
        if "?" in first_line:
            encoded.append((first_line.partition("?")[2], (0, len(first_line))))
        for text, (start, end) in encoded:  # decoded offsets do not map back: mask the part
            for s in self.detector.scan(unquote_plus(text)):
                if s.category in wanted and not any(f.category == s.category for f in found):
                    found.append(Span(start, end, s.category, s.value, s.rule))
                    hide.append((start, end))
        return found, hide

    def _add(self, page: str, hit: Hit, label: str, detail: str = "") -> None:
        group = self.groups.setdefault((hit.rule, page, hit.key), _Group(first=hit))
        group.count += 1
        group.labels[label] = None
        if detail:
            group.details[detail] = None

    def _key(self, sent: Sent, span: Span, hide: list[tuple[int, int]]) -> None:
        where = _part_of(sent, span.start)
        hit = Hit(
            rule="ai-key-in-browser-traffic",
            line=1,
            message=f"{span.rule} key {mask(span.value)} sent in the {where} of",
            evidence=snippet(sent.text, (span.start, span.end), hide),
            key=f"{span.rule}|{value_fingerprint(span.value)}",
            provider=sent.dest.party or None,
            host=sent.dest.host,
            region=sent.dest.region,
            confidence=Confidence.HIGH,
        )
        self._add(sent.page, hit, sent.label)

    def _endpoint(self, sent: Sent, hide: list[tuple[int, int]]) -> None:
        dest = sent.dest
        evidence = sent.label
        inventory = Hit(
            rule="ai-endpoint",
            line=1,
            message=f"{dest.name} endpoint {dest.host} called from shoppers' browsers by",
            evidence=evidence,
            key=f"{dest.party}|{dest.host}|browser",
            provider=dest.party,
            host=dest.host,
            region=dest.region,
            confidence=Confidence.HIGH,
        )
        self._add(sent.page, inventory, sent.label)
        if dest.region.is_sovereign:
            return
        transfer = Hit(
            rule="ai-transfer-third-country",
            line=1,
            message=(
                f"{dest.name} at {dest.host} processes data in region '{dest.region}': what "
                "the browser sends there is a transfer outside the EU/EEA that needs a "
                "Chapter V tool (GDPR Art. 44-46); observed from"
            ),
            evidence=evidence,
            key=f"{dest.party}|{dest.host}",
            provider=dest.party,
            host=dest.host,
            region=dest.region,
            severity=_TRANSFER_SEVERITY.get(dest.region, Severity.MEDIUM),
            confidence=Confidence.HIGH,
        )
        self._add(sent.page, transfer, sent.label)

    def _personal(
        self,
        sent: Sent,
        what: str,
        how: str,
        focus: tuple[int, int],
        hide: list[tuple[int, int]],
        canary: bool,
    ) -> None:
        dest = sent.dest
        rule = (
            "personal-data-to-ai-observed" if dest.ai else "personal-data-to-third-party-observed"
        )
        category = _category(what)
        if dest.ai:
            self.ai_categories.setdefault((dest.party, dest.host), set()).add(category)
        value = f"canary {what}" if canary else f"detected {what}"
        hit = Hit(
            rule=rule,
            line=1,
            message=f"{value} sent to {dest.name} ({dest.host}, region '{dest.region}') by",
            evidence=snippet(sent.text, focus, hide),
            key=f"{dest.host}|{what}|{'canary' if canary else 'detected'}",
            provider=dest.party or None,
            host=dest.host,
            region=dest.region,
            confidence=Confidence.HIGH if canary else Confidence.MEDIUM,
            data_categories=(category,),
        )
        self._add(sent.page, hit, sent.label, how)

    def _hits(self) -> list[PageHit]:
        out = []
        for (_, page, _), group in self.groups.items():
            hit = group.first
            labels = list(group.labels)
            shown = ", ".join(labels[:3]) + (
                f" and {len(labels) - 3} more" if len(labels) > 3 else ""
            )
            how = f" (encoding: {', '.join(sorted(group.details))})" if group.details else ""
            times = "1 message" if group.count == 1 else f"{group.count} messages"
            message = f"{hit.message} {times}: {shown}{how}"
            out.append(PageHit(page, _with_message(hit, message)))
        return out


def _with_message(hit: Hit, message: str) -> Hit:
    return Hit(
        rule=hit.rule,
        line=hit.line,
        message=message,
        evidence=hit.evidence,
        key=hit.key,
        provider=hit.provider,
        host=hit.host,
        region=hit.region,
        severity=hit.severity,
        confidence=hit.confidence,
        data_categories=hit.data_categories,
        trace=hit.trace,
    )


def _part_of(sent: Sent, offset: int) -> str:
    if sent.label.startswith("WebSocket"):
        return "frame"
    if offset >= sent.body_start:
        return "body"
    return "URL" if offset < sent.text.find("\n") else "headers"


def _category(what: str) -> DataCategory:
    if what in _SHOPPER_TEXT_FIELDS:
        return DataCategory.SHOPPER_TEXT
    if what in {str(c) for c in _PAYMENT}:
        return DataCategory.PAYMENT
    return DataCategory.CUSTOMER_PII
