"""The demo storefront (plain HTTP on 127.0.0.1) and its "internet" (one TLS server on
127.0.0.1 that answers for every third-party host by its Host header).

Chromium reaches the third-party hosts through `--host-resolver-rules` (see
`Storefront.resolver_rules`), which also makes every other host unresolvable: nothing leaves
the machine. Both servers record what they received, so tests can check the browser's side
of the story against the servers'.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import ssl
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

from tests.tls_certs import self_signed

SITE = Path(__file__).parent / "site"
PROVIDER_HOSTS = (
    "api.openai.com",
    "analytics.tracker.example",
    "cdn.thirdparty.example",
    "cdn.libs.example",
    "chat.widgetvendor.example",
)
LIB_JS = b"window.demoLib = {version: '1.0.0'};\n"
WIDGET_JS = b"window.thirdPartyWidget = true;\n"
TRACKER_JS = (
    b"navigator.sendBeacon('https://analytics.tracker.example/collect',"
    b" JSON.stringify({ev: 'page_view', p: location.pathname}));\n"
)
_WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def random_openai_key() -> str:
    """A key-shaped value with a real key's randomness (never a real key)."""
    return "sk-proj-" + secrets.token_urlsafe(60)[:80]


@dataclass
class Received:
    """One request a demo server got: host, method, path, body (WebSocket frames: method WS)."""

    host: str
    method: str
    path: str
    body: bytes


@dataclass
class Storefront:
    shop_url: str
    internet_port: int
    openai_key: str
    theme: str = "luma"  # "luma": Magento Luma-like markup and URLs; "dawn": Shopify Dawn-like
    received: list[Received] = field(default_factory=list)

    @property
    def resolver_rules(self) -> str:
        rules = [f"MAP {host} 127.0.0.1:{self.internet_port}" for host in PROVIDER_HOSTS]
        return ", ".join([*rules, "MAP * ~NOTFOUND", "EXCLUDE 127.0.0.1"])

    def seen(self, host: str, path_prefix: str = "") -> list[Received]:
        return [r for r in self.received if r.host == host and r.path.startswith(path_prefix)]


def _page(name: str, store: Storefront) -> bytes:
    def part(file: str) -> str:
        return (SITE / file).read_text(encoding="utf-8")

    sri = "sha384-" + base64.b64encode(hashlib.sha384(LIB_JS).digest()).decode()
    text = part(name)
    for marker, value in (
        ("{{HEADER}}", part("dawn/_header.html" if name.startswith("dawn/") else "_header.html")),
        ("{{FOOTER}}", part("_footer.html")),
        ("{{PRODUCTS}}", part("_products.html")),
        ("{{TITLE}}", name.removeprefix("dawn/").removesuffix(".html").title()),
        ("{{LIB_SRI}}", sri),
        ("{{OPENAI_KEY}}", store.openai_key),
    ):
        text = text.replace(marker, value)
    return text.encode("utf-8")


_SHOP_PAGES = {
    "/": "index.html",
    "/women.html": "category.html",
    "/gear.html": "category.html",
    "/hiking-jacket.html": "product.html",
    "/catalogsearch/result/": "search.html",
    "/checkout/": "checkout.html",
}
_DAWN_PAGES = {
    "/": "dawn/index.html",
    "/search": "dawn/collection.html",
    "/collections/all": "dawn/collection.html",
    "/products/hiking-jacket": "dawn/product.html",
    "/checkout": "dawn/checkout.html",
}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    store: Storefront

    def log_message(self, format: str, *args: object) -> None:  # quiet tests
        return

    def _record(self, body: bytes = b"") -> None:
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0]
        self.store.received.append(Received(host, self.command, self.path, body))

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(
        self, status: int, body: bytes, ctype: str, extra: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


class _ShopHandler(_Handler):
    def do_GET(self) -> None:
        self._record()
        path = urlsplit(self.path).path
        pages = _DAWN_PAGES if self.store.theme == "dawn" else _SHOP_PAGES
        if path in pages:
            self._send(200, _page(pages[path], self.store), "text/html; charset=utf-8")
        elif path.startswith("/static/") and (SITE / path.lstrip("/")).is_file():
            body = (
                (SITE / path.lstrip("/"))
                .read_bytes()
                .replace(b"{{OPENAI_KEY}}", self.store.openai_key.encode())
            )
            self._send(200, body, "text/javascript")
        elif path == "/never-loads":  # headers and half a page, then nothing
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.write(b"<!doctype html><title>slow</title><p>loading")
            self.wfile.flush()
            time.sleep(3)
        elif path == "/redirect-loop":
            self._send(302, b"", "text/plain", {"Location": "/redirect-loop"})
        elif path == "/hostile":
            self._send(200, _HOSTILE, "text/html")
        elif path == "/huge":  # 1.5 MB of page and a 2.2 MB script (over the 2 MiB body budget)
            filler = b"<p>lorem ipsum dolor sit amet</p>\n" * 45_000
            page = b'<!doctype html><title>huge</title><script src="/big.js"></script>'
            self._send(200, page + filler, "text/html")
        elif path == "/big.js":
            self._send(200, b"/*" + b"x" * 2_200_000 + b"*/ window.big = 1;", "text/javascript")
        else:
            self._send(404, b"not found", "text/plain")

    def do_POST(self) -> None:
        self._record(self._body())
        extra = {"Set-Cookie": "private_content_version=demo123; Path=/"}
        self._send(200, b'{"ok": true}', "application/json", extra)


_HOSTILE = b"""<!doctype html><title>hostile</title>
<script>
alert("hello");
window.open("/", "_blank");
window.addEventListener("beforeunload", (e) => { e.preventDefault(); e.returnValue = ""; });
</script>
<a id="download" href="data:application/octet-stream;base64,AAAA" download="x.bin">get</a>
<p>hostile page</p>
"""


# A chat vendor's widget in a cross-origin iframe: it sends the draft question home when the
# shopper leaves the box. (Its own storage would be blocked: Chromium denies third-party
# iframes storage by default, so the widget cannot keep the draft there.)
_HELP_FRAME = b"""<!doctype html><title>help</title>
<textarea id="q" placeholder="How can we help?"></textarea>
<script>
const q = document.getElementById("q");
q.addEventListener("blur", () => fetch("/draft", {method: "POST", body: q.value}));
</script>
"""


class _InternetHandler(_Handler):
    def _cors(self) -> dict[str, str]:
        return {
            "Access-Control-Allow-Origin": self.headers.get("Origin") or "*",
            "Access-Control-Allow-Credentials": "true",
            "Access-Control-Allow-Headers": "authorization, content-type",
            "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
        }

    def do_OPTIONS(self) -> None:
        self._record()
        self._send(204, b"", "text/plain", self._cors())

    def do_GET(self) -> None:
        if (self.headers.get("Upgrade") or "").lower() == "websocket":
            self._websocket()
            return
        self._record()
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0]
        scripts = {
            "cdn.libs.example": LIB_JS,
            "cdn.thirdparty.example": WIDGET_JS,
            "analytics.tracker.example": TRACKER_JS,
        }
        if host in scripts:
            self._send(200, scripts[host], "text/javascript", self._cors())
        elif host == "chat.widgetvendor.example" and self.path == "/frame":
            self._send(200, _HELP_FRAME, "text/html")
        else:
            self._send(404, b"not found", "text/plain")

    def do_POST(self) -> None:
        self._record(self._body())
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0]
        if host == "api.openai.com":
            answer = {
                "choices": [{"message": {"role": "assistant", "content": "Try the blue one."}}]
            }
            self._send(200, json.dumps(answer).encode(), "application/json", self._cors())
        else:
            self._send(204, b"", "text/plain", self._cors())

    def _websocket(self) -> None:
        key = self.headers.get("Sec-WebSocket-Key", "")
        accept = base64.b64encode(hashlib.sha1((key + _WS_GUID).encode()).digest()).decode()
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", accept)
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0]
        self._ws_send(json.dumps({"type": "hello", "agent": "demo"}).encode())
        while True:
            frame = self._ws_read()
            if frame is None:
                return
            self.store.received.append(Received(host, "WS", self.path, frame))
            self._ws_send(b'{"type": "ack"}')

    def _ws_read(self) -> bytes | None:
        head = self.rfile.read(2)
        if len(head) < 2 or head[0] & 0x0F == 0x8:  # closed, or a close frame
            return None
        length = head[1] & 0x7F
        if length == 126:
            length = struct.unpack(">H", self.rfile.read(2))[0]
        elif length == 127:
            length = struct.unpack(">Q", self.rfile.read(8))[0]
        mask = self.rfile.read(4) if head[1] & 0x80 else b"\0\0\0\0"
        data = self.rfile.read(length)
        return bytes(b ^ mask[i % 4] for i, b in enumerate(data))

    def _ws_send(self, data: bytes) -> None:
        self.wfile.write(bytes([0x81, len(data)]) + data)  # short text frames only
        self.wfile.flush()


def _serve(server: ThreadingHTTPServer) -> threading.Thread:
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return thread


@contextmanager
def storefront(tmp: Path, theme: str = "luma") -> Iterator[Storefront]:
    """Both servers running; stopped on exit."""
    cert, key = self_signed(tmp)
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    internet = ThreadingHTTPServer(("127.0.0.1", 0), _InternetHandler)
    internet.socket = tls.wrap_socket(internet.socket, server_side=True)
    shop = ThreadingHTTPServer(("127.0.0.1", 0), _ShopHandler)
    store = Storefront(
        shop_url=f"http://127.0.0.1:{shop.server_address[1]}",
        internet_port=internet.server_address[1],
        openai_key=random_openai_key(),
        theme=theme,
    )
    internet.RequestHandlerClass = type("Internet", (_InternetHandler,), {"store": store})
    shop.RequestHandlerClass = type("Shop", (_ShopHandler,), {"store": store})
    for server in (internet, shop):
        _serve(server)
    try:
        yield store
    finally:
        for server in (shop, internet):
            server.shutdown()
            server.server_close()
