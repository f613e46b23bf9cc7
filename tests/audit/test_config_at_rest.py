"""ConfigAtRestAnalyser: labelled fixtures, system.xml details, dump parsing, robustness."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from egressguard.audit.analysers.base import MalformedInput
from egressguard.audit.analysers.config_at_rest import ConfigAtRestAnalyser
from egressguard.audit.analysers.sql_config_rows import config_rows, is_encrypted
from egressguard.model import Confidence, Hit

from .helpers import run_analyser
from .test_secrets import (
    FIXTURES,
    check_negative,
    check_no_plaintext,
    check_positive,
    fixture_params,
    hits_of,
    never_raises,
)

RULES = ("ai-credential-field-not-encrypted", "ai-credential-plaintext-in-dump")
SYSTEM_XML = "app/code/Acme/AiChat/etc/adminhtml/system.xml"


@pytest.mark.parametrize(("rule", "root", "rel"), fixture_params(RULES, "positive"))
def test_positive_fixture(rule: str, root: Path, rel: str) -> None:
    check_positive(ConfigAtRestAnalyser(), rule, root, rel)


@pytest.mark.parametrize(("rule", "root", "rel"), fixture_params(RULES, "negative"))
def test_negative_fixture(rule: str, root: Path, rel: str) -> None:
    check_negative(ConfigAtRestAnalyser(), rule, root, rel)


@pytest.mark.parametrize(("rule", "root", "rel"), fixture_params(RULES, "positive"))
def test_hits_never_carry_the_secret(rule: str, root: Path, rel: str) -> None:
    check_no_plaintext(ConfigAtRestAnalyser(), root, rel)


@pytest.mark.parametrize("rule", RULES)
def test_each_rule_has_three_labelled_cases_each_way(rule: str) -> None:
    assert len(fixture_params((rule,), "positive")) >= 3
    assert len(fixture_params((rule,), "negative")) >= 3


# --- system.xml ------------------------------------------------------------------------------


def _field_xml(field: str, section: str = "openai_chat") -> str:
    return (
        '<?xml version="1.0"?>\n<config><system>\n'
        f'<section id="{section}"><label>Chat</label><group id="general">\n'
        f"{field}\n</group></section></system></config>\n"
    )


def test_field_message_names_path_and_missing_obscure() -> None:
    xml = _field_xml('<field id="api_key" type="text">\n<label>API Key</label></field>')
    (hit,) = run_analyser(ConfigAtRestAnalyser(), SYSTEM_XML, xml)
    assert isinstance(hit, Hit)
    assert (
        hit.line == 4 and hit.key == "ai-credential-field-not-encrypted:openai_chat/general/api_key"
    )
    assert 'not even type="obscure"' in hit.message and hit.provider == "openai"


def test_obscure_without_encrypted_is_still_reported() -> None:
    xml = _field_xml('<field id="api_key" type="obscure"><label>API Key</label></field>')
    (hit,) = run_analyser(ConfigAtRestAnalyser(), SYSTEM_XML, xml)
    assert isinstance(hit, Hit) and 'type="obscure" only hides it' in hit.message


@pytest.mark.parametrize(
    ("field", "section", "should_flag"),
    [
        ('<field id="apikey" type="text"/>', "openai_chat", True),
        ('<field id="bearer" type="text"/>', "llm", True),
        ('<field id="anything" type="obscure"/>', "acme_gpt", True),
        ('<field id="key" type="text"/>', "claude", True),
        ('<field id="api_key" type="text"/>', "shipping_rates", False),
        ('<field id="max_tokens" type="text"/>', "openai_chat", False),
        ('<field id="form_key" type="text"/>', "openai_chat", False),
        ('<field id="api_key" type="select"/>', "openai_chat", False),
        ('<field id="public_key" type="text"/>', "openai_chat", False),
    ],
)
def test_credential_field_table(field: str, section: str, should_flag: bool) -> None:
    neutral_module = "app/code/Acme/Settings/etc/adminhtml/system.xml"
    hits = run_analyser(ConfigAtRestAnalyser(), neutral_module, _field_xml(field, section))
    assert bool(hits) is should_flag


@pytest.mark.parametrize(
    "xml",
    [
        "<config><system><section id='openai'>",
        '<?xml version="1.0"?>\n<!DOCTYPE config [<!ENTITY a "aaaaaaaaaa">]>\n<config>&a;</config>',
        "not xml at all",
    ],
)
def test_malformed_or_entity_xml_raises_malformed_input(xml: str) -> None:
    with pytest.raises(MalformedInput):
        run_analyser(ConfigAtRestAnalyser(), SYSTEM_XML, xml)


def test_wants_only_system_xml_and_sql() -> None:
    analyser = ConfigAtRestAnalyser()
    assert run_analyser(analyser, "app/code/Acme/AiChat/etc/di.xml", "<config/>") == []
    assert run_analyser(analyser, "app/code/Acme/AiChat/etc/adminhtml/routes.xml", "<x") == []


# --- SQL dumps -------------------------------------------------------------------------------


def test_config_rows_handle_escapes_and_functions() -> None:
    sql = (
        "INSERT INTO `core_config_data` VALUES (1,'default',0,'a/b/c','it\\'s ''ok''',NOW()),"
        "(2,'stores',1,'d/e/f',NULL,'2025-01-01');"
    )
    rows = list(config_rows(sql))
    assert [(r.scope, r.path, r.value) for r in rows] == [
        ("default", "a/b/c", "it's 'ok'"),
        ("stores", "d/e/f", ""),
    ]


@pytest.mark.parametrize(
    ("value", "encrypted"),
    [("0:3:c2VjcmV0SVZ2YWx1ZTEyMzQ=", True), ("1:3:abcDEF123456==", True), ("******", True),
     ("sk-proj-abc", False), ("0:3:", False)],
)  # fmt: skip
def test_encrypted_form(value: str, encrypted: bool) -> None:
    assert is_encrypted(value) is encrypted


def test_dump_evidence_is_path_and_mask_only() -> None:
    root = FIXTURES / "ai-credential-plaintext-in-dump" / "positive"
    (hit,) = hits_of(ConfigAtRestAnalyser(), root, "backups/shop-2025-03-01.sql")
    assert hit.evidence.startswith("openai/general/api_key = sk-proj-…")
    assert hit.confidence is Confidence.HIGH and hit.provider == "openai"


def test_big_dump_is_linear() -> None:
    row = "({n},'default',0,'web/cookie/cookie_lifetime','3600','2024-11-02 09:12:44')"
    sql = "INSERT INTO `core_config_data` VALUES " + ",".join(
        row.format(n=n) for n in range(60_000)
    )
    root = FIXTURES / "ai-credential-plaintext-in-dump" / "positive"
    sql += ";\n" + (root / "backups/shop-2025-03-01.sql").read_text()
    hits = run_analyser(ConfigAtRestAnalyser(), "backups/big.sql", sql)
    assert [h.rule for h in hits if isinstance(h, Hit)] == ["ai-credential-plaintext-in-dump"]


# --- robustness ------------------------------------------------------------------------------

_SEEDS = st.sampled_from(
    ["<field id='api_key'>", "</field>", "<section id='openai'>", "<label>", "INSERT INTO ",
     "core_config_data", " VALUES ", "(", ")", ",", "'", "openai/general/api_key", "NULL",
     "<!ENTITY", "\n"]
)  # fmt: skip
_CONTENT = st.one_of(
    st.binary(max_size=400),
    st.text(max_size=400),
    st.lists(st.one_of(_SEEDS, st.text(max_size=20)), max_size=40).map("".join),
)


@pytest.mark.parametrize("rel", [SYSTEM_XML, "app/code/A/B/etc/adminhtml/system/x.xml", "d.sql"])
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(content=_CONTENT)
def test_never_raises_on_arbitrary_content(rel: str, content: str | bytes) -> None:
    never_raises(ConfigAtRestAnalyser(), rel, content)
