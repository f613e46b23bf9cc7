"""HTML report: escaping at the template boundary, self-contained, DPO-readable sections."""

from __future__ import annotations

import base64
import hashlib
import re
from html.parser import HTMLParser

import pytest

from egressguard.model import ScanResult
from egressguard.report import ReportFormat, render
from egressguard.report.flowmap import PLACEHOLDER
from tests.report.factory import XSS


class _Collector(HTMLParser):
    """Tags, attributes and the text of <style>/<script> elements."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.blocks: dict[str, str] = {}
        self._open: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._open = tag if tag in ("style", "script") else None

    def handle_data(self, data: str) -> None:
        if self._open:
            self.blocks[self._open] = self.blocks.get(self._open, "") + data

    def handle_endtag(self, tag: str) -> None:
        self._open = None


@pytest.fixture
def page(result: ScanResult) -> str:
    return render(ReportFormat.HTML, result)


def _parse(html: str) -> _Collector:
    collector = _Collector()
    collector.feed(html)
    return collector


def test_script_payload_is_escaped(page: str) -> None:
    assert XSS not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    scripts = [t for t, _ in _parse(page).tags if t == "script"]
    assert len(scripts) == 1  # only our own inline script


def test_no_external_resources(page: str) -> None:
    for tag, attrs in _parse(page).tags:
        for name in ("src", "href", "action", "xlink:href"):
            value = attrs.get(name) or ""
            assert not re.match(r"^\s*(https?:|//|file:)", value), f"<{tag} {name}={value}>"
    assert "@import" not in page and "url(" not in page


def test_csp_forbids_network_and_pins_inline_code(page: str) -> None:
    parsed = _parse(page)
    csp = next(a["content"] for t, a in parsed.tags if t == "meta" and a.get("http-equiv"))
    assert csp is not None and "default-src 'none'" in csp
    for block in ("style", "script"):
        digest = hashlib.sha256(parsed.blocks[block].encode()).digest()
        assert f"'sha256-{base64.b64encode(digest).decode()}'" in csp


def test_no_inline_style_attributes(page: str) -> None:
    """The CSP allows only the hashed <style> block; a style= attribute would be refused."""
    assert not [t for t, a in _parse(page).tags if "style" in a]


def test_sections_present(page: str) -> None:
    for anchor in ("summary", "flow", "inventory", "findings", "matrix", "skipped"):
        assert f'id="{anchor}"' in page
    assert "7 findings: 1 critical, 2 high, 2 medium, 1 low, 1 info." in page
    assert "2 findings suppressed" in page
    assert "12.4 MB &gt; 10 MB limit" in page


def test_excerpt_highlights_the_finding_line(page: str) -> None:
    assert '<span class="ln hit"><span class="no">12</span>' in page
    assert '<span class="ln"><span class="no">11</span>' in page


def test_trace_is_shown_as_a_path(page: str) -> None:
    assert "Path of the data" in page
    assert "adds e-mail and items to the prompt" in page


def test_framework_matrix_rows(page: str) -> None:
    matrix = page[page.index('id="matrix"') : page.index('id="skipped"')]
    assert matrix.count("<tr>") == 1 + 7  # header + one row per rule with findings
    assert "6.4.3, 11.6.1" in matrix


def test_flow_map_nodes_and_edges(page: str) -> None:
    svg = page[page.index("<svg") : page.index("</svg>")]
    assert svg.count('class="node ') >= 15
    assert 'class="edge edge-critical"' in svg
    assert 'class="edge edge-inventory"' in svg
    assert "customer pii" in svg


def test_empty_result_shows_placeholder(empty_result: ScanResult) -> None:
    page = render(ReportFormat.HTML, empty_result)
    assert PLACEHOLDER in page
    assert "No findings." in page
    assert "Every file was checked." in page
