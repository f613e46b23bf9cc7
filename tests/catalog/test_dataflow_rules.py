"""The data-flow vocabulary: every entry's samples, and load-time validation by entry id."""

from __future__ import annotations

import pytest

from egressguard.catalog.dataflow_rules import (
    DataflowRules,
    check_samples,
    dataflow_rules_from_toml,
    load_dataflow_rules,
)
from egressguard.catalog.dataflow_schema import normalise_field, split_subject, split_typed
from egressguard.errors import CatalogError
from egressguard.model import DataCategory

RULES = load_dataflow_rules()


def _one(rules: DataflowRules, eid: str) -> DataflowRules:
    """The same rules with only the entry `eid` (its samples then run alone)."""
    langs = tuple(
        type(lang)(
            lang.language,
            tuple(s for s in lang.sources if s.id == eid),
            tuple(s for s in lang.sinks if s.id == eid),
        )
        for lang in rules.languages
    )
    return DataflowRules(
        langs,
        rules.fields if any(f.id == eid for f in rules.fields) else (),
        tuple(s for s in rules.sanitizers if s.id == eid),
    )


def _ids() -> list[str]:
    ids = [r.id for lang in RULES.languages for r in (*lang.sources, *lang.sinks)]
    return ids + [f.id for f in RULES.fields] + [s.id for s in RULES.sanitizers]


def test_packaged_rules_load_and_php_is_there() -> None:
    php = RULES.language("php")
    assert len(php.sources) >= 25 and len(php.sinks) >= 10
    assert RULES.language("cobol").sources == ()


@pytest.mark.parametrize("eid", _ids())
def test_entry_samples(eid: str) -> None:
    check_samples(_one(RULES, eid))


def test_load_is_cached() -> None:
    assert load_dataflow_rules() is RULES


@pytest.mark.parametrize(
    ("text", "with_receiver", "expected"),
    [
        ("$order->getCustomerEmail()", True, ("getCustomerEmail", "$order", "")),
        ("$order->getPayment()->getCcLast4()", True, ("getCcLast4", "$order->getPayment()", "")),
        (
            "curl_setopt($ch, CURLOPT_POSTFIELDS, $x)",
            False,
            ("curl_setopt", "", "$ch, CURLOPT_POSTFIELDS, $x"),
        ),
        ("customerData.get('cart')", True, ("get", "customerData", "'cart'")),
        ("customer.email", False, ("customer.email", "", "")),
        ("Foo::bar(1)", True, ("bar", "Foo", "1")),
    ],
)
def test_split_subject(text: str, with_receiver: bool, expected: tuple[str, str, str]) -> None:
    assert split_subject(text, with_receiver) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Magento\\Framework\\App\\RequestInterface $request->getParams()",
            ("Magento\\Framework\\App\\RequestInterface", "$request->getParams()"),
        ),
        (
            "\\Acme\\AiRequest $this->request->getParam('q')",
            ("Acme\\AiRequest", "$this->request->getParam('q')"),
        ),
        ("A|B\\C $r->getParams()", ("A|B\\C", "$r->getParams()")),
        ("$request->getParams()", ("", "$request->getParams()")),
        ("customerData.get('cart')", ("", "customerData.get('cart')")),
        (
            "curl_setopt($ch, CURLOPT_POSTFIELDS, $x)",
            ("", "curl_setopt($ch, CURLOPT_POSTFIELDS, $x)"),
        ),
    ],
)
def test_split_typed(text: str, expected: tuple[str, str]) -> None:
    assert split_typed(text) == expected


@pytest.mark.parametrize(
    ("name", "normalised"),
    [
        ("getKundenEmail", "kunden_email"),
        ("first-name", "first_name"),
        ("$_POST", "post"),
        ("Prénom", "prénom"),
        ("ccLast4", "cc_last4"),
        ("billingPostcode", "billing_postcode"),
        ("URLKey", "url_key"),
    ],
)
def test_normalise_field(name: str, normalised: str) -> None:
    assert normalise_field(name) == normalised


@pytest.mark.parametrize(
    ("name", "category"),
    [
        ("email", DataCategory.CUSTOMER_PII),
        ("getKundenEmail", DataCategory.CUSTOMER_PII),
        ("straße", DataCategory.CUSTOMER_PII),
        ("kod_pocztowy", DataCategory.CUSTOMER_PII),
        ("iban", DataCategory.PAYMENT),
        ("kartennummer", DataCategory.PAYMENT),
        ("einkaufspreis", DataCategory.PROPRIETARY_PRICING),
        ("marża", DataCategory.PROPRIETARY_PRICING),
        ("dostawca", DataCategory.PROPRIETARY_PRICING),
        ("increment_id", DataCategory.ORDER),
        ("warenkorb", DataCategory.CART),
    ],
)
def test_field_categories(name: str, category: DataCategory) -> None:
    rule = RULES.classify_field(name)
    assert rule is not None and rule.category is category


@pytest.mark.parametrize(
    "name", ["model", "messages", "role", "max_tokens", "store_id", "temperature"]
)
def test_payload_plumbing_is_not_a_field(name: str) -> None:
    assert RULES.classify_field(name) is None


_SOURCE = """
[[sources]]
id = "s-one"
kind = "method"
category = "customer_pii"
pattern = '^getEmail$'
samples = { match = ["$c->getEmail()"], no_match = ["$c->getId()"] }
"""


def test_a_valid_snippet_loads() -> None:
    rules = dataflow_rules_from_toml({"php.toml": _SOURCE})
    assert rules.language("php").source("getEmail", "$c") is not None
    check_samples(rules)


@pytest.mark.parametrize(
    ("replace", "by", "message"),
    [
        ('kind = "method"', 'kind = "spell"', "s-one: 'kind'"),
        ('category = "customer_pii"', 'category = "gossip"', "s-one: 'category'"),
        ("pattern = '^getEmail$'", "pattern = '(['", "s-one: 'pattern' is not a valid"),
        ('samples = { match = ["$c->getEmail()"], ', "samples = { match = [], ", "s-one: samples"),
        ('id = "s-one"', 'id = "s-one"\ncolour = "red"', "s-one: unknown key"),
        ('id = "s-one"', 'id = "S One"', "S One: id must be kebab-case"),
    ],
)
def test_errors_name_the_entry(replace: str, by: str, message: str) -> None:
    with pytest.raises(CatalogError, match=message.replace("(", r"\(").replace("[", r"\[")):
        dataflow_rules_from_toml({"php.toml": _SOURCE.replace(replace, by)})


_TYPED = _SOURCE.replace(
    "samples = {",
    "receiver_type = '^Magento\\\\'\nsamples = {",
)


def test_receiver_type_applies_only_to_a_known_class() -> None:
    rules = dataflow_rules_from_toml({"php.toml": _TYPED})
    php = rules.language("php")
    assert php.source("getEmail", "$c") is not None  # class not known
    assert php.source("getEmail", "$c", "", "Magento\\Customer\\Model\\Customer") is not None
    assert php.source("getEmail", "$c", "", "magento\\customer\\model\\customer") is not None
    assert php.source("getEmail", "$c", "", "Acme\\Crm\\Contact") is None
    assert php.source("getEmail", "$c", "", "Acme\\Crm\\Contact|Magento\\X") is not None
    check_samples(rules)


def test_receiver_type_samples_run() -> None:
    broken = _TYPED.replace(
        'no_match = ["$c->getId()"]', 'no_match = ["Magento\\\\C $c->getEmail()"]'
    )
    with pytest.raises(CatalogError, match=r"s-one: samples\.no_match\[0\]"):
        check_samples(dataflow_rules_from_toml({"php.toml": broken}))
    fine = _TYPED.replace('no_match = ["$c->getId()"]', 'no_match = ["Acme\\\\C $c->getEmail()"]')
    check_samples(dataflow_rules_from_toml({"php.toml": fine}))


def test_receiver_type_is_checked_at_load() -> None:
    with pytest.raises(CatalogError, match="s-one: 'receiver_type' is not a valid"):
        dataflow_rules_from_toml({"php.toml": _TYPED.replace("'^Magento", "'(^Magento")})
    function = _TYPED.replace('kind = "method"', 'kind = "function"')
    with pytest.raises(CatalogError, match="s-one: 'receiver_type' needs a kind with a receiver"):
        dataflow_rules_from_toml({"php.toml": function})
    sink = (
        '[[sinks]]\nid = "x"\nkind = "http-call"\nlabel = "L"\npattern = "a"\n'
        "receiver_type = 'b'\nsamples = { match = [\"a\"] }\n"
    )
    with pytest.raises(CatalogError, match="x: unknown key"):
        dataflow_rules_from_toml({"php.toml": sink})


def test_a_sample_that_does_not_behave_names_the_entry() -> None:
    broken = _SOURCE.replace('no_match = ["$c->getId()"]', 'no_match = ["$c->getEmail()"]')
    with pytest.raises(CatalogError, match=r"s-one: samples\.no_match"):
        check_samples(dataflow_rules_from_toml({"php.toml": broken}))


def test_duplicate_ids_and_bad_files() -> None:
    with pytest.raises(CatalogError, match="s-one: duplicate id"):
        dataflow_rules_from_toml({"php.toml": _SOURCE + _SOURCE})
    with pytest.raises(CatalogError, match=r"php\.toml: not valid TOML"):
        dataflow_rules_from_toml({"php.toml": "[[sources"})
    with pytest.raises(CatalogError, match=r"php\.toml: unknown top-level"):
        dataflow_rules_from_toml({"php.toml": "hosts = []"})
    with pytest.raises(CatalogError, match="x: 'payload_args'"):
        sink = (
            '[[sinks]]\nid = "x"\nkind = "http-call"\nlabel = "L"\npattern = "a"\n'
            'payload_args = ["one"]\nsamples = { match = ["a"] }\n'
        )
        dataflow_rules_from_toml({"php.toml": sink})
