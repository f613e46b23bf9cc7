"""Canary personas: synthetic shoppers whose every value is unique and unmistakable.

The crawler types a persona into the shop (checkout form, chat widget); `CanaryMatcher` then
finds those values in what left the browser, raw or encoded. Every value carries a
random token, so finding it anywhere is proof that the typed data flowed there:

    first_name     Egcan<6 letters>            (letters only: name fields reject digits)
    last_name      Canary<6 letters>
    email          eg-<10 chars>@canary.invalid (RFC 2606 `.invalid`: can never be delivered)
    phone          +44 7700 900<3 digits>       (Ofcom's range reserved for drama: never assigned)
    street         <n> Egstreet<6 letters> Road
    city           Egcity<6 letters>
    chat_sentence  "... my canary code is EGC-<10 chars> ..."

The postcode and country are ordinary (forms validate them) and are not canaries.

Matching: every value is expanded once into its encoded variants (URL with %20 or +, JSON
string escapes, HTML entities, base64 standard and URL-safe at the three byte alignments a
value can have inside a longer encoded string, and MD5/SHA-1/SHA-256 hex of the normalised
value, as ad and analytics pixels send e-mail and phone). All variants go into two
Aho-Corasick automata (caseless over a lower-cased copy, case-sensitive for base64), so one
pass over a body finds every variant of every value. Most bodies hold no canary: a Hyperscan
pass over the same literals (SIMD, stops at the first hit) decides first whether the
automata need to run at all. Nothing here performs I/O.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import random
import secrets
import string
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import quote, quote_plus

import ahocorasick
import hyperscan

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


class Encoding(StrEnum):
    """How a canary value was written where it was found."""

    RAW = "raw"
    URL = "url-encoded"
    FORM = "form-encoded"  # application/x-www-form-urlencoded: spaces as '+'
    JSON = "json-escaped"
    HTML = "html-entities"
    BASE64 = "base64"
    BASE64URL = "base64url"
    MD5 = "md5"
    SHA1 = "sha1"
    SHA256 = "sha256"


_CASE_SENSITIVE = frozenset({Encoding.BASE64, Encoding.BASE64URL})
_MIN_NEEDLE = 6  # shorter variants would match by chance
# Fields whose value is a canary; the postcode and the country are ordinary values.
CANARY_FIELDS = (
    "first_name",
    "last_name",
    "full_name",
    "email",
    "phone",
    "street",
    "city",
    "chat_sentence",
)


@dataclass(frozen=True, slots=True)
class CanaryHit:
    """`field` of the persona, written as `encoding`, at `text[start:end]`."""

    field: str
    encoding: Encoding
    start: int
    end: int


def _phone_forms(phone: str) -> list[str]:
    digits = "".join(c for c in phone if c.isdigit())
    forms = [phone, digits]
    if phone.strip().startswith("+"):
        forms.append("+" + digits)
        if digits.startswith("44"):
            forms.append("0" + digits[2:])
    return forms


def _plain_forms(name: str, value: str) -> list[str]:
    """The value as typed plus the forms a page may rewrite it into before sending."""
    if name == "phone":
        return _phone_forms(value)
    forms = [value]
    if name == "street":
        forms += [w for w in value.split() if w.startswith("Egstreet")]
    if name == "chat_sentence":
        forms += [w.rstrip(".,;:!?") for w in value.split() if w.startswith("EGC-")]
    return forms


def _text_variants(value: str) -> Iterator[tuple[Encoding, str]]:
    yield Encoding.RAW, value
    for safe in ("", "!~*'()@:/,;?=&$"):
        yield Encoding.URL, quote(value, safe=safe)
        yield Encoding.FORM, quote_plus(value, safe=safe)
    for ascii_only in (True, False):
        escaped = json.dumps(value, ensure_ascii=ascii_only)[1:-1]
        yield Encoding.JSON, escaped
        yield Encoding.JSON, escaped.replace("/", "\\/")  # PHP's json_encode
    yield Encoding.HTML, html.escape(value, quote=True)
    yield Encoding.HTML, html.escape(value, quote=True).replace("&#x27;", "&#39;")
    yield Encoding.HTML, html.escape(value, quote=False)


def base64_fragments(data: bytes) -> list[str]:
    """The base64 text of `data` wherever it starts inside a longer encoded byte string.

    Base64 maps 3 bytes to 4 characters, so the characters that depend only on `data` differ
    with `data`'s offset modulo 3. For each offset, the output characters whose 6 bits lie
    entirely inside `data` are kept.
    """
    out = []
    for k in range(3):
        encoded = base64.b64encode(b"\0" * k + data).decode("ascii")
        first = -(-8 * k // 6)  # ceil: the first character without filler bits
        last = 8 * (k + len(data)) // 6  # floor: characters that end inside `data`
        out.append(encoded[first:last])
    return out


def _base64_variants(value: str) -> Iterator[tuple[Encoding, str]]:
    for fragment in base64_fragments(value.encode("utf-8")):
        yield Encoding.BASE64, fragment
        yield Encoding.BASE64URL, fragment.replace("+", "-").replace("/", "_")


def _hash_variants(forms: list[str]) -> Iterator[tuple[Encoding, str]]:
    for form in forms:
        normalised = form.strip().lower().encode("utf-8")
        yield Encoding.MD5, hashlib.md5(normalised).hexdigest()
        yield Encoding.SHA1, hashlib.sha1(normalised).hexdigest()
        yield Encoding.SHA256, hashlib.sha256(normalised).hexdigest()


def canary_values(persona: Persona) -> dict[str, str]:
    """The persona's canary fields (not the ordinary postcode and country)."""
    values = persona.fields()
    return {name: values[name] for name in CANARY_FIELDS if values.get(name)}


class CanaryMatcher:
    """Finds any value of one persona, raw or encoded, in text or bytes. Immutable."""

    def __init__(self, persona: Persona) -> None:
        self.persona = persona
        caseless: dict[str, tuple[str, Encoding]] = {}
        exact: dict[str, tuple[str, Encoding]] = {}
        for name, value in canary_values(persona).items():
            forms = _plain_forms(name, value)
            for form in forms:
                for encoding, needle in [*_text_variants(form), *_base64_variants(form)]:
                    table = exact if encoding in _CASE_SENSITIVE else caseless
                    key = needle if encoding in _CASE_SENSITIVE else needle.lower()
                    if len(key) >= _MIN_NEEDLE:
                        table.setdefault(key, (name, encoding))
            if name in ("email", "phone"):
                for encoding, digest in _hash_variants(forms):
                    caseless.setdefault(digest, (name, encoding))
        self._caseless = _automaton(caseless)
        self._exact = _automaton(exact)
        self._gate = _Gate(list(caseless), list(exact))

    def find(self, data: str | bytes) -> list[CanaryHit]:
        """Every canary occurrence, outermost only (a value inside a longer one is dropped)."""
        if not data or not self._gate.may_match(data):
            return []
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
        hits = [*_scan(self._caseless, _lower_same_length(text)), *_scan(self._exact, text)]
        return _outermost(hits)

    def fields_in(self, data: str | bytes) -> set[str]:
        return {hit.field for hit in self.find(data)}


class _Gate:
    """Whether any needle occurs at all: one Hyperscan pass that stops at the first hit.

    Hyperscan's caseless flag folds ASCII only, so with a non-ASCII caseless needle (a persona
    file with accented names) the gate is off and the automata always run.
    """

    def __init__(self, caseless: list[str], exact: list[str]) -> None:
        self._db: hyperscan.Database | None = None
        if not all(n.isascii() for n in caseless) or not (caseless or exact):
            return
        single = hyperscan.HS_FLAG_SINGLEMATCH
        expressions = [_literal(n) for n in [*caseless, *exact]]
        flags = [single | hyperscan.HS_FLAG_CASELESS] * len(caseless) + [single] * len(exact)
        self._db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        self._db.compile(
            expressions=expressions,
            ids=list(range(len(expressions))),
            elements=len(expressions),
            flags=flags,
        )
        self._scratch = threading.local()

    def may_match(self, data: str | bytes) -> bool:
        if self._db is None:
            return True
        raw = data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass")
        scratch = getattr(self._scratch, "value", None)
        if scratch is None:
            scratch = self._scratch.value = hyperscan.Scratch(self._db)
        try:
            self._db.scan(raw, match_event_handler=_stop, scratch=scratch)
        except hyperscan.ScanTerminated:
            return True
        return False


def _stop(pattern_id: int, start: int, end: int, flags: int, context: object) -> bool:
    return True  # the first hit is enough: terminate the scan


def _literal(text: str) -> bytes:
    return b"".join(b"\\x%02x" % byte for byte in text.encode("utf-8"))


def _automaton(needles: dict[str, tuple[str, Encoding]]) -> ahocorasick.Automaton | None:
    if not needles:
        return None
    automaton = ahocorasick.Automaton()
    for needle, (name, encoding) in needles.items():
        automaton.add_word(needle, (len(needle), name, encoding))
    automaton.make_automaton()
    return automaton


def _scan(automaton: ahocorasick.Automaton | None, text: str) -> Iterator[CanaryHit]:
    if automaton is None:
        return
    for end, (length, name, encoding) in automaton.iter(text):
        yield CanaryHit(name, encoding, end + 1 - length, end + 1)


def _lower_same_length(text: str) -> str:
    lower = text.lower()
    if len(lower) == len(text):
        return lower
    return "".join(low if len(low := ch.lower()) == 1 else ch for ch in text)


def _outermost(hits: list[CanaryHit]) -> list[CanaryHit]:
    hits.sort(key=lambda h: (h.start, -h.end))
    kept: list[CanaryHit] = []
    reach = -1
    for hit in hits:
        if hit.end <= reach:
            continue  # inside an earlier, longer hit
        kept.append(hit)
        reach = hit.end
    return kept
