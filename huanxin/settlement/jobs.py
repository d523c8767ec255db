"""The settlement app's periodic jobs (read by ``huanxin.core.jobs``)."""

from __future__ import annotations

import datetime

from huanxin.core.jobs import register
from huanxin.settlement.services import close_due_periods

register(
    "settlement.close_periods",
    every=datetime.timedelta(minutes=15),
    target=close_due_periods,
    description="生成并结算已结束的清算周期",
)
