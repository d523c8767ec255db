"""The trace app's periodic jobs (read by ``huanxin.core.jobs``)."""

from __future__ import annotations

import datetime

from huanxin.core.jobs import register
from huanxin.trace.integrity import publish_due_checkpoints

register(
    "trace.checkpoints",
    every=datetime.timedelta(hours=1),
    target=publish_due_checkpoints,
    description="签发已结束日期的溯源检查点",
)
