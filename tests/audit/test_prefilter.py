"""The prefilter: one Hyperscan pass decides which files are analysed."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from egressguard.audit.prefilter import bench_patterns, build, portable_escape
from egressguard.catalog import load_catalog


def test_tags_of_a_file() -> None:
    pf = build(load_catalog())
    assert pf.tags(b"<?php $url = 'https://api.openai.com/v1/chat/completions';") >= {"ai"}
    assert pf.tags(b"const k = 'sk-proj-abc';") >= {"key"}
    assert pf.tags(b'{"require": {"openai-php/client": "^0.10"}}') >= {"sdk"}
    assert pf.tags(b"<?php echo 'hello world';") == frozenset()


def test_a_literal_serving_two_tags_keeps_both() -> None:
    pf = build(load_catalog())
    assert pf.tags(b"generativelanguage") == frozenset({"ai", "key"})


def test_clones_scan_independently() -> None:
    pf = build(load_catalog())
    other = pf.clone()
    assert other.tags(b"anthropic") == pf.tags(b"anthropic") == frozenset({"ai", "pkg"})


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=40))
def test_portable_escape_matches_the_literal_itself(literal: str) -> None:
    assert re.fullmatch(portable_escape(literal), literal)


def test_bench_patterns_are_the_prefilter_set() -> None:
    pats = bench_patterns(load_catalog())
    assert len(pats) == len(build(load_catalog()).patterns)
    assert all(" " not in p or "\\ " not in p for p, _ in pats)
