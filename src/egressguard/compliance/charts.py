"""Inline SVG charts of the scan history: no script, no network, prints like text.

Labels are escaped here; the SVG is the only raw markup the document renderer inserts.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

from egressguard.store.history import ScanRecord

SEVERITIES = ("critical", "high", "medium", "low", "info")
SEVERITY_COLOURS = {
    "critical": "#7b1020",
    "high": "#c0392b",
    "medium": "#e67e22",
    "low": "#f1c40f",
    "info": "#95a5a6",
}
PALETTE = ("#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f")
MAX_SCANS = 12
_W, _H, _LEFT, _BOTTOM, _TOP = 640, 240, 40, 40, 16


def severity_chart(scans: Sequence[ScanRecord]) -> str:
    """Stacked bars: findings per scan by severity (the last MAX_SCANS scans)."""
    shown = list(scans)[-MAX_SCANS:]
    series = {
        s: [sum(1 for f in scan.findings if f.severity == s) for scan in shown] for s in SEVERITIES
    }
    return _stacked(shown, series, SEVERITY_COLOURS, "Findings by severity per scan")


def provider_chart(scans: Sequence[ScanRecord]) -> str:
    """Stacked bars: findings per scan by AI provider (findings without one are left out)."""
    shown = list(scans)[-MAX_SCANS:]
    providers = sorted({f.provider for scan in shown for f in scan.findings if f.provider})
    series = {
        p: [sum(1 for f in scan.findings if f.provider == p) for scan in shown] for p in providers
    }
    colours = {p: PALETTE[n % len(PALETTE)] for n, p in enumerate(providers)}
    return _stacked(shown, series, colours, "Findings by AI provider per scan")


def _stacked(
    scans: Sequence[ScanRecord],
    series: dict[str, list[int]],
    colours: dict[str, str],
    title: str,
) -> str:
    totals = [sum(v[i] for v in series.values()) for i in range(len(scans))]
    top = max([*totals, 1])
    plot_h = _H - _BOTTOM - _TOP
    slot = (_W - _LEFT - 140) / max(len(scans), 1)
    bar = min(48.0, slot * 0.7)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {_W} {_H}" '
        f'width="{_W}" height="{_H}" aria-label="{html.escape(title)}">',
        f"<title>{html.escape(title)}</title>",
        f'<line x1="{_LEFT}" y1="{_TOP + plot_h}" x2="{_W - 140}" y2="{_TOP + plot_h}" '
        'stroke="#444"/>',
        f'<text x="{_LEFT - 6}" y="{_TOP + 4}" text-anchor="end" font-size="11">{top}</text>',
        f'<text x="{_LEFT - 6}" y="{_TOP + plot_h}" text-anchor="end" font-size="11">0</text>',
    ]
    for i, scan in enumerate(scans):
        x = _LEFT + slot * i + (slot - bar) / 2
        y: float = _TOP + plot_h
        for name, values in series.items():
            h = plot_h * values[i] / top
            if values[i]:
                y -= h
                label = html.escape(f"#{scan.id} {scan.started_at[:10]}: {values[i]} {name}")
                parts.append(
                    f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                    f'fill="{colours[name]}"><title>{label}</title></rect>'
                )
        parts.append(
            f'<text x="{x + bar / 2:.1f}" y="{_TOP + plot_h + 14}" text-anchor="middle" '
            f'font-size="10">#{scan.id}</text>'
            f'<text x="{x + bar / 2:.1f}" y="{_TOP + plot_h + 26}" text-anchor="middle" '
            f'font-size="9">{html.escape(scan.started_at[5:10])}</text>'
        )
    for n, name in enumerate(series):
        y = _TOP + n * 16
        parts.append(
            f'<rect x="{_W - 130}" y="{y}" width="10" height="10" fill="{colours[name]}"/>'
            f'<text x="{_W - 115}" y="{y + 9}" font-size="11">{html.escape(name)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
