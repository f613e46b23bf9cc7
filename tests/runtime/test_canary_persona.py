from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from egressguard.errors import ConfigError
from egressguard.runtime.canary import (
    chat_nonce,
    make_persona,
    persona_from_mapping,
    persona_to_mapping,
)
from egressguard.runtime.traffic import Persona


def test_same_seed_same_persona_and_different_seeds_differ() -> None:
    assert make_persona("a") == make_persona("a")
    a, b = make_persona("a"), make_persona("b")
    for name in ("first_name", "last_name", "email", "street", "city", "chat_sentence"):
        assert getattr(a, name) != getattr(b, name), name


def test_unseeded_personas_are_unique() -> None:
    emails = {make_persona().email for _ in range(50)}
    assert len(emails) == 50


def test_values_are_unmistakable_and_form_friendly() -> None:
    p = make_persona("x")
    assert re.fullmatch(r"eg-[a-z0-9]{10}@canary\.invalid", p.email)
    assert re.fullmatch(r"\+44 7700 900\d{3}", p.phone)  # Ofcom drama range
    assert p.first_name.isalpha() and p.last_name.isalpha()
    assert re.fullmatch(r"EGC-[A-Z0-9]{10}", chat_nonce(p))
    assert chat_nonce(p) in p.chat_sentence


def test_mapping_round_trip_and_validation() -> None:
    p = make_persona("y")
    assert persona_from_mapping(persona_to_mapping(p)) == p
    data = persona_to_mapping(p)
    del data["email"]
    with pytest.raises(ConfigError, match="email"):
        persona_from_mapping(data)
    with pytest.raises(ConfigError, match="phone"):
        persona_from_mapping({**persona_to_mapping(p), "phone": 5})


def persona_from_file(path: Path) -> Persona:
    """The persona of a fixture file (used by the HAR tests)."""
    return persona_from_mapping(json.loads(path.read_text(encoding="utf-8")))
