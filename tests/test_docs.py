"""The configuration examples in docs/ work as documented (a copied example never fails)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from egressguard.catalog import load_catalog
from egressguard.config import settings_from_mapping
from egressguard.gateway.settings import load_gateway_settings

DOCS = Path(__file__).resolve().parents[1] / "docs"
BASE = """
listen = "127.0.0.1:8787"
state_dir = "./.egressguard"

[[clients]]
id = "magento"
tenant = "shop1"
key_env = "EG_KEY_MAGENTO"

[policy]
default_upstream = "{upstream}"
allowed_regions = ["local", "eu"]
default_action = "tokenize"
"""


def _toml_blocks(name: str) -> list[str]:
    text = (DOCS / name).read_text(encoding="utf-8")
    return re.findall(r"```toml\n(.*?)```", text, flags=re.S)


def test_configuration_md_example_loads_with_its_custom_provider() -> None:
    (example,) = _toml_blocks("configuration.md")[:1]
    settings = settings_from_mapping(tomllib.loads(example), "docs/configuration.md")
    catalog = load_catalog(settings.providers)
    assert "acme-llm" in {p.id for p in catalog.providers}


@pytest.mark.parametrize("index", range(4))
def test_local_model_md_configs_load(tmp_path: Path, index: int) -> None:
    """The full config and the Ollama / vLLM / llama.cpp upstreams of docs/local-model.md."""
    blocks = _toml_blocks("local-model.md")
    assert len(blocks) == 4
    block = blocks[index]
    if "[policy]" not in block:  # an upstream snippet: put it in the minimal config
        upstream = re.search(r'id = "([^"]+)"', block)
        assert upstream is not None
        block = BASE.format(upstream=upstream.group(1)) + block
        block = block.replace('fallback = ["local-llm"]', "fallback = []")
    ca = tmp_path / "internal-ca.pem"  # the documented CA bundle's path, here
    ca.write_text("-----BEGIN CERTIFICATE-----\n", encoding="utf-8")
    block = block.replace("/etc/egressguard/internal-ca.pem", str(ca))
    config = tmp_path / "gateway.toml"
    config.write_text(block, encoding="utf-8")
    environ = {
        "EG_KEY_MAGENTO": "k" * 32,
        "EG_VLLM_KEY": "v" * 32,
        "EG_LLAMACPP_KEY": "l" * 32,
    }
    settings = load_gateway_settings(config, environ, serving=False)
    assert all(u.region == "local" for u in settings.upstreams)
