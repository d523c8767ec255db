from __future__ import annotations

from typing import Any

from django import forms

from huanxin.accounts.models import District
from huanxin.core.forms import YuanField

# YuanField stays importable from here for the subsidies forms (core's defaults: no ¥, negatives refused).
__all__ = ["BudgetForm", "DecisionForm", "ReportForm", "RuleSetForm", "YuanField"]


class BudgetForm(forms.Form):
    """Total budget and one allocation field per district, all in yuan."""

    total = YuanField(label="总预算（元）")

    def __init__(self, *args: Any, pools: dict[str, int] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.district_fields: list[tuple[str, str]] = []
        for district in District.objects.all():
            name = f"d_{district.code}"
            self.fields[name] = YuanField(label=district.name, required=False)
            if pools is not None and not self.is_bound:
                self.initial[name] = f"{pools.get(district.code, 0) / 100:.2f}"
            self.district_fields.append((name, district.code))

    def allocations(self) -> dict[str, int]:
        return {code: self.cleaned_data.get(name) or 0 for name, code in self.district_fields}


class RuleSetForm(forms.Form):
    content = forms.CharField(
        label="规则文件（TOML）", widget=forms.Textarea(attrs={"rows": 24, "class": "mono"}), max_length=100_000
    )
    note = forms.CharField(label="修改说明", max_length=500, required=False)


class DecisionForm(forms.Form):
    note = forms.CharField(label="审批意见", max_length=500, required=False)


class ReportForm(forms.Form):
    unit = forms.ChoiceField(label="填报单位")
    period = forms.RegexField(
        label="报告期",
        regex=r"^\d{4}-\d{2}$",
        max_length=7,
        error_messages={"invalid": "报告期格式应为 YYYY-MM"},
        help_text="例如 2026-10",
    )
    narrative = forms.CharField(label="进展情况", widget=forms.Textarea(attrs={"rows": 6}), max_length=5000)

    def __init__(self, *args: Any, units: list[str], targets: list[dict[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = [(u, u) for u in units]  # type: ignore[attr-defined]
        self.target_fields = []
        for target in targets:
            name = f"t_{target['code']}"
            self.fields[name] = forms.DecimalField(
                label=f"{target['name']}（{target['unit']}）",
                required=False,
                min_value=0,
                max_digits=18,
                decimal_places=4,
            )
            self.target_fields.append((name, target["code"]))

    def indicators(self) -> dict[str, int | float]:
        values: dict[str, int | float] = {}
        for name, code in self.target_fields:
            value = self.cleaned_data.get(name)
            if value is not None:
                values[code] = int(value) if value == value.to_integral_value() else float(value)
        return values
