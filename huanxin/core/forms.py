"""Form helpers: the service layer's field errors shown next to the fields, with their stable codes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from huanxin.core.domain.money import MAX_FEN, parse_yuan
from huanxin.core.errors import DomainError


def apply_domain_error(form: forms.Form, error: DomainError, rename: Callable[[str], str] | None = None) -> None:
    """Put a service refusal on the form: field errors on their fields, the rest on top.

    ``rename`` maps a service field name to the form's (``price_fen`` → ``price``) where the two differ.
    """
    placed = False
    for item in error.errors:
        name = rename(item.field) if rename else item.field
        field = name if name in form.fields else None
        form.add_error(field, ValidationError(item.message, code=item.code))
        placed = True
    if not placed:
        form.add_error(None, ValidationError(error.detail, code=error.code))


def name_fields_in_messages(form: forms.BaseForm) -> None:
    """Required and choice messages that name the field ("请填写开户银行"): the pages are Chinese whatever language
    the browser asks for, and a bare "this field is required" under a long form does not say which."""
    for field in form.fields.values():
        choice = isinstance(field, forms.ChoiceField)
        field.error_messages["required"] = f"请{'选择' if choice else '填写'}{field.label}"
        if choice:
            field.error_messages["invalid_choice"] = "请从列表中选择"
        if isinstance(field, forms.DecimalField):
            field.error_messages["invalid"] = "请填写数字，如 1.5"


class NamedMessagesForm(forms.Form):
    """A form whose required and choice messages name their field (see :func:`name_fields_in_messages`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        name_fields_in_messages(self)


class YuanField(forms.CharField):
    """A yuan amount typed by a person ("3,999.5"), cleaned to integer fen; empty is ``None``.

    By default negative amounts are refused. ``strip_symbols`` drops a pasted ¥/￥ first (a price copied
    from a shop); ``minimum_fen`` with its message and code lets a form demand more (a price above 0).
    """

    def __init__(
        self,
        *,
        strip_symbols: bool = False,
        minimum_fen: int = 0,
        minimum_message: str = "金额不能为负数",
        minimum_code: str = "negative",
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.strip_symbols = strip_symbols
        self.minimum_fen = minimum_fen
        self.minimum_message = minimum_message
        self.minimum_code = minimum_code

    def to_python(self, value: Any) -> int | None:  # type: ignore[override]
        text = super().to_python(value)
        if text in (None, ""):
            return None
        text = str(text)
        if self.strip_symbols:
            text = text.replace("¥", "").replace("￥", "")
        try:
            fen = parse_yuan(text)
        except ValueError as exc:
            raise forms.ValidationError(str(exc), code="invalid_amount") from None
        if fen < self.minimum_fen:
            raise forms.ValidationError(self.minimum_message, code=self.minimum_code)
        if fen > MAX_FEN:
            # Every amount is stored in a 64-bit column: a larger one is a typing error, never a price.
            raise forms.ValidationError("金额超出可处理的范围，请核对金额", code="amount_out_of_range")
        return fen
