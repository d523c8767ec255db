"""Forms of the recycling pages: a purchase with up to five lines, voiding, the tax system's answer."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from huanxin.core.forms import YuanField

ITEM_ROWS = 5
_PLAIN = {"autocomplete": "off", "spellcheck": "false"}


class PurchaseForm(forms.Form):
    seller_name = forms.CharField(
        label="出售者姓名",
        max_length=40,
        widget=forms.TextInput(attrs=_PLAIN),
        error_messages={"required": "请填写出售者姓名"},
        help_text="与出售者居民身份证一致",
    )
    seller_id_number = forms.CharField(
        label="出售者居民身份证号码",
        max_length=40,
        widget=forms.TextInput(attrs={**_PLAIN, "autocapitalize": "characters", "inputmode": "text"}),
        error_messages={"required": "请填写出售者居民身份证号码"},
        help_text="查验出售者本人的居民身份证；号码加密保存，页面只显示脱敏号码",
    )
    purchased_on = forms.DateField(
        label="收购日期",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="不填为今天；本企业资格须在该日有效",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for index in range(ITEM_ROWS):
            first = index == 0
            self.fields[f"item_name_{index}"] = forms.CharField(
                label=f"物品 {index + 1}", max_length=40, required=False, widget=forms.TextInput(attrs=_PLAIN)
            )
            self.fields[f"item_weight_{index}"] = forms.DecimalField(
                label="重量（千克）",
                required=False,
                min_value=Decimal("0.001"),
                max_digits=10,
                decimal_places=3,
                widget=forms.NumberInput(attrs={"step": "0.001", "inputmode": "decimal"}),
                error_messages={"min_value": "重量应大于 0", "invalid": "请填写数字重量（千克）"},
            )
            self.fields[f"item_price_{index}"] = YuanField(
                label="收购金额（元，不含增值税）",
                required=False,
                minimum_fen=1,
                minimum_message="收购金额应大于 0",
                minimum_code="invalid_price",
                widget=forms.TextInput(attrs={"inputmode": "decimal", **_PLAIN}),
            )
            if first:
                self.fields["item_name_0"].help_text = "如 废钢、废铜、废旧家电；每行一种物品"

    def rows(self) -> list[tuple[forms.BoundField, forms.BoundField, forms.BoundField]]:
        return [(self[f"item_name_{i}"], self[f"item_weight_{i}"], self[f"item_price_{i}"]) for i in range(ITEM_ROWS)]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for index in range(ITEM_ROWS):
            name, weight, price = (data.get(f"item_{part}_{index}") for part in ("name", "weight", "price"))
            filled = [value not in (None, "") for value in (name, weight, price)]
            if any(filled) and not all(filled):
                for part, present in zip(("name", "weight", "price"), filled, strict=True):
                    if not present and f"item_{part}_{index}" not in self.errors:
                        self.add_error(f"item_{part}_{index}", forms.ValidationError("请填写完整", code="required"))
        return data

    def items(self) -> list[dict[str, Any]]:
        """The filled lines as the service takes them: weight in grams, price in fen."""
        found = []
        for index in range(ITEM_ROWS):
            name = self.cleaned_data.get(f"item_name_{index}")
            weight = self.cleaned_data.get(f"item_weight_{index}")
            price = self.cleaned_data.get(f"item_price_{index}")
            if name and weight is not None and price is not None:
                found.append({"name": name, "weight_g": int(weight * 1000), "price_fen": price})
        return found


def rename_item_field(field: str) -> str:
    """The service's ``items[2].weight_g`` is the form's ``item_weight_2``."""
    if field.startswith("items[") and "]." in field:
        index, part = field[len("items[") :].split("].", 1)
        short = {"name": "name", "weight_g": "weight", "price_fen": "price"}.get(part, part)
        return f"item_{short}_{index}"
    if field == "items":
        return "item_name_0"
    return field


class VoidForm(forms.Form):
    reason = forms.CharField(
        label="作废原因",
        max_length=200,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "请填写作废原因"},
        help_text="作废后发票号码保留，不再计入出售者的12个月额度和当月销售额",
    )


class TaxAnswerForm(forms.Form):
    file = forms.FileField(
        label="税务系统回执（CSV）",
        error_messages={"required": "请选择文件"},
        help_text="两列：我方发票号码、数电发票号码（首行为列名）",
    )
