"""The subsidies app's periodic jobs (read by ``huanxin.core.jobs``)."""

from __future__ import annotations

import datetime

from huanxin.core.jobs import register
from huanxin.subsidies.services.claims import expire_due

register(
    "subsidies.expire",
    every=datetime.timedelta(minutes=5),
    target=expire_due,
    description="处理过期资格，释放冻结资金",
)
