"""Detector behaviour per finder: (text, expected spans) tables, keys, dictionaries, overlaps."""

from __future__ import annotations

import functools
import itertools
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from egressguard.errors import GatewayConfigError
from egressguard.gateway.detect import DictionarySpec, PiiCategory, Span, build_detector
from egressguard.gateway.detect.engine import Detector, lower_same_length, resolve

C = PiiCategory
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "pii"


@functools.cache
def detector() -> Detector:
    return build_detector(
        [
            DictionarySpec(FIXTURES / "customers.csv", C.CUSTOMER, ("name", "email")),
            DictionarySpec(FIXTURES / "proprietary.csv", C.PROPRIETARY),
        ]
    )


def found(text: str, key: str | None = None) -> set[tuple[str, str]]:
    return {(s.category.value, s.value) for s in detector().scan(text, key=key)}


POSITIVE = [
    ("mail me: anna.b+shop@example.co.uk.", C.EMAIL, "anna.b+shop@example.co.uk"),
    ("Tel. 030 23125678", C.PHONE, "030 23125678"),
    ("ruf +49 171 2345678 an", C.PHONE, "+49 171 2345678"),
    ("appelez le 01 42 68 53 00", C.PHONE, "01 42 68 53 00"),
    ("bel 06-12345678", C.PHONE, "06-12345678"),
    ("llame al móvil 612 345 678", C.PHONE, "612 345 678"),
    ("tel. kom. 512 345 678", C.PHONE, "512 345 678"),
    ("cell +39 347 123 4567", C.PHONE, "+39 347 123 4567"),
    ("0049 30 23125678", C.PHONE, "0049 30 23125678"),
    ("(030) 1234567", C.PHONE, "(030) 1234567"),
    ("card 4111 1111 1111 1111 ok", C.CARD, "4111 1111 1111 1111"),
    ("amex 378282246310005", C.CARD, "378282246310005"),
    ("IBAN DE89 3704 0044 0532 0130 00 BIC", C.IBAN, "DE89 3704 0044 0532 0130 00"),
    ("NL91ABNA0417164300", C.IBAN, "NL91ABNA0417164300"),
    ("USt-IdNr. DE195755130", C.VAT_ID, "DE195755130"),
    ("P.IVA IT63726510017", C.VAT_ID, "IT63726510017"),
    ("VAT number DK12345678", C.VAT_ID, "DK12345678"),
    ("Steuer-ID 48701196218", C.NATIONAL_ID, "48701196218"),
    ("BSN 111222333", C.NATIONAL_ID, "111222333"),
    ("PESEL 54032665498", C.NATIONAL_ID, "54032665498"),
    ("NIR 1 98 05 22 764 964 44", C.NATIONAL_ID, "1 98 05 22 764 964 44"),
    ("CF RSSMRA85T10A562S", C.NATIONAL_ID, "RSSMRA85T10A562S"),
    ("DNI 69513989P", C.NATIONAL_ID, "69513989P"),
    ("NIE Z1152313H", C.NATIONAL_ID, "Z1152313H"),
    ("from 203.0.113.42.", C.IP_ADDRESS, "203.0.113.42"),
    ("from 2001:db8::1 today", C.IP_ADDRESS, "2001:db8::1"),
    ("an Hauptstraße 5, 10115 Berlin", C.ADDRESS, "Hauptstraße 5"),
    ("an Hauptstraße 5, 10115 Berlin", C.POSTCODE, "10115"),
    ("12 rue de la Paix, 75002 Paris", C.ADDRESS, "12 rue de la Paix"),
    ("Keizersgracht 123\n1015 CJ Amsterdam", C.POSTCODE, "1015 CJ"),
    ("Via Roma 12, 00184 Roma", C.ADDRESS, "Via Roma 12"),
    ("Calle Mayor, 5, 28013 Madrid", C.ADDRESS, "Calle Mayor, 5"),
    ("ul. Długa 7/3, 00-950 Warszawa", C.POSTCODE, "00-950"),
    ("221B Baker Street, London NW1 6XE", C.POSTCODE, "NW1 6XE"),
    ("Sehr geehrter Herr Müller,", C.PERSON_NAME, "Müller"),
    ("Bonjour Mme Dupont", C.PERSON_NAME, "Dupont"),
    ("Dear John Smith, thanks", C.PERSON_NAME, "John Smith"),
    ("Kunde: Heinz Krause", C.PERSON_NAME, "Heinz Krause"),
    ("Geachte mevrouw Bakker,", C.PERSON_NAME, "Bakker"),
    ("Dhr. Jan de Boer belde", C.PERSON_NAME, "Jan de Boer"),
    ("gemeldet von Thomas Becker gestern", C.PERSON_NAME, "Thomas Becker"),
    ("Known: Anna Nowak wrote", C.CUSTOMER, "Anna Nowak"),
    ("mail anna.nowak@example.pl", C.CUSTOMER, "anna.nowak@example.pl"),
    ("SKU MJ-0312 restock", C.PROPRIETARY, "MJ-0312"),
    ("bought at 12.40 from", C.PROPRIETARY, "12.40"),
    ("supplier textilwerk brandt said", C.PROPRIETARY, "textilwerk brandt"),
    ('{"email": "x@y.de", "telephone": "030 1234567"}', C.PHONE, "030 1234567"),
    ('{"lastname": "Nowak", "city": "Poznań"}', C.PERSON_NAME, "Nowak"),
    ('{"base_cost": 12.5}', C.PROPRIETARY, "12.5"),
    ('{\\"customer_name\\": \\"Hans Zimmermann\\"}', C.PERSON_NAME, "Hans Zimmermann"),
    (
        "key hf_pLIix6MEOLeMa61EqJomTEI1JEzO3joOj3 here",
        C.SECRET,
        "hf_pLIix6MEOLeMa61EqJomTEI1JEzO3joOj3",
    ),
]


@pytest.mark.parametrize(("text", "category", "value"), POSITIVE)
def test_positive(text: str, category: PiiCategory, value: str) -> None:
    assert (category.value, value) in found(text)


NEGATIVE = [
    "Order 100004512 shipped on 2024-03-12",
    "Bestellung 000000123 vom 12.03.2024",
    "SKU 0301-234-568 is sold out",
    "Preis 1.299,00 EUR, 19,99 €",
    "tracking 00340434161234567890 and 1Z999AA10123456784",
    "v1.2.3.4, Version 10.0.19041.1, build 2.4.6.8",
    "IBAN DE89 3704 0044 0532 0130 01",
    "card 4111 1111 1111 1112",
    "Wir haben 25000 Kunden in 12 Ländern",
    "ISBN 978-3-16-148410-0, EAN 4006381333931",
    "time 12:30:45, MAC 00:1A:2B:3C:4D:5E",
    "sent via DHL 12 times",
    "Ordernummer 123456789 ist keine BSN-Nummer",
    "Hello Team, Monday March 3",
    "placeholder sk-proj-XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
    "",
    "   ",
]


@pytest.mark.parametrize("text", NEGATIVE)
def test_negative(text: str) -> None:
    assert found(text) == set()


@pytest.mark.parametrize(
    ("key", "value", "category"),
    [
        ("email", "anyone@example.com", C.EMAIL),
        ("billing_address.telephone", " 0171 2345678 ", C.PHONE),
        ("customerEmail", "x@y.de", C.EMAIL),
        ("street", "Irgendwo 1", C.ADDRESS),
        ("postcode", "10115", C.POSTCODE),
        ("Nachname", "Müller", C.PERSON_NAME),
        ("cost", "12.50", C.PROPRIETARY),
        ("cc_number", "4111111111111111", C.CARD),
        ("taxvat", "DE195755130", C.VAT_ID),
        ("name", "Anna Kowalska", C.PERSON_NAME),
    ],
)
def test_key_decides(key: str, value: str, category: PiiCategory) -> None:
    spans = detector().scan(value, key=key)
    assert len(spans) == 1
    span = spans[0]
    assert span.category is category
    assert value[span.start : span.end] == value.strip()


@pytest.mark.parametrize(
    ("key", "value"),
    [("name", "Joust Duffle Bag"), ("email", ""), ("telephone", "n/a"), ("sku", "24-MB01")],
)
def test_key_does_not_decide(key: str, value: str) -> None:
    assert detector().scan(value, key=key) == []


def test_unknown_key_scans_value() -> None:
    spans = detector().scan("Ruf mich an: 030 23125678", key="comment")
    assert [(s.category, s.value) for s in spans] == [(C.PHONE, "030 23125678")]


def test_dictionary_is_case_insensitive_and_whole_word(tmp_path: Path) -> None:
    csv = tmp_path / "terms.csv"
    csv.write_text("codename\nFalcon\nab\n", encoding="utf-8")
    det = build_detector([DictionarySpec(csv, C.PROPRIETARY, ("codename",))])
    assert [s.value for s in det.scan("the FALCON launch")] == ["FALCON"]
    assert det.scan("falconry and about ab") == []  # not a whole word; too short


def test_dictionary_errors_name_the_file(tmp_path: Path) -> None:
    csv = tmp_path / "c.csv"
    csv.write_text("name\nAnna\n", encoding="utf-8")
    with pytest.raises(GatewayConfigError, match=r"c\.csv.*email"):
        build_detector([DictionarySpec(csv, C.CUSTOMER, ("email",))])
    with pytest.raises(GatewayConfigError, match=r"missing\.csv"):
        build_detector([DictionarySpec(tmp_path / "missing.csv", C.CUSTOMER)])


def test_ner_without_spacy_is_a_config_error() -> None:
    with pytest.raises(GatewayConfigError, match="spaCy"):
        build_detector([], ner_model="xx_not_a_model_xx")


def _span(start: int, end: int, category: PiiCategory, rule: str = "r") -> Span:
    return Span(start, end, category, "x" * (end - start), rule)


def test_overlaps_longest_then_priority() -> None:
    spans = [
        _span(0, 5, C.PERSON_NAME),
        _span(0, 5, C.CUSTOMER),
        _span(3, 12, C.ADDRESS),
        _span(12, 14, C.POSTCODE),
    ]
    kept = resolve(spans)
    assert [(s.start, s.end, s.category) for s in kept] == [
        (3, 12, C.ADDRESS),
        (12, 14, C.POSTCODE),
    ]
    assert resolve([_span(0, 5, C.PERSON_NAME), _span(0, 5, C.CUSTOMER)])[0].category is C.CUSTOMER
    assert resolve(reversed(spans)) == kept


def test_lower_same_length_keeps_offsets() -> None:
    text = "İstanbul Straße"
    assert len(lower_same_length(text)) == len(text)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_scan_never_raises_and_spans_are_sound(text: str) -> None:
    spans = detector().scan(text)
    previous_end = 0
    for span in spans:
        assert 0 <= span.start < span.end <= len(text)
        assert text[span.start : span.end] == span.value
        assert span.start >= previous_end
        previous_end = span.end


ALPHABET = st.sampled_from(
    [*list('0123456789 +-./():@,\n"{}'), "Herr ", "Straße ", "DE", "Tel. ", "Anna ", "x"]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(ALPHABET, max_size=80).map("".join), st.sampled_from([None, "email", "name"]))
def test_scan_on_pii_shaped_noise(text: str, key: str | None) -> None:
    spans = detector().scan(text, key=key)
    assert all(text[s.start : s.end] == s.value for s in spans)
    assert all(a.end <= b.start for a, b in itertools.pairwise(spans))
