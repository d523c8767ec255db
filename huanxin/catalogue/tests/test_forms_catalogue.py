"""The filed price is typed in yuan: what the field accepts, refuses, and says."""

from __future__ import annotations

import pytest
from django import forms

from huanxin.catalogue.forms import PriceFilingForm


def refusal(field: forms.Field, text: str) -> tuple[str, str]:
    with pytest.raises(forms.ValidationError) as caught:
        field.clean(text)
    return caught.value.code or "", caught.value.messages[0]


@pytest.mark.parametrize(("text", "fen"), [("3,999.5", 399_950), ("¥3,999.50", 399_950), ("￥1", 100), ("0.01", 1)])
def test_filed_price_accepts_yuan_with_or_without_the_yuan_sign(text: str, fen: int) -> None:
    assert PriceFilingForm.base_fields["price"].clean(text) == fen


@pytest.mark.parametrize("text", ["0", "-1", "¥0.00"])
def test_filed_price_must_be_above_zero(text: str) -> None:
    assert refusal(PriceFilingForm.base_fields["price"], text) == ("invalid_price", "备案价格必须大于 0")


def test_filed_price_with_three_decimals_is_malformed() -> None:
    code, _ = refusal(PriceFilingForm.base_fields["price"], "3999.999")
    assert code == "invalid_amount"
