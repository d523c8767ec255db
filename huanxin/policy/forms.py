from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from huanxin.accounts.models import District
from huanxin.catalogue.domain.categories import CATEGORIES
from huanxin.core.domain.money import format_yuan
from huanxin.core.forms import YuanField, name_fields_in_messages
from huanxin.policy.domain import InputError, RuleSet
from huanxin.policy.domain.families.car import NEW_ENERGIES, OLD_FUELS
from huanxin.policy.domain.families.ebike import BATTERIES

# YuanField stays importable from here for the subsidies forms (core's defaults: no ¥, negatives refused).
__all__ = [
    "CALCULATORS",
    "BudgetForm",
    "CarQuoteForm",
    "ConsumerGoodsQuoteForm",
    "DecisionForm",
    "EbikeQuoteForm",
    "QuoteForm",
    "ReportForm",
    "RuleSetForm",
    "YuanField",
]


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
                self.initial[name] = format_yuan(pools.get(district.code, 0), symbol=False, grouping=False)
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


# ---------------------------------------------------------------- calculators (the quote contract, typed)

# A plausibility bound on what a person types, not a rule: the rule's own limit is in the rule version.
MAX_DISPLACEMENT_L = Decimal(10)
YES_NO = [("", "请选择"), ("yes", "是"), ("no", "否")]
GRADES = [("", "无此标识"), *((str(grade), f"{grade} 级") for grade in range(1, 6))]


def _price_field(label: str, help_text: str) -> YuanField:
    return YuanField(
        label=label,
        strip_symbols=True,
        minimum_fen=1,
        minimum_message="价格应大于 0",
        minimum_code="invalid_value",
        help_text=help_text,
    )


def _date_field(label: str, help_text: str = "", *, required: bool = True) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        help_text=help_text,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"invalid": "请填写有效日期，如 2026-03-01", "required": "请填写此日期"},
    )


def _yes(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


class QuoteForm(forms.Form):
    """A programme calculator: typed fields in, the quote contract's input out, the engine's errors placed.

    The engine stays the judge of what is required and allowed; the form only turns what a person types
    into the contract's JSON and puts an InputError next to the field it names.
    """

    # Engine field path → the form field that supplies it.
    paths: ClassVar[dict[str, str]] = {}
    # Legends and the fields under each, in page order (fields the rules do not read are left out).
    sections: ClassVar[tuple[tuple[str, tuple[str, ...]], ...]] = ()

    def grouped(self) -> list[tuple[str, list[forms.BoundField]]]:
        """The form's fields by section, for the page; a form without sections is one unnamed group."""
        if not self.sections:
            return [("", list(self))]
        groups = []
        for legend, names in self.sections:
            fields = [self[name] for name in names if name in self.fields]
            if fields:
                groups.append((legend, fields))
        return groups

    def __init__(self, *args: Any, rule_set: RuleSet, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rule_set = rule_set
        name_fields_in_messages(self)

    def payload(self) -> dict[str, Any]:
        raise NotImplementedError

    def apply_input_error(self, error: InputError) -> None:
        """Show the engine's refusal of the input on the field it names (on top when no field matches)."""
        name = self.paths.get(error.field)
        self.add_error(name if name in self.fields else None, ValidationError(error.message, code=error.code))


class ConsumerGoodsQuoteForm(QuoteForm):
    """Appliances, digital products, smart home: category, final price, energy and water label grades."""

    category = forms.ChoiceField(label="品类")
    price = _price_field("成交价格（元）", "扣除厂家和商家优惠后您实际支付的价格")
    energy_grade = forms.ChoiceField(label="能效等级", choices=GRADES, required=False, help_text="见产品上的能效标识")
    water_grade = forms.ChoiceField(label="水效等级", choices=GRADES, required=False, help_text="见产品上的水效标识")

    paths: ClassVar[dict[str, str]] = {
        "category": "category",
        "price_fen": "price",
        "energy_grade": "energy_grade",
        "water_grade": "water_grade",
    }

    def __init__(self, *args: Any, rule_set: RuleSet, **kwargs: Any) -> None:
        super().__init__(*args, rule_set=rule_set, **kwargs)
        covered = list(rule_set.category_names.items())
        # The whole category table is offered: asking about an uncovered category gets a plain "not covered".
        others = [(code, name) for code, name in CATEGORIES.items() if code not in rule_set.category_names]
        choices: list[Any] = [("本政策补贴的品类", covered)]
        if others:
            choices.append(("本政策不补贴的品类", others))
        self.fields["category"].choices = choices  # type: ignore[attr-defined]

    def payload(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "category": data["category"],
            "price_fen": data["price"],
            "energy_grade": int(data["energy_grade"]) if data["energy_grade"] else None,
            "water_grade": int(data["water_grade"]) if data["water_grade"] else None,
        }


class CarQuoteForm(QuoteForm):
    """Car scrap-and-replace or replacement: the old car, the new car, and whether a car subsidy was had.

    Only the fields the programme's rules check are shown (a replacement programme asks nothing about
    the old car's fuel or first registration).
    """

    old_fuel = forms.ChoiceField(label="旧车燃料类型", choices=[("", "请选择"), *OLD_FUELS.items()])
    old_registered_on = _date_field("旧车注册登记日期", "机动车登记证书上的注册登记日期")
    old_owned_since = _date_field("旧车登记在本人名下的日期", "机动车登记证书上旧车登记到您名下的日期")
    new_energy = forms.ChoiceField(label="新车类型", choices=[("", "请选择"), *NEW_ENERGIES.items()])
    new_price = _price_field("新车价格（元）", "扣除各项优惠后购车发票上的价格")
    new_displacement_l = forms.DecimalField(
        label="新车排量（升）", required=False, help_text="购买燃油乘用车时填写，如 1.5"
    )
    new_in_nev_catalogue = forms.ChoiceField(
        label="新车是否列入新能源汽车车型目录",
        choices=YES_NO,
        required=False,
        help_text="购买新能源乘用车时填写；目录名称见上方补贴标准",
    )
    applied_on = _date_field("申请日期", "提交补贴申请的日期")
    already_subsidised = forms.BooleanField(label="本人本年度已享受过汽车报废更新或置换更新补贴", required=False)

    sections: ClassVar[tuple[tuple[str, tuple[str, ...]], ...]] = (
        ("旧车", ("old_fuel", "old_registered_on", "old_owned_since")),
        ("新车", ("new_energy", "new_price", "new_displacement_l", "new_in_nev_catalogue")),
        ("申请", ("applied_on", "already_subsidised")),
    )
    paths: ClassVar[dict[str, str]] = {
        "old_vehicle.fuel": "old_fuel",
        "old_vehicle.registered_on": "old_registered_on",
        "old_vehicle.owned_since": "old_owned_since",
        "new_vehicle.energy": "new_energy",
        "new_vehicle.price_fen": "new_price",
        "new_vehicle.displacement_l": "new_displacement_l",
        "new_vehicle.in_nev_catalogue": "new_in_nev_catalogue",
        "applied_on": "applied_on",
        "history": "already_subsidised",
    }

    def __init__(self, *args: Any, rule_set: RuleSet, **kwargs: Any) -> None:
        super().__init__(*args, rule_set=rule_set, **kwargs)
        for path, name in self.paths.items():
            if path not in rule_set.reads:
                del self.fields[name]
        if "applied_on" in self.fields and not self.is_bound:
            self.initial["applied_on"] = timezone.localdate().isoformat()

    def clean_new_displacement_l(self) -> Decimal | None:
        value: Decimal | None = self.cleaned_data.get("new_displacement_l")
        if value is None:
            return None
        if not 0 < value <= MAX_DISPLACEMENT_L:
            raise ValidationError(f"排量应大于 0 且不超过 {MAX_DISPLACEMENT_L} 升", code="invalid_value")
        if value != value.quantize(Decimal("0.01")):
            raise ValidationError("排量最多填写两位小数", code="invalid_value")
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        energy = data.get("new_energy")
        if energy == "fuel" and "new_displacement_l" in self.fields and data.get("new_displacement_l") is None:
            self.add_error("new_displacement_l", ValidationError("购买燃油乘用车须填写排量", code="required"))
        if energy == "nev" and "new_in_nev_catalogue" in self.fields and not data.get("new_in_nev_catalogue"):
            self.add_error(
                "new_in_nev_catalogue", ValidationError("购买新能源乘用车须说明是否列入车型目录", code="required")
            )
        return data

    def payload(self) -> dict[str, Any]:
        data = self.cleaned_data
        old: dict[str, Any] = {}
        if "old_fuel" in self.fields:
            old["fuel"] = data["old_fuel"]
        for key, name in (("registered_on", "old_registered_on"), ("owned_since", "old_owned_since")):
            if name in self.fields:
                old[key] = data[name].isoformat()
        new: dict[str, Any] = {"energy": data["new_energy"]}
        if data.get("new_price") is not None:
            new["price_fen"] = data["new_price"]
        if data.get("new_displacement_l") is not None:
            # JSON has no decimal type; the engine reads the shortest float text back exactly (repr).
            new["displacement_l"] = float(data["new_displacement_l"])
        if data.get("new_in_nev_catalogue"):
            new["in_nev_catalogue"] = _yes(data["new_in_nev_catalogue"])
        payload: dict[str, Any] = {"old_vehicle": old, "new_vehicle": new}
        if "applied_on" in self.fields:
            payload["applied_on"] = data["applied_on"].isoformat()
        if data.get("already_subsidised"):
            # The programme's own code is always among the programmes its one-subsidy rule counts.
            payload["history"] = [{"programme": self.rule_set.code}]
        return payload


class EbikeQuoteForm(QuoteForm):
    """E-bike trade-in: the old bike's registration, deregistration and battery; the new bike; the owner."""

    old_registered_on = _date_field("旧车在北京登记的日期", "未在北京登记的请留空", required=False)
    old_deregistered_on = _date_field("旧车注销登记的日期", "尚未注销的请留空", required=False)
    old_battery = forms.ChoiceField(label="旧车电池类型", choices=[("", "请选择"), *BATTERIES.items()])
    old_battery_health_assessed = forms.BooleanField(label="旧车电池做过健康评估", required=False)
    new_in_catalogue = forms.ChoiceField(label="新车是否列入电动自行车产品目录", choices=YES_NO)
    new_price = _price_field("新车价格（元）", "扣除各项优惠后实际支付的价格")
    new_registered_on = _date_field("新车登记日期")
    new_battery = forms.ChoiceField(label="新车电池类型", choices=[("", "请选择"), *BATTERIES.items()])
    same_owner = forms.ChoiceField(label="新旧车是否为同一车主", choices=YES_NO)
    already_subsidised = forms.BooleanField(label="本人已享受过本政策的电动自行车以旧换新补贴", required=False)

    sections: ClassVar[tuple[tuple[str, tuple[str, ...]], ...]] = (
        ("旧车", ("old_registered_on", "old_deregistered_on", "old_battery", "old_battery_health_assessed")),
        ("新车", ("new_in_catalogue", "new_price", "new_registered_on", "new_battery")),
        ("申请人", ("same_owner", "already_subsidised")),
    )
    paths: ClassVar[dict[str, str]] = {
        "old_bike.registered_in_beijing_on": "old_registered_on",
        "old_bike.deregistered_on": "old_deregistered_on",
        "old_bike.battery": "old_battery",
        "old_bike.battery_health_assessed": "old_battery_health_assessed",
        "new_bike.in_catalogue": "new_in_catalogue",
        "new_bike.price_fen": "new_price",
        "new_bike.registered_on": "new_registered_on",
        "new_bike.battery": "new_battery",
        "same_owner": "same_owner",
        "history": "already_subsidised",
    }

    def payload(self) -> dict[str, Any]:
        data = self.cleaned_data

        def day(name: str) -> str | None:
            value = data.get(name)
            return value.isoformat() if value else None

        return {
            "old_bike": {
                "registered_in_beijing_on": day("old_registered_on"),
                "deregistered_on": day("old_deregistered_on"),
                "battery": data["old_battery"],
                "battery_health_assessed": bool(data.get("old_battery_health_assessed")),
            },
            "new_bike": {
                "in_catalogue": _yes(data["new_in_catalogue"]),
                "price_fen": data["new_price"],
                "registered_on": day("new_registered_on"),
                "battery": data["new_battery"],
            },
            "same_owner": _yes(data["same_owner"]),
            "history": [{"programme": self.rule_set.code}] if data.get("already_subsidised") else [],
        }


# The calculator form of each rule family; a family without one has no calculator on its page.
CALCULATORS: dict[str, type[QuoteForm]] = {
    "consumer_goods": ConsumerGoodsQuoteForm,
    "car": CarQuoteForm,
    "ebike": EbikeQuoteForm,
}
