"""Where a request went: the shop itself, an AI provider, a chat/AI widget vendor or another
third party, and in which region (catalogue facts; an unknown third party's region is
`unknown`: a host name does not tell where data is processed)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from egressguard.catalog import Catalog, Provider, Widget
from egressguard.model import Region

_SECOND_LEVEL = frozenset({"co", "com", "org", "net", "ac", "gov", "edu"})


@dataclass(frozen=True, slots=True)
class Destination:
    host: str  # lower-case host name (":port" kept when a catalogue rule needs it)
    first_party: bool
    region: Region
    provider: Provider | None = None  # an AI provider's API
    widget: Widget | None = None  # a chat/AI widget vendor's host

    @property
    def ai(self) -> bool:
        return self.provider is not None or (self.widget is not None and self.widget.ai)

    @property
    def party(self) -> str:
        """The provider or widget id ("" for any other host)."""
        if self.provider is not None:
            return self.provider.id
        return self.widget.id if self.widget is not None else ""

    @property
    def name(self) -> str:
        if self.provider is not None:
            return self.provider.name
        return self.widget.name if self.widget is not None else self.host


def site_of(host: str) -> str:
    """The registrable part of a host name (last two labels; three for `co.uk`-style)."""
    labels = host.lower().strip(".").split(".")
    if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL and len(labels[-1]) == 2:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


class Destinations:
    """Classifies request URLs against the catalogue and the shop's own origin."""

    def __init__(self, catalog: Catalog, origin: str) -> None:
        self._catalog = catalog
        origin_host = urlsplit(origin).hostname or ""
        self._own_site = site_of(origin_host) if origin_host else ""

    def first_party(self, host: str) -> bool:
        return bool(self._own_site) and site_of(host) == self._own_site

    def of(self, url: str) -> Destination | None:
        """None for a URL without a host (data:, blob:, about:)."""
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if not host:
            return None
        port = _port(parts)
        netloc = f"{host}:{port}" if port is not None else host
        first = self.first_party(host)
        match = self._catalog.classify_host(netloc)
        if match is not None and _path_ok(match.provider, parts.path):
            return Destination(match.host, first, match.region, provider=match.provider)
        widget = self._catalog.classify_widget(netloc)
        if widget is not None:
            region = self._catalog.widget_region(netloc) or widget.region
            return Destination(host, first, region, widget=widget)
        return Destination(host, first, Region.LOCAL if first else Region.UNKNOWN)


def _port(parts: SplitResult) -> int | None:
    try:
        return parts.port
    except ValueError:  # a port out of range: ignore it
        return None


def _path_ok(provider: Provider, path: str) -> bool:
    """A catch-all runtime (private IPs, *.local) counts only on an AI API path."""
    return provider.requires_path is None or provider.requires_path.match(path or "/") is not None
