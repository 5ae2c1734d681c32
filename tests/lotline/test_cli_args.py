"""What the command accepts: each bad value is refused with a message naming the bad part."""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime

import pytest

from lotline import cli_args, gs1


def refused(check, text: str) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(argparse.ArgumentTypeError) as caught:
        check(text)
    return str(caught.value)


def test_gtin_is_checked_and_padded_to_14_digits() -> None:
    assert cli_args.gtin("614141000012") == "00614141000012"
    assert cli_args.gtin(" 00614141000043 ") == "00614141000043"
    assert cli_args.gtin("96385074") == "00000096385074"  # GTIN-8
    assert refused(cli_args.gtin, "00614141000044") == (
        "GTIN 00614141000044: check digit should be 3, not 4"
    )
    assert refused(cli_args.gtin, "ABC") == "GTIN 'ABC': digits only ('A' at position 1)"
    assert refused(cli_args.gtin, "0061414100004X") == (
        "GTIN '0061414100004X': digits only ('X' at position 14)"
    )
    assert refused(cli_args.gtin, "12345") == "GTIN 12345: 5 digits, expected 8, 12, 13 or 14"
    assert refused(cli_args.gtin, "") == "GTIN is empty"
    assert refused(cli_args.gtin, "٠٠٦١٤١٤١٠٠٠٠٤٣").startswith("GTIN")  # non-ASCII digits
    assert cli_args.GTIN_LENGTHS == gs1.GTIN_LENGTHS


def test_sscc_length_and_check_digit() -> None:
    assert cli_args.sscc("187193271529924970") == "187193271529924970"
    assert refused(cli_args.sscc, "12345") == "SSCC 12345: 5 digits, expected 18"
    assert refused(cli_args.sscc, "1871932715299249700") == (
        "SSCC 1871932715299249700: 19 digits, expected 18"
    )
    assert refused(cli_args.sscc, "187193271529924971") == (
        "SSCC 187193271529924971: check digit should be 0, not 1"
    )


def test_share_is_between_0_and_1() -> None:
    assert cli_args.share("0.05") == 0.05
    assert cli_args.share("0") == 0.0 and cli_args.share("1") == 1.0
    assert refused(cli_args.share, "5") == "5: must be between 0 and 1 (a share)"
    assert refused(cli_args.share, "-0.1") == "-0.1: must be between 0 and 1 (a share)"
    assert refused(cli_args.share, "nan") == "nan: must be between 0 and 1 (a share)"
    assert refused(cli_args.share, "5%") == "'5%': not a number"


def test_days_dates_and_times() -> None:
    assert cli_args.positive_int("180") == 180
    assert refused(cli_args.positive_int, "0") == "0: must be a positive number of days"
    assert refused(cli_args.positive_int, "1.5") == "'1.5': not a whole number"
    assert cli_args.calendar_date("2026-11-20") == date(2026, 11, 20)
    assert refused(cli_args.calendar_date, "20.11.2026") == "'20.11.2026': not a date (YYYY-MM-DD)"
    assert cli_args.instant("2026-09-01T07:00:00+02:00") == datetime(2026, 9, 1, 5, tzinfo=UTC)
    assert cli_args.instant("2026-09-01T05:00Z") == datetime(2026, 9, 1, 5, tzinfo=UTC)
    assert refused(cli_args.instant, "2026-09-01T07:00") == (
        "2026-09-01T07:00: no UTC offset; add it, e.g. 2026-09-01T07:00-05:00 or 2026-09-01T07:00Z"
    )
    assert "not an ISO 8601 time" in refused(cli_args.instant, "yesterday")
    assert cli_args.instant_text("2026-12-01T09:30:00-05:00") == "2026-12-01T09:30:00-05:00"
    assert cli_args.instant_text("") == ""  # the option's default: no time given
    assert "no UTC offset" in refused(cli_args.instant_text, "2026-12-01T09:30:00")


def test_codes_that_start_with_a_dash_are_values() -> None:
    attach = cli_args.attach_dash_values
    assert attach(["trace", "--lot", "-1+1", "--gtin", "1"]) == [
        "trace",
        "--lot=-1+1",
        "--gtin",
        "1",
    ]
    assert attach(["trace", "--serial", "-7"]) == ["trace", "--serial=-7"]
    # an option after --lot is not taken as its value, and -h still asks for help
    assert attach(["trace", "--lot", "--format", "csv"]) == ["trace", "--lot", "--format", "csv"]
    assert attach(["trace", "--lot", "-h"]) == ["trace", "--lot", "-h"]
    assert attach(["trace", "--lot=-1+1"]) == ["trace", "--lot=-1+1"]
    assert refused(cli_args.code, " ") == "empty; give the code as printed on the label"


def test_a_scan_is_resolved_and_must_name_a_lot_serial_or_pallet() -> None:
    from lotline.gs1.uri import GS1Key

    assert cli_args.scan("(01)00614141000043(10)C1") == GS1Key(
        "lgtin", gtin="00614141000043", lot="C1"
    )
    assert cli_args.scan("urn:epc:id:sscc:0614141.3000000001") == GS1Key(
        "sscc", sscc="306141410000000013"
    )
    assert refused(cli_args.scan, "https://id.gs1.org/01/00614141000044/10/C1") == (
        "'https://id.gs1.org/01/00614141000044/10/C1': (01) 00614141000044: "
        "check digit should be 3, not 4"
    )
    assert refused(cli_args.scan, "(01)00614141000043") == (
        "'(01)00614141000043' names GTIN 00614141000043 but no lot (10) or serial (21): "
        "a trace needs one"
    )
