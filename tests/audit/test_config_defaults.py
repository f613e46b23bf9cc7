"""An AI URL that only a Magento config default names is still an AI call site."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from egressguard.cli.main import run

CONFIG_XML = """<?xml version="1.0"?>
<config><default><acme_ai><api>
  <endpoint>{url}</endpoint><model>gpt-4o</model>
</api></acme_ai></default></config>
"""
PHP = """<?php
namespace Acme\\Ai\\Model;
class Asker
{
    private const XML_ENDPOINT = 'acme_ai/api/endpoint';
    public function ask(string $q): string
    {
        $url = $this->scopeConfig->getValue(self::XML_ENDPOINT) . '/chat/completions';
        $model = $this->scopeConfig->getValue('acme_ai/api/model');
        return (string) $this->client->post($url, ['json' => ['model' => $model]])->getBody();
    }
}
"""


def _sites(tmp_path: Path, url: str, capsys: pytest.CaptureFixture[str]) -> set[tuple[str, int]]:
    module = tmp_path / "app/code/Acme/Ai"
    (module / "etc").mkdir(parents=True)
    (module / "Model").mkdir()
    (module / "etc/config.xml").write_text(CONFIG_XML.format(url=url))
    (module / "Model/Asker.php").write_text(PHP)
    assert run(["audit", str(tmp_path), "--format", "json", "--fail-on", "none"]) == 0
    doc = json.loads(capsys.readouterr().out)
    return {
        (loc["file"], loc["line"])
        for i in doc["integrations"]
        for loc in i["locations"]
        if loc["file"].endswith(".php")
    }


def test_config_default_with_an_ai_url_makes_the_read_a_call_site(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _sites(tmp_path, "https://api.openai.com/v1", capsys) == {
        ("app/code/Acme/Ai/Model/Asker.php", 8)
    }


def test_config_default_without_an_ai_url_is_not(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _sites(tmp_path, "https://erp.example.com/api", capsys) == set()
