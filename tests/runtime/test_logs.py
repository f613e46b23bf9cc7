"""Proxy and web server logs: Squid, nginx (combined + extra fields), the gateway's export."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from egressguard.catalog import load_catalog
from egressguard.errors import EvidenceInputError
from egressguard.model import Region, Severity
from egressguard.runtime.findings_logs import analyse_log
from egressguard.runtime.logs import LogFormat, read_log

LOGS = Path(__file__).resolve().parents[1] / "fixtures" / "logs"
CATALOG = load_catalog()


def _volumes(name: str) -> dict[str, tuple[int, int, Region]]:
    summary = read_log(LOGS / name, CATALOG)
    out: dict[str, tuple[int, int, Region]] = {}
    for (dest, _client), v in summary.volumes.items():
        n, size, _ = out.get(dest.host, (0, 0, dest.region))
        out[dest.host] = (n + v.requests, size + v.bytes, dest.region)
    return out


def test_squid_connect_and_absolute_urls() -> None:
    summary = read_log(LOGS / "squid_access.log", CATALOG)
    assert summary.format is LogFormat.SQUID and summary.malformed == 1
    assert summary.malformed_samples == [(6, "not a Squid native access.log line")]
    assert summary.other_requests == 1  # deb.debian.org
    assert _volumes("squid_access.log") == {
        "api.openai.com": (3, 79324, Region.GLOBAL),
        "api.anthropic.com": (1, 2048, Region.US),
        "api.eu.mistral.ai": (1, 9000, Region.EU),
        "api.deepseek.com": (1, 3900, Region.CN),
    }


def test_squid_findings_volumes_residency_and_refused_calls() -> None:
    result = analyse_log(read_log(LOGS / "squid_access.log", CATALOG), CATALOG)
    residency = {f.host for f in result.findings if f.rule == "ai-transfer-third-country"}
    assert residency == {"api.openai.com", "api.anthropic.com"}  # not EU, not the refused one
    deepseek = next(f for f in result.findings if f.host == "api.deepseek.com")
    assert "1 refused by the proxy" in deepseek.message
    openai = next(
        f for f in result.findings if f.rule == "ai-endpoint" and f.host == "api.openai.com"
    )
    assert "3 request(s), 79324 bytes" in openai.message and "10.0.4.21: 3" in openai.message
    assert (openai.file, openai.line) == ("squid_access.log", 1)
    assert "2026-11-25T10:00:00Z to 2026-11-25T10:00:05Z" in openai.message
    assert [s.file for s in result.skipped] == ["squid_access.log:6"]
    assert result.warnings and "1 of 8 line(s)" in result.warnings[0]


def test_nginx_combined_with_host_upstream_and_key_value_fields() -> None:
    summary = read_log(LOGS / "nginx_combined.log", CATALOG)
    assert summary.format is LogFormat.NGINX and summary.malformed == 1
    assert set(_volumes("nginx_combined.log")) == {
        "api.openai.com",  # "$host" field
        "generativelanguage.googleapis.com",  # CONNECT
        "api.cohere.com",  # absolute URI (and host=)
        "api.anthropic.com",  # upstream=host:port
    }
    assert summary.other_requests == 1  # the shop's own page through 127.0.0.1:9000 is not AI


def test_public_client_addresses_are_counted_not_shown() -> None:
    result = analyse_log(read_log(LOGS / "nginx_combined.log", CATALOG), CATALOG)
    cohere = next(
        f for f in result.findings if f.rule == "ai-endpoint" and f.host == "api.cohere.com"
    )
    assert "81.2.69.160" not in cohere.message + cohere.evidence
    assert "1 public address(es), not shown" in cohere.message


def test_gateway_export_upstreams_regions_and_blocked_records() -> None:
    summary = read_log(LOGS / "gateway_export.jsonl", CATALOG)
    assert summary.format is LogFormat.GATEWAY
    assert summary.malformed == 1 and summary.other_requests == 1  # broken line; blocked record
    assert _volumes("gateway_export.jsonl") == {
        "openai-eu": (1, 0, Region.EU),
        "openai-us": (2, 0, Region.US),
        "ollama-local": (1, 0, Region.LOCAL),
    }
    result = analyse_log(summary, CATALOG)
    transfer = [f for f in result.findings if f.rule == "ai-transfer-third-country"]
    assert [(f.host, f.severity) for f in transfer] == [("openai-us", Severity.MEDIUM)]


def test_gzip_logs_are_read(tmp_path: Path) -> None:
    path = tmp_path / "access.log.gz"
    path.write_bytes(gzip.compress((LOGS / "squid_access.log").read_bytes()))
    assert read_log(path, CATALOG).lines == 8


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x7fELF\x02\x01\x01\x00\x00\x00", "binary"),
        (b"hello\nworld\n", "not a Squid, nginx or gateway"),
        (b"\x1f\x8b\x08\x00broken", "truncated|cannot read"),
    ],
)
def test_files_that_are_not_logs_raise_clear_errors(
    tmp_path: Path, data: bytes, message: str
) -> None:
    path = tmp_path / "bad.log"
    path.write_bytes(data)
    with pytest.raises(EvidenceInputError, match=message):
        read_log(path, CATALOG)


def test_overlong_lines_are_malformed_not_read_whole(tmp_path: Path) -> None:
    good = (LOGS / "squid_access.log").read_text().splitlines()[0]
    path = tmp_path / "long.log"
    path.write_text(good + "\n" + "x" * 200_000 + "\n" + good + "\n")
    summary = read_log(path, CATALOG)
    assert summary.malformed == 1 and summary.malformed_samples == [(2, "line too long")]
    assert sum(v.requests for v in summary.volumes.values()) == 2


@settings(max_examples=150, deadline=None)
@given(
    lines=st.lists(
        st.text(st.characters(exclude_characters="\x00\x1f"), max_size=120), max_size=30
    ),
    fmt=st.sampled_from(list(LogFormat)),
)
def test_random_lines_never_crash(
    tmp_path_factory: pytest.TempPathFactory, lines: list[str], fmt: LogFormat
) -> None:
    """Text without NUL (binary) or the gzip magic is always read: bad lines are counted."""
    path = tmp_path_factory.mktemp("fuzz") / "random.log"
    path.write_text("\n".join(lines), encoding="utf-8", errors="surrogatepass")
    summary = read_log(path, CATALOG, fmt)
    assert summary.malformed + summary.other_requests <= summary.lines
    analyse_log(summary, CATALOG)


def test_memory_does_not_grow_with_the_log(tmp_path: Path) -> None:
    """A regression test: the line iterator was once materialised into a list."""
    import tracemalloc

    line = (LOGS / "squid_access.log").read_text().splitlines()[0] + "\n"
    path = tmp_path / "big.log"
    with path.open("w") as f:
        for i in range(20_000):
            f.write(line.replace("10.0.4.21", f"10.0.4.{i % 200}"))
    tracemalloc.start()
    summary = read_log(path, CATALOG)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert summary.lines == 20_000
    assert peak < 1_500_000, f"peak {peak} bytes for a {path.stat().st_size}-byte log"
