from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from huanxin.accounts.models import District, Licence, OrganisationKind
from huanxin.core.domain.identifiers import (
    IdentifierError,
    validate_mobile,
    validate_resident_id,
    validate_resident_name,
    validate_uscc,
)


def identifier_field_validator(validator: Any) -> Any:
    """Adapt a kernel identifier validator to a Django form validator with the same code and message."""

    def run(value: str) -> None:
        try:
            validator(value)
        except IdentifierError as exc:
            raise ValidationError(exc.message, code=exc.code) from None

    return run


class SignInForm(AuthenticationForm):
    username = forms.CharField(
        label="手机号或用户名",
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label="密码", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    error_messages = {
        "invalid_login": "手机号/用户名或密码不正确",
        "inactive": "该账户已停用",
    }


class PhoneCodeForm(forms.Form):
    phone = forms.CharField(
        label="手机号",
        max_length=20,
        validators=[identifier_field_validator(validate_mobile)],
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )


def _district_choices() -> list[tuple[str, str]]:
    return [("", "请选择")] + [(d.code, d.name) for d in District.objects.all()]


class RegisterForm(forms.Form):
    phone = forms.CharField(
        label="手机号",
        max_length=20,
        validators=[identifier_field_validator(validate_mobile)],
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    code = forms.CharField(
        label="短信验证码",
        max_length=10,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )
    password = forms.CharField(
        label="设置密码",
        min_length=8,
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="至少8位，不能全为数字",
    )
    district = forms.ChoiceField(label="居住区", required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["district"].choices = _district_choices()  # type: ignore[attr-defined]


class IdentityForm(forms.Form):
    name = forms.CharField(
        label="姓名",
        max_length=40,
        validators=[identifier_field_validator(validate_resident_name)],
        help_text="与身份证一致，2至20个汉字；少数民族姓名各部分之间用间隔号“·”分隔",
    )
    resident_id = forms.CharField(
        label="居民身份证号码",
        max_length=30,
        validators=[identifier_field_validator(validate_resident_id)],
        help_text="仅用于实名认证和补贴资格核验，加密保存",
    )
    district = forms.ChoiceField(
        label="登记居住区",
        help_text="您申领的补贴资格计入该区预算，不能在申领时另选；认证后每个自然年最多变更一次",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["district"].choices = _district_choices()  # type: ignore[attr-defined]


class DistrictChangeForm(forms.Form):
    district = forms.ChoiceField(label="新的登记居住区")

    def __init__(self, *args: Any, current: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["district"].choices = [  # type: ignore[attr-defined]
            (code, name) for code, name in _district_choices() if code != current
        ]


class OrganisationForm(forms.Form):
    name = forms.CharField(label="机构名称", max_length=120)
    short_name = forms.CharField(label="简称", max_length=40, required=False)
    kind = forms.ChoiceField(label="机构类型", choices=OrganisationKind.choices)
    uscc = forms.CharField(
        label="统一社会信用代码", max_length=30, validators=[identifier_field_validator(validate_uscc)]
    )
    district = forms.ChoiceField(label="所在区")
    address = forms.CharField(label="地址", max_length=200, required=False)
    contact_name = forms.CharField(label="联系人", max_length=60, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["district"].choices = _district_choices()  # type: ignore[attr-defined]


class LicenceForm(forms.Form):
    kind = forms.ChoiceField(label="证书类型", choices=Licence.Kind.choices)
    number = forms.CharField(label="证书编号", max_length=60)
    valid_from = forms.DateField(label="有效期起", widget=forms.DateInput(attrs={"type": "date"}))
    valid_until = forms.DateField(label="有效期止", required=False, widget=forms.DateInput(attrs={"type": "date"}))
