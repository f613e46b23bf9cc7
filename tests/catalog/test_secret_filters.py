"""Placeholders and entropy: a key-shaped value that is obviously not a live key."""

from __future__ import annotations

import math

import pytest

from egressguard.catalog import is_placeholder, shannon_entropy

# Synthetic, random-looking values (never real keys).
LIVE = [
    "sk-proj-Yk59Q8lS3GGi1-YiNH5zgN2YiTvTB8gvH35iLMO5DdTGvuBolrEuGHLQ",
    "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",
    "gsk_8fK2pQ9zLm4Xv7Rt1Wc6Yb3Nh5Jd0Sa2Ge8Tu4Io6Pq1Lz9Mx7Cv3Bn",
    "3f9a1c07e4b2d86590ab7cd13e2f4a68",
    "AIzaSyB1c9R3k5T7u2W4x6Y8z0A1b3C5d7E9f1G",
]

PLACEHOLDERS = [
    "",
    "   ",
    "changeme",
    "dummy",
    "example",
    "test",
    "TEST",
    "your-api-key",
    "YOUR_OPENAI_API_KEY",
    "<your-api-key>",
    "<API_KEY>",
    "${OPENAI_API_KEY}",
    "{{ openai_key }}",
    "%env(OPENAI_API_KEY)%",
    "process.env.OPENAI_API_KEY",
    "getenv('OPENAI_API_KEY')",
    "sk-proj-XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
    "sk-proj-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
    "sk-ant-api03-****************************",
    "sk-proj-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "00000000000000000000000000000000",
    "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789",
    "hf_1234567890abcdefghij1234567890abcd",
    "sk-proj-abababababababababababababababababab",
    "sk-...",
    "sk-proj-…",
    "'changeme'",
    "sk-proj-insert-your-key-here-0123",
    "sk-proj-REDACTED",
    "sk-proj-placeholder-for-docs-7Hq",
]


@pytest.mark.parametrize("value", LIVE)
def test_live_looking_values_are_not_placeholders(value: str) -> None:
    assert not is_placeholder(value)


@pytest.mark.parametrize("value", PLACEHOLDERS)
def test_placeholders(value: str) -> None:
    assert is_placeholder(value)


@pytest.mark.parametrize(
    ("value", "bits"),
    [("", 0.0), ("aaaa", 0.0), ("ab", 1.0), ("abcd", 2.0), ("0123456789abcdef", 4.0)],
)
def test_shannon_entropy(value: str, bits: float) -> None:
    assert math.isclose(shannon_entropy(value), bits)


def test_random_keys_have_high_entropy() -> None:
    assert all(shannon_entropy(v) > 3.5 for v in LIVE)
