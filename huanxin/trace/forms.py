from __future__ import annotations

from typing import Any

from django import forms

from huanxin.catalogue.domain.categories import CATEGORY_CHOICES
from huanxin.core.errors import ValidationFailed
from huanxin.trace import services
from huanxin.trace.domain.codes import MAX_INPUT
from huanxin.trace.domain.rules import MATERIALS

CODE_HELP = "输入标签上二维码旁的编码，或粘贴扫码得到的链接；全角数字、空格和句号“。”均可"


class TraceCodeField(forms.CharField):
    """A trace code in any form a person reads, types or scans, cleaned to the stored form."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", "追溯码")
        kwargs.setdefault("help_text", CODE_HELP)
        kwargs.setdefault("max_length", MAX_INPUT)
        super().__init__(**kwargs)
        # A code is typed, not predicted: no autocorrect, no capitalisation of the first letter on phones.
        self.widget.attrs.update({"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"})

    def clean(self, value: Any) -> str:
        text = super().clean(value)
        if text in self.empty_values:
            return ""
        try:
            return services.canonical_code(str(text))
        except ValidationFailed as error:
            raise forms.ValidationError(error.first_message, code=error.code) from None


class ScanForm(forms.Form):
    code = TraceCodeField()


class VerifyForm(forms.Form):
    """The public box: anyone types the code on a label and is taken to its verification page."""

    code = TraceCodeField(error_messages={"required": "请输入追溯码"})


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

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        if cleaned.get("kind") == "dismantle" and not self.outputs_g():
            # The rule itself is the service's; said here in the unit this form asks for, next to the weights.
            self.add_error(
                None, forms.ValidationError("拆解须填写至少一种产物的重量（kg），且大于 0", code="outputs_required")
            )
        return cleaned

    def outputs_g(self) -> dict[str, int]:
        result = {}
        for material in MATERIALS:
            value = self.cleaned_data.get(f"m_{material}")
            if value is not None and value > 0:
                result[material] = int(value * 1000)
        return result


class PickupForm(forms.Form):
    category = forms.ChoiceField(label="旧机品类", choices=CATEGORY_CHOICES)
