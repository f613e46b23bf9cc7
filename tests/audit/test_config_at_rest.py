"""ConfigAtRestAnalyser: labelled fixtures, system.xml details, dump parsing, robustness."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from egressguard.audit.analysers.base import MalformedInput
from egressguard.audit.analysers.config_at_rest import ConfigAtRestAnalyser
from egressguard.audit.analysers.sql_config_rows import config_rows, is_encrypted
from egressguard.audit.project import Project
from egressguard.catalog import load_catalog
from egressguard.model import Confidence, Hit

from .helpers import run_analyser, source_file
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


# --- the module around a system.xml: name and dependencies ----------------------------------

_NEUTRAL_FIELD = '<field id="api_key" type="text"><label>API key</label></field>'


def _module_hits(tmp_path: Path, files: dict[str, str], rel: str) -> list[Hit]:
    """Hits for `rel` in a small module tree written to tmp_path, scanned as a project."""
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, "utf-8")
    project = Project(tmp_path)
    f = source_file(rel, (tmp_path / rel).read_text("utf-8"))
    f.project = project
    return [h for h in ConfigAtRestAnalyser().analyse(f, load_catalog()) if isinstance(h, Hit)]


def _composer(name: str, *require: str, description: str = "") -> str:
    data = {"name": name, "description": description, "require": dict.fromkeys(require, "*")}
    return json.dumps(data, indent=4)


_MODULE_XML = (
    '<config><module name="{}"><sequence><module name="Magento_Sales"/></sequence>'
    "</module></config>"
)


@pytest.mark.parametrize(
    ("files", "confidence", "provider"),
    [
        # the module is the scan root: only etc/module.xml names it
        ({"etc/module.xml": _MODULE_XML.format("Acme_AIFraudCheck")}, Confidence.HIGH, None),
        ({"composer.json": _composer("acme/magento2-ai-fraud-check")}, Confidence.HIGH, None),
        # only the dependencies say AI (catalogue SDK; AI-named package): medium
        ({"composer.json": _composer("acme/fraud", "tidycode/ai-php-sdk")}, Confidence.MEDIUM,
         "tidycode"),
        ({"composer.json": _composer("acme/review-check", "bydn/openai")}, Confidence.MEDIUM, None),
        ({"composer.json": _composer("acme/review-check", description="Uses ChatGPT")},
         Confidence.MEDIUM, None),
        # nothing says AI: a payment or ERP module's key is not our business
        ({"composer.json": _composer("acme/card-gateway", "stripe/stripe-php")}, None, None),
        ({"etc/module.xml": _MODULE_XML.format("Acme_Erp")}, None, None),
        ({}, None, None),
    ],
)  # fmt: skip
def test_module_evidence_sets_the_confidence(
    tmp_path: Path, files: dict[str, str], confidence: Confidence | None, provider: str | None
) -> None:
    rel = "etc/adminhtml/system.xml"
    files = {**files, rel: _field_xml(_NEUTRAL_FIELD, section="fraud_check")}
    hits = _module_hits(tmp_path, files, rel)
    if confidence is None:
        assert hits == []
        return
    (hit,) = hits
    assert (hit.confidence, hit.provider) == (confidence, provider)
    if confidence is Confidence.MEDIUM:
        assert "a credential of an AI module" in hit.message


def test_module_evidence_is_per_module(tmp_path: Path) -> None:
    """A neighbour module's AI dependency does not make this module AI-related."""
    files = {
        "app/code/Acme/Ai/composer.json": _composer("acme/ai", "openai-php/client"),
        "app/code/Acme/Pay/composer.json": _composer("acme/pay"),
        "app/code/Acme/Pay/etc/adminhtml/system.xml": _field_xml(_NEUTRAL_FIELD, "pay"),
    }
    assert _module_hits(tmp_path, files, "app/code/Acme/Pay/etc/adminhtml/system.xml") == []


@pytest.mark.parametrize(
    ("field", "should_flag"),
    [
        ("<api_key><frontend_type>text</frontend_type></api_key>", True),
        ("<token><frontend_type>password</frontend_type></token>", True),
        ("<anything><frontend_type>obscure</frontend_type></anything>", True),
        ("<api_key><backend_model>adminhtml/system_config_backend_encrypted</backend_model>"
         "</api_key>", False),
        ("<api_key><backend_model>acme_openai/system_config_backend_encrypted</backend_model>"
         "</api_key>", False),
        ("<model><frontend_type>select</frontend_type></model>", False),
        ("<max_tokens><frontend_type>text</frontend_type></max_tokens>", False),
    ],
)  # fmt: skip
def test_magento1_field_table(field: str, should_flag: bool) -> None:
    xml = (
        "<config><sections><openai_chat><label>Chat</label><groups><general><fields>"
        f"{field}</fields></general></groups></openai_chat></sections></config>"
    )
    hits = run_analyser(ConfigAtRestAnalyser(), "app/code/community/Acme/Shop/etc/system.xml", xml)
    assert bool(hits) is should_flag
    if hits:
        (hit,) = hits
        assert isinstance(hit, Hit) and hit.key.startswith(
            "ai-credential-field-not-encrypted:openai_chat/general/"
        )


def test_magento1_path_line_and_label() -> None:
    root = FIXTURES / "ai-credential-field-not-encrypted" / "positive"
    (hit,) = hits_of(ConfigAtRestAnalyser(), root, "app/code/community/Acme/ChatGpt/etc/system.xml")
    assert hit.key == "ai-credential-field-not-encrypted:acme_chatgpt/general/api_key"
    assert "(API Key)" in hit.message and 'not even type="obscure"' in hit.message


@pytest.mark.parametrize(
    ("label", "should_flag"),
    [("Access Token", True), ("Bearer token", True), ("Secret key", True),
     ("Max tokens per request", False), ("Public key", False)],
)  # fmt: skip
def test_credential_words_in_labels(label: str, should_flag: bool) -> None:
    field = f'<field id="x1" type="text"><label>{label}</label></field>'
    hits = run_analyser(ConfigAtRestAnalyser(), SYSTEM_XML, _field_xml(field))
    assert bool(hits) is should_flag


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


@pytest.mark.parametrize(
    "rel",
    [
        SYSTEM_XML,
        "app/code/A/B/etc/adminhtml/system/x.xml",
        "app/code/community/A/B/etc/system.xml",
        "d.sql",
    ],
)
@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(content=_CONTENT)
def test_never_raises_on_arbitrary_content(rel: str, content: str | bytes) -> None:
    never_raises(ConfigAtRestAnalyser(), rel, content)
