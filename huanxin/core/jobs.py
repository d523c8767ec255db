"""Periodic jobs: one registry feeds both Celery beat (production) and ``huanxin jobs run-due`` (the
embedded default and operators).

Every job is idempotent and resumable by construction (it works from the state of the rows, never from
memory), and a run is recorded in :class:`JobRun`; at most one run of a job is in flight at a time.
"""

from __future__ import annotations

import datetime
import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from huanxin.core.models import JobRun

logger = logging.getLogger("huanxin.jobs")
# A run still marked as running after this long died with its process; the next run may take over.
STALE_RUN = datetime.timedelta(hours=1)


@dataclass(frozen=True)
class Job:
    name: str
    every: datetime.timedelta
    target: str
    description: str

    def function(self) -> Callable[[], Any]:
        function: Callable[[], Any] = import_string(self.target)
        return function


JOBS: tuple[Job, ...] = (
    Job(
        "subsidies.expire",
        datetime.timedelta(minutes=5),
        "huanxin.subsidies.services.claims.expire_due",
        "处理过期资格，释放冻结资金",
    ),
    Job(
        "settlement.close_periods",
        datetime.timedelta(minutes=15),
        "huanxin.settlement.services.close_due_periods",
        "生成并结算已结束的清算周期",
    ),
    Job(
        "trace.checkpoints",
        datetime.timedelta(hours=1),
        "huanxin.trace.integrity.publish_due_checkpoints",
        "签发已结束日期的溯源检查点",
    ),
    Job(
        "core.purge_idempotency",
        datetime.timedelta(hours=6),
        "huanxin.core.idempotency.purge_expired",
        "清理过期的幂等请求记录",
    ),
    Job(
        "core.purge_rate_limits",
        datetime.timedelta(hours=1),
        "huanxin.core.ratelimit.purge_expired",
        "清理已结束时间窗的登录和验证码频率计数",
    ),
)
JOBS_BY_NAME = {job.name: job for job in JOBS}


def run_job(name: str, *, now: datetime.datetime | None = None) -> JobRun | None:
    """Run one job now and record it; None when another run of it is still in flight."""
    job = JOBS_BY_NAME[name]
    now = now or timezone.now()
    JobRun.objects.filter(name=name, status=JobRun.Status.RUNNING, started_at__lt=now - STALE_RUN).update(
        status=JobRun.Status.FAILED, finished_at=now, detail="进程中断（超时接管）"
    )
    try:
        with transaction.atomic():
            run = JobRun.objects.create(name=name, started_at=now)
    except IntegrityError:
        return None
    try:
        result = job.function()()
    except Exception:
        JobRun.objects.filter(pk=run.pk).update(
            status=JobRun.Status.FAILED, finished_at=timezone.now(), detail=traceback.format_exc()[-2000:]
        )
        logger.exception("job %s failed", name)
        raise
    JobRun.objects.filter(pk=run.pk).update(
        status=JobRun.Status.DONE, finished_at=timezone.now(), detail=str(result)[:2000]
    )
    run.refresh_from_db()
    return run


def due_jobs(now: datetime.datetime | None = None) -> list[Job]:
    """Jobs whose last run started longer ago than their interval (or never ran)."""
    now = now or timezone.now()
    due = []
    for job in JOBS:
        last = JobRun.objects.filter(name=job.name).order_by("-started_at").values_list("started_at", flat=True).first()
        if last is None or now - last >= job.every:
            due.append(job)
    return due


def run_due(now: datetime.datetime | None = None) -> dict[str, str]:
    """Run every due job once; a failing job is recorded and does not stop the others."""
    outcome = {}
    for job in due_jobs(now):
        try:
            run = run_job(job.name)
        except Exception as exc:
            outcome[job.name] = f"failed: {exc.__class__.__name__}"
            continue
        outcome[job.name] = "skipped: already running" if run is None else f"done: {run.detail}"
    return outcome
