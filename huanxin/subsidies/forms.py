from __future__ import annotations

import datetime
from typing import Any

from django import forms
from django.urls import reverse

from huanxin.accounts.models import District
from huanxin.core.domain.money import MAX_FEN
from huanxin.policy.forms import YuanField
from huanxin.subsidies.models import Redemption, TakeBack


def district_choices() -> list[tuple[str, str]]:
    return [(d.code, d.name) for d in District.objects.all()]


def merged_categories(programmes: list[tuple[str, str, dict[str, str]]]) -> list[tuple[str, str]]:
    """Every category of the given programmes once, as (code, Chinese name) choices, in first-seen order."""
    categories: dict[str, str] = {}
    for _, _, names in programmes:
        categories.update(names)
    return list(categories.items())


class ClaimForm(forms.Form):
    """Programme and category; the category choices are those of the chosen programme. The district is not
    asked: a claim is charged to the resident's registered district."""

    programme = forms.ChoiceField(label="补贴项目")
    category = forms.ChoiceField(label="品类", help_text="可选品类随所选补贴项目变化")

    def __init__(self, *args: Any, programmes: list[tuple[str, str, dict[str, str]]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.programme_names = {code: name for code, name, _ in programmes}
        self.programme_categories = {code: names for code, _, names in programmes}
        programme_field = self.fields["programme"]
        programme_field.choices = [(code, name) for code, name, _ in programmes]  # type: ignore[attr-defined]
        programme_field.widget.attrs.update(
            {
                "hx-get": reverse("subsidies:claim_categories"),
                "hx-target": "#category-field",
                "hx-swap": "outerHTML",
                "hx-trigger": "change",
            }
        )
        # Every category code of the open programmes passes the field's own check, so that a category the
        # chosen programme does not cover is refused by clean() with the code the claim service gives it
        # (unknown_category); the list shown offers only the chosen programme's categories.
        category_field = self.fields["category"]
        category_field.choices = merged_categories(programmes)  # type: ignore[attr-defined]
        offered = self.programme_categories.get(self.chosen_programme(), {})
        category_field.widget.choices = list(offered.items())

    def chosen_programme(self) -> str:
        """The programme whose categories are offered: the one submitted or asked for, else the first."""
        wanted = self.data.get("programme") if self.is_bound else self.initial.get("programme")
        if wanted in self.programme_categories:
            return str(wanted)
        return next(iter(self.programme_categories), "")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        programme, category = data.get("programme"), data.get("category")
        if programme and category and category not in self.programme_categories.get(programme, {}):
            self.add_error(
                "category",
                forms.ValidationError(
                    f"{self.programme_names[programme]}不补贴此品类，请在列表中重新选择", code="unknown_category"
                ),
            )
        return data


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
    confirmed_subsidy = forms.IntegerField(required=False, min_value=0, max_value=MAX_FEN, widget=forms.HiddenInput)

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


def return_kind_help(quota_restored_on_return: bool) -> dict[str, str]:
    """What each kind of return does, word for word what ``services.record_return`` does; the quota sentence
    comes from the programme's rule (退货后是否恢复名额)."""
    quota = "名额恢复，顾客可重新申领" if quota_restored_on_return else "名额不恢复，仍视为已使用"
    return {
        "full": (
            "整单退货：商品全部退回，退还顾客其实付的全部金额（成交价减补贴），补贴全部冲回预算，"
            f"由商户从下期清算款中退还；按本项目规则{quota}。"
        ),
        "partial": (
            "部分退货：顾客保留商品，填写新的最终成交价（顾客继续支付的价格，补贴之前）；按原规则版本对新价格重算补贴"
            "（不超过原补贴），退还顾客＝原实付－新实付，冲回补贴＝原补贴－新补贴，由商户退还；名额仍视为已使用。"
            "每笔只能部分退货一次，之后只能整单退货。"
        ),
    }


class ReturnForm(forms.Form):
    kind = forms.ChoiceField(label="退货方式", widget=forms.RadioSelect)
    new_price = YuanField(
        label="新的最终成交价（元）",
        required=False,
        minimum_fen=1,
        minimum_message="新的最终成交价应大于0",
        minimum_code="invalid_price",
        help_text="仅部分退货填写：顾客保留商品后继续支付的价格（补贴之前），应低于原成交价",
    )
    reason = forms.CharField(label="退货原因", min_length=2, max_length=200)
    # The figures the clerk was shown; committing other figures is refused (they are shown again instead).
    quoted = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, kinds: list[tuple[str, str]], quota_restored_on_return: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind_help = return_kind_help(quota_restored_on_return)
        self.fields["kind"].choices = [(value, label) for value, label in kinds]  # type: ignore[attr-defined]

    def kind_options(self) -> list[tuple[Any, str]]:
        """Each offered kind's radio button with what that kind of return does."""
        return [(choice, self.kind_help[choice.data["value"]]) for choice in self["kind"]]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("kind") == "partial" and data.get("new_price") is None and "new_price" not in self.errors:
            self.add_error("new_price", forms.ValidationError("部分退货请填写新的最终成交价", code="required"))
        if data.get("kind") == "full":
            data["new_price"] = None
        return data


class SalesFilterForm(forms.Form):
    """The merchant's sales history filter: Beijing days, both included, at most a year at a time."""

    MAX_DAYS = 366
    DEFAULT_DAYS = 30

    start = forms.DateField(label="起始日期", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label="截止日期", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    status = forms.ChoiceField(label="状态", required=False)

    def __init__(self, *args: Any, today: datetime.date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["start"].error_messages["invalid"] = "日期格式不正确，应为 YYYY-MM-DD"
        self.fields["end"].error_messages["invalid"] = "日期格式不正确，应为 YYYY-MM-DD"
        self.fields["status"].choices = [("", "全部"), *Redemption.Status.choices]  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        # Without dates: the last 30 days up to today.
        end = data.get("end") or self.today
        start = data.get("start") or end - datetime.timedelta(days=self.DEFAULT_DAYS - 1)
        if start > end:
            self.add_error("end", forms.ValidationError("截止日期不能早于起始日期", code="end_before_start"))
        elif (end - start).days + 1 > self.MAX_DAYS:
            self.add_error("end", forms.ValidationError("一次最多查询366天", code="range_too_long"))
        data["start"], data["end"] = start, end
        return data


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
