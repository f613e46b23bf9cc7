"""What was observed at run time, independent of how it was captured.

The crawler (a real headless Chromium) and the HAR importer both produce `Traffic`; the
analysis never knows which one did. Values are raw as observed (they may hold personal
data and keys): only the analysis and the reporters' masking decide what leaves.
Nothing here performs I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from egressguard.model import SkippedTarget


class ResourceType(StrEnum):
    DOCUMENT = "document"
    SCRIPT = "script"
    XHR = "xhr"
    FETCH = "fetch"
    BEACON = "beacon"
    WEBSOCKET = "websocket"
    EVENTSOURCE = "eventsource"
    STYLESHEET = "stylesheet"
    IMAGE = "image"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Request:
    """One HTTP request the page made, with what is known of its answer."""

    url: str
    method: str
    resource_type: ResourceType
    page_url: str  # the top-level page that made it
    step: str = ""  # journey step name ("" when unknown, e.g. from a HAR)
    request_headers: tuple[tuple[str, str], ...] = ()
    request_body: bytes = b""
    status: int | None = None  # None: failed or no answer
    response_headers: tuple[tuple[str, str], ...] = ()
    response_body: bytes | None = None  # kept for scripts (SRI hashes), else may be None
    started_at: float = 0.0  # seconds since the capture began


@dataclass(frozen=True, slots=True)
class WebSocketFrame:
    url: str
    page_url: str
    sent: bool  # True: browser -> server
    payload: str  # text frames as text; binary frames base64-encoded
    step: str = ""


@dataclass(frozen=True, slots=True)
class Cookie:
    name: str
    value: str
    domain: str
    path: str = "/"
    http_only: bool = False
    secure: bool = False
    page_url: str = ""
    step: str = ""


@dataclass(frozen=True, slots=True)
class StorageEntry:
    area: str  # "localStorage" | "sessionStorage"
    origin: str
    key: str
    value: str
    page_url: str = ""
    step: str = ""


@dataclass(frozen=True, slots=True)
class ScriptTag:
    """A <script src> element present on a page (PCI DSS 6.4.3 inventory)."""

    page_url: str
    src: str
    integrity: str | None  # the element's SRI attribute, if any
    crossorigin: str | None = None
    step: str = ""


@dataclass(frozen=True, slots=True)
class StepOutcome:
    """One journey step as it happened: a failed step is recorded and the crawl goes on."""

    name: str
    url: str
    ok: bool
    error: str = ""
    screenshot: str = ""  # path relative to the evidence directory, "" if none


@dataclass(frozen=True, slots=True)
class Persona:
    """The synthetic shopper the crawler types: every value is a unique canary."""

    first_name: str
    last_name: str
    email: str
    phone: str
    street: str
    postcode: str
    city: str
    country: str
    chat_sentence: str

    def fields(self) -> dict[str, str]:
        return {
            "first_name": self.first_name,
            "last_name": self.last_name,
            "full_name": f"{self.first_name} {self.last_name}",
            "email": self.email,
            "phone": self.phone,
            "street": self.street,
            "postcode": self.postcode,
            "city": self.city,
            "chat_sentence": self.chat_sentence,
        }


@dataclass(frozen=True, slots=True)
class Traffic:
    """Everything captured in one crawl or one imported HAR."""

    origin: str  # the shop's own origin, e.g. "https://shop.example"; first-party test
    source: str  # "crawl" | "har" | "log"
    requests: tuple[Request, ...] = ()
    websocket_frames: tuple[WebSocketFrame, ...] = ()
    cookies: tuple[Cookie, ...] = ()
    storage: tuple[StorageEntry, ...] = ()
    scripts: tuple[ScriptTag, ...] = ()
    steps: tuple[StepOutcome, ...] = ()
    pages: tuple[str, ...] = ()
    persona: Persona | None = None
    evidence_files: tuple[str, ...] = field(default=())  # relative paths (HAR, screenshots)
    # Inputs the capture could not read (a HAR entry, a body): listed with a reason, never lost.
    skipped: tuple[SkippedTarget, ...] = field(default=())
