"""Budget amounts are typed in yuan: what the field accepts, refuses, and says."""

from __future__ import annotations

import pytest
from django import forms

from huanxin.policy.forms import BudgetForm


def refusal(field: forms.Field, text: str) -> tuple[str, str]:
    with pytest.raises(forms.ValidationError) as caught:
        field.clean(text)
    return caught.value.code or "", caught.value.messages[0]


@pytest.mark.parametrize(("text", "fen"), [("0", 0), ("1,234.5", 123_450)])
def test_budget_accepts_zero_and_plain_yuan(text: str, fen: int) -> None:
    assert BudgetForm.base_fields["total"].clean(text) == fen


def test_budget_refuses_a_negative_amount() -> None:
    assert refusal(BudgetForm.base_fields["total"], "-1") == ("negative", "金额不能为负数")


@pytest.mark.parametrize("text", ["¥5", "￥5"])
def test_budget_does_not_accept_the_yuan_sign(text: str) -> None:
    code, _ = refusal(BudgetForm.base_fields["total"], text)
    assert code == "invalid_amount"
