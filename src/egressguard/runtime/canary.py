"""Canary personas: synthetic shoppers whose every value is unique and unmistakable.

The crawler types a persona into the shop (checkout form, chat widget); the matcher in
`canary_match.py` then finds those values in what left the browser. Every value carries a
random token, so finding it anywhere is proof that the typed data flowed there:

    first_name     Egcan<6 letters>            (letters only: name fields reject digits)
    last_name      Canary<6 letters>
    email          eg-<10 chars>@canary.invalid (RFC 2606 `.invalid`: can never be delivered)
    phone          +44 7700 900<3 digits>       (Ofcom's range reserved for drama: never assigned)
    street         <n> Egstreet<6 letters> Road
    city           Egcity<6 letters>
    chat_sentence  "... my canary code is EGC-<10 chars> ..."

The postcode and country are ordinary (forms validate them) and are not canaries.
Nothing here performs I/O.
"""

from __future__ import annotations

import hashlib
import random
import secrets
import string
from collections.abc import Mapping

from egressguard.errors import ConfigError
from egressguard.runtime.traffic import Persona

_LOWER = string.ascii_lowercase
_TOKEN = string.ascii_lowercase + string.digits
_NONCE = string.ascii_uppercase + string.digits

PERSONA_FIELDS = (
    "first_name",
    "last_name",
    "email",
    "phone",
    "street",
    "postcode",
    "city",
    "country",
    "chat_sentence",
)


def _rng(seed: str | None) -> random.Random:
    if seed is None:
        return random.Random(secrets.randbits(128))
    return random.Random(int.from_bytes(hashlib.sha256(seed.encode("utf-8")).digest(), "big"))


def _pick(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def chat_nonce(persona: Persona) -> str:
    """The `EGC-...` token of the persona's chat sentence ("" if it has none)."""
    for word in persona.chat_sentence.split():
        if word.startswith("EGC-"):
            return word.rstrip(".,;:!?")
    return ""


def make_persona(seed: str | None = None) -> Persona:
    """A fresh canary persona; the same `seed` always gives the same persona (for tests)."""
    rng = _rng(seed)
    nonce = "EGC-" + _pick(rng, _NONCE, 10)
    return Persona(
        first_name="Egcan" + _pick(rng, _LOWER, 6),
        last_name="Canary" + _pick(rng, _LOWER, 6),
        email=f"eg-{_pick(rng, _TOKEN, 10)}@canary.invalid",
        phone=f"+44 7700 900{rng.randrange(1000):03d}",
        street=f"{rng.randrange(2, 200)} Egstreet{_pick(rng, _LOWER, 6)} Road",
        postcode="SW1A 1AA",
        city="Egcity" + _pick(rng, _LOWER, 6),
        country="GB",
        chat_sentence=(
            f"Hello, my canary code is {nonce}. "
            "Which waterproof jacket would you recommend for hiking?"
        ),
    )


def persona_from_mapping(data: Mapping[str, object]) -> Persona:
    """A persona read from a file (`--persona-file`): every field a non-empty string."""
    missing = [name for name in PERSONA_FIELDS if name not in data]
    if missing:
        raise ConfigError(f"persona: missing field(s) {', '.join(missing)}")
    values: dict[str, str] = {}
    for name in PERSONA_FIELDS:
        value = data[name]
        if not isinstance(value, str) or not value.strip():
            raise ConfigError(f"persona: {name} must be a non-empty string")
        values[name] = value
    return Persona(**values)


def persona_to_mapping(persona: Persona) -> dict[str, str]:
    """The inverse of `persona_from_mapping` (what the crawler writes next to its evidence)."""
    return {name: str(getattr(persona, name)) for name in PERSONA_FIELDS}
