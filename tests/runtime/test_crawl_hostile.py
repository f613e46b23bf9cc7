"""The crawl survives hostile and broken pages, and keeps to its budgets (real Chromium).

Two short crawls against the demo storefront's bad pages: dialogs, a popup, a download, a
page that never finishes loading, a redirect loop, a 404, a crashed tab, a huge page, a bad
certificate, a dead host; then the page and the time budgets. Every step is recorded, the crawl
completes, nothing collected is lost.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from egressguard.runtime.canary import make_persona
from egressguard.runtime.crawl.journey import parse_journey
from egressguard.runtime.crawl.session import run_crawl
from egressguard.runtime.crawl.settings import BrowserOptions, Budgets, CrawlPlan
from egressguard.runtime.traffic import StepOutcome, Traffic
from tests.runtime.storefront.server import Storefront, storefront

pytestmark = pytest.mark.browser

HOSTILE = """
[[step]]
name = "hostile"
action = "goto"
url = "/hostile"
[[step]]
name = "download"
action = "click"
selectors = ["#download"]
[[step]]
name = "never-loads"
action = "goto"
url = "/never-loads"
timeout = 2
[[step]]
name = "redirect-loop"
action = "goto"
url = "/redirect-loop"
[[step]]
name = "not-found"
action = "goto"
url = "/nope"
[[step]]
name = "crash"
action = "goto"
url = "chrome://crash"
[[step]]
name = "after-crash"
action = "click"
selectors = ["#search"]
[[step]]
name = "huge"
action = "goto"
url = "/huge"
[[step]]
name = "home"
action = "goto"
url = "/"
[[step]]
name = "search"
action = "type"
selectors = ["#search"]
value = "jacket"
""" + "".join(
    f'[[step]]\nname = "more-{i}"\naction = "goto"\nurl = "/{("gear", "women")[i % 2]}.html"\n'
    for i in range(8)
)


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again on exit: connections are refused


def _slow(dead: int, tls: int) -> str:
    return f"""
[[step]]
name = "bad-certificate"
action = "goto"
url = "https://127.0.0.1:{tls}/"
[[step]]
name = "dead-host"
action = "goto"
url = "http://127.0.0.1:{dead}/"
[[step]]
name = "dead-click"
action = "click"
selectors = ["#search"]
[[step]]
name = "home"
action = "goto"
url = "/"
""" + "".join(
        f'[[step]]\nname = "pause-{i}"\naction = "wait"\nwait = {{ ms = 2000 }}\n' for i in range(4)
    )


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Storefront]:
    with storefront(tmp_path_factory.mktemp("shop")) as running:
        yield running


def _crawl(
    store: Storefront, journey: str, budgets: Budgets, evidence: Path | None, *, tls_ok: bool = True
) -> Traffic:
    plan = CrawlPlan(
        url=store.shop_url + "/",
        journey=parse_journey(journey, "test.toml"),
        persona=make_persona("hostile"),
        evidence_dir=evidence,
        browser=BrowserOptions(
            host_resolver_rules=store.resolver_rules, ignore_certificate_errors=tls_ok
        ),
        budgets=budgets,
    )
    return run_crawl(plan)


def _steps(traffic: Traffic) -> dict[str, StepOutcome]:
    return {s.name: s for s in traffic.steps}


def test_hostile_pages_are_recorded_and_the_crawl_goes_on(
    store: Storefront, tmp_path: Path
) -> None:
    traffic = _crawl(store, HOSTILE, Budgets(step_timeout=5.0, max_pages=8), tmp_path / "ev")
    steps = _steps(traffic)
    assert len(traffic.steps) == 18
    assert steps["hostile"].ok, steps["hostile"].error  # alert dismissed, popup closed
    assert steps["download"].ok, steps["download"].error  # download cancelled, not saved
    assert not steps["never-loads"].ok
    assert "ERR_TOO_MANY_REDIRECTS" in steps["redirect-loop"].error
    assert "answered HTTP 404" in steps["not-found"].error
    assert not steps["crash"].ok  # the renderer crashed: the next steps get a fresh tab
    assert steps["after-crash"].error.startswith("skipped: no page is loaded")
    # a huge page loads, or (on a busy machine) times out: either way it is a recorded step
    assert steps["huge"].ok or "Timeout" in steps["huge"].error, steps["huge"].error
    (big,) = [r for r in traffic.requests if r.url.endswith("/big.js")]
    assert (big.status, big.response_body) == (200, None)  # over the body budget: not kept
    assert steps["home"].ok, steps["home"].error
    assert steps["search"].ok, steps["search"].error
    # the page budget: the later page loads are skipped, and stay skipped
    budget = [s for s in traffic.steps if "page budget (8 page loads)" in s.error]
    assert budget
    assert traffic.steps[-len(budget) :] == tuple(budget)
    assert f"{store.shop_url}/hostile" in traffic.pages
    assert not list((tmp_path / "ev").glob("*.bin"))
    assert (tmp_path / "ev" / "manifest.json").is_file()


def test_bad_certificate_dead_host_and_the_time_limit(store: Storefront) -> None:
    # four 2 s pauses cannot fit in 6 s: whichever pause reaches the limit is cut short there,
    # and every later step is skipped (how many depends on the machine's speed)
    journey = _slow(_dead_port(), store.internet_port)
    budgets = Budgets(step_timeout=5.0, total_timeout=6.0)
    traffic = _crawl(store, journey, budgets, None, tls_ok=False)
    steps = _steps(traffic)
    assert "ERR_CERT_AUTHORITY_INVALID" in steps["bad-certificate"].error
    assert "ERR_CONNECTION_REFUSED" in steps["dead-host"].error
    assert steps["dead-click"].error == (
        "skipped: no page is loaded (the last navigation failed or the tab crashed)"
    )
    assert steps["home"].ok, steps["home"].error
    assert steps["pause-0"].ok
    limit = [
        s for s in traffic.steps if s.error == "skipped: the crawl's time limit (6 s) was reached"
    ]
    assert steps["pause-3"] in limit
    assert traffic.steps[-len(limit) :] == tuple(limit)
    assert traffic.evidence_files == ()
    assert any(r.url == f"{store.shop_url}/" for r in traffic.requests)  # kept, not lost
