"""BulkAccessAnalyser: ai-bulk-data-export."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from egressguard.audit.analysers.bulk import RULE, BulkAccessAnalyser
from egressguard.model import DataCategory, Hit
from tests.audit.helpers import run_analyser
from tests.audit.test_endpoints import FixtureFile, endpoint_sites, fixture_files, fixture_params


def bulk_hits(rel: str, text: str) -> list[Hit]:
    outs = run_analyser(BulkAccessAnalyser(), rel, text, sites=endpoint_sites(rel, text))
    return [o for o in outs if isinstance(o, Hit)]


@pytest.mark.parametrize("fixture", fixture_params(RULE))
def test_bulk_fixtures(fixture: FixtureFile) -> None:
    hits = sorted(bulk_hits(fixture.rel, fixture.text), key=lambda h: h.line)
    if fixture.label == "negative":
        assert hits == []
        return
    want = sorted(fixture.expected, key=lambda e: e["line"])
    assert want, "a positive fixture needs expectations in expected.toml"
    got = [
        (h.line, [c.value for c in h.data_categories], h.confidence and h.confidence.value)
        for h in hits
    ]
    assert got == [(e["line"], e["data_categories"], e["confidence"]) for e in want]


def test_three_positive_and_three_negative_fixtures() -> None:
    labels = [f.label for f in fixture_files(RULE)]
    assert labels.count("positive") >= 3 and labels.count("negative") >= 3


PHP = "app/code/Acme/Ai/Model/Digest.php"


def _method(body: str) -> str:
    return (
        "<?php\nclass Digest\n{\n    public function run(): void\n    {\n"
        + "".join(f"        {line}\n" for line in body.splitlines())
        + "        $this->http->post('https://api.openai.com/v1/chat/completions', []);\n    }\n}\n"
    )


@pytest.mark.parametrize(
    ("body", "categories"),
    [
        (
            "$c = $this->orderCollectionFactory->create();\n$rows = $c->getData();\n",
            [DataCategory.ORDER],
        ),
        (
            "$rows = $this->customerCollectionFactory->create()->addAttributeToSelect('*');\n",
            [DataCategory.CUSTOMER_PII],
        ),
        (
            "$rows = $this->productCollectionFactory->create()->addAttributeToSelect('*');\n",
            [DataCategory.PROPRIETARY_PRICING],
        ),
        ("$rows = $this->quoteCollection->getData();\n", [DataCategory.CART]),
        ("$rows = $db->fetchAll('SELECT * FROM sales_order');\n", [DataCategory.ORDER]),
        ("$log = file_get_contents(BP . '/var/log/system.log');\n", []),
        (
            "$rows = $this->productRepository->getList($this->searchCriteriaBuilder->create());\n",
            [DataCategory.CATALOG],
        ),
    ],
)
def test_bulk_sources_and_categories(body: str, categories: list[DataCategory]) -> None:
    hits = bulk_hits(PHP, _method(body))
    assert len(hits) == 1
    assert hits[0].data_categories == (DataCategory.BULK_EXPORT, *categories)
    assert "OpenAI" in hits[0].message


@pytest.mark.parametrize(
    "body",
    [
        "$c = $this->orderCollectionFactory->create()->setPageSize(10);\n$rows = $c->getData();\n",
        "$row = $this->orderCollectionFactory->create()"
        "->addFieldToFilter('entity_id', 5)->getData();\n",
        "$item = $this->productCollectionFactory->create()"
        "->addAttributeToSelect('*')->getFirstItem();\n",
        "        // $rows = $this->orderCollection->getData();\n",
        "$rows = $this->productCollectionFactory->create()->addAttributeToSelect(['name']);\n",
    ],
)
def test_narrowed_or_commented_reads_are_not_bulk(body: str) -> None:
    assert bulk_hits(PHP, _method(body)) == []


def test_bulk_needs_an_ai_site() -> None:
    code = "<?php\nclass E { public function f() { return $this->orderCollection->getData(); } }\n"
    assert bulk_hits("app/code/A/B/Model/E.php", code) == []


def test_bulk_in_shopify_node_app() -> None:
    code = (
        "const openai = new OpenAI();\n"
        "const res = await fetch(`https://${shop}/admin/api/2024-10/customers.json?limit=250`);\n"
    )
    hits = bulk_hits("web/jobs/x.js", code)
    assert [(h.line, h.data_categories) for h in hits] == [
        (2, (DataCategory.BULK_EXPORT, DataCategory.CUSTOMER_PII))
    ]


_PIECES = (
    *"{}()[]'\"`/*#\n\\$;:=.,? ",
    "->getCollection()",
    "->getData()",
    "$orders",
    " = $this->orderCollectionFactory->create()",
    "addAttributeToSelect('*')",
    "SELECT * FROM x",
    "file_get_contents('var/log/a.log')",
    "->getList($c)",
    "searchCriteriaBuilder->create(",
    "'https://api.openai.com/v1'",
    "function f() ",
    "class C ",
)
_ALPHABET = st.sampled_from(_PIECES)


@settings(max_examples=150, deadline=None)
@given(
    text=st.lists(_ALPHABET, max_size=60).map("".join),
    rel=st.sampled_from([PHP, "web/x.js", "web/x.ts"]),
)
def test_bulk_analyser_never_raises(text: str, rel: str) -> None:
    for hit in bulk_hits(rel, text):
        assert hit.data_categories[0] is DataCategory.BULK_EXPORT
