"""Form helpers: the service layer's field errors shown next to the fields, with their stable codes."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from huanxin.core.errors import DomainError


def apply_domain_error(form: forms.Form, error: DomainError) -> None:
    """Put a service refusal on the form: field errors on their fields, the rest on top."""
    placed = False
    for item in error.errors:
        field = item.field if item.field in form.fields else None
        form.add_error(field, ValidationError(item.message, code=item.code))
        placed = True
    if not placed:
        form.add_error(None, ValidationError(error.detail, code=error.code))
