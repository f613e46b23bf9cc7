"""Recording what the browser sent and received, as Playwright reports it.

Handlers are plain callbacks that never raise into Playwright: anything needing a round trip
to the browser (full headers, a script's body) runs as a task this object owns and awaits
in `settle()`. Values are kept raw: masking is the analysis's and reporters' job.
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from egressguard.runtime.crawl.settings import Budgets
from egressguard.runtime.traffic import Request, ResourceType, WebSocketFrame

if TYPE_CHECKING:
    from playwright.async_api import BrowserContext, Dialog, Frame, Page, WebSocket
    from playwright.async_api import Request as PwRequest

_SKIPPED_SCHEMES = (
    "data:",
    "blob:",
    "about:",
    "chrome:",
    "chrome-error:",
    "chrome-extension:",
    "devtools:",
)
_TYPES = {t.value: t for t in ResourceType}
_TYPES["ping"] = ResourceType.BEACON  # navigator.sendBeacon and <a ping>
_TYPES["csp_report"] = ResourceType.BEACON


def resource_type(playwright_type: str) -> ResourceType:
    return _TYPES.get(playwright_type, ResourceType.OTHER)


@dataclass(slots=True)
class _Pending:
    """A request as far as it is known; completed by the finished/failed handlers."""

    url: str
    method: str
    resource_type: ResourceType
    page_url: str
    step: str
    started_at: float
    request_headers: tuple[tuple[str, str], ...]
    request_body: bytes
    status: int | None = None
    response_headers: tuple[tuple[str, str], ...] = ()
    response_body: bytes | None = None
    done: bool = False  # finished or failed, and looked up

    def freeze(self) -> Request:
        return Request(
            url=self.url,
            method=self.method,
            resource_type=self.resource_type,
            page_url=self.page_url,
            step=self.step,
            request_headers=self.request_headers,
            request_body=self.request_body,
            status=self.status,
            response_headers=self.response_headers,
            response_body=self.response_body,
            started_at=self.started_at,
        )


@dataclass
class Capture:
    """Everything the context's pages sent and received, attributed to the current step."""

    budgets: Budgets
    step: str = ""
    navigations: int = 0  # top-level page loads, for the max-pages budget
    dropped_requests: int = 0  # seen beyond budgets.max_requests
    crashed: bool = False
    _start: float = field(default_factory=time.monotonic)
    _requests: dict[PwRequest, _Pending] = field(default_factory=dict)
    _websocket_requests: list[Request] = field(default_factory=list)
    _frames: list[WebSocketFrame] = field(default_factory=list)
    _pages: dict[str, None] = field(default_factory=dict)  # ordered set
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    _in_flight: set[PwRequest] = field(default_factory=set)
    _last_activity: float = field(default_factory=time.monotonic)

    def attach(self, context: BrowserContext) -> None:
        """Listen to every page of `context`, including popups. Call before opening pages."""
        context.on("request", self._on_request)
        context.on("requestfinished", self._on_finished)
        context.on("requestfailed", self._on_failed)
        context.on("page", self._on_page)

    # --- results ---------------------------------------------------------------------------
    def requests(self) -> tuple[Request, ...]:
        recorded = [p.freeze() for p in self._requests.values()] + self._websocket_requests
        return tuple(sorted(recorded, key=lambda r: r.started_at))

    def websocket_frames(self) -> tuple[WebSocketFrame, ...]:
        return tuple(self._frames)

    def pages(self) -> tuple[str, ...]:
        return tuple(self._pages)

    def quiet_for(self) -> float:
        """Seconds since the network was last busy (0 while a request is in flight)."""
        return 0.0 if self._in_flight else time.monotonic() - self._last_activity

    async def settle(self, seconds: float) -> None:
        """Give in-flight requests and pending look-ups up to `seconds` to finish."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not all(p.done for p in self._requests.values()):
            await asyncio.sleep(0.1)
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=max(0.1, deadline - time.monotonic()))

    def cancel_pending(self) -> None:
        for task in self._tasks:
            task.cancel()

    # --- handlers --------------------------------------------------------------------------
    def _now(self) -> float:
        return round(time.monotonic() - self._start, 3)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_page(self, page: Page) -> None:
        page.on("websocket", lambda ws: self._on_websocket(page, ws))
        page.on("dialog", self._on_dialog)
        page.on("framenavigated", lambda frame: self._on_navigated(page, frame))
        page.on("crash", self._on_crash)

    def _on_crash(self, page: Page) -> None:
        self.crashed = True

    def _on_dialog(self, dialog: Dialog) -> None:
        # A hostile page cannot stall a step: alert/confirm/prompt are dismissed, and
        # "leave this page?" is answered yes so the journey's next navigation goes ahead.
        leave = dialog.type == "beforeunload"
        self._spawn(_quietly(dialog.accept() if leave else dialog.dismiss()))

    def _on_navigated(self, page: Page, frame: Frame) -> None:
        if frame != page.main_frame or frame.url.startswith(_SKIPPED_SCHEMES):
            return
        self.navigations += 1
        if len(self._pages) < 10 * self.budgets.max_pages:
            self._pages.setdefault(frame.url, None)

    def _on_request(self, request: PwRequest) -> None:
        if request.url.startswith(_SKIPPED_SCHEMES):
            return
        self._in_flight.add(request)
        self._last_activity = time.monotonic()
        if len(self._requests) >= self.budgets.max_requests:
            self.dropped_requests += 1
            return
        body = request.post_data_buffer or b""
        self._requests[request] = _Pending(
            url=request.url,
            method=request.method,
            resource_type=resource_type(request.resource_type),
            page_url=_page_url(request),
            step=self.step,
            started_at=self._now(),
            request_headers=tuple(request.headers.items()),
            request_body=body[: self.budgets.max_body_bytes],
        )

    def _on_finished(self, request: PwRequest) -> None:
        self._in_flight.discard(request)
        self._last_activity = time.monotonic()
        pending = self._requests.get(request)
        if pending is not None:
            self._spawn(self._complete(request, pending))

    def _on_failed(self, request: PwRequest) -> None:
        self._in_flight.discard(request)
        self._last_activity = time.monotonic()
        pending = self._requests.get(request)
        if pending is not None:
            self._spawn(self._complete(request, pending))

    async def _complete(self, request: PwRequest, pending: _Pending) -> None:
        from playwright.async_api import Error

        try:
            pending.request_headers = tuple(
                (h["name"], h["value"]) for h in await request.headers_array()
            )
            response = await request.response()
            if response is None:
                return  # failed: no answer (status stays None)
            pending.status = response.status
            pending.response_headers = tuple(
                (h["name"], h["value"]) for h in await response.headers_array()
            )
            if pending.resource_type is ResourceType.SCRIPT:
                pending.response_body = await self._script_body(response)
        except Error:
            return  # the page or context went away: keep what is known
        finally:
            pending.done = True

    async def _script_body(self, response: Any) -> bytes | None:
        length = await response.header_value("content-length")
        if length and length.isdigit() and int(length) > self.budgets.max_body_bytes:
            return None
        body: bytes = await response.body()
        return body if len(body) <= self.budgets.max_body_bytes else None

    def _on_websocket(self, page: Page, ws: WebSocket) -> None:
        page_url, step = page.url, self.step
        self._websocket_requests.append(
            Request(
                url=ws.url,
                method="GET",
                resource_type=ResourceType.WEBSOCKET,
                page_url=page_url,
                step=step,
                started_at=self._now(),
            )
        )
        ws.on("framesent", lambda payload: self._on_frame(ws.url, page_url, True, payload))
        ws.on("framereceived", lambda payload: self._on_frame(ws.url, page_url, False, payload))

    def _on_frame(self, url: str, page_url: str, sent: bool, payload: str | bytes) -> None:
        self._last_activity = time.monotonic()
        if len(self._frames) >= self.budgets.max_requests:
            return
        text = payload if isinstance(payload, str) else base64.b64encode(payload).decode()
        self._frames.append(
            WebSocketFrame(
                url=url,
                page_url=page_url,
                sent=sent,
                payload=text[: self.budgets.max_body_bytes],
                step=self.step,
            )
        )


def _page_url(request: PwRequest) -> str:
    """The top-level page that made `request` ("" for service workers and the like)."""
    from playwright.async_api import Error

    try:
        frame = request.frame
        page = frame.page
    except Error:
        return ""
    if request.is_navigation_request() and frame == page.main_frame:
        return request.url
    return page.url


async def _quietly(work: Coroutine[Any, Any, None]) -> None:
    from playwright.async_api import Error

    try:
        await work
    except Error:
        return
