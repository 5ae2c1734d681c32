"""EPC URNs and Digital Link URIs name the same keys; Digital Links out read back the same."""

from datetime import date

import pytest

from lotline.gs1.uri import GS1Key, digital_link, parse_uri


@pytest.mark.parametrize(
    ("uri", "key"),
    [
        # Tag Data Standard example: indicator 8 moves back to the front, check digit recomputed
        (
            "urn:epc:id:sgtin:0614141.812345.6789",
            GS1Key("sgtin", gtin="80614141123458", serial="6789"),
        ),
        (
            "https://id.gs1.org/01/80614141123458/21/6789",
            GS1Key("sgtin", gtin="80614141123458", serial="6789"),
        ),
        (
            "urn:epc:class:lgtin:4012345.012345.998877",
            GS1Key("lgtin", gtin="04012345123456", lot="998877"),
        ),
        (
            "https://id.gs1.org/01/04012345123456/10/998877",
            GS1Key("lgtin", gtin="04012345123456", lot="998877"),
        ),
        ("urn:epc:id:sscc:0614141.1234567890", GS1Key("sscc", sscc="106141412345678908")),
        ("https://id.gs1.org/00/106141412345678908", GS1Key("sscc", sscc="106141412345678908")),
        (
            "urn:epc:id:sgln:0614141.07346.1234",
            GS1Key("sgln", gln="0614141073467", gln_extension="1234"),
        ),
        ("urn:epc:id:sgln:0614141.07346.0", GS1Key("sgln", gln="0614141073467")),
        (
            "https://id.gs1.org/414/0614141073467/254/1234",
            GS1Key("sgln", gln="0614141073467", gln_extension="1234"),
        ),
        ("urn:epc:idpat:sgtin:4012345.066666.*", GS1Key("idpat", gtin="04012345666663")),
        ("urn:epc:id:grai:0614141.12345.400", GS1Key("other")),
    ],
)
def test_both_notations_give_the_key(uri: str, key: GS1Key) -> None:
    assert parse_uri(uri) == key


def test_digital_link_under_a_path_prefix_with_escapes_and_expiry() -> None:
    key = parse_uri("https://brand.example/p/01/9506000134352/10/AB%2F1%20x?17=261231")
    assert key == GS1Key("lgtin", gtin="09506000134352", lot="AB/1 x", expiry=date(2026, 12, 31))


def test_digital_link_round_trip() -> None:
    uri = digital_link("09506000134352", lot="AB/1 x", expiry=date(2026, 12, 31))
    assert uri == "https://id.gs1.org/01/09506000134352/10/AB%2F1%20x?17=261231"
    assert parse_uri(uri) == GS1Key(
        "lgtin", gtin="09506000134352", lot="AB/1 x", expiry=date(2026, 12, 31)
    )
    assert parse_uri(digital_link("09506000134352", serial="S 1")).serial == "S 1"
    assert digital_link(sscc="106141412345678908").endswith("/00/106141412345678908")
    assert digital_link(gln="0614141073467").endswith("/414/0614141073467")


def test_a_company_resolver_base_is_used_and_read_back(monkeypatch) -> None:
    monkeypatch.setenv("LOTLINE_DIGITAL_LINK_BASE", "https://id.example.com/gs1/")
    uri = digital_link("09506000134352", lot="ABC123")
    assert uri == "https://id.example.com/gs1/01/09506000134352/10/ABC123"
    assert parse_uri(uri) == GS1Key("lgtin", gtin="09506000134352", lot="ABC123")
    assert digital_link("09506000134352", base="https://id.gs1.org").startswith("https://id.gs1")


@pytest.mark.parametrize(
    "base", ["http://id.example.com", "id.example.com", "https://x.example?a=1"]
)
def test_a_resolver_base_that_is_not_an_https_url_is_refused(monkeypatch, base) -> None:
    monkeypatch.setenv("LOTLINE_DIGITAL_LINK_BASE", base)
    with pytest.raises(ValueError, match="LOTLINE_DIGITAL_LINK_BASE"):
        digital_link("09506000134352", lot="ABC123")


@pytest.mark.parametrize(
    ("uri", "message"),
    [
        (
            "https://id.gs1.org/01/09506000134353/10/A",
            "(01) 09506000134353: check digit should be 2, not 3",
        ),
        ("https://id.gs1.org/00/10614141234567890", "(00) 10614141234567890: 17 digits"),
        ("https://id.gs1.org/01/09506000134352/10", "AI '10' has no value"),
        ("https://id.gs1.org/99/1", "no GS1 primary key"),
        ("urn:epc:id:sgtin:0614141.81234.6789", "13 digits together"),
        ("urn:epc:id:sscc:0614141.123", "17 digits"),
        ("ABC", "neither an EPC URN"),
        ("https://id.gs1.org/01/09506000134352?17=2612", "(17) '2612' is not YYMMDD"),
    ],
)
def test_errors_name_the_bad_part(uri: str, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_uri(uri)
