"""The sovereign path for real: the bundled model (llama-cpp-python) behind the real gateway.

Both run as their own processes on loopback, as a user starts them (`egressguard local-model
serve --record`, `egressguard gateway`). What the model received is read from the model server's
own record, so "no detected value reached the model" is checked where the model is, not
where the gateway says it sent. A few short, greedy generations only (the model runs on the
CPU). Needs the `local` extra, which `make test` installs.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from egressguard.cli.gateway_cmd import TOKEN_KEY_FILE
from egressguard.gateway.vault_keys import write_key_file
from egressguard.local_model.recorder import answer_text, read_exchanges
from tests.gateway.processes import free_port, start, stop

KEY = "key-e2e-local-0123456789abcdef"
TOKEN_SECRET = bytes(range(32))
TOKEN = re.compile(r"\[[A-Z_]+_[0-9a-f]{4,}\]")

NAME = "Katarzyna Nowak"
EMAIL = "katarzyna.nowak@example-b2b.pl"
PHONE = "+48 601 234 567"
CARD = "4111 1111 1111 1111"
STREET = "ul. Długa 12"
SUPPLIER = "Nordwerk Industrial GmbH"
CODENAME = "Project Lynx"
DETECTED = (NAME, EMAIL, PHONE, CARD, STREET, SUPPLIER, CODENAME)


@pytest.fixture(scope="module")
def model_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """`egressguard local-model serve` with the bundled model; (base URL, its record file)."""
    tmp = tmp_path_factory.mktemp("local-model")
    record = tmp / "received.jsonl"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    log = (tmp / "serve.log").open("wb")
    args = ["local-model", "serve", "--port", str(port), "--record", str(record)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "egressguard", *args, "--models-dir", str(tmp / "models")],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 180
    try:
        while True:
            assert proc.poll() is None, (tmp / "serve.log").read_text(errors="replace")
            try:
                if httpx.get(f"{base}/models", trust_env=False).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the local model did not come up in 180 s"
            time.sleep(0.25)
        notice = (tmp / "serve.log").read_text(errors="replace")
        assert "Gemma Terms of Use" in notice  # the licence is shown on first use
        yield base, record
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


@pytest.fixture(scope="module")
def gateway(
    model_server: tuple[str, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    """The real gateway in front of the model, with a supplier dictionary; (URL, config)."""
    base, _ = model_server
    tmp = tmp_path_factory.mktemp("gateway")
    (tmp / "suppliers.csv").write_text(
        f"supplier,codename\n{SUPPLIER},{CODENAME}\n", encoding="utf-8"
    )
    # A pinned token secret, so the tokens (and the model's greedy answers) are the same in every
    # run: the bundled base model copies most tokens exactly but garbles some hex runs (e.g.
    # `[EMAIL_011b19]` comes back as `[EMAIL_011b20]`), and with a fresh secret per run the test
    # failed whenever the e-mail's token happened to be one of those.
    write_key_file(tmp / "state" / TOKEN_KEY_FILE, [TOKEN_SECRET])
    config = tmp / "gateway.toml"
    config.write_text(
        f"""
listen = "127.0.0.1:{free_port()}"
state_dir = "./state"

[[clients]]
id = "magento"
tenant = "shop1"
key_env = "EG_KEY_MAGENTO"

[[upstreams]]
id = "local-llm"
base_url = "{base}"
region = "local"
timeout_s = 120

[policy]
default_upstream = "local-llm"
allowed_regions = ["local"]
default_action = "tokenize"

[[dictionaries]]
path = "suppliers.csv"
category = "proprietary"
""",
        encoding="utf-8",
    )
    os.environ["EG_KEY_MAGENTO"] = KEY  # the gateway process reads the client key from it
    proc = start(config, timeout_s=120)
    try:
        found = re.search(r'listen = "([^"]+)"', config.read_text(encoding="utf-8"))
        assert found is not None
        yield f"http://{found.group(1)}", config
    finally:
        stop(proc)
        os.environ.pop("EG_KEY_MAGENTO", None)


def _chat(url: str, content: str, *, stream: bool = False, max_tokens: int = 24) -> str:
    body = {
        "model": "gemma-3-270m",
        "messages": [{"role": "user", "content": content}],
        "max_tokens": max_tokens,
        "temperature": 0,
        "stream": stream,
    }
    headers = {"Authorization": f"Bearer {KEY}"}
    r = httpx.post(
        f"{url}/v1/chat/completions", json=body, headers=headers, timeout=300, trust_env=False
    )
    assert r.status_code == 200, r.text
    return answer_text(r.text if stream else r.json())


def _model_saw(record: Path, since: int) -> list[dict[str, Any]]:
    return [e for e in read_exchanges(record)[since:] if e["path"].endswith("/chat/completions")]


ORDER = (
    f"Order #000004711 placed by {NAME} ({EMAIL}, {PHONE}). Ship to: {STREET}, 00-238 Warszawa. "
    f"Paid with card {CARD}. Product from {SUPPLIER} for {CODENAME}."
)


def test_no_detected_value_reaches_the_model(
    gateway: tuple[str, Path], model_server: tuple[str, Path]
) -> None:
    url, _ = gateway
    _, record = model_server
    since = len(read_exchanges(record))
    _chat(url, f"Summarise this order in one sentence.\n\n{ORDER}", max_tokens=16)
    (seen,) = _model_saw(record, since)
    received = json.dumps(seen["request"], ensure_ascii=False)
    for value in DETECTED:
        assert value not in received
    assert "4111" not in received
    categories = {t.split("_")[0].strip("[") for t in TOKEN.findall(received)}
    assert {"PERSON", "EMAIL", "PHONE", "CARD", "ADDRESS", "PROPRIETARY"} <= categories


ECHO = "Repeat the text after the colon exactly, once, and nothing else: {value}"


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_tokens_the_model_echoes_come_back_restored(
    gateway: tuple[str, Path], model_server: tuple[str, Path], stream: bool
) -> None:
    url, _ = gateway
    _, record = model_server
    since = len(read_exchanges(record))
    answer = _chat(url, ECHO.format(value=EMAIL), stream=stream)
    (seen,) = _model_saw(record, since)
    sent = TOKEN.findall(json.dumps(seen["request"], ensure_ascii=False))
    assert EMAIL not in json.dumps(seen["request"], ensure_ascii=False)
    assert len(set(sent)) == 1, sent
    said = answer_text(seen["response"])
    assert sent[0] in said, f"the model did not copy the token {sent[0]} exactly: {said!r}"
    assert EMAIL in answer  # the shop gets its value back, in place of the token
    # everything else the model said comes back as it was (a garbled token stays as it is)
    assert answer == said.replace(sent[0], EMAIL)


def test_the_audit_trail_of_these_exchanges_verifies(gateway: tuple[str, Path]) -> None:
    url, config = gateway
    _chat(url, f"Thank {NAME} for the order.", max_tokens=8)
    done = subprocess.run(
        [sys.executable, "-m", "egressguard", "audit-log", "verify", "--config", str(config)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "audit log ok" in done.stderr
