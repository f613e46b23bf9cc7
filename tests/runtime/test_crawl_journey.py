"""Journeys as data, the never-pay guard, and the crawl's pure helpers (no browser)."""

from __future__ import annotations

from pathlib import Path

import pytest

from egressguard.errors import ConfigError, CrawlError
from egressguard.runtime.canary import make_persona
from egressguard.runtime.crawl.actions import PAYMENT_BUTTON
from egressguard.runtime.crawl.browser import find_chromium, launch_args
from egressguard.runtime.crawl.evidence import EvidenceDir
from egressguard.runtime.crawl.journey import (
    Action,
    LoadState,
    Theme,
    load_journey,
    packaged_journey,
    parse_journey,
    step_value,
)
from egressguard.runtime.crawl.session import check_url, origin_of, scrub
from egressguard.runtime.crawl.settings import BrowserOptions

GOOD = """
name = "mini"
[[step]]
name = "home"
action = "goto"
url = "/"
wait = { load = "networkidle", quiet = 2000, ms = 100 }
[[step]]
name = "email"
action = "fill"
frame = "iframe#checkout"
selectors = ["#email", "input[type=email]"]
value = "{email}"
timeout = 3
"""


def test_a_journey_file_parses_into_steps() -> None:
    journey = parse_journey(GOOD, "mini.toml")
    assert journey.name == "mini"
    home, email = journey.steps
    assert (home.action, home.url, home.wait.load, home.wait.quiet, home.wait.ms) == (
        Action.GOTO,
        "/",
        LoadState.NETWORKIDLE,
        2000,
        100,
    )
    assert (email.selectors, email.frame, email.timeout) == (
        ("#email", "input[type=email]"),
        "iframe#checkout",
        3.0,
    )
    assert home.frame == ""
    persona = make_persona("journey")
    assert step_value(email, persona) == persona.email


@pytest.mark.parametrize("theme", list(Theme))
def test_packaged_journeys_cover_the_shopper_path(theme: Theme) -> None:
    names = {s.name for s in packaged_journey(theme).steps}
    assert {"home", "search", "category", "product", "add-to-cart", "chat-question"} <= names
    assert {"checkout", "checkout-email", "checkout-street", "checkout-phone"} <= names
    # up to payment, never past it: no packaged step clicks an order/payment button
    for step in packaged_journey(theme).steps:
        assert not any(PAYMENT_BUTTON.search(s) for s in step.selectors), step.name


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "no [[step]] entries"),
        ('[[step]]\nname = "a"\naction = "fly"', "step 1 (a): action must be one of"),
        ('[[step]]\nname = "a"\naction = "click"', "step 1 (a): click needs selectors"),
        ('[[step]]\nname = "a"\naction = "goto"', "goto needs a url"),
        ('[[step]]\nname = "a"\naction = "fill"\nselectors = ["#x"]', "fill needs a value"),
        (
            '[[step]]\nname = "a"\naction = "fill"\nselectors = ["#x"]\nvalue = "{iban}"',
            "unknown placeholder(s) ['iban']",
        ),
        ('[[step]]\nname = "a"\naction = "wait"\nwiat = {}', "unknown key(s) wiat"),
        ('[[step]]\nname = "a"\naction = "wait"\nwait = { ms = -1 }', "wait.ms must be"),
        ('[[step]]\nname = "a"\naction = "wait"\nwait = { quiet = 1.5 }', "wait.quiet must be"),
        ('[[step]]\nname = "a"\naction = "wait"\nwait = { load = "idle" }', "wait.load must be"),
        ('[[step]]\nname = "a"\naction = "wait"\ntimeout = 0', "timeout must be"),
        (
            '[[step]]\nname = "a"\naction = "wait"\n[[step]]\nname = "a"\naction = "wait"',
            "duplicate",
        ),
        ("[[step]]\naction = 'wait'", "step 1: name must be a non-empty string"),
        ("name = [", "j.toml"),
    ],
)
def test_a_bad_journey_is_one_error_naming_the_file_and_step(body: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_journey(body, "j.toml")
    assert message in str(caught.value)
    assert str(caught.value).startswith("journey j.toml")


def test_a_missing_journey_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no-such\.toml"):
        load_journey(tmp_path / "no-such.toml")


@pytest.mark.parametrize(
    ("label", "refused"),
    [
        ("Place Order", True),
        ("place my order", True),
        ("Pay now", True),
        ("Complete order", True),
        ("Confirm and pay", True),
        ("Buy now", True),
        ("Jetzt kaufen", True),
        ("Zahlungspflichtig bestellen", True),
        ("Passer la commande", True),
        ("Next", False),
        ("Continue to shipping", False),
        ("Proceed to Checkout", False),
        ("Add to Cart", False),
        ("PayPal", False),
        ("Open chat", False),
    ],
)
def test_the_never_pay_guard(label: str, refused: bool) -> None:
    assert bool(PAYMENT_BUTTON.search(label)) is refused


def test_step_errors_never_carry_canary_values() -> None:
    persona = make_persona("scrub")
    message = f"Timeout filling {persona.email} and {persona.phone} for {persona.first_name}"
    cleaned = scrub(message, persona)
    assert persona.email not in cleaned
    assert persona.phone not in cleaned
    assert persona.first_name not in cleaned
    assert cleaned.startswith("Timeout filling [canary] and [canary]")


def test_urls() -> None:
    assert origin_of("https://shop.example:8443/de/?x=1") == "https://shop.example:8443"
    check_url("http://127.0.0.1:8080/")
    for bad in ("ftp://shop.example/", "shop.example", "file:///etc/passwd", "https://"):
        with pytest.raises(ConfigError):
            check_url(bad)


def test_browser_flags() -> None:
    plain = launch_args(BrowserOptions())
    assert "--no-sandbox" in plain
    assert "--disable-background-networking" in plain
    assert not [a for a in plain if a.startswith(("--host-resolver-rules", "--ignore-cert"))]
    test = launch_args(
        BrowserOptions(host_resolver_rules="MAP * ~NOTFOUND", ignore_certificate_errors=True)
    )
    assert "--host-resolver-rules=MAP * ~NOTFOUND" in test
    assert "--ignore-certificate-errors" in test


def test_a_missing_chromium_says_how_to_install_it(tmp_path: Path) -> None:
    with pytest.raises(CrawlError, match="not found"):
        find_chromium(str(tmp_path / "no-chromium"))


def test_evidence_of_an_earlier_crawl_is_never_overwritten(tmp_path: Path) -> None:
    (tmp_path / "old.har").write_text("{}")
    with pytest.raises(CrawlError, match="not empty"):
        EvidenceDir.create(tmp_path)
    fresh = EvidenceDir.create(tmp_path / "new")
    assert fresh.screenshot(3, "Chat: type a question!").name == "03-chat-type-a-question.png"
