"""Scans in: every notation of one lot, serial or pallet resolves to the same key, and a bad scan
is refused naming the bad Application Identifier or check digit."""

from __future__ import annotations

from datetime import date

import pytest
import zxingcpp

from lotline import api
from lotline.gs1.scan import ScanError, require_subject, resolve
from lotline.gs1.uri import GS1Key, digital_link

GTIN = "09506000134352"  # GS1's own example GTIN (GS1 Global Office, company prefix 9506000)
LOT_KEY = GS1Key("lgtin", gtin=GTIN, lot="ABC123")
EXPIRY = date(2026, 12, 31)

LOT_NOTATIONS = {
    "element string as printed": "(01)09506000134352(10)ABC123(17)261231",
    "printed, with spaces": "(01) 09506000134352 (10) ABC123 (17) 261231",
    "GS1 DataMatrix scan, GS after the lot": "]d2010950600013435210ABC123\x1d17261231",
    "GS1-128 scan, lot last: no GS": "]C1010950600013435217261231" + "10ABC123",
    "GS1 QR scan": "]Q3010950600013435210ABC123\x1d17261231",
    "raw, leading FNC1 as GS": "\x1d010950600013435210ABC123\x1d17261231",
    "raw, <GS> as text": "010950600013435210ABC123<GS>17261231",
    "raw, {GS} as text": "010950600013435210ABC123{GS}17261231",
    "raw, ^ as FNC1": "^010950600013435210ABC123^17261231",
    "Digital Link": "https://id.gs1.org/01/09506000134352/10/ABC123",
    "Digital Link, own domain, GTIN-13, expiry": (
        "https://example.com/dl/01/9506000134352/10/ABC123?17=261231"
    ),
    "Digital Link in a plain QR code": "]Q1https://id.gs1.org/01/09506000134352/10/ABC123",
    "EPC class URI": "urn:epc:class:lgtin:9506000.013435.ABC123",
}


@pytest.mark.parametrize("notation", list(LOT_NOTATIONS))
def test_every_notation_of_a_lot_resolves_to_the_same_key(notation: str) -> None:
    key = resolve(LOT_NOTATIONS[notation])
    assert (key.kind, key.gtin, key.lot, key.serial, key.sscc) == (
        "lgtin",
        GTIN,
        "ABC123",
        None,
        None,
    )
    assert key.expiry == (EXPIRY if "261231" in LOT_NOTATIONS[notation] else None)


SERIAL_NOTATIONS = {
    "element string": "(01)09506000134352(21)SN-7",
    "scan": "]d2010950600013435221SN-7",
    "Digital Link": "https://id.gs1.org/01/09506000134352/21/SN-7",
    "EPC SGTIN URI": "urn:epc:id:sgtin:9506000.013435.SN-7",
}


@pytest.mark.parametrize("notation", list(SERIAL_NOTATIONS))
def test_every_notation_of_a_serial_resolves_to_the_same_key(notation: str) -> None:
    assert resolve(SERIAL_NOTATIONS[notation]) == GS1Key("sgtin", gtin=GTIN, serial="SN-7")


def test_a_dscsa_scan_keeps_serial_lot_and_expiry() -> None:
    """A pharmaceutical 2D code: (01) GTIN, (21) serial, (17) expiry, (10) lot."""
    key = resolve("]d20109506000134352" + "21SN-7\x1d" + "17261231" + "10ABC123")
    assert key == GS1Key("sgtin", gtin=GTIN, lot="ABC123", serial="SN-7", expiry=EXPIRY)


SSCC = "106141412345678908"


@pytest.mark.parametrize(
    "text",
    [
        "(00)106141412345678908",
        "00106141412345678908",
        "]C100106141412345678908",
        "https://id.gs1.org/00/106141412345678908",
        "urn:epc:id:sscc:0614141.1234567890",
        "106141412345678908",  # the bare number, as a logistics label's scan may give it
    ],
)
def test_every_notation_of_an_sscc_resolves_to_the_same_key(text: str) -> None:
    assert resolve(text) == GS1Key("sscc", sscc=SSCC)


def test_a_gtin_alone_is_a_product_not_a_lot() -> None:
    for text in ["9506000134352", "]E09506000134352", "(01)09506000134352"]:
        assert resolve(text) == GS1Key("gtin", gtin=GTIN)
        with pytest.raises(ScanError) as refused:
            require_subject(resolve(text), text)
        assert str(refused.value) == (
            f"{text!r} names GTIN {GTIN} but no lot (10) or serial (21): a trace needs one"
        )
    gln = resolve("(414)9506000134352")
    assert gln == GS1Key("sgln", gln="9506000134352")
    with pytest.raises(ScanError, match=r"names a location \(GLN 9506000134352\)"):
        require_subject(gln, "(414)9506000134352")


def test_lotline_s_own_digital_links_resolve_back_whatever_the_lot_code() -> None:
    """A lot code outside GS1's character set (a space, a letter with an accent) is beyond biip's
    AI (10) rules; the link lotline prints for it still finds the lot."""
    for lot in ["ABC123", "LOT 7/ä", "-1+1", "A" * 25]:
        assert resolve(digital_link(gtin=GTIN, lot=lot)) == GS1Key("lgtin", gtin=GTIN, lot=lot)


@pytest.mark.parametrize("symbology", ["DataMatrix", "Code128", "QRCode"])
def test_what_a_real_decoder_reads_from_a_gs1_symbol_resolves(symbology: str) -> None:
    """zxing-cpp encodes the lot as GS1 DataMatrix, GS1-128 and GS1 QR and decodes it again in
    each text form a scanner or app may give: raw with GS, as printed, with `<GS>` spelled out —
    each with its symbology identifier in front, as a scanner configured to send it does."""
    barcode = zxingcpp.create_barcode(
        "(01)09506000134352(10)ABC123(17)261231",
        getattr(zxingcpp.BarcodeFormat, symbology),
        gs1=True,
    )
    image = zxingcpp.write_barcode_to_image(barcode, scale=4)
    for mode in ["Plain", "HRI", "Escaped"]:
        (read,) = zxingcpp.read_barcodes(image, text_mode=getattr(zxingcpp.TextMode, mode))
        for text in [read.text, read.symbology_identifier + read.text]:
            assert resolve(text) == GS1Key("lgtin", gtin=GTIN, lot="ABC123", expiry=EXPIRY), text


BAD_SCANS = {
    # check digits, named with the AI and the digit expected
    "(01)09506000134353(10)ABC123": "(01) 09506000134353: check digit should be 2, not 3",
    "]d2010950600013435310ABC123": "(01) 09506000134353: check digit should be 2, not 3",
    "https://id.gs1.org/01/09506000134353/10/ABC123": (
        "(01) 09506000134353: check digit should be 2, not 3"
    ),
    "(00)106141412345678909": "(00) 106141412345678909: check digit should be 8, not 9",
    "(414)9506000134353": "(414) 9506000134353: check digit should be 2, not 3",
    "9506000134353": "GTIN 9506000134353: check digit should be 2, not 3",
    "106141412345678909": "SSCC 106141412345678909: check digit should be 8, not 9",
    # dates
    "(01)09506000134352(10)ABC123(17)261341": "(17) 261341: month 13 is not 01-12",
    "010950600013435217260231": "(17) 260231: day 31 does not exist in 2026-02 (28 days)",
    "https://id.gs1.org/01/09506000134352/10/ABC?17=261341": "(17) 261341: month 13 is not 01-12",
    # values that do not fit their AI, unknown AIs, a scan that stops making sense
    "(01)9506000134352(10)ABC123": "(01) '9506000134352': not a valid GTIN (GS1 format N14)",
    "(01)09506000134352(10)" + "A" * 21: (
        f"(10) {'A' * 21!r}: not a valid BATCH/LOT (GS1 format X..20)"
    ),
    "(01)09506000134352(9999)x": "unknown GS1 Application Identifier (9999)",
    "010950600013435275ABC": (
        "no GS1 Application Identifier at '75ABC', after (01) '09506000134352'"
    ),
    "010950600013435210" + "A" * 25: (
        f"no GS1 Application Identifier at 'AAAAA', after (10) {'A' * 20!r} "
        "(at most 20 characters; a longer value is cut there)"
    ),
    "(10)ABC123(17)261231": (
        "no GTIN (01), SSCC (00) or GLN (414) in it; it holds (10) ABC123, (17) 261231"
    ),
    "lot ABC123": "no GS1 Application Identifier at the start ('lot ABC1'…)",
    "]d2": "no data after the symbology identifier ]d2",
}


@pytest.mark.parametrize("text", list(BAD_SCANS))
def test_a_bad_scan_is_refused_naming_the_input_and_the_bad_part(text: str) -> None:
    with pytest.raises(ScanError) as refused:
        resolve(text)
    assert str(refused.value) == f"{text!r}: {BAD_SCANS[text]}"


def test_epc_uri_errors_name_the_uri_and_an_empty_scan_says_what_to_give() -> None:
    with pytest.raises(ScanError) as refused:
        resolve("urn:epc:id:sgtin:9506000.13435.SN-7")
    assert str(refused.value).startswith("'urn:epc:id:sgtin:9506000.13435.SN-7': company prefix")
    with pytest.raises(ScanError, match="^empty scan"):
        resolve(" \x1d ")


# --- a scan traces as the key it names (lotline.api) ---------------------------------------------


def test_api_traces_a_scan_as_its_key(small_engine) -> None:  # type: ignore[no-untyped-def]
    by_key = api.trace_lot(small_engine, "00614141000043", "C1")
    for text in ["(01)00614141000043(10)C1", "urn:epc:class:lgtin:0614141.000004.C1"]:
        by_scan = api.trace_scan(small_engine, text)
        assert by_scan.as_dict() == by_key.as_dict()
    assert api.resolve_scan("(01)00614141000050(21)T1-0001").serial == "T1-0001"
    assert api.serial_lot(small_engine, "00614141000050", "T1-0001") == "T1"
    serial = api.trace_scan(small_engine, "(01)00614141000050(21)T1-0001", "forward")
    assert (
        serial.as_dict()
        == api.trace_serial(small_engine, "00614141000050", "T1-0001", "forward").as_dict()
    )
    mislabelled = api.trace_scan(small_engine, "(01)00614141000050(21)T1-0001(10)T9")
    assert mislabelled.notes[-1] == (
        "the scan says lot 'T9'; the lineage holds serial 'T1-0001' in lot 'T1'"
    )
    with pytest.raises(ScanError, match="names GTIN 00614141000043 but no lot"):
        api.trace_scan(small_engine, "(01)00614141000043")
