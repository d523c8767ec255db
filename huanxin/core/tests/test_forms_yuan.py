"""A yuan amount typed by a person becomes fen, within what a 64-bit column holds."""

import pytest

from huanxin.core.domain.money import MAX_FEN
from huanxin.core.forms import YuanField


def test_a_typed_amount_becomes_fen():
    assert YuanField().clean("3,999.50") == 399_950


def test_the_largest_amount_a_column_holds_is_accepted():
    assert YuanField().clean(f"{MAX_FEN // 100}.{MAX_FEN % 100:02d}") == MAX_FEN


@pytest.mark.parametrize("typed", ["99999999999999999999", f"{MAX_FEN // 100}.{MAX_FEN % 100 + 1:02d}"])
def test_an_amount_beyond_64_bits_is_a_field_error_not_a_server_error(typed):
    from django import forms

    with pytest.raises(forms.ValidationError) as refused:
        YuanField().clean(typed)
    assert refused.value.code == "amount_out_of_range"
    assert "超出可处理的范围" in refused.value.messages[0]
