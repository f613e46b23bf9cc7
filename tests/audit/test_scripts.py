"""ScriptAnalyser: ai-script-on-checkout and ai-script-on-storefront."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from egressguard.audit.analysers.scripts import (
    RULE_CHECKOUT,
    RULE_STOREFRONT,
    ScriptAnalyser,
    page_of,
)
from egressguard.model import Hit
from tests.audit.helpers import run_analyser
from tests.audit.test_endpoints import FixtureFile, fixture_files, fixture_params


def script_hits(rel: str, text: str) -> list[Hit]:
    return [o for o in run_analyser(ScriptAnalyser(), rel, text) if isinstance(o, Hit)]


def _check(rule: str, fixture: FixtureFile) -> None:
    hits = sorted(
        (h for h in script_hits(fixture.rel, fixture.text) if h.rule == rule), key=lambda h: h.line
    )
    if fixture.label == "negative":
        assert hits == []
        return
    want = sorted(fixture.expected, key=lambda e: e["line"])
    assert want, "a positive fixture needs expectations in expected.toml"
    got = [(h.line, h.provider, h.host, h.region and h.region.value) for h in hits]
    assert got == [(e["line"], e["provider"], e["host"], e["region"]) for e in want]
    for hit in hits:
        assert hit.key == f"{rule}:{hit.host}:{fixture.rel}"


@pytest.mark.parametrize("fixture", fixture_params(RULE_CHECKOUT))
def test_script_on_checkout_fixtures(fixture: FixtureFile) -> None:
    _check(RULE_CHECKOUT, fixture)


@pytest.mark.parametrize("fixture", fixture_params(RULE_STOREFRONT))
def test_script_on_storefront_fixtures(fixture: FixtureFile) -> None:
    _check(RULE_STOREFRONT, fixture)


@pytest.mark.parametrize("rule", [RULE_CHECKOUT, RULE_STOREFRONT])
def test_three_positive_and_three_negative_fixtures(rule: str) -> None:
    labels = [f.label for f in fixture_files(rule)]
    assert labels.count("positive") >= 3 and labels.count("negative") >= 3


@pytest.mark.parametrize(
    ("rel", "checkout"),
    [
        ("app/design/frontend/A/t/Magento_Checkout/layout/checkout_index_index.xml", True),
        ("app/code/A/B/view/frontend/layout/checkout_onepage_success.xml", True),
        ("app/code/A/B/view/frontend/layout/multishipping_checkout_billing.xml", True),
        ("app/code/A/B/view/frontend/layout/default.xml", True),
        ("app/code/A/B/view/frontend/layout/default_head_blocks.xml", True),
        ("app/code/A/B/view/frontend/layout/checkout_cart_index.xml", False),
        ("app/code/A/B/view/frontend/layout/catalog_product_view.xml", False),
        ("app/design/frontend/A/t/Magento_Checkout/templates/onepage/x.phtml", True),
        ("app/design/frontend/A/t/Magento_Checkout/templates/cart/x.phtml", False),
        ("app/design/frontend/A/t/Magento_Theme/templates/html/x.phtml", False),
        ("theme/layout/checkout.liquid", True),
        ("theme/layout/theme.liquid", False),
        ("theme/templates/cart.liquid", False),
        ("app/code/A/B/view/frontend/requirejs-config.js", False),
    ],
)
def test_which_pages_are_checkout(rel: str, checkout: bool) -> None:
    assert page_of(rel).checkout is checkout


def test_sri_is_reported_in_the_message() -> None:
    layout = "app/code/A/B/view/frontend/layout/checkout_index_index.xml"
    with_sri = (
        '<head><script src="https://widget.intercom.io/widget/x" integrity="sha384-abc" '
        'src_type="url"/></head>'
    )
    without = '<head><script src="https://widget.intercom.io/widget/x" src_type="url"/></head>'
    assert "SRI integrity attribute present" in script_hits(layout, with_sri)[0].message
    assert "no SRI" in script_hits(layout, without)[0].message


def test_admin_layouts_and_non_ai_scripts_are_ignored() -> None:
    code = '<head><script src="https://widget.intercom.io/widget/x" src_type="url"/></head>'
    assert script_hits("app/code/A/B/view/adminhtml/layout/default.xml", code) == []
    gtm = '<script src="https://www.googletagmanager.com/gtm.js"></script>'
    assert script_hits("theme/layout/theme.liquid", gtm) == []


def test_provider_js_counts_like_a_widget() -> None:
    code = '<script src="https://cdn.openai.com/chatkit/x.js"></script>\n<script src="https://api.openai.com/v1/widget.js"></script>\n'
    hits = script_hits("theme/layout/theme.liquid", code)
    assert [(h.line, h.provider) for h in hits] == [(2, "openai")]


_PIECES = (
    *"<>/\"'=| {}%\n-!",
    "<script src=",
    "<link src=",
    "https://widget.intercom.io/w",
    "//code.tidio.co/x.js",
    "| script_tag",
    "{{ ",
    " }}",
    ".src = ",
    "integrity=",
    "<!--",
    "-->",
    "{% comment %}",
    "{% endcomment %}",
)
_ALPHABET = st.sampled_from(_PIECES)


@settings(max_examples=150, deadline=None)
@given(
    text=st.lists(_ALPHABET, max_size=50).map("".join),
    rel=st.sampled_from(
        [
            "app/code/A/B/view/frontend/layout/default.xml",
            "app/design/frontend/A/t/Magento_Checkout/templates/x.phtml",
            "theme/layout/theme.liquid",
            "app/code/A/B/view/frontend/requirejs-config.js",
            "app/code/A/B/view/frontend/web/js/loader.js",
            "pub/x.html",
        ]
    ),
)
def test_script_analyser_never_raises(text: str, rel: str) -> None:
    for hit in script_hits(rel, text):
        assert hit.rule in (RULE_CHECKOUT, RULE_STOREFRONT)
