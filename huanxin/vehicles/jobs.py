"""The vehicles app's periodic jobs (read by ``huanxin.core.jobs``)."""

from __future__ import annotations

import datetime

from huanxin.core.jobs import register
from huanxin.vehicles.clock_flags import run_job

# Hourly rather than daily: a run changes nothing when nothing changed (a flag is recorded once per application,
# stage and due day), a new day's flags appear within the hour after midnight wherever the loop started, and a
# finished stage's flag is resolved within the hour.
register(
    "vehicles.clock_flags",
    every=datetime.timedelta(hours=1),
    target=run_job,
    description="汽车补贴申请办理时限预警：即将到期、已逾期、补正逾期",
)
