"""`egressguard crawl` end to end: real Chromium, the demo storefront, the packaged Luma
journey, findings in every report format, and nothing protected leaking into them.

The HAR, persona.json and screenshots in the evidence directory are raw evidence by design
(docs/crawl.md); every other output must hold neither a canary value nor the full key.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from egressguard.cli.main import run
from egressguard.runtime.canary import chat_nonce, persona_from_mapping
from tests.runtime.storefront.server import Storefront, storefront

FORMATS = {
    "json": "report.json",
    "sarif": "report.sarif",
    "html": "report.html",
    "markdown": "report.md",
}


@dataclass
class Run:
    store: Storefront
    code: int
    stdout: str
    stderr: str
    out: Path
    evidence: Path

    def report(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.out / "report.json").read_text())
        return data

    def findings(self, rule: str) -> list[dict[str, Any]]:
        return [f for f in self.report()["findings"] if f["rule"] == rule]


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    tmp = tmp_path_factory.mktemp("cli")
    out, evidence = tmp / "out", tmp / "evidence"
    with storefront(tmp) as store:
        argv = ["crawl", store.shop_url + "/", "--theme", "luma", "--evidence-dir", str(evidence)]
        argv += ["--host-resolver-rules", store.resolver_rules, "--ignore-certificate-errors"]
        argv += ["--step-timeout", "8", "--format", "terminal"]
        for fmt, name in FORMATS.items():
            argv += ["--format", fmt, "--output", str(out / name)]
        stdout, stderr = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            code = run(argv)
        yield Run(store, code, stdout.getvalue(), stderr.getvalue(), out, evidence)


@pytest.mark.browser
def test_crawl_reports_the_planted_flows(crawled: Run) -> None:
    assert crawled.code == 1, crawled.stderr  # findings at or above --fail-on high
    product = f"{crawled.store.shop_url}/hiking-jacket.html"
    (endpoint,) = crawled.findings("ai-endpoint")
    assert (endpoint["host"], endpoint["provider"], endpoint["file"]) == (
        "api.openai.com",
        "openai",
        product,
    )
    to_ai = crawled.findings("personal-data-to-ai-observed")
    assert to_ai
    assert {f["host"] for f in to_ai} == {"api.openai.com"}
    (key,) = crawled.findings("ai-key-in-browser-traffic")
    assert key["file"] == product
    assert "sk-proj-" in key["evidence"]  # shown masked: the prefix, never the whole key
    unverified = {f["host"] for f in crawled.findings("payment-page-script-unverified")}
    assert "cdn.thirdparty.example" in unverified
    assert "cdn.libs.example" not in unverified  # its SRI hash matches what was served
    third = {f["host"] for f in crawled.findings("personal-data-to-third-party-observed")}
    assert {"chat.widgetvendor.example", "analytics.tracker.example"} <= third


@pytest.mark.browser
def test_progress_is_printed_per_step(crawled: Run) -> None:
    assert "egressguard: [1/23] home: ok" in crawled.stderr
    assert "egressguard: [23/23] to-payment: ok" in crawled.stderr
    assert "FAILED" not in crawled.stderr  # the Luma journey fits the demo storefront
    assert f"evidence in {crawled.evidence}" in crawled.stderr


@pytest.mark.browser
def test_no_output_but_the_raw_evidence_holds_a_canary_or_the_key(crawled: Run) -> None:
    persona = persona_from_mapping(json.loads((crawled.evidence / "persona.json").read_text()))
    secrets = [
        crawled.store.openai_key,
        crawled.store.openai_key[8:40],
        persona.email,
        quote(persona.email),
        hashlib.sha256(persona.email.encode()).hexdigest(),
        persona.phone,
        persona.street,
        persona.first_name,
        persona.last_name,
        persona.city,
        chat_nonce(persona),
    ]
    outputs = {name: (crawled.out / name).read_text() for name in FORMATS.values()}
    outputs["stdout"], outputs["stderr"] = crawled.stdout, crawled.stderr
    outputs["manifest.json"] = (crawled.evidence / "manifest.json").read_text()
    for name, text in outputs.items():
        for secret in secrets:
            assert secret not in text, (name, secret[:6])
    # ...while the raw evidence does hold them (so the check above could fail)
    har = (crawled.evidence / "crawl.har").read_text()
    assert crawled.store.openai_key in har
    assert persona.email in har


def _cli(argv: list[str]) -> tuple[int, str]:
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        code = run(argv)
    return code, stderr.getvalue()


def test_a_missing_chromium_is_one_clear_error(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    code, stderr = _cli(
        [
            "crawl",
            "http://127.0.0.1:9/",
            "--chromium",
            str(tmp_path / "nope"),
            "--evidence-dir",
            str(evidence),
        ]
    )
    assert code == 2
    assert stderr.startswith("egressguard: error: Chromium not found")
    assert not evidence.exists()  # nothing written before the browser is known


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["ftp://shop.example/"], "is not an http(s) URL"),
        (
            ["http://127.0.0.1:9/", "--journey", "/no/such/journey.toml"],
            "journey /no/such/journey.toml",
        ),
        (["http://127.0.0.1:9/", "--theme", "magento1"], "invalid choice"),
        (["http://127.0.0.1:9/", "--max-pages", "0"], "--max-pages must be a positive number"),
        (["http://127.0.0.1:9/", "--persona-file", "/no/persona.json"], "--persona-file"),
    ],
)
def test_bad_command_lines_exit_2(extra: list[str], message: str) -> None:
    code, stderr = _cli(["crawl", *extra])
    assert code == 2
    assert message in stderr
