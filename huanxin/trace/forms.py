from __future__ import annotations

from typing import Any

from django import forms

from huanxin.catalogue.domain.categories import CATEGORY_CHOICES
from huanxin.trace.domain.rules import MATERIALS


class ScanForm(forms.Form):
    code = forms.CharField(label="追溯码", max_length=200, help_text="扫描标签二维码或输入追溯码")


class EventForm(forms.Form):
    kind = forms.ChoiceField(label="事件")
    destination = forms.ChoiceField(label="发往企业", required=False)

    def __init__(
        self, *args: Any, kinds: list[tuple[str, str]], destinations: list[tuple[int, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = kinds  # type: ignore[attr-defined]
        self.fields["destination"].choices = [("", "—"), *destinations]  # type: ignore[attr-defined]
        for material, label in MATERIALS.items():
            self.fields[f"m_{material}"] = forms.DecimalField(
                label=f"{label}（kg）", required=False, min_value=0, max_digits=9, decimal_places=3
            )

    def outputs_g(self) -> dict[str, int]:
        result = {}
        for material in MATERIALS:
            value = self.cleaned_data.get(f"m_{material}")
            if value is not None and value > 0:
                result[material] = int(value * 1000)
        return result


class PickupForm(forms.Form):
    category = forms.ChoiceField(label="旧机品类", choices=CATEGORY_CHOICES)
