"""Forms of the car application pages (resident: apply, upload, 复核; reviewer: 补正, decision)."""

from __future__ import annotations

from django import forms

from huanxin.core.forms import NamedMessagesForm
from huanxin.vehicles.domain.applications import APPROVAL_REASONS, EVIDENCE_KINDS, REFUSAL_REASONS

PROGRAMMES = [
    ("cn-car-scrap-2026", "2026年汽车报废更新补贴（报废旧车）"),
    ("cn-car-replace-2026", "2026年汽车置换更新补贴（转让旧车）"),
]
_VIN = forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"})


class CarApplicationForm(NamedMessagesForm):
    programme_code = forms.ChoiceField(label="补贴项目", choices=PROGRAMMES)
    old_vin = forms.CharField(label="旧车车辆识别代号（VIN）", max_length=40, widget=_VIN)
    certificate_number = forms.CharField(
        label="报废机动车回收证明编号", max_length=60, required=False, help_text="报废更新必填"
    )
    transfer_invoice_number = forms.CharField(
        label="旧车转让发票号码", max_length=40, required=False, help_text="置换更新必填"
    )
    new_vin = forms.CharField(label="新车车辆识别代号（VIN）", max_length=40, widget=_VIN)
    new_energy = forms.ChoiceField(label="新车能源类型", choices=[("nev", "新能源乘用车"), ("fuel", "燃油乘用车")])
    new_model_code = forms.CharField(
        label="新车车辆型号", max_length=40, required=False, help_text="见机动车销售统一发票"
    )
    new_displacement_ml = forms.IntegerField(
        label="新车排量（毫升）", required=False, min_value=0, max_value=30000, help_text="燃油车必填"
    )
    new_invoice_number = forms.CharField(label="新车发票号码", max_length=40)
    new_price_yuan = forms.DecimalField(
        label="新车价格（元，发票价税合计）", max_digits=12, decimal_places=2, min_value=0
    )
    bank_name = forms.CharField(label="开户银行", max_length=100)
    account_number = forms.CharField(
        label="银行账号（本人名下）", max_length=40, widget=forms.TextInput(attrs={"inputmode": "numeric"})
    )


class EvidenceForm(NamedMessagesForm):
    kind = forms.ChoiceField(label="材料类型", choices=list(EVIDENCE_KINDS.items()))
    file = forms.FileField(
        label="文件",
        help_text="JPEG、PNG 图片或 PDF 文件",
        widget=forms.ClearableFileInput(
            attrs={"accept": "image/jpeg,image/png,application/pdf", "capture": "environment"}
        ),
    )


class SupplementForm(NamedMessagesForm):
    note = forms.CharField(label="需要补正的材料", max_length=500, widget=forms.Textarea(attrs={"rows": 3}))
    due_on = forms.DateField(label="补正截止日期", widget=forms.DateInput(attrs={"type": "date"}))


class DecisionForm(NamedMessagesForm):
    decision = forms.ChoiceField(
        label="决定",
        choices=[(f"approve:{k}", f"批准：{v}") for k, v in APPROVAL_REASONS.items()]
        + [(f"refuse:{k}", f"不予补贴：{v}") for k, v in REFUSAL_REASONS.items()],
    )
    note = forms.CharField(label="说明", max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ReconsiderationForm(NamedMessagesForm):
    note = forms.CharField(label="申请复核的理由", max_length=500, widget=forms.Textarea(attrs={"rows": 3}))


class PrepareForm(CarApplicationForm):
    """A dealer's or scrapping enterprise's form: the resident's ID and consent instead of the bank account."""

    resident_id = forms.CharField(label="申请人身份证号", max_length=18)
    consent_note = forms.CharField(label="申请人授权说明", max_length=200, help_text="如授权书编号")

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["bank_name"]
        del self.fields["account_number"]
        self.order_fields(["resident_id", "consent_note"])


class ConfirmForm(NamedMessagesForm):
    bank_name = forms.CharField(label="开户银行", max_length=100)
    account_number = forms.CharField(
        label="本人银行账号", max_length=40, widget=forms.TextInput(attrs={"inputmode": "numeric"})
    )


class TruckApplicationForm(NamedMessagesForm):
    """An organisation's bj-truck-2024 application: the old truck scrapped, the new truck bought, or both. The old
    truck's emission stage and weight are not asked: the registry says them."""

    organisation_id = forms.TypedChoiceField(label="申请单位", coerce=int, choices=[])
    old_vin = forms.CharField(
        label="淘汰的旧车车辆识别代号（VIN）", max_length=40, required=False, widget=_VIN, help_text="仅购置新车时不填"
    )
    certificate_number = forms.CharField(
        label="报废机动车回收证明编号", max_length=60, required=False, help_text="淘汰旧车时必填"
    )
    new_vin = forms.CharField(
        label="购置的新车车辆识别代号（VIN）", max_length=40, required=False, widget=_VIN, help_text="仅淘汰旧车时不填"
    )
    new_energy = forms.ChoiceField(
        label="新车类型",
        required=False,
        choices=[("", "—（不购置新车）"), ("guo6", "国六排放货车"), ("nev", "新能源货车")],
    )
    new_weight_class = forms.ChoiceField(
        label="新车重量类别",
        required=False,
        choices=[("", "—（不购置新车）"), ("heavy", "重型"), ("medium", "中型"), ("light", "轻型")],
    )
    new_refrigerated = forms.BooleanField(label="新车为冷藏车", required=False)
    new_invoice_number = forms.CharField(label="新车发票号码", max_length=40, required=False)
    new_price_yuan = forms.DecimalField(
        label="新车价格（元，发票价税合计）", max_digits=12, decimal_places=2, min_value=0, required=False
    )
    bank_name = forms.CharField(label="开户银行", max_length=100)
    account_number = forms.CharField(
        label="单位银行账号（对公账户）", max_length=40, widget=forms.TextInput(attrs={"inputmode": "numeric"})
    )

    def __init__(self, *args: object, organisations: list[tuple[int, str]], **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["organisation_id"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = organisations
        if len(organisations) == 1:
            field.initial = organisations[0][0]
