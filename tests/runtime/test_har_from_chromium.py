"""A HAR that real Chromium wrote (Playwright's recorder, in the crawl's evidence) is read by
`load_har`, and its analysis finds the flows the live capture's analysis finds.

Uses the demo storefront of the crawl tests (loopback only; see test_crawl_capture.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from egressguard.model import ScanResult
from egressguard.runtime.analyse import analyse_traffic
from egressguard.runtime.canary import make_persona
from egressguard.runtime.crawl.journey import load_journey
from egressguard.runtime.crawl.session import run_crawl
from egressguard.runtime.crawl.settings import BrowserOptions, Budgets, CrawlPlan
from egressguard.runtime.har import load_har
from tests.runtime.storefront.server import storefront

pytestmark = pytest.mark.browser

JOURNEY = Path(__file__).parent / "storefront" / "journey.toml"
PERSONA = make_persona("test-har-from-chromium")


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> tuple[ScanResult, ScanResult]:
    tmp = tmp_path_factory.mktemp("crawl")
    with storefront(tmp) as store:
        plan = CrawlPlan(
            url=store.shop_url + "/",
            journey=load_journey(JOURNEY),
            persona=PERSONA,
            evidence_dir=tmp / "evidence",
            browser=BrowserOptions(
                host_resolver_rules=store.resolver_rules, ignore_certificate_errors=True
            ),
            budgets=Budgets(step_timeout=8.0, total_timeout=90.0),
        )
        live = run_crawl(plan, lambda *_: None)
    har = sorted((tmp / "evidence").rglob("*.har"))
    assert har, "the crawl wrote no HAR"
    traffic = load_har(har[0])
    assert traffic.requests and not [s for s in traffic.skipped if "not an object" in s.detail]
    return analyse_traffic(live), analyse_traffic(traffic, persona=PERSONA)


def _flows(result: ScanResult) -> set[tuple[str, str | None]]:
    wanted = {
        "personal-data-to-ai-observed",
        "personal-data-to-third-party-observed",
        "ai-endpoint",
        "ai-transfer-third-country",
        "ai-key-in-browser-traffic",
    }
    return {(f.rule, f.host) for f in result.findings if f.rule in wanted}


def test_the_har_shows_the_request_flows_of_the_live_capture(
    both: tuple[ScanResult, ScanResult],
) -> None:
    live, from_har = both
    assert _flows(live)
    assert _flows(from_har) == _flows(live)


def test_the_har_shows_payment_page_scripts(both: tuple[ScanResult, ScanResult]) -> None:
    live, from_har = both
    scripts = {"payment-page-script-inventory", "payment-page-script-unverified"}
    assert any(f.rule == "payment-page-script-inventory" for f in from_har.findings)
    assert {(f.rule, f.evidence) for f in from_har.findings if f.rule in scripts} == {
        (f.rule, f.evidence) for f in live.findings if f.rule in scripts
    }
