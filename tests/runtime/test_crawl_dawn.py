"""The packaged Dawn journey on a Shopify Dawn-like demo storefront (real Chromium).

The Luma journey is exercised by test_crawl_cli.py; this checks that the Dawn defaults (search
modal, collection cards, variant radios, `button[name=add]`, the one-page checkout's field
names) walk a Dawn-like shop end to end, up to and never past "Pay now".
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from egressguard.runtime.canary import make_persona
from egressguard.runtime.crawl.journey import Theme, packaged_journey
from egressguard.runtime.crawl.session import run_crawl
from egressguard.runtime.crawl.settings import BrowserOptions, Budgets, CrawlPlan
from egressguard.runtime.traffic import Traffic
from tests.runtime.storefront.server import Storefront, storefront

pytestmark = pytest.mark.browser

PERSONA = make_persona("test-crawl-dawn")


@dataclass
class Crawled:
    store: Storefront
    traffic: Traffic


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crawled]:
    with storefront(tmp_path_factory.mktemp("dawn"), theme="dawn") as store:
        plan = CrawlPlan(
            url=store.shop_url + "/",
            journey=packaged_journey(Theme.DAWN),
            persona=PERSONA,
            browser=BrowserOptions(
                host_resolver_rules=store.resolver_rules, ignore_certificate_errors=True
            ),
            budgets=Budgets(step_timeout=8.0, total_timeout=120.0),
        )
        yield Crawled(store, run_crawl(plan))


def test_every_dawn_step_works_on_a_dawn_like_shop(crawled: Crawled) -> None:
    failed = {s.name: s.error for s in crawled.traffic.steps if not s.ok}
    assert failed == {}
    shop = crawled.store.shop_url
    assert crawled.traffic.pages == (
        f"{shop}/",
        f"{shop}/search?q=jacket",
        f"{shop}/collections/all",
        f"{shop}/products/hiking-jacket",
        f"{shop}/checkout",
    )


def test_dawn_journey_adds_the_chosen_variant_and_stops_before_paying(crawled: Crawled) -> None:
    (add,) = [r for r in crawled.store.received if r.path == "/cart/add.js"]
    assert json.loads(add.body)["items"][0]["properties"] == {"Size": "L"}
    assert not [r for r in crawled.store.received if "payment" in r.path]


def test_dawn_journey_types_the_persona_into_chat_and_checkout(crawled: Crawled) -> None:
    (ai,) = [r for r in crawled.traffic.requests if r.url.startswith("https://api.openai.com/")]
    body = json.loads(ai.request_body)
    assert (body["user"], body["messages"][0]["content"]) == (PERSONA.email, PERSONA.chat_sentence)
    session = {e.key: e.value for e in crawled.traffic.storage if e.area == "sessionStorage"}
    assert json.loads(session["checkout-contact"]) == {
        "email": PERSONA.email,
        "phone": PERSONA.phone,
    }
    checkout = [s for s in crawled.traffic.scripts if s.page_url.endswith("/checkout")]
    assert ("https://cdn.thirdparty.example/widget.js", None) in {
        (s.src, s.integrity) for s in checkout
    }
