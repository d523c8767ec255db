"""Row-by-row results are coloured by how they went."""

import pytest
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.test import RequestFactory

from huanxin.core.notices import notify_rows


@pytest.mark.parametrize(
    ("accepted", "refused", "level"), [(3, 0, "success"), (2, 1, "warning"), (0, 2, "error"), (0, 0, "success")]
)
def test_a_row_report_is_green_only_when_nothing_was_refused(accepted, refused, level):
    request = RequestFactory().post("/")
    request.session = {}  # type: ignore[assignment]
    request._messages = FallbackStorage(request)
    notify_rows(request, "接受 N 行", accepted=accepted, refused=refused)
    [message] = list(get_messages(request))
    assert message.tags == level
