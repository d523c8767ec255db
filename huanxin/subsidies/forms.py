from __future__ import annotations

from typing import Any

from django import forms

from huanxin.accounts.models import District
from huanxin.policy.forms import YuanField
from huanxin.subsidies.models import TakeBack


def district_choices() -> list[tuple[str, str]]:
    return [(d.code, d.name) for d in District.objects.all()]


def merged_categories(programmes: list[tuple[str, str, dict[str, str]]]) -> list[tuple[str, str]]:
    """Every category of the given programmes once, as (code, Chinese name) choices, in first-seen order."""
    categories: dict[str, str] = {}
    for _, _, names in programmes:
        categories.update(names)
    return list(categories.items())


class ClaimForm(forms.Form):
    programme = forms.ChoiceField(label="补贴项目")
    category = forms.ChoiceField(label="品类")
    district = forms.ChoiceField(label="申领所在区", help_text="资金从所选区的预算中安排，默认为您的居住区")

    def __init__(self, *args: Any, programmes: list[tuple[str, str, dict[str, str]]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["programme"].choices = [(code, name) for code, name, _ in programmes]  # type: ignore[attr-defined]
        self.fields["category"].choices = merged_categories(programmes)  # type: ignore[attr-defined]
        self.fields["district"].choices = district_choices()  # type: ignore[attr-defined]


class RedeemForm(forms.Form):
    code = forms.CharField(
        label="资格码",
        max_length=30,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters"}),
    )
    store = forms.ChoiceField(label="门店")
    product = forms.ChoiceField(label="产品型号")
    serial = forms.CharField(label="序列号（手机填IMEI）", max_length=60)
    price = YuanField(
        label="最终成交价（元）",
        help_text="扣除厂家、商家各种优惠后顾客实付的单价，补贴之前；不得高于本市该品类的成交价上限",
        minimum_fen=1,
        minimum_message="成交价必须大于 0",
        minimum_code="invalid_price",
    )
    take_back_category = forms.ChoiceField(label="回收旧机品类", required=False)
    take_back_condition = forms.ChoiceField(
        label="旧机状况", required=False, choices=[("", "未回收旧机"), *TakeBack.Condition.choices]
    )
    take_back_to_recycler = forms.BooleanField(label="旧机交回收企业", required=False, initial=True)
    # Set by the confirmation step: the subsidy shown to the customer. Without it the sale is only quoted.
    confirmed_subsidy = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)

    def __init__(
        self,
        *args: Any,
        stores: list[tuple[int, str]],
        products: list[tuple[int, str]],
        categories: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["store"].choices = stores  # type: ignore[attr-defined]
        self.fields["product"].choices = [("", "请选择"), *products]  # type: ignore[attr-defined]
        self.fields["take_back_category"].choices = [("", "—"), *categories]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("take_back_condition") and not data.get("take_back_category"):
            self.add_error("take_back_category", forms.ValidationError("请选择旧机品类", code="required"))
        return data


class ReturnForm(forms.Form):
    refund = YuanField(
        label="退还顾客金额（元）", help_text="等于顾客实付全额即为整单退货；部分退款将按剩余价格重算补贴"
    )
    reason = forms.CharField(label="退货原因", max_length=200)


class StoreForm(forms.Form):
    name = forms.CharField(label="门店名称", max_length=100)
    address = forms.CharField(label="地址", max_length=200)
    district = forms.ChoiceField(label="所在区")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["district"].choices = district_choices()  # type: ignore[attr-defined]


class EnrolmentForm(forms.Form):
    programme = forms.ChoiceField(label="补贴项目")
    categories = forms.MultipleChoiceField(label="经营品类", widget=forms.CheckboxSelectMultiple)
    stores = forms.MultipleChoiceField(label="参加门店", widget=forms.CheckboxSelectMultiple)
    bank_name = forms.CharField(label="开户银行", max_length=100)
    account_name = forms.CharField(label="账户名称", max_length=120)
    bank_account = forms.CharField(label="银行账号", max_length=40, help_text="用于接收补贴清算款，加密保存")
    contact_name = forms.CharField(label="联系人", max_length=60)
    contact_phone = forms.CharField(label="联系电话", max_length=20)

    def __init__(
        self,
        *args: Any,
        programmes: list[tuple[str, str]],
        categories: list[tuple[str, str]],
        stores: list[tuple[int, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["programme"].choices = programmes  # type: ignore[attr-defined]
        self.fields["categories"].choices = categories  # type: ignore[attr-defined]
        self.fields["stores"].choices = stores  # type: ignore[attr-defined]


class DecisionForm(forms.Form):
    note = forms.CharField(label="理由/意见", max_length=500, required=False)


class HoldDecisionForm(forms.Form):
    action = forms.ChoiceField(choices=[("clear", "放行"), ("reject", "驳回")])
    note = forms.CharField(label="复核意见", max_length=200, required=False)
