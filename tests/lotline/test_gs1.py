import polars as pl
import pytest

from lotline import gs1


@pytest.mark.parametrize("key", ["12345678901231", "1234567890128", "02345673", "00300010123455"])
def test_valid_gtins(key: str) -> None:
    assert gs1.is_gtin(key)


@pytest.mark.parametrize("key", ["12345678901232", "1234567890", "abcdefghijklm", ""])
def test_invalid_gtins(key: str) -> None:
    assert not gs1.is_gtin(key)


def test_gtin14_pads_shorter_gtins() -> None:
    assert gs1.to_gtin14("1234567890128") == "01234567890128"
    with pytest.raises(ValueError):
        gs1.to_gtin14("12345678901232")


def test_expression_agrees_with_scalar_rule() -> None:
    keys = [
        "12345678901231",
        "12345678901232",
        "02345673",
        "123456789012345675",
        "403000112345678902",
        None,
        "12a45678901231",
    ]
    frame = pl.DataFrame({"k": keys}).with_columns(
        gtin=gs1.valid_check_digit_expr(pl.col("k"), gs1.GTIN_LENGTHS),
        sscc=gs1.valid_check_digit_expr(pl.col("k"), (18,)),
    )
    for key, gtin_ok, sscc_ok in frame.iter_rows():
        assert gtin_ok == (key is not None and gs1.has_valid_check_digit(key, gs1.GTIN_LENGTHS))
        assert sscc_ok == (key is not None and gs1.has_valid_check_digit(key, (18,)))
