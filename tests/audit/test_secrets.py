"""SecretAnalyser: labelled fixtures, placeholder/entropy table, masking, robustness.

The labelled-fixture walker here is shared by the config-at-rest and dependency tests:

    tests/fixtures/rules/<rule-id>/positive/<realistic path>   must yield >= 1 hit of <rule-id>
    tests/fixtures/rules/<rule-id>/negative/<realistic path>   must yield no hit of <rule-id>

The expected line of a positive file is marked by `expect: <rule-id>` on it (in a comment), or,
for formats without comments (JSON, lock files), by a sidecar `<file>.expect` holding a text
whose first occurrence is on that line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from egressguard.audit.analysers.base import Analyser, MalformedInput
from egressguard.audit.analysers.secrets import SecretAnalyser, is_live_secret
from egressguard.catalog import load_catalog
from egressguard.catalog.schema import SecretRule
from egressguard.model import Confidence, Hit

from .helpers import run_analyser

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "rules"
SECRET_RULES = (
    "ai-key-browser-exposed",
    "ai-key-hardcoded",
    "ai-key-in-config-file",
    "ai-key-rendered-to-browser",
)
# Long random-looking tokens in fixtures: candidates for "the raw secret never leaks".
_TOKEN = re.compile(r"[A-Za-z0-9_-]{24,}")


def labelled_fixtures(rules: tuple[str, ...], polarity: str) -> Iterator[tuple[str, Path, str]]:
    """(rule id, fixture root, path relative to it) for every labelled fixture file."""
    for rule in rules:
        root = FIXTURES / rule / polarity
        for path in sorted(root.rglob("*")):
            if path.is_file() and path.suffix != ".expect":
                yield rule, root, path.relative_to(root).as_posix()


def fixture_params(rules: tuple[str, ...], polarity: str) -> list[object]:
    return [
        pytest.param(rule, root, rel, id=f"{rule}/{polarity}/{rel}")
        for rule, root, rel in labelled_fixtures(rules, polarity)
    ]


def expected_lines(rule: str, path: Path) -> set[int]:
    """Lines marked `expect: <rule>`, or the line of the sidecar's text."""
    lines = path.read_text("utf-8").splitlines()
    marked = {i for i, line in enumerate(lines, 1) if f"expect: {rule}" in line}
    if marked:
        return marked
    needle = path.with_name(path.name + ".expect").read_text("utf-8").strip()
    return {next(i for i, line in enumerate(lines, 1) if needle in line)}


def hits_of(analyser: Analyser, root: Path, rel: str) -> list[Hit]:
    outputs = run_analyser(analyser, rel, (root / rel).read_bytes())
    return [o for o in outputs if isinstance(o, Hit)]


def check_positive(analyser: Analyser, rule: str, root: Path, rel: str) -> list[Hit]:
    hits = [h for h in hits_of(analyser, root, rel) if h.rule == rule]
    assert hits, f"no {rule} hit in {rel}"
    missing = expected_lines(rule, root / rel) - {h.line for h in hits}
    assert not missing, f"{rule} expected on lines {sorted(missing)}, got {[h.line for h in hits]}"
    return hits


def check_negative(analyser: Analyser, rule: str, root: Path, rel: str) -> None:
    wrong = [h for h in hits_of(analyser, root, rel) if h.rule == rule]
    assert not wrong, f"unexpected {rule}: {wrong}"


def check_no_plaintext(analyser: Analyser, root: Path, rel: str) -> None:
    """No hit's evidence, message or key contains a long token of the fixture verbatim."""
    text = (root / rel).read_text("utf-8")
    secrets = {t for t in _TOKEN.findall(text) if _looks_random(t)}
    for hit in hits_of(analyser, root, rel):
        for secret in secrets:
            for field in (hit.evidence, hit.message, hit.key):
                assert secret not in field, f"{hit.rule} leaks a secret in {field!r}"


def _looks_random(token: str) -> bool:
    return sum(c.isdigit() for c in token) >= 3 and any(c.isupper() for c in token)


@pytest.mark.parametrize(("rule", "root", "rel"), fixture_params(SECRET_RULES, "positive"))
def test_positive_fixture(rule: str, root: Path, rel: str) -> None:
    check_positive(SecretAnalyser(), rule, root, rel)


@pytest.mark.parametrize(("rule", "root", "rel"), fixture_params(SECRET_RULES, "negative"))
def test_negative_fixture(rule: str, root: Path, rel: str) -> None:
    check_negative(SecretAnalyser(), rule, root, rel)


@pytest.mark.parametrize(("rule", "root", "rel"), fixture_params(SECRET_RULES, "positive"))
def test_hits_never_carry_the_secret(rule: str, root: Path, rel: str) -> None:
    check_no_plaintext(SecretAnalyser(), root, rel)


@pytest.mark.parametrize("rule", SECRET_RULES)
def test_each_rule_has_three_labelled_cases_each_way(rule: str) -> None:
    assert len(fixture_params((rule,), "positive")) >= 3
    assert len(fixture_params((rule,), "negative")) >= 3


# --- placeholder / entropy filter, as the analyser applies it -------------------------------

_KEY_BODY = "Q7vLm2XcR9tWb4NsK8pZd3JfH6gY1eUaT5oVi0rCq"


def _openai_rule() -> SecretRule:
    return next(r for r in load_catalog().secrets if r.provider == "openai" and not r.needs_context)


@pytest.mark.parametrize(
    ("value", "should_flag"),
    [
        (f"sk-proj-{_KEY_BODY}", True),
        (f"sk-{_KEY_BODY}", True),
        ("sk-proj-XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX", False),
        ("sk-proj-your-openai-api-key-here-please-replace", False),
        ("sk-proj-0123456789abcdefghijklmnopqrstuvwxyz0123", False),
        ("sk-proj-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", False),
        ("sk-proj-abababababababababababababababababababab", False),
        ("${OPENAI_API_KEY}", False),
        ("sk-proj-<your key>", False),
        ("changeme", False),
        ("sk-proj-example0Q7vLm2XcR9tWb4NsK8pZd3JfH6gY1eUa", False),
    ],
)
def test_placeholder_and_entropy_filter(value: str, should_flag: bool) -> None:
    assert is_live_secret(value, _openai_rule()) is should_flag


def test_low_entropy_value_is_not_live_even_without_placeholder_markers() -> None:
    rule = _openai_rule()
    value = "sk-proj-" + "Ab1Cd2" * 8  # repetitive: entropy ~2.6 bits/char
    assert is_live_secret(value, rule) is False


def test_prefixed_keys_are_high_confidence() -> None:
    root = FIXTURES / "ai-key-browser-exposed" / "positive"
    rel = "app/code/Acme/AiChat/view/frontend/web/js/chat.js"
    (hit,) = hits_of(SecretAnalyser(), root, rel)
    assert hit.confidence is Confidence.HIGH
    assert hit.provider == "openai"
    assert "served to shoppers" in hit.message
    assert hit.key.startswith("ai-key-browser-exposed:sha256:")


def test_key_is_stable_when_lines_move() -> None:
    root = FIXTURES / "ai-key-hardcoded" / "positive"
    rel = "web/index.js"
    text = (root / rel).read_text("utf-8")
    (before,) = run_analyser(SecretAnalyser(), rel, text)
    (after,) = run_analyser(SecretAnalyser(), rel, "\n\n// moved\n" + text)
    assert isinstance(before, Hit) and isinstance(after, Hit)
    assert before.key == after.key and before.line + 3 == after.line


def test_same_key_in_phtml_php_block_is_server_but_in_echo_is_browser() -> None:
    key = (FIXTURES / "ai-key-hardcoded" / "positive" / "web" / "index.js").read_text()
    secret = re.search(r"sk-ant-api03-[\w-]+", key)
    assert secret is not None
    rel = "app/code/Acme/Chat/view/frontend/templates/x.phtml"
    server = run_analyser(SecretAnalyser(), rel, f"<?php $k = '{secret.group()}'; ?>\n<p>hi</p>")
    echoed = run_analyser(SecretAnalyser(), rel, f"<?php echo '{secret.group()}'; ?>")
    assert [h.rule for h in server if isinstance(h, Hit)] == ["ai-key-hardcoded"]
    assert [h.rule for h in echoed if isinstance(h, Hit)] == ["ai-key-browser-exposed"]


def test_sql_dumps_are_left_to_the_config_at_rest_analyser() -> None:
    root = FIXTURES / "ai-key-in-config-file" / "negative"
    assert hits_of(SecretAnalyser(), root, "backups/core_config_data.sql") == []


def test_minified_line_evidence_is_cut_around_the_masked_key() -> None:
    root = FIXTURES / "ai-key-browser-exposed" / "positive"
    source = (root / "app/code/Acme/AiChat/view/frontend/web/js/chat.js").read_text()
    minified = "var a=1;" * 200 + " ".join(source.split()) + "var b=2;" * 200
    rel = "app/code/Acme/AiChat/view/frontend/web/js/chat.min.js"
    (hit,) = run_analyser(SecretAnalyser(), rel, minified)
    assert isinstance(hit, Hit)
    assert len(hit.evidence) <= 250 and "sk-proj-" in hit.evidence and "…" in hit.evidence


# --- robustness: arbitrary content never raises ---------------------------------------------

SECRET_PATHS = (
    "app/code/Acme/AiChat/view/frontend/web/js/chat.js",
    "app/code/Acme/AiChat/view/frontend/templates/widget.phtml",
    "app/code/Acme/AiChat/Model/Client.php",
    "app/etc/env.php",
    "web/frontend/.env",
    "snippets/ai-chat.liquid",
    "config/settings_schema.json",
    "config/settings_data.json",
    "app/code/Acme/AiChat/etc/config.xml",
    "shopify.app.toml",
)
_SEEDS = st.sampled_from(
    ["sk-proj-", "sk-ant-api03-", "AIza", "<?=", "<?php echo", "?>", "{{", "}}", "apiKey",
     "settings.openai_api_key", "\n", '"id": "openai_api_key"', "VITE_", "=", "'", '"']
)  # fmt: skip
_CONTENT = st.one_of(
    st.binary(max_size=400),
    st.text(max_size=400),
    st.lists(st.one_of(_SEEDS, st.text(max_size=20)), max_size=40).map("".join),
)


@pytest.mark.parametrize("rel", SECRET_PATHS)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(content=_CONTENT)
def test_never_raises_on_arbitrary_content(rel: str, content: str | bytes) -> None:
    never_raises(SecretAnalyser(), rel, content)


def never_raises(analyser: Analyser, rel: str, content: str | bytes) -> None:
    try:
        outputs = run_analyser(analyser, rel, content)
    except MalformedInput:
        return
    for out in outputs:
        assert isinstance(out, Hit) and out.line >= 1
