"""The JavaScript and Liquid finders never raise and stay fast: arbitrary text, deep nesting,
minified bundles; the vocabulary files pass their own samples."""

from __future__ import annotations

import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from egressguard.audit.dataflow import javascript, liquid
from egressguard.catalog import load_catalog
from egressguard.catalog.dataflow_rules import check_samples, load_dataflow_rules
from egressguard.model import IntegrationSite, RunsIn
from tests.audit.dataflow.js_helpers import AI, categories
from tests.audit.helpers import source_file

SITE = IntegrationSite("openai", "api.openai.com", 1, RunsIn.BROWSER)
_JS_BITS = st.sampled_from(
    [
        "fetch(AI, {body: x})",
        "customerData.get('customer')()",
        "{{ customer.email }}",
        "{% if x %}",
        "<script>",
        "</script>",
        "function (",
        "=> {",
        "`${",
        "'",
        '"',
        "/*",
        "\n",
        "x.y.z",
        "(",
        ")",
        "{",
        "}",
        "[",
        ";",
        " = ",
        'data-x="',
        "query { customers { email } }",
    ]
)
_TEXT = st.lists(st.one_of(_JS_BITS, st.text(max_size=20)), max_size=40).map("".join)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_TEXT)
def test_javascript_finder_never_raises(text: str) -> None:
    f = source_file("web/js/a.js", text)
    f.sites = (SITE,)
    assert isinstance(javascript.find_flows(f, load_catalog()), list)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_TEXT)
def test_liquid_finder_never_raises(text: str) -> None:
    f = source_file("sections/a.liquid", text)
    f.sites = (SITE,)
    assert isinstance(liquid.find_flows(f, load_catalog()), list)


def test_deep_nesting_is_partial_not_a_crash() -> None:
    deep = "var c = customerData.get('customer')();\nvar p = " + "(" * 600 + "c" + ")" * 600
    f = source_file("web/js/deep.js", AI + deep + ";\nfetch(AI, {body: 'x'});\n")
    f.sites = (SITE,)
    javascript.find_flows(f, load_catalog())


def test_long_concatenation_chain_is_followed_or_cut() -> None:
    chain = " + ".join(["c.email"] + ["'x'"] * 2000)
    code = (
        AI + f"var c = customerData.get('customer')();\nvar p = {chain};\nfetch(AI, {{body: p}});"
    )
    categories("web/js/chain.js", code)  # must terminate; deep chains may be cut (partial)


def test_minified_bundle_is_linear() -> None:
    unit = (
        "function f{i}(a){{var b=customerData.get('cart')();return a+b.items+'{i}'}}"
        "var v{i}=f{i}(document.querySelector('#q{i}').value);"
    )
    small = AI + "".join(unit.format(i=i) for i in range(200)) + "fetch(AI,{body:v1});"
    big = AI + "".join(unit.format(i=i) for i in range(1500)) + "fetch(AI,{body:v1});"
    t_small = _timed(small)
    t_big = _timed(big)
    assert t_big < 25 * max(t_small, 0.01)  # 7.5x the code, well under quadratic time


def test_oversized_file_is_skipped_as_partial() -> None:
    f = source_file("web/js/huge.min.js", AI + "var x=1;" * (javascript.MAX_BYTES // 8 + 1))
    f.sites = (SITE,)
    assert javascript.find_flows(f, load_catalog()) == []
    assert f.partial == [javascript.TOO_LARGE]


def _timed(code: str) -> float:
    f = source_file("web/js/bundle.min.js", code)
    f.sites = (SITE,)
    start = time.perf_counter()
    found = javascript.find_flows(f, load_catalog())
    assert {c.value for fl in found for c in fl.categories} == {"cart", "shopper_text"}
    return time.perf_counter() - start


def test_vocabulary_samples_behave() -> None:
    check_samples(load_dataflow_rules())
    js = load_dataflow_rules().language("javascript")
    assert js.sources and js.sinks
    assert load_dataflow_rules().language("liquid").sources
