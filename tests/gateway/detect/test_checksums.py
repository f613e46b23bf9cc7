"""Check-digit validators: positive/negative tables, python-stdnum as an oracle, totality."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import iban as std_iban
from stdnum import luhn as std_luhn
from stdnum.de import idnr as std_idnr
from stdnum.es import dni as std_dni
from stdnum.fr import nir as std_nir
from stdnum.it import codicefiscale as std_cf
from stdnum.nl import bsn as std_bsn
from stdnum.pl import pesel as std_pesel

from egressguard.gateway.detect import checksums

VALIDATORS = [
    checksums.luhn_valid,
    checksums.card_valid,
    checksums.iban_valid,
    checksums.vat_valid,
    checksums.de_steuer_id_valid,
    checksums.nl_bsn_valid,
    checksums.fr_nir_valid,
    checksums.it_codice_fiscale_valid,
    checksums.es_dni_valid,
    checksums.pl_pesel_valid,
]


@pytest.mark.parametrize(
    ("validator", "value", "expected"),
    [
        (checksums.card_valid, "4111 1111 1111 1111", True),
        (checksums.card_valid, "5555-5555-5555-4444", True),
        (checksums.card_valid, "378282246310005", True),
        (checksums.card_valid, "6011111111111117", True),
        (checksums.card_valid, "4111 1111 1111 1112", False),  # Luhn fails
        (checksums.card_valid, "9111111111111111", False),  # no issuer starts with 9
        (checksums.card_valid, "0000000000000000", False),
        (checksums.iban_valid, "DE89 3704 0044 0532 0130 00", True),
        (checksums.iban_valid, "GB82 WEST 1234 5698 7654 32", True),
        (checksums.iban_valid, "NL91ABNA0417164300", True),
        (checksums.iban_valid, "DE89 3704 0044 0532 0130 01", False),
        (checksums.iban_valid, "DE89370400440532013", False),  # wrong length
        (checksums.iban_valid, "XX89370400440532013000", False),
        (checksums.vat_valid, "DE195755130", True),
        (checksums.vat_valid, "DE195755131", False),
        (checksums.vat_valid, "IT63726510017", True),
        (checksums.vat_valid, "PL0297299759", True),
        (checksums.vat_valid, "PL0297299758", False),
        (checksums.vat_valid, "NL843646974B01", True),
        (checksums.vat_valid, "FR68579868282", True),
        (checksums.vat_valid, "FR69579868282", False),
        (checksums.vat_valid, "ATU46934288", True),
        (checksums.vat_valid, "BE0123456749", True),
        (checksums.vat_valid, "ES63304348E", True),
        (checksums.vat_valid, "ES63304348F", False),
        (checksums.vat_valid, "QQ123456789", False),
        (checksums.de_steuer_id_valid, "48701196218", True),
        (checksums.de_steuer_id_valid, "48701196219", False),
        (checksums.de_steuer_id_valid, "12345678901", False),  # no repeated digit
        (checksums.nl_bsn_valid, "111222333", True),
        (checksums.nl_bsn_valid, "111222334", False),
        (checksums.nl_bsn_valid, "000000000", False),
        (checksums.fr_nir_valid, "198052276496444", True),
        (checksums.fr_nir_valid, "198052276496445", False),
        (checksums.it_codice_fiscale_valid, "RSSMRA85T10A562S", True),
        (checksums.it_codice_fiscale_valid, "RSSMRA85T10A562X", False),
        (checksums.es_dni_valid, "69513989P", True),
        (checksums.es_dni_valid, "69513989Q", False),
        (checksums.es_dni_valid, "Z1152313H", True),
        (checksums.pl_pesel_valid, "54032665498", True),
        (checksums.pl_pesel_valid, "54032665499", False),
        (checksums.pl_pesel_valid, "54132665496", False),  # month 13
    ],
)
def test_table(validator: object, value: str, expected: bool) -> None:
    assert callable(validator)
    assert validator(value) is expected


@settings(max_examples=300)
@given(st.text(max_size=40))
def test_validators_never_raise(value: str) -> None:
    for validator in VALIDATORS:
        assert validator(value) in (True, False)


@settings(max_examples=300)
@given(st.text(alphabet="0123456789", min_size=2, max_size=19))
def test_luhn_agrees_with_stdnum(digits: str) -> None:
    assert checksums.luhn_valid(digits) == std_luhn.is_valid(digits)


@settings(max_examples=300)
@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_bsn_agrees_with_stdnum(digits: str) -> None:
    assert checksums.nl_bsn_valid(digits) == std_bsn.is_valid(digits)


@settings(max_examples=300)
@given(st.text(alphabet="0123456789", min_size=11, max_size=11))
def test_steuer_id_and_pesel_agree_with_stdnum(digits: str) -> None:
    assert checksums.de_steuer_id_valid(digits) == std_idnr.is_valid(digits)
    if checksums.pl_pesel_valid(digits):
        assert std_pesel.is_valid(digits)


@settings(max_examples=300)
@given(st.text(alphabet="0123456789", min_size=8, max_size=8))
def test_dni_agrees_with_stdnum(digits: str) -> None:
    doc = digits + std_dni.calc_check_digit(digits)
    assert checksums.es_dni_valid(doc)
    wrong = digits + ("A" if doc[-1] != "A" else "B")
    assert checksums.es_dni_valid(wrong) == std_dni.is_valid(wrong)


@settings(max_examples=200)
@given(st.text(alphabet="0123456789", min_size=13, max_size=13))
def test_nir_agrees_with_stdnum(body: str) -> None:
    """Ours is stricter (sex digit, month): what we accept, stdnum accepts."""
    value = body + std_nir.calc_check_digits(body)
    if checksums.fr_nir_valid(value):
        assert std_nir.is_valid(value)
    if body[0] in "12" and 1 <= int(body[3:5]) <= 12:
        assert checksums.fr_nir_valid(value)


@settings(max_examples=200)
@given(st.text(alphabet="0123456789", min_size=18, max_size=18))
def test_iban_agrees_with_stdnum(bban: str) -> None:
    from stdnum.iso7064 import mod_97_10

    value = "DE" + mod_97_10.calc_check_digits(bban + "DE") + bban
    assert checksums.iban_valid(value) == std_iban.is_valid(value)


@pytest.mark.parametrize("body", ["RSSMRA85T10A562", "BNCGLI90A41F205", "VRDLCU78M12H501"])
def test_codice_fiscale_agrees_with_stdnum(body: str) -> None:
    assert checksums.it_codice_fiscale_valid(body + std_cf.calc_check_digit(body))
