"""Page notices for work done row by row (imports, bank results): their colour says how it went."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest


def notify_rows(request: HttpRequest, text: str, *, accepted: int, refused: int) -> None:
    """Green only when nothing was refused; yellow when some rows were; red when every row was."""
    if not refused:
        messages.success(request, text)
    elif accepted:
        messages.warning(request, text)
    else:
        messages.error(request, text)
