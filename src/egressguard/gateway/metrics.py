"""Prometheus text exposition without a global registry: one `GatewayMetrics` per app.

Label values never carry request content: routes, upstream ids, status codes, categories and
actions only.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence

Labels = tuple[str, ...]

LATENCY_BUCKETS = (
    0.0005,
    0.001,
    0.002,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1,
    2.5,
    5,
    10,
    30,
)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _label_text(names: Sequence[str], values: Labels, extra: str = "") -> str:
    parts = [f'{n}="{_escape(v)}"' for n, v in zip(names, values, strict=True)]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


class Counter:
    def __init__(self, name: str, help_text: str, labels: Sequence[str]) -> None:
        self.name, self.help, self.labels = name, help_text, tuple(labels)
        self._values: dict[Labels, float] = {}

    def inc(self, *values: str, amount: float = 1.0) -> None:
        self._values[values] = self._values.get(values, 0.0) + amount

    def value(self, *values: str) -> float:
        return self._values.get(values, 0.0)

    def render(self) -> list[str]:
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} counter"]
        for key, v in sorted(self._values.items()):
            lines.append(f"{self.name}{_label_text(self.labels, key)} {v:g}")
        return lines


class Histogram:
    def __init__(
        self,
        name: str,
        help_text: str,
        labels: Sequence[str],
        buckets: Sequence[float] = LATENCY_BUCKETS,
    ) -> None:
        self.name, self.help, self.labels = name, help_text, tuple(labels)
        self.buckets = tuple(sorted(buckets))
        self._counts: dict[Labels, list[int]] = {}
        self._sums: dict[Labels, float] = {}

    def observe(self, value: float, *values: str) -> None:
        counts = self._counts.get(values)
        if counts is None:
            counts = self._counts[values] = [0] * (len(self.buckets) + 1)
        counts[bisect.bisect_left(self.buckets, value)] += 1
        self._sums[values] = self._sums.get(values, 0.0) + value

    def count(self, *values: str) -> int:
        return sum(self._counts.get(values, ()))

    def render(self) -> list[str]:
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} histogram"]
        for key, counts in sorted(self._counts.items()):
            running = 0
            for bound, c in zip(self.buckets, counts, strict=False):
                running += c
                le = _label_text(self.labels, key, f'le="{bound:g}"')
                lines.append(f"{self.name}_bucket{le} {running}")
            total = running + counts[-1]
            inf = _label_text(self.labels, key, 'le="+Inf"')
            lines.append(f"{self.name}_bucket{inf} {total}")
            lines.append(f"{self.name}_sum{_label_text(self.labels, key)} {self._sums[key]:.6f}")
            lines.append(f"{self.name}_count{_label_text(self.labels, key)} {total}")
        return lines


class GatewayMetrics:
    """Everything `/metrics` shows for one app instance."""

    def __init__(self) -> None:
        self.requests = Counter(
            "egressguard_requests_total",
            "Requests by route, upstream and HTTP status.",
            ("route", "upstream", "status"),
        )
        self.duration = Histogram(
            "egressguard_request_duration_seconds",
            "Time from request to the last response byte.",
            ("route",),
        )
        self.overhead = Histogram(
            "egressguard_overhead_seconds",
            "Time the gateway itself spent (auth, detection, tokenisation, restore).",
            ("route",),
        )
        self.detections = Counter(
            "egressguard_detections_total",
            "Detected values by category and the action taken.",
            ("category", "action"),
        )
        self.blocked = Counter(
            "egressguard_blocked_requests_total",
            "Requests refused by a block action.",
            ("category",),
        )
        self.upstream_errors = Counter(
            "egressguard_upstream_errors_total",
            "Upstream failures by upstream and kind (timeout, unavailable, stream_broken).",
            ("upstream", "kind"),
        )
        self.audit_failures = Counter(
            "egressguard_audit_failures_total", "Exchanges the audit sink refused.", ()
        )
        self.fallbacks = Counter(
            "egressguard_upstream_attempts_extra_total",
            "Retries and fallbacks beyond the first attempt.",
            ("route",),
        )

    def render(self, caches: Mapping[str, tuple[int, int, int, int]] | None = None) -> str:
        """The exposition text; `caches` (per cache: hits, misses, stale hits, entries) are
        read from the protector at scrape time."""
        lines: list[str] = []
        for metric in (
            self.requests,
            self.duration,
            self.overhead,
            self.detections,
            self.blocked,
            self.upstream_errors,
            self.fallbacks,
            self.audit_failures,
        ):
            lines.extend(metric.render())
        lines.extend(_cache_lines(caches or {}))
        return "\n".join(lines) + "\n"


def _cache_lines(caches: Mapping[str, tuple[int, int, int, int]]) -> list[str]:
    if not caches:
        return []
    lookups = "egressguard_text_cache_lookups_total"
    entries = "egressguard_text_cache_entries"
    lines = [
        f"# HELP {lookups} Look-ups of long texts already worked out (chat history resent every "
        "turn), by cache and result (stale: found, but a token no longer held).",
        f"# TYPE {lookups} counter",
    ]
    for name, (hits, misses, stale, _) in sorted(caches.items()):
        for result, n in (("hit", hits), ("miss", misses), ("stale", stale)):
            lines.append(f"{lookups}{_label_text(('cache', 'result'), (name, result))} {n}")
    lines += [f"# HELP {entries} Texts each cache remembers (bounded).", f"# TYPE {entries} gauge"]
    for name, (*_, count) in sorted(caches.items()):
        lines.append(f"{entries}{_label_text(('cache',), (name,))} {count}")
    return lines
