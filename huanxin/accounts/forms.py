from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from huanxin.accounts import signin
from huanxin.accounts.models import District, Licence, OrganisationKind
from huanxin.accounts.services import CODE_PURPOSES
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


class SignInLimitMixin:
    """Says why a sign-in was refused without checking the password (see :mod:`huanxin.accounts.signin`)."""

    request: HttpRequest | None

    def clean(self) -> dict[str, Any]:
        try:
            cleaned: dict[str, Any] = super().clean()  # type: ignore[misc]
        except ValidationError as error:
            refusal = signin.refusal_of(self.request)
            if refusal is not None and getattr(error, "code", None) == "invalid_login":
                raise ValidationError(refusal.message, code=refusal.code) from None
            raise
        return cleaned


class SignInForm(SignInLimitMixin, AuthenticationForm):
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


class AdminSignInForm(SignInLimitMixin, AdminAuthenticationForm):
    """The admin login, limited together with every other way of signing in."""


def _phone_field() -> forms.CharField:
    return forms.CharField(
        label="手机号",
        max_length=20,
        validators=[identifier_field_validator(validate_mobile)],
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )


def _code_field() -> forms.CharField:
    return forms.CharField(
        label="短信验证码",
        max_length=10,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


class PhoneCodeForm(forms.Form):
    phone = _phone_field()
    purpose = forms.ChoiceField(
        label="用途",
        choices=list(CODE_PURPOSES.items()),
        required=False,
        error_messages={"invalid_choice": "验证码用途无效"},
    )

    def clean_purpose(self) -> str:
        # Registration pages written before sign-in codes existed post no purpose.
        return str(self.cleaned_data.get("purpose") or "register")


class PhoneAndCodeForm(forms.Form):
    """SMS sign-in, and the first step of a password reset: the number and the code sent to it."""

    phone = _phone_field()
    code = _code_field()


class NewPasswordForm(forms.Form):
    password = forms.CharField(
        label="新密码",
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="至少8位，不能全为数字，不能是常见密码或与账户信息相近",
    )
    password_confirm = forms.CharField(
        label="再次输入新密码",
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        if cleaned.get("password") and cleaned.get("password") != cleaned.get("password_confirm"):
            self.add_error("password_confirm", ValidationError("两次输入的密码不一致", code="password_mismatch"))
        return cleaned


def _district_choices() -> list[tuple[str, str]]:
    return [("", "请选择")] + [(d.code, d.name) for d in District.objects.all()]


class RegisterForm(forms.Form):
    phone = _phone_field()
    code = _code_field()
    password = forms.CharField(
        label="设置密码",
        min_length=8,
        max_length=128,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="至少8位，不能全为数字，不能是常见密码或与账户信息相近",
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
