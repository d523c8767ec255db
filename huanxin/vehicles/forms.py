"""Forms of the vehicle pages: the VIN search (POST), the traffic police upload, the scrapping-list filters, and
the scrapping enterprise's intake, five assemblies and battery hand-over."""

from __future__ import annotations

from typing import Any

from django import forms

from huanxin.accounts.models import District
from huanxin.catalogue.domain.tabular import MAX_FILE_BYTES, MAX_ROWS
from huanxin.vehicles.domain.certificates import ASSEMBLIES, DESTINATIONS, REVOCATION_REASONS, AssemblyInput
from huanxin.vehicles.models import VEHICLE_TYPE_CHOICES


class VinSearchForm(forms.Form):
    vin = forms.CharField(
        label="车辆识别代号（VIN）",
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}),
        error_messages={"required": "请填写车辆识别代号（VIN）"},
        help_text="17位，不含字母 I、O、Q",
    )


class RegistrationImportForm(forms.Form):
    file = forms.FileField(
        label="登记数据文件",
        help_text=f"支持 .xlsx 和 .csv（UTF-8、GBK/GB18030 或 UTF-16 编码），不超过 "
        f"{MAX_FILE_BYTES // (1024 * 1024)} MB、{MAX_ROWS:,} 行",
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.csv"}),
        error_messages={"required": "请选择要导入的文件", "empty": "文件是空的"},
    )
    good_rows_only = forms.BooleanField(
        label="文件有错误时，仍导入无误的行",
        required=False,
        help_text="不勾选时，只要有一行有误，整个文件都不导入",
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_FILE_BYTES:
            raise forms.ValidationError(
                f"文件大小超过 {MAX_FILE_BYTES // (1024 * 1024)} MB，请拆分为多个文件分批导入", code="file_too_large"
            )
        return upload


class ScrapListForm(forms.Form):
    as_of = forms.DateField(
        label="评估日期", required=False, widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    district = forms.ModelChoiceField(
        queryset=District.objects.all(), label="登记区", required=False, empty_label="全部", to_field_name="code"
    )
    vehicle_type = forms.ChoiceField(label="车辆类型", required=False, choices=[("", "全部"), *VEHICLE_TYPE_CHOICES])
    bj_truck_only = forms.BooleanField(label="只看国四营运重型货车（bj-truck-2024）", required=False)


# ---------------------------------------------------------------- scrapping


class IntakeForm(forms.Form):
    vin = forms.CharField(
        label="车辆识别代号（VIN）",
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}),
        error_messages={"required": "请填写车辆识别代号（VIN）"},
        help_text="17位，见车辆铭牌或行驶证；车辆须在机动车登记信息中且未报废、未注销",
    )
    owner_id_number = forms.CharField(
        label="所有人证件号码",
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}),
        error_messages={"required": "请填写所有人证件号码"},
        help_text="查验交车人出示的登记所有人证件：个人为居民身份证号码，单位为统一社会信用代码；须与机动车登记一致",
    )
    intake_on = forms.DateField(
        label="回收日期",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text="不填为今天；本企业资质须在该日有效",
    )


class AssembliesForm(forms.Form):
    """One destination and receiving party per major assembly, five rows."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for code, name in ASSEMBLIES.items():
            self.fields[f"{code}_destination"] = forms.ChoiceField(
                label=f"{name}去向",
                choices=[("", "请选择"), *DESTINATIONS.items()],
                required=False,
            )
            self.fields[f"{code}_receiver"] = forms.CharField(label=f"{name}接收单位", max_length=120, required=False)

    def rows(self) -> list[tuple[str, Any, Any]]:
        """Each assembly's name with its two fields, for the template."""
        return [(name, self[f"{code}_destination"], self[f"{code}_receiver"]) for code, name in ASSEMBLIES.items()]

    def assemblies(self) -> list[AssemblyInput]:
        """The rows filled in (a row left blank is missing, and the service says which are)."""
        data = self.cleaned_data
        rows = [
            AssemblyInput(code, data.get(f"{code}_destination") or "", data.get(f"{code}_receiver") or "")
            for code in ASSEMBLIES
        ]
        return [row for row in rows if row.destination or row.receiver_name.strip()]


class BatteryForm(forms.Form):
    battery_code = forms.CharField(
        label="动力蓄电池编码",
        max_length=60,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}),
        error_messages={"required": "请填写动力蓄电池编码"},
        help_text="GB/T 34014，24位数字和大写字母，见电池包铭牌",
    )
    recycler = forms.ChoiceField(label="接收企业（梯次利用或再生利用）", choices=[])

    def __init__(self, *args: Any, recyclers: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["recycler"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "请选择"), *((str(pk), name) for pk, name in recyclers)]


class RevokeCertificateForm(forms.Form):
    reason = forms.ChoiceField(
        label="作废原因",
        choices=[("", "请选择"), *REVOCATION_REASONS.items()],
        error_messages={"required": "请选择作废原因", "invalid_choice": "请选择作废原因"},
    )
    note = forms.CharField(
        label="作废说明",
        max_length=200,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="选择“其他原因”时必填",
    )
