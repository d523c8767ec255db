"""Form helpers: the service layer's field errors shown next to the fields, with their stable codes."""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.core.exceptions import ValidationError

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
