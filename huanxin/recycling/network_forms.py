"""Forms of the recycling network pages: the public finder and an operator's site registration."""

from __future__ import annotations

from typing import Any

from django import forms

from huanxin.accounts.models import District, Licence, Organisation
from huanxin.recycling.domain import network as domain
from huanxin.recycling.network_models import NetworkSite


def district_choices(blank: str) -> list[tuple[str, str]]:
    return [("", blank), *District.objects.order_by("sort_order", "code").values_list("code", "name")]


class _ChoiceForm(forms.Form):
    def _choose(self, name: str, choices: list[Any]) -> None:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices


class FinderForm(_ChoiceForm):
    district = forms.ChoiceField(label="所在区", required=False)
    category = forms.ChoiceField(label="旧物品类", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._choose("district", district_choices("全市"))
        self._choose("category", [("", "全部品类"), *domain.accepted_categories().items()])


class SiteForm(_ChoiceForm):
    kind = forms.ChoiceField(label="站点类型", choices=NetworkSite.Kind.choices)
    name = forms.CharField(label="站点名称", max_length=120, error_messages={"required": "请填写站点名称"})
    district = forms.ChoiceField(label="所在区", error_messages={"required": "请选择站点所在区"})
    address = forms.CharField(label="地址", max_length=200, error_messages={"required": "请填写站点地址"})
    opening_hours = forms.CharField(
        label="营业时间",
        max_length=80,
        help_text="如 周一至周六 8:30-17:30",
        error_messages={"required": "请填写营业时间"},
    )
    categories = forms.MultipleChoiceField(
        label="接收品类", widget=forms.CheckboxSelectMultiple, error_messages={"required": "请至少选择一个接收品类"}
    )
    capacity_per_month = forms.IntegerField(
        label="处理能力（台/月）",
        min_value=1,
        max_value=domain.MAX_CAPACITY,
        error_messages={"required": "请填写处理能力"},
    )
    licence_id = forms.TypedChoiceField(
        label="资质证书",
        coerce=int,
        help_text="站点依据该证书接收；证书过期后站点不能接收",
        error_messages={"required": "请选择资质证书"},
    )

    def __init__(self, *args: Any, organisation: Organisation, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._choose("district", district_choices("请选择"))
        self._choose("categories", list(domain.accepted_categories().items()))
        licences = Licence.objects.filter(organisation=organisation).order_by("kind", "number")
        self._choose(
            "licence_id",
            [("", "请选择")]
            + [
                (lic.pk, f"{lic.get_kind_display()} {lic.number}（至 {lic.valid_until or '长期'}）") for lic in licences
            ],
        )
